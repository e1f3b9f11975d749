"""A whole PC given as a folder: a mounted disk image, a triage copy, a copied user profile, this machine.

``analyze E:\\`` on a suspect disk must not sniff every file of the disk, and ``analyze collect
--root`` must know where to look: both find the PC's **roots** under the folder given
(:func:`find_roots`: the system drive itself, a KAPE/Velociraptor-style copy laid out as
``C/Windows/...``, ``C%3A/...`` or ``%5C%5C.%5CC%3A/...``, a macOS or Linux root, one user profile),
then look in the places the location table names (:func:`scan`). Nothing is written and no symbolic
link is followed: a link is reported, never entered, so a hostile tree cannot lead the walk out of
the folder given. Every place looked at and not found, every file left out and why, is in the
:class:`Scan`, for the manifest and the report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .locations import BACKUP_METADATA, Location, matches, recursive, table
from .sources._backup_folder import MAX_WALK

#: Folder names that stand for a drive in triage copies: ``C`` (KAPE), ``C%3A`` (Velociraptor auto),
#: ``%5C%5C.%5CC%3A`` (Velociraptor ntfs), ``C:`` (a copy made on Linux); ``_`` for ``%`` once unzipped
#: by analyzer.archives, which keeps safe characters only.
_DRIVE = re.compile(r"^(?:[%_]5C[%_]5C\.[%_]5C)?([A-Za-z])(?:[%_]3A|:)?$", re.IGNORECASE)
#: How deep under the folder given a root is looked for (``uploads/auto/C%3A``).
MAX_DEPTH = 3
#: Entries listed at most per backup folder in the manifest (a backup holds thousands of payload files);
#: the whole listing (up to MAX_WALK entries) goes into the bundle beside the metadata files.
MAX_LISTING = 2000


@dataclass(frozen=True)
class Root:
    """A folder that stands for a PC's system drive (Windows), root (macOS, Linux) or one user profile."""

    path: Path
    os: str
    drive: str = ""        # the Windows drive letter, upper case ("C" when the copy does not say)
    profile: bool = False  # one user's profile or home folder, not a whole drive

    def original(self, rel: str) -> str:
        """How the PC itself names a file under this root."""
        if self.os == "windows":
            head = "%USERPROFILE%" if self.profile else f"{self.drive or 'C'}:"
            return head + "\\" + rel.replace("/", "\\")
        return ("~/" if self.profile else "/") + rel

    def member(self, rel: str) -> str:
        """Where a bundle keeps the file: the same layout, so an unpacked bundle is a triage copy too."""
        top = ("profile" if self.profile else (self.drive or "C")) if self.os == "windows" else (
            "home" if self.profile else "root")
        return f"files/{top}/{rel}"


@dataclass(frozen=True)
class Found:
    location: Location
    path: Path
    rel: str
    root: Root


@dataclass
class Scan:
    """What was found under the roots, and everything that was not taken, with the reason."""

    roots: list[Root]
    found: list[Found] = field(default_factory=list)
    backups: list[dict] = field(default_factory=list)       # one per backup folder: its listing
    missing: list[dict] = field(default_factory=list)       # {location, looked_in}
    refused: list[dict] = field(default_factory=list)       # {path, reason}
    old: list[dict] = field(default_factory=list)           # left out by --since

    def refuse(self, path: Path, reason: str) -> None:
        """A file or folder not taken: named as the PC names it, with where it was read from."""
        for root in self.roots:
            try:
                rel = path.relative_to(root.path).as_posix()
            except ValueError:
                continue
            self.refused.append({"path": root.original(rel), "read_from": str(path), "reason": reason})
            return
        self.refused.append({"path": str(path), "read_from": str(path), "reason": reason})


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)  # a link to a folder is not a folder here
    except OSError:
        return False


def _child(folder: Path, name: str) -> Path | None:
    """The entry of ``folder`` named ``name``, ignoring case (a Windows copy on a case-sensitive disk)."""
    direct = folder / name
    if os.path.lexists(direct):
        return direct
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.casefold() == name.casefold():
                    return folder / e.name
    except OSError:
        pass
    return None


def _has(folder: Path, *parts: str) -> bool:
    here: Path | None = folder
    for part in parts:
        here = _child(here, part) if here is not None and _is_dir(here) else None
    return here is not None and _is_dir(here)


def _any_user(folder: Path, users: str, *marker: str) -> bool:
    base = _child(folder, users)
    if base is None or not _is_dir(base):
        return False
    try:
        return any(_has(base / e.name, *marker) for e in os.scandir(base) if e.is_dir(follow_symlinks=False))
    except OSError:
        return False


