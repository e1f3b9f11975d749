"""Finding the input files and deciding which PC each belongs to.

Layout (which PC a file belongs to):

* ``host``: every path given is one PC, named after the folder (or, for a
  file, its parent folder);
* ``fleet``: every first-level subfolder of a given folder is one PC;
* ``auto`` (default): a folder with two or more subfolders (or zips) and no
  log file of its own is a fleet (a README beside the PCs does not count),
  anything else is one PC. A ``.zip`` given, or at the
  first level of a fleet folder, is one PC named after the archive (fleet
  folders may mix subfolders and archives). The report names the hosts,
  so a wrong split is visible; ``--layout`` overrides it.

A folder that holds a whole PC (a mounted disk, a triage copy: :mod:`analyzer.triage`) gives the
files in the location table's places. What is not read (a link not followed, a FIFO, a folder that
cannot be listed: :mod:`analyzer.walk`) becomes a report, never a silent gap.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from . import walk
from .archives import archive_host, is_archive
from .model import FileReport
from .sources import Input, claimants
from .triage import beside_roots, is_system_root, pc_files


@dataclass(frozen=True)
class Located:
    """A file to read, with the PC it belongs to and how to show its path."""

    path: Path
    display: str
    host: str


def _walk(top: Path, host: str, refused: list[FileReport]) -> list[tuple[Path, str]]:
    """Every file under ``top`` with its host; the entries not read (:mod:`analyzer.walk`: links not
    followed, FIFOs and devices, unreadable folders) join ``refused`` as that host's reports."""
    files, reports = walk.walk(top)
    for report in reports:
        report.host = host
    refused.extend(reports)
    return [(f, host) for f in files]


def _host_name(path: Path) -> str:
    """The PC a folder stands for: its own name (after links), shown printable; this machine's name
    for its own system root (``--this-pc``, ``analyze C:\\``)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a loop above it: the name as given
        resolved = path.absolute()
    if is_system_root(resolved):
        import socket

        return walk.shown(socket.gethostname() or str(resolved))
    return walk.shown(resolved.name or str(resolved))


def _one_pc(folder: Path) -> list[Path] | None:
    """The files of the one PC ``folder`` holds (:mod:`analyzer.triage`): the table's places, and the
    log files lying beside a triage copy's drive folders; None when it holds no PC, or when beside the
    copy there is another PC (an archive, a folder with a log in it), which the fleet layout splits."""
    tree = pc_files(folder)
    if tree is None:
        return None
    # logs handed over at the top of the folder are read too, whether the folder is a drive itself
    # (``Users/`` beside ``iTunes_restore.log``) or holds the drive folders
    beside = beside_roots(folder) or _top_files(folder)
    loose = []
    for entry in beside:
        if entry.is_dir() or is_archive(entry):
            if entry.is_file() or any(_is_log(f) for f in walk.walk(entry)[0][:200]):
                return None
        elif _is_log(entry):
            loose.append(entry)
    return tree + loose


def _top_files(folder: Path) -> list[Path]:
    """The regular files directly in ``folder`` (not links: the walk's rule)."""
    try:
        return sorted(Path(e.path) for e in os.scandir(folder) if e.is_file(follow_symlinks=False))
    except OSError:
        return []


def _pc_or_walk(folder: Path, host: str, refused: list[FileReport]) -> list[tuple[Path, str]]:
    """A whole PC (a mounted disk, a triage copy: :mod:`analyzer.triage`) gives the files in the
    location table's places; any other folder every file under it (see :func:`_walk`)."""
    found = _one_pc(folder)
    return [(f, host) for f in found] if found is not None else _walk(folder, host, refused)


def _is_log(path: Path) -> bool:
    """True when some source recognises the file (a README or notes beside a fleet's PCs are not logs)."""
    try:
        st = path.stat()
        return stat.S_ISREG(st.st_mode) and bool(st.st_size) and bool(claimants(Input(path=path, display=str(path))))
    except OSError:
        return False


def discover(paths: list[Path], layout: str = "auto") -> tuple[list[Located], list[FileReport]]:
    """Expand the given paths into files with hosts. What is not read — a path that is not there,
    a link not followed, a FIFO or device, a folder that cannot be listed — becomes a report
    (:mod:`analyzer.walk` says why each), so the run goes on and the report says what was left."""
    found: list[Located] = []
    refused: list[FileReport] = []
    seen: set[str] = set()
    for given in paths:
        kind = walk.given(given)
        if isinstance(kind, FileReport):
            refused.append(kind)
            continue
        if kind == "file":
            # a .zip given is one PC, named after the archive (analyzer.archives reads it)
            entries = [(given, archive_host(given) if is_archive(given) else _host_name(given.parent))]
        elif layout != "fleet" and (tree := _one_pc(given)) is not None:
            entries = [(f, _host_name(given)) for f in tree]  # a whole PC: the table's places under it
        else:
            top = walk.listing(given, given)
            archives = [f for f in top.files if is_archive(f)]
            loose = [f for f in top.files if not is_archive(f)]
            fleet = layout == "fleet" or (layout == "auto" and len(top.folders) + len(archives) >= 2
                                          and not any(_is_log(f) for f in loose))
            if fleet:
                host = _host_name(given)
                entries = [(f, walk.shown(archive_host(f)) if is_archive(f) else host) for f in top.files]
                for report in top.refused:
                    report.host = host
                refused.extend(top.refused)
                for sub in top.folders:
                    entries.extend(_pc_or_walk(sub, walk.shown(sub.name), refused))
            else:
                entries = _walk(given, _host_name(given), refused)
        for path, host in entries:
            key = os.path.realpath(path)  # a file reached twice (through a link) is read once
            if key in seen:
                continue
            seen.add(key)
            found.append(Located(path, walk.shown(path), host))
    return found, refused
