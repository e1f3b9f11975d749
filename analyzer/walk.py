"""Walking the folders given: every entry is a file to read or a report that says why it is not read.

A folder handed to a forensic tool is hostile ground: a triage image copied from another machine
holds links that point into *that* machine's namespace, named pipes, device nodes, folders the
examiner may not list, and names that are not valid UTF-8. Nothing here may hang, raise or drop an
entry silently, and nothing outside the evidence may be read as if it were part of it:

* **Symbolic links are not followed out of the evidence.** A link found inside a folder given is
  read only when it leads to a regular file inside the same PC's folder (the file is then read
  once, under one path). A link to a folder is never followed: that rules out cycles (``sub/up ->
  ..``), and a folder inside the evidence is walked at its own path anyway. A link that leads
  outside — ``/etc/hosts``, an absolute ``/var/log`` in an image of a Mac — would read the
  examiner's own files as the PC's evidence, so it is reported with its target
  (``link_not_followed``), never read. A path given on the command line is followed: the user
  chose it.
* **Only regular files are opened.** FIFOs, sockets and device nodes are reported
  (``not_regular_file``) from ``lstat`` alone: opening a FIFO for reading blocks until a writer
  comes, and a device can be endless.
* **What cannot be listed is said**: an unreadable folder (``folder_unreadable``), a link loop
  (``link_loop``), a dangling link (``link_dangling``), a folder reached twice through a bind
  mount (``folder_repeated``, by device and inode), each with its path.
* **Paths are shown printable**: bytes that are not UTF-8 (kept by Python as surrogate escapes)
  and control characters are written as ``\\xNN``, so every report, JSON included, stays valid.

The walk is iterative (a deep tree cannot exhaust Python's recursion) and sorted, folder by
folder, files before the subfolders, as :func:`os.walk` gives them.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .model import FileReport, Note
from .notes import part


def shown(path: Path | str) -> str:
    """``path`` as reports show it: undecodable bytes and control characters as ``\\xNN``."""
    text = str(path)
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (a Windows name)
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _kind(mode: int) -> dict:
    """The note's phrase for a file that is neither regular nor a folder."""
    if stat.S_ISFIFO(mode):
        return part("file_kind_fifo")
    if stat.S_ISSOCK(mode):
        return part("file_kind_socket")
    if stat.S_ISCHR(mode):
        return part("file_kind_char_device")
    if stat.S_ISBLK(mode):
        return part("file_kind_block_device")
    return part("file_kind_other", mode=oct(stat.S_IFMT(mode)))


def _report(note: Note, not_read: str) -> FileReport:
    return FileReport(path=note.file, format=None, not_read=not_read, errors=[note])


def not_regular(display: str, mode: int) -> FileReport:
    """The report for a FIFO, socket or device node: never opened."""
    return _report(Note(display, "not_regular_file", {"kind": _kind(mode)}), "unreadable")


def unreadable(path: Path, exc: OSError) -> FileReport:
    return _report(Note(shown(path), "cannot_read", {"reason": exc.strerror or str(exc)}), "unreadable")


def _target(path: Path) -> str:
    try:
        return shown(os.readlink(path))
    except OSError:
        return "?"


def _broken_link(path: Path, exc: OSError) -> FileReport:
    """A link that cannot be followed: a loop, a target that is not there, or an error on the way."""
    target = _target(path)
    if exc.errno == errno.ELOOP:
        return _report(Note(shown(path), "link_loop", {"target": target}), "unreadable")
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return _report(Note(shown(path), "link_dangling", {"target": target}), "missing")
    return unreadable(path, exc)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _link(path: Path, root: str) -> Path | FileReport:
    """A link found in the walk: the path to read (a regular file inside ``root``), or its report."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return _broken_link(path, exc)
    if stat.S_ISREG(st.st_mode) and _inside(os.path.realpath(path), root):
        return path
    note = Note(shown(path), "link_not_followed", {"target": _target(path)}, severity="warning")
    return _report(note, "unreadable")


def given(path: Path) -> str | FileReport:
    """What a path given on the command line is: ``"file"``, ``"folder"``, or the report saying why
    it is not read (not there, a loop, a dangling link, a FIFO or device). Links are followed."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            return _broken_link(path, exc)
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return _report(Note(shown(path), "not_found"), "missing")
        return unreadable(path, exc)
    if stat.S_ISDIR(st.st_mode):
        return "folder"
    return "file" if stat.S_ISREG(st.st_mode) else not_regular(shown(path), st.st_mode)


@dataclass
class Listing:
    """One folder's entries: regular files (and links to files inside the PC's folder), subfolders
    (never links), and a report for every entry that is not read."""

    files: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    refused: list[FileReport] = field(default_factory=list)


def listing(folder: Path, root: Path) -> Listing:
    """The entries of ``folder`` (one level, sorted by name), judged from ``lstat`` alone: nothing is
    opened. ``root`` is the PC's folder: links leading out of it are not followed."""
    out = Listing()
    try:
        with os.scandir(folder) as entries:
            found = sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        note = Note(shown(folder), "folder_unreadable", {"reason": exc.strerror or str(exc)})
        out.refused.append(_report(note, "unreadable"))
        return out
    real_root = os.path.realpath(root)
    for entry in found:
        path = folder / entry.name
        try:  # the entry's type as the listing gave it (no system call where the file system tells)
            if entry.is_symlink():
                judged = _link(path, real_root)
                (out.files.append if isinstance(judged, Path) else out.refused.append)(judged)
            elif entry.is_dir(follow_symlinks=False):
                out.folders.append(path)
            elif entry.is_file(follow_symlinks=False):
                out.files.append(path)
            else:
                out.refused.append(not_regular(shown(path), entry.stat(follow_symlinks=False).st_mode))
        except OSError as exc:  # vanished since the listing, or not ours to stat
            out.refused.append(unreadable(path, exc))
    return out


def walk(top: Path, root: Path | None = None) -> tuple[list[Path], list[FileReport]]:
    """Every file to read under ``top``, and the reports of the entries that are not read.

    Folders are visited depth first in name order, each one's files before its subfolders; a
    folder met again (same device and inode: a bind mount of a parent) is reported, not walked."""
    root = root or top
    files: list[Path] = []
    refused: list[FileReport] = []
    seen: dict[tuple[int, int], Path] = {}
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            refused.append(unreadable(folder, exc))
            continue
        first = seen.setdefault((st.st_dev, st.st_ino), folder)
        if first is not folder:
            note = Note(shown(folder), "folder_repeated", {"first": shown(first)}, severity="warning")
            refused.append(_report(note, "unreadable"))
            continue
        found = listing(folder, root)
        files.extend(found.files)
        refused.extend(found.refused)
        stack.extend(reversed(found.folders))
    return files, refused