def os_of(folder: Path) -> tuple[str, bool] | None:
    """Which OS's root (or user profile) ``folder`` is, by the folders it holds; None when none."""
    if _has(folder, "Windows", "System32") or _any_user(folder, "Users", "AppData"):
        return "windows", False
    if _any_user(folder, "Users", "Library") or _has(folder, "private", "etc") or _has(folder, "System", "Library"):
        return "macos", False
    if _has(folder, "etc") and (_has(folder, "var", "log") or _has(folder, "home")):
        return "linux", False
    if _has(folder, "AppData", "Roaming") or _has(folder, "AppData", "Local"):
        return "windows", True
    if _has(folder, "Library", "Logs") or _has(folder, "Library", "Application Support"):
        return "macos", True
    return None


def bundle_roots(folder: Path) -> list[Root] | None:
    """The roots of an unpacked ``analyze collect`` bundle (``manifest.json`` + ``files/<drive>/``),
    which may hold too little to be recognised by its folders alone (a backup's metadata only)."""
    manifest, files = _child(folder, "manifest.json"), _child(folder, "files")
    if manifest is None or files is None or _is_link(manifest) or not _is_dir(files):
        return None
    try:
        if manifest.stat().st_size > 64 << 20:
            return None
        data = json.loads(manifest.read_text(encoding="utf-8-sig"))
        oses = [r.get("os") for r in data.get("roots", [])] if data.get("format") == "analyzer-collection" else None
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    if oses is None:
        return None
    unix = next((o for o in oses if o in ("macos", "linux")), "macos")
    roots = []
    for sub in _subfolders(files):
        if sub.name in ("root", "home"):
            roots.append(Root(sub, unix, profile=sub.name == "home"))
        elif sub.name == "profile" or _DRIVE.match(sub.name):
            roots.append(Root(sub, "windows", drive=_drive(sub.name) if sub.name != "profile" else "",
                              profile=sub.name == "profile"))
    return roots


def find_roots(folder: Path) -> list[Root]:
    """The PC roots at or under ``folder`` (breadth first, :data:`MAX_DEPTH` deep, links not entered):
    an unpacked bundle's, the folder itself when it is one, else the drive folders of a triage copy.
    Empty: not a PC tree."""
    bundle = bundle_roots(folder)
    if bundle:
        return bundle
    own = os_of(folder)
    if own is not None:
        return [Root(folder, own[0], drive=_drive(folder.name) if own[0] == "windows" else "", profile=own[1])]
    level, roots = [folder], []
    for _ in range(MAX_DEPTH):
        nxt = []
        for here in level:
            for sub in _subfolders(here):
                kind, bundle = os_of(sub), bundle_roots(sub)
                if bundle:
                    roots.extend(bundle)
                elif kind is not None and (_DRIVE.match(sub.name) or kind[1] is False):
                    roots.append(Root(sub, kind[0], drive=_drive(sub.name) if kind[0] == "windows" else "",
                                      profile=kind[1]))
                else:
                    nxt.append(sub)
        if roots:
            return roots
        level = nxt
    return []


