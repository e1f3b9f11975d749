"""One backup folder (``<UDID>/``) as a whole: which file holds what, what is missing, what is left over.

The registry reads file by file, but a backup's state is a property of its folder: a Status.plist
that says ``finished`` is overridden by a 0-byte Manifest.plist, a leftover ``Snapshot/`` or missing
payload files beside it (reference backup-and-network.md §1.8). So each backup source looks at its
siblings, read-only, through :func:`folder` (computed once per folder and cached), and the folder's
rows are given once by the folder's **owner**: its Status.plist, else its Info.plist, else its
Manifest.plist (:attr:`Folder.owner`); Manifest.db gives the rows only it can (missing payload files,
the device's iCloud record).

A folder is a backup folder when it holds a plist recognised by content as one of the backup plists.
Inside it the format fixes the names (``Manifest.plist``, ``Manifest.db``, ``Snapshot/``, payload
files ``<xx>/<fileID>``): they are looked up by name only there, to find what is missing or empty.
Payload files and everything under ``Snapshot/`` are "backup payload, not read"
(:func:`payload_root`): the run counts them in one note per folder instead of reporting each as an
unrecognised file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import _backup_plist as bp
from ._backup_db import DbScan, has_header, listing, scan

#: Names the format gives inside a backup folder (§1.2).
MANIFEST_PLIST, MANIFEST_DB, STATUS_PLIST, INFO_PLIST, SNAPSHOT = (
    "Manifest.plist", "Manifest.db", "Status.plist", "Info.plist", "Snapshot")
#: How many directory entries are walked to size a folder or count a snapshot (bounds the work).
MAX_WALK = 200_000
#: Files of a folder read to recognise its plists (a backup folder holds four; a Downloads folder many).
MAX_PLISTS_TRIED = 32
_PAYLOAD_NAME = re.compile(r"^[0-9a-f]{40}$")
#: The order in which a folder's files own its rows.
OWNER_ORDER = ("status", "info", "manifest")


@dataclass
class Folder:
    """What a backup folder holds (see the module docstring). Paths are absolute."""

    root: Path
    plists: dict[str, tuple[Path, dict[str, Any]]] = field(default_factory=dict)  # role -> (file, data)
    manifest_plist: str = "missing"       # ok / empty / unreadable / missing (the file named Manifest.plist)
    status_plist: str = "missing"
    db: str = "missing"                   # sqlite / empty / not_sqlite / missing
    snapshot_files: int | None = None     # None: no Snapshot/ folder
    size_bytes: int | None = None         # None: more than MAX_WALK entries (not counted)
    in_archive: bool = False

    def data(self, role: str) -> dict[str, Any] | None:
        return self.plists[role][1] if role in self.plists else None

    @property
    def owner(self) -> Path | None:
        """The file that gives the folder's rows (attempt, damage, backup_info when there is no Info.plist)."""
        for role in OWNER_ORDER:
            if role in self.plists:
                return self.plists[role][0]
        return None

    @property
    def encrypted(self) -> bool | None:
        return bp.flag((self.data("manifest") or {}).get("IsEncrypted"))

    @property
    def db_path(self) -> Path:
        return self.root / MANIFEST_DB


def _stat_key(root: Path) -> tuple:
    try:
        st = root.stat()
        return (st.st_mtime_ns, st.st_ino)
    except OSError:
        return ()


def folder(root: Path) -> Folder | None:
    """The backup folder ``root`` (None when no plist in it is a backup plist). Cached per folder."""
    root = root.resolve()
    return _folder(str(root), _stat_key(root))


