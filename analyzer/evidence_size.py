"""What a PC's files weigh before they are read: what decides whether the PC is analysed whole or in
parts (:mod:`analyzer.parts`).

The weight is the memory a whole read of a file would take, in restore-log bytes: a text log counts
its size; a ``.evtx`` file a sixth, since its records take about a tenth of what a text log's lines do
once read (101 MB of ``.evtx`` peaked at 262 MB read whole, 505 MB at about 500 MB); a compressed log
or an archive what it expands to (it is expanded before it is read): gzip's trailer says its size
(modulo 4 GiB, so never less than the file), a zip's directory its members', and bzip2 and xz count
ten times their size, about what a text log compresses by. Weighing too much only sends a PC to parts
sooner, which costs time, never memory. Only each file's first bytes (and a gzip's last four, a zip's
directory) are read, and never from a FIFO or a device.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from .allocator import EVTX_MAGIC, PACKED_MAGIC
from .compressed import MAGIC

#: A .evtx file weighs this fraction of its size.
EVTX_SHARE = 6
#: A bzip2 or xz stream weighs this many times its size.
PACKED_TIMES = 10
_GZIP, _PACKED = MAGIC["gzip"], (MAGIC["bzip2"], MAGIC["xz"])
_ZIP = tuple(m for m in PACKED_MAGIC if m.startswith(b"PK"))


def evidence_bytes(paths: list[Path]) -> int:
    """The weight of ``paths`` (see the module's docstring); a file that cannot be read weighs
    nothing (its reader says why)."""
    return sum(_weight(path) for path in paths)


def _weight(path: Path) -> int:
    try:  # (never waits on a FIFO: only a regular file is read)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return 0
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return 0
        head = os.read(fd, len(EVTX_MAGIC))
        if head == EVTX_MAGIC:
            return st.st_size // EVTX_SHARE
        if head.startswith(_GZIP) and st.st_size >= 18:
            os.lseek(fd, -4, os.SEEK_END)
            return max(st.st_size, int.from_bytes(os.read(fd, 4), "little"))
        if head.startswith(_PACKED):
            return st.st_size * PACKED_TIMES
    except OSError:
        return 0
    finally:
        os.close(fd)
    if head.startswith(_ZIP):
        try:
            with zipfile.ZipFile(path) as archive:
                return max(st.st_size, sum(info.file_size for info in archive.infolist()))
        except (OSError, zipfile.BadZipFile, ValueError):
            return st.st_size * PACKED_TIMES
    return st.st_size
