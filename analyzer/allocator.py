"""How polars' allocator gives memory back, chosen for the run's input before polars is loaded.

polars allocates through jemalloc (environment prefix ``_RJEM_``), which reads its settings once,
when polars is first imported. Two settings, measured whole-process on generated restore logs
(the same JSON either way):

* ``BOUNDED`` gives every freed page back at once. The peak is then the largest step's working set,
  not the sum of every step's temporaries: an 800k-line (66 MB) log peaks at 415 MB instead of
  525 MB. It costs system time, since pages given back are faulted in again: 4.5 s instead of
  3.3 s there.
* ``FAST`` keeps freed pages for a second, so a step reuses what the one before let go (requests
  of 256 KiB or more still go back at once). A 400k-line (33 MB) log: 2.5 -> 1.9 s, peak 265 ->
  345 MB; ``analyze samples/`` 6.5 -> 6.0 s.

The pages ``FAST`` keeps grow with the input, so it is only taken when the input is small enough
that they stay well inside the memory bound: under ``FAST_INPUT_BYTES`` of plain files (a 41 MB,
500k-line log then peaks at 363 MB; at 49 MB it would reach 436 MB), a ``.evtx`` file counting for
a third of its size (``EVTX_SHARE``: 101 MB of ``.evtx`` 2.2 -> 1.6 s, 230 -> 299 MB). Everything else, or anything
that cannot be sized cheaply (more than ``MAX_FILES`` files, a compressed file or archive, whose
content may be many times its size), runs ``BOUNDED``: bounded memory comes first, since a run
that is killed gives nothing.

Deciding costs a walk of the inputs' folders (names and sizes) and the first bytes of each file,
stopped as soon as the answer is known; no option's value is told apart from an input, so an
existing output file only makes the run more careful.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

#: The environment variable jemalloc reads (polars appends it to its own defaults).
ENV = "_RJEM_MALLOC_CONF"
BOUNDED = "dirty_decay_ms:0,muzzy_decay_ms:0"
FAST = "dirty_decay_ms:1000,muzzy_decay_ms:0,oversize_threshold:262144"
#: Plain input bytes under which FAST is taken.
FAST_INPUT_BYTES = 40 << 20
#: More files than this are not looked at one by one: BOUNDED.
MAX_FILES = 2_000
#: How compressed files and archives start (analyzer.compressed.MAGIC, zip's local header and
#: empty-archive record); a file named like an archive (analyzer.archives.ARCHIVE_SUFFIXES) counts too.
PACKED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"PK\x03\x04", b"PK\x05\x06")
PACKED_SUFFIXES = (".zip",)
#: A .evtx file counts for this fraction of its size: its records take far less memory once read
#: than a text log's lines (64 KiB chunks of templates and slack). Measured: 127 MB of .evtx peaks at
#: 330 MB with FAST (252 MB BOUNDED, 2.6 -> 1.8 s), as a 41 MB restore log does at 363 MB.
EVTX_SHARE = 3
EVTX_MAGIC = b"ElfFile\x00"
#: Arguments after which nothing is analysed.
_NO_RUN = frozenset({"--help", "-h", "--version"})


class _Unsized(Exception):
    """The input is too big, too many or packed: no need to look further."""


def setting(argv: Iterable[str]) -> str:
    """The allocator setting for a run of ``analyze`` with these arguments (never raises)."""
    args = list(argv)
    if not args or _NO_RUN.intersection(args) or args[0] == "collect":
        return BOUNDED
    total = _Budget()
    try:
        for arg in args:
            if not arg.startswith("-"):
                total.add(arg)
    except Exception:  # noqa: BLE001 - _Unsized, or anything odd: a speed choice never stops the run
        return BOUNDED
    return FAST if total.files else BOUNDED


class _Budget:
    """Running totals of the plain files seen; raises _Unsized once FAST is out of reach."""

    def __init__(self) -> None:
        self.bytes = 0
        self.files = 0

    def add(self, path: str) -> None:
        """An argument: a file or a folder (anything else is not an input, or one the run will
        say it cannot read)."""
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return
        if stat.S_ISDIR(st.st_mode):
            self._folder(path)
        elif stat.S_ISREG(st.st_mode):
            self._file(path, st.st_size)

    def _folder(self, top: str) -> None:
        # (os.walk does not follow links to folders, so a link loop ends; unreadable folders are skipped)
        for root, _, files in os.walk(top):
            for name in files:
                path = os.path.join(root, name)
                try:
                    st = os.stat(path)
                except (OSError, ValueError):
                    continue
                if stat.S_ISREG(st.st_mode):
                    self._file(path, st.st_size)

    def _file(self, path: str, size: int) -> None:
        self.files += 1
        head = _head(path)
        if self.files > MAX_FILES or path.lower().endswith(PACKED_SUFFIXES) or head.startswith(PACKED_MAGIC):
            raise _Unsized
        self.bytes += size // EVTX_SHARE if head.startswith(EVTX_MAGIC) else size
        if self.bytes >= FAST_INPUT_BYTES:
            raise _Unsized


def _head(path: str) -> bytes:
    """The first bytes of a file (none if it cannot be read; never waits on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return b""
    try:
        return os.read(fd, 8)
    except OSError:
        return b""
    finally:
        os.close(fd)