@lru_cache(maxsize=64)
def _folder(root_text: str, _key: tuple) -> Folder | None:
    root = Path(root_text)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return None
    out = Folder(root)
    tried = 0
    for entry in entries:
        if tried >= MAX_PLISTS_TRIED or not entry.is_file(follow_symlinks=False):
            continue
        try:
            with open(entry.path, "rb") as fh:
                head = fh.read(4096)
            if not bp.looks_like_plist(head) or entry.stat().st_size > bp.MAX_PLIST_BYTES:
                continue
            tried += 1
            data = bp.load(Path(entry.path).read_bytes())
        except OSError:
            continue
        role = bp.role_of(data)
        if role in bp.ROLES and role != "mobilebackup" and role not in out.plists:
            out.plists[role] = (Path(entry.path), data)
    if not out.plists:
        return None
    out.manifest_plist = _named_state(root / MANIFEST_PLIST, "manifest", out)
    out.status_plist = _named_state(root / STATUS_PLIST, "status", out)
    out.db = _db_state(root / MANIFEST_DB)
    listed = listing(root)
    if listed is not None:  # a copy made by analyze collect: the folder as its listing says
        out.snapshot_files, out.size_bytes = _listed_counts(listed)
    else:
        snap = root / SNAPSHOT
        out.snapshot_files = _count_files(snap)[0] if snap.is_dir() and not snap.is_symlink() else None
        out.size_bytes = _count_files(root)[1]
    out.in_archive = _from_archive(root)
    return out


def _named_state(path: Path, role: str, out: Folder) -> str:
    """ok / empty / unreadable / missing for the file the format names (a renamed copy found by
    content counts as ok)."""
    if role in out.plists:
        return "ok"
    try:
        size = path.stat().st_size
    except OSError:
        return "missing"
    return "empty" if size == 0 else "unreadable"


def _db_state(path: Path) -> str:
    if path.is_symlink():  # a link may point out of the evidence (the walk does not follow it either)
        return "link"
    try:
        size = path.stat().st_size
    except OSError:
        return "missing"
    if size == 0:
        return "empty"
    return "sqlite" if has_header(path) else "not_sqlite"


def _count_files(top: Path) -> tuple[int, int | None]:
    """(files, total bytes) under ``top`` without following links; bytes None past MAX_WALK entries."""
    files, size, seen = 0, 0, 0
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in filenames:
            seen += 1
            if seen > MAX_WALK:
                return files, None
            files += 1
            try:
                size += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
        seen += len(dirnames)
    return files, size


def _listed_counts(listed: list[dict]) -> tuple[int | None, int | None]:
    """(files under Snapshot/ or None without that folder, total bytes) from a collected listing."""
    snapshot = any(e.get("dir") and e["name"] == SNAPSHOT for e in listed) or None
    files = [e for e in listed if not e.get("dir")]
    in_snapshot = sum(1 for e in files if e["name"].startswith(SNAPSHOT + "/"))
    if in_snapshot:
        snapshot = True
    size = sum(int(e.get("size") or 0) for e in files) if len(listed) <= MAX_WALK else None
    return (in_snapshot if snapshot else None), size


def _from_archive(root: Path) -> bool:
    """Was the folder unpacked from a zip (analyzer.archives' private folder)? Its modification
    times are then those of the unpacking, not of the backup."""
    return any(part.startswith("analyzer-zip-") for part in root.parts)


@lru_cache(maxsize=16)
def _scan(db_text: str, root_text: str, _key: tuple) -> DbScan:
    return scan(Path(db_text), Path(root_text))


def db_scan(f: Folder) -> DbScan | None:
    """The Manifest.db scan of a folder (cached), or None when it is missing, not SQLite or encrypted."""
    if f.db != "sqlite" or f.encrypted:
        return None
    return _scan(str(f.db_path), str(f.root), _stat_key(f.db_path))


def payload_root(path: Path) -> Path | None:
    """The backup folder a payload file belongs to: ``<root>/<xx>/<fileID>`` or anything under
    ``<root>/Snapshot/`` where ``<root>`` is a backup folder; None for every other file."""
    path = Path(path)
    parents = path.parents
    if _PAYLOAD_NAME.match(path.name) and path.parent.name == path.name[:2] and len(parents) > 1:
        if folder(parents[1]) is not None:
            return parents[1].resolve()
    for i, parent in enumerate(parents[:-1]):
        if parent.name == SNAPSHOT and i < 4 and folder(parents[i + 1]) is not None:
            return parents[i + 1].resolve()
    return None


def owns(path: Path, f: Folder) -> bool:
    owner = f.owner
    return owner is not None and owner.resolve() == Path(path).resolve()