def _drive(name: str) -> str:
    m = _DRIVE.match(name)
    return m.group(1).upper() if m else "C"


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(folder / e.name for e in os.scandir(folder) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _folders(root: Root, loc: Location, scan: Scan) -> list[Path]:
    """The folders a location names under a root: each ``*`` of its path expanded, profiles that are
    no user's left out, links reported and not entered."""
    parts = [p for p in loc.folder().split("/") if p]
    if root.profile:
        base = loc.base_path.split("/")
        if len(base) < 2 or base[1] != "*":
            return []  # a system location: not in a profile
        parts = parts[2:]
    here = [root.path]
    for i, part in enumerate(parts):
        nxt = []
        for folder in here:
            if "*" in part:
                skip = table().skip_profiles if i == 1 and not root.profile else frozenset()
                for sub in _subfolders(folder):
                    if sub.name not in skip and matches((part,), sub.name):
                        nxt.append(sub)
                _links(folder, part, scan)
                continue
            sub = _child(folder, part)
            if sub is not None and _is_link(sub):
                scan.refuse(sub, "symbolic link, not followed")
            elif sub is not None and _is_dir(sub):
                nxt.append(sub)
        here = nxt
    return here


def _links(folder: Path, part: str, scan: Scan) -> None:
    try:
        for e in os.scandir(folder):
            if e.is_symlink() and matches((part,), e.name):
                scan.refuse(folder / e.name, "symbolic link, not followed")
    except OSError:
        pass


def _files(folder: Path, patterns: tuple[str, ...], scan: Scan) -> list[tuple[Path, str]]:
    """Files under ``folder`` matching the patterns (relative paths, ``/``), links reported, never entered."""
    out: list[tuple[Path, str]] = []
    walk = os.walk(folder, followlinks=False, onerror=lambda e: scan.refuse(Path(e.filename or folder),
                                                                            f"cannot list: {e.strerror}"))
    for dirpath, dirnames, filenames in walk:
        dirnames.sort()
        here = Path(dirpath)
        rel_dir = here.relative_to(folder).as_posix()
        for name in dirnames:
            if _is_link(here / name):
                scan.refuse(here / name, "symbolic link, not followed")
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not matches(patterns, rel):
                continue
            if _is_link(here / name):
                scan.refuse(here / name, "symbolic link, not followed")
            else:
                out.append((here / name, rel))
        if not recursive(patterns):
            dirnames.clear()
    return out


def scan(roots: list[Root], *, since: dt.datetime | None = None, live: bool = False) -> Scan:
    """Every location of the table for each root's OS, looked for under it (see :class:`Scan`)."""
    result = Scan(roots=roots)
    for root in roots:
        for loc in table().for_os(root.os):
            if live and loc.take in ("command", "eventlog"):
                continue  # exported or run by analyzer.collect_live (locked or not files), not looked for
            folders = _folders(root, loc, result)
            got = 0
            for folder in folders:
                if loc.take == "backup":
                    got += _backups(root, loc, folder, result)
                    continue
                for path, rel in _files(folder, loc.files(), result):
                    got += _take(root, loc, path, path.relative_to(root.path).as_posix(), since, result)
            if not got:
                looked = [root.original(f.relative_to(root.path).as_posix()) for f in folders] or [
                    root.original(loc.folder())]
                why = "only on the live machine" if loc.take == "command" else "not found"
                result.missing.append({"location": loc.id, "kind": loc.kind, "looked_in": looked, "why": why})
    return result


def _take(root: Root, loc: Location, path: Path, rel: str, since: dt.datetime | None, result: Scan) -> int:
    if since is not None and loc.dated:
        try:
            when = dt.datetime.fromtimestamp(os.lstat(path).st_mtime, dt.timezone.utc)
        except OSError:
            when = None
        if when is not None and when < since:
            result.old.append({"path": root.original(rel), "location": loc.id, "mtime": when.isoformat()})
            return 1
    result.found.append(Found(loc, path, rel, root))
    return 1


def _backups(root: Root, loc: Location, folder: Path, result: Scan) -> int:
    """A backup root's device folders: their metadata files taken, their content only listed."""
    got = 0
    for device in _subfolders(folder):
        entries = _listing(device, result)
        for name in BACKUP_METADATA:
            path = _child(device, name)
            if path is not None and not _is_link(path) and path.is_file():
                result.found.append(Found(loc, path, path.relative_to(root.path).as_posix(), root))
        rel = device.relative_to(root.path).as_posix()
        files = [e for e in entries if not e.get("dir")]
        result.backups.append({"folder": root.original(rel), "location": loc.id, "member": root.member(rel),
                               "listing": files[:MAX_LISTING], "entries": len(files),
                               "content": "not collected (metadata files only)", "all": entries})
        got += 1
    return got


def _listing(device: Path, result: Scan) -> list[dict]:
    """Files (name, size) and folders below a backup folder, links not entered, at most MAX_WALK:
    so a bundle still says what the backup held, and what was missing or left over."""
    out: list[dict] = []
    for dirpath, dirnames, filenames in os.walk(device, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for name in dirnames:
            out.append({"name": (here / name).relative_to(device).as_posix(), "dir": True})
        for name in sorted(filenames):
            path = here / name
            try:
                size = os.lstat(path).st_size
            except OSError as exc:
                result.refuse(path, f"cannot read: {exc.strerror}")
                continue
            out.append({"name": path.relative_to(device).as_posix(), "size": size})
        if len(out) > MAX_WALK:
            return out
    return out


def pc_files(folder: Path) -> list[Path] | None:
    """The evidence files of the PC ``folder`` holds (a mounted disk, a triage copy, this machine's
    root), found where the table says; None when ``folder`` is no PC tree (then every file under it is
    evidence, as before). Drives of one PC sit side by side (``C%3A``, ``D%3A``): roots under
    different parents are several PCs, which the fleet layout splits first."""
    roots = find_roots(folder)
    if not roots or len({r.path.parent for r in roots}) > 1:
        return None
    return [f.path for f in scan(roots).found]


def beside_roots(folder: Path) -> list[Path]:
    """The top-level entries of ``folder`` that lead to none of its PC roots (empty when ``folder`` is
    itself the root): what a triage copy holds beside its drive folders (a console log, a pasted log,
    or another PC), for the caller to judge."""
    roots = find_roots(folder)
    if not roots or any(r.path == folder for r in roots):
        return []
    top = {r.path.relative_to(folder).parts[0] for r in roots}
    try:
        return sorted(folder / e.name for e in os.scandir(folder) if e.name not in top)
    except OSError:
        return []


def is_system_root(folder: Path) -> bool:
    """Is ``folder`` this machine's own root (``/``, ``C:\\``)? Then the PC is named after this machine."""
    resolved = folder.resolve()
    return resolved == Path(resolved.anchor)


def this_pc_root() -> Path:
    """This machine's system drive (``%SystemDrive%\\``) or root: what ``analyze --this-pc`` reads."""
    if os.name == "nt":
        return Path((os.environ.get("SystemDrive") or "C:") + "\\")
    return Path("/")
