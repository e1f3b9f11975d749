"""Logs compressed one file at a time (gzip, bzip2, xz): rotated logs, a ``.gz`` from a Mac or a
Linux box, a mailed attachment. Recognised by their first bytes, never by the name, and expanded
into the run's private scratch folder like a zip's members (:mod:`analyzer.archives`), under the
same limits (total bytes, expansion ratio), so a bomb stops at the budget. A stream cut short (a
copy taken while the log was still being written) keeps what it held, with a note.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path

from .archives import Limits, Member, safe_member_name
from .model import Note
from .sources import _base
from .notes import part

#: How many first bytes tell the formats apart.
MAGIC_BYTES = 6
#: The first bytes of each format.
MAGIC = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00"}
_OPEN = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
_SUFFIXES = (".gz", ".gzip", ".bz2", ".xz")
_CHUNK = 1 << 20


def compression(path: Path) -> str | None:
    """``gzip``, ``bzip2`` or ``xz`` when the file starts like one; None otherwise (or unreadable)."""
    try:  # never blocks: a FIFO put in a file's place since the walk is refused, not waited on
        with _base.open_regular(path) as fh:
            head = fh.read(MAGIC_BYTES)
    except OSError:
        return None
    return next((kind for kind, magic in MAGIC.items() if head.startswith(magic)), None)


def _inner_name(path: Path) -> str:
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name + ".decompressed"


def decompress(path: Path, dest: Path, display: str, limits: Limits) -> tuple[Member | None, list[Note]]:
    """The file's content expanded into ``dest`` (a member shown as ``name.gz!name``), and the notes
    on what could not be: a damaged or cut stream (what came before is kept), or a refusal at the
    budget. No member when nothing came out."""
    kind = compression(path)
    inner = safe_member_name(_inner_name(path)) or "decompressed"
    target = dest / inner
    size = max(path.stat().st_size, 1)
    written, notes = 0, []
    try:
        with _OPEN[kind](path, "rb") as src, open(target, "xb") as out:
            while chunk := src.read1(_CHUNK):  # what is there: a cut stream keeps all it held
                written += len(chunk)
                too_big = written > limits.total_bytes
                if too_big or (written > limits.ratio_min_bytes and written > limits.ratio * size):
                    notes.append(Note(display, "compressed_refused", {"format": kind, "bytes": written,
                                                                      "why": part("member_expands")}))
                    break
                out.write(chunk)
    except (EOFError, OSError, lzma.LZMAError, zlib.error, ValueError) as exc:
        notes.append(Note(display, "compressed_damaged", {"format": kind, "bytes": written,
                                                          "error": str(exc)[:200] or type(exc).__name__}))
    if written == 0 or (notes and notes[-1].code == "compressed_refused"):
        target.unlink(missing_ok=True)
        return None, notes
    return Member(target, f"{display}!{_inner_name(path)}"), notes
