"""How polars' allocator gives memory back, chosen for the run's input before polars is loaded.

polars allocates through jemalloc (environment prefix ``_RJEM_``), which reads its settings once,
when polars is first imported. Three settings, measured whole-process on generated restore logs
(the same JSON with each):

* ``BOUNDED`` gives every freed page back at once. The peak is then the largest step's working set,
  not the sum of every step's temporaries: an 800k-line (66 MB) log peaks at 415 MB instead of
  525 MB. It costs system time, since pages given back are faulted in again: 4.5 s instead of
  3.3 s there.
* ``FAST`` keeps freed pages for a second, so a step reuses what the one before let go (requests
  of 256 KiB or more still go back at once). A 400k-line (33 MB) log: 2.5 -> 1.9 s, peak 265 ->
  345 MB; ``analyze samples/`` 6.5 -> 6.0 s.
* ``SHORT`` keeps them for 20 ms: most of FAST's saving at little of its cost, since what is kept
  is what the last 20 ms let go, not what a whole step did. It is taken for an input whose PCs are
  analysed in parts (:mod:`analyzer.parts`), where a step's working set is bounded by a part
  rather than by the input: a 143 MB log (2M lines, 30 attempts) 13.8 -> 8.9 s, peak 316 -> 346 MB
  (FAST: 8.0 s, 365 MB; system time 9.4 -> 2.5 s); a 1 GB one 84 -> 63 s, 335 -> 347 MB. It is taken
  only where that is sure: files of one folder, which are one PC. Several folders may be several PCs
  each read whole, and SHORT on the largest whole read, the 66 MB log above, takes 4.0 -> 2.6 s but
  428 -> 450-475 MB, too near the bound (two such PCs with ``--html`` reach 487 MB BOUNDED). Nor is it
  taken with ``.evtx`` files: 488 MB of them in parts, ``--format csv``, 12.0 -> 8.2 s but 373 ->
  407-421 MB, and 2 GB of them took 435 MB BOUNDED.

The pages ``FAST`` keeps grow with the input, so it is only taken when the input is small enough
that they stay well inside the memory bound: under ``FAST_INPUT_BYTES`` of plain files (a 41 MB,
500k-line log then peaks at 363 MB; at 49 MB it would reach 436 MB), a ``.evtx`` file counting for
a third of its size (``EVTX_SHARE``: 101 MB of ``.evtx`` 2.2 -> 1.6 s, 230 -> 299 MB). ``SHORT``
is taken from ``PARTS_BYTES`` of one folder's text logs (and no ``.evtx``, see above). In between (a
whole read near the memory bound), for several folders' files, and for anything that cannot be
sized cheaply (more than ``MAX_FILES`` files, a compressed file or archive, whose content may be
many times its size), the run is ``BOUNDED``: bounded memory comes first, since a run that is
killed gives nothing.

Deciding costs a walk of the inputs' folders (names and sizes) and the first bytes of each file,
stopped once neither FAST nor SHORT can be taken; no option's value is told apart from an input, so an
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
SHORT = "dirty_decay_ms:20,muzzy_decay_ms:0,oversize_threshold:262144"
#: Plain input bytes under which FAST is taken.
FAST_INPUT_BYTES = 40 << 20
#: A PC whose files weigh at least this many bytes (:func:`analyzer.evidence_size.evidence_bytes`) is
#: analysed in parts (:mod:`analyzer.parts`; ``ANALYZER_PARTS_BYTES`` in the environment sets another,
#: and 0 analyses every PC so, which the tests use); one folder of text logs of that weight runs SHORT.
#: Here, rather than in analyzer.parts, because this choice is made before polars loads. Read whole, a
#: restore log peaks at about 150 MB plus 8 times its size (63 MB: 418 MB; 143 MB: 1.16 GB, and a 124 MB
#: log that is one attempt 984 MB), so 64 MB keeps a whole read under the 500 MB bound; in parts the
#: 143 MB log took 328 MB, and 17 s instead of 11 s (BOUNDED).
PARTS_BYTES = 64 << 20
PARTS_ENV = "ANALYZER_PARTS_BYTES"
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
    """The input is too many files, packed, or neither small nor one folder's: no need to look further."""


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
    if total.files and total.bytes < FAST_INPUT_BYTES:
        return FAST
    # one folder's files are one PC (analyzer.discover), so at this weight it is analysed in parts;
    # files in several folders may be several PCs, each read whole near the memory bound
    if len(total.folders) == 1 and not total.evtx and total.bytes >= parts_threshold():
        return SHORT
    return BOUNDED


class _Budget:
    """Running totals of the plain files seen: ``bytes`` as FAST weighs them (a text log its size, as
    the parts decision does too), the ``folders`` they lie in and how many are ``.evtx``. Raises
    _Unsized once neither FAST nor SHORT can be taken."""

    def __init__(self) -> None:
        self.bytes = 0
        self.files = 0
        self.evtx = 0
        self.folders: set[str] = set()

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
        evtx = head.startswith(EVTX_MAGIC)
        self.evtx += evtx
        self.bytes += size // EVTX_SHARE if evtx else size
        self.folders.add(os.path.dirname(os.path.abspath(path)))
        if self.bytes >= FAST_INPUT_BYTES and len(self.folders) > 1:
            raise _Unsized


def parts_threshold() -> int:
    """The evidence weight from which a PC is analysed in parts (:data:`PARTS_BYTES`, or the environment's)."""
    text = os.environ.get(PARTS_ENV, "").strip()
    try:
        return max(0, int(text)) if text else PARTS_BYTES
    except ValueError:
        return PARTS_BYTES


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
