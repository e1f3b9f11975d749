"""Writing report files: all-or-nothing, never over an input, with errors a person can act on.

Why atomic: a reviewer who opens a half-written HTML or Parquet file after a
crash or a full disk would read a wrong story; writing to a temporary name in
the same folder and renaming means the file is either the old one or complete.
Why the input check: outputs are often pointed into the evidence folder, and a
forensic tool must never overwrite the evidence it was given.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from .. import leftovers


class OutputError(Exception):
    """An output cannot be written; the message names the option and the path."""


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        return (path.resolve().is_relative_to(folder.resolve())
                or Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder)))
    except OSError:
        return False


def _refuse_inside(option: str, path: Path, inputs: list[Path]) -> None:
    """Refuse an output that is an input folder or lies inside one."""
    for given in inputs:
        if given.is_dir() and (_same(path, given) or _inside(path, given)):
            raise OutputError(f"{option} {path}: is inside the input folder {given}; "
                              "refusing to write into the evidence")


def check_file(option: str, path: Path, inputs: Iterable[Path]) -> None:
    """Fail early (before analysis) when ``path`` cannot be written or would replace an input.

    Nothing is written into an input folder either: a new file there changes the evidence,
    and the next run over that folder would read the report as input.
    """
    inputs = list(inputs)
    for given in inputs:
        exists = path.exists() or path.is_symlink()
        if _same(path, given) or (given.is_dir() and exists and _inside(path, given)):
            raise OutputError(f"{option} {path}: is one of the input files; refusing to overwrite evidence")
    _refuse_inside(option, path, inputs)
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name")
    if not path.parent.is_dir():
        raise OutputError(f"{option} {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"{option} {path}: not writable")


def check_dir(option: str, path: Path, names: Iterable[str], inputs: Iterable[Path]) -> None:
    """As :func:`check_file` for a folder that will hold ``names`` (created if missing, parent must exist)."""
    inputs = list(inputs)
    _refuse_inside(option, path, inputs)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path}: exists and is not a directory")
    if not path.exists():
        if not path.parent.is_dir():
            raise OutputError(f"{option} {path}: folder {path.parent} does not exist")
        if not os.access(path.parent, os.W_OK):
            raise OutputError(f"{option} {path}: folder {path.parent} is not writable")
        return
    for name in names:
        check_file(option, path / name, inputs)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_stream(path: Path) -> Iterator[BinaryIO]:
    """A binary handle whose contents replace ``path`` when the block ends without an error: a
    temporary file in the same folder, renamed. So an output can be written piece by piece (the
    events-level files of a big run are never held whole) and still be all-or-nothing.

    The temporary is locked while written, and those of a killed run (SIGKILL, power loss)
    beside ``path`` are removed first (:mod:`analyzer.leftovers`); any other way out of the
    block removes its own."""
    path = Path(path)
    leftovers.sweep_tmp(path)
    fd, tmp = leftovers.held_tmp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all-or-nothing (:func:`atomic_stream`)."""
    with atomic_stream(path) as handle:
        handle.write(data)
