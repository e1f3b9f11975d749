"""Temporary folders and files that a later run can tell from a live run's, and removes.

A run that ends normally, by an exception or by SIGINT/SIGTERM/SIGHUP removes its own
temporaries (:mod:`analyzer.stopping`); one killed outright (SIGKILL, power loss) cannot. So
each temporary of ours is held under an exclusive ``flock`` for as long as it is in use: the lock
dies with the process, whatever kills it, and works across PID namespaces on one machine, where
a PID test would not. A later run that can take the lock of a temporary of our own naming knows
that nobody uses it and removes it: an unpacked bundle's folder in the temporary folder
(``analyzer-zip-*``, a ``.lock`` file inside), a half-written output beside the output
(``.<name>.*.tmp``). A temporary without the lock file, or younger than :data:`MIN_AGE`
seconds (made a moment ago and not yet locked), is left alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no sweeping, temporaries are still removed on exit
    fcntl = None

LOCK_NAME = ".lock"
#: A temporary younger than this (seconds) may be between its creation and its lock: never swept.
MIN_AGE = 2.0

_held: dict[str, int] = {}


def lock(fd: int) -> None:
    """Hold an exclusive lock on the open file ``fd`` until it is closed (or the process dies)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unused(path: Path) -> bool:
    """True when nobody holds ``path``'s lock and it is old enough to have been locked."""
    if fcntl is None:
        return False
    try:
        if time.time() - path.stat().st_mtime < MIN_AGE:
            return False
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def held_dir(prefix: str) -> Path:
    """A fresh private temporary folder (mode 0700), locked until :func:`release_dir`."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    fd = os.open(path / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        lock(fd)
    except OSError:
        os.close(fd)
        raise
    _held[str(path)] = fd
    return path


def release_dir(path: Path) -> None:
    """Remove a folder of :func:`held_dir` and let its lock go."""
    shutil.rmtree(path, ignore_errors=True)
    fd = _held.pop(str(path), None)
    if fd is not None:
        os.close(fd)


def sweep_dirs(prefix: str, where: str | None = None) -> int:
    """Remove folders ``<prefix>*`` in the temporary folder that are ours (owner, lock file) and
    unused (their lock is free): left by a run that was killed. Returns how many."""
    if fcntl is None:
        return 0
    root = Path(where or tempfile.gettempdir())
    removed = 0
    try:
        entries = [e for e in os.scandir(root) if e.name.startswith(prefix)]
    except OSError:
        return 0
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        path = Path(entry.path)
        if str(path) not in _held and _unused(path / LOCK_NAME):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def held_tmp(path: Path) -> tuple[int, str]:
    """A locked temporary file beside ``path`` for writing it atomically: ``.<name>.XXXX.tmp``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        lock(fd)
    except OSError:
        pass  # a file system without locks: the file is still removed on every orderly exit
    return fd, tmp


def sweep_tmp(path: Path) -> int:
    """Remove ``.<name>.*.tmp`` beside ``path`` that nobody is writing: a killed run's. Returns how many."""
    if fcntl is None:
        return 0
    removed = 0
    try:
        candidates = list(path.parent.glob(f".{_glob_escape(path.name)}.*.tmp"))
    except OSError:
        return 0
    for tmp in candidates:
        try:
            ours = tmp.is_file() and not tmp.is_symlink() and tmp.stat().st_uid == os.getuid()
        except OSError:
            continue
        if ours and _unused(tmp):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
