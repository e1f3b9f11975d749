"""A text file's lines read a piece at a time: the file is never held whole, as bytes or as text.

Why: a repair bench's restore log can be a gigabyte, and one line of it can be hundreds of
megabytes (a binary blob dumped into a log, a file that lost its line ends). Reading it whole
costs the file twice (bytes, then text) before a single line is looked at. Here the bytes are
read 4 MiB at a time, decoded incrementally in the encoding the head shows (textio's rules), and
split into lines as polars Series, so the peak is the lines themselves.

A line longer than ``MAX_LINE_CHARS`` keeps its first ``MAX_LINE_CHARS`` characters; the rest is
counted, never silently dropped: the caller gets each such line's number and length for a
located note. Line numbering is ``grep -n``'s (``textio.line_list``): CRLF and LF end a line, a
lone CR only in a file of CR line ends, and a final terminator adds no empty line. Undecodable bytes become U+FFFD and are counted,
with the line of the first.
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

import polars as pl

from .textio import HEAD_BYTES, cr_ends_lines, detect_encoding

#: Bytes read and decoded at a time.
PIECE_BYTES = 4 << 20
#: Characters kept of one line; a log line is a few hundred.
MAX_LINE_CHARS = 1 << 20
#: Long lines listed by number (the rest are counted).
MAX_LISTED = 20

_count = threading.local()


def _replace_and_count(exc: UnicodeDecodeError) -> tuple[str, int]:
    _count.n = getattr(_count, "n", 0) + 1
    return "\ufffd", exc.end


codecs.register_error("analyzer-count", _replace_and_count)


@dataclass
class Lines:
    """A file's lines, and what reading them found."""

    lines: pl.Series
    encoding: str
    replaced: int = 0                                         # undecodable sequences, as U+FFFD
    first_replaced: int | None = None                         # the line of the first
    long: list[tuple[int, int]] = field(default_factory=list)  # (line, characters) of cut lines
    long_count: int = 0
    read: int = 0                                              # bytes read


class LineSplitter:
    """Turns decoded pieces into lines, carrying the unfinished last line between pieces."""

    def __init__(self, cap: int, cr_ends: bool | None = None):
        self.cap = cap
        self.parts: list[pl.Series] = []
        self.pending = ""          # the unfinished line (at most cap characters kept)
        self.pending_len = 0       # its true length
        self.count = 0             # lines finished so far
        self.long: list[tuple[int, int]] = []
        self.long_count = 0
        self.first_replaced: int | None = None
        self.carry_cr = False
        self.pending_cr = False    # whether the unfinished line (as read, past the cap too) ends with a CR
        self.cr_ends = cr_ends  # None: decided by the first piece (textio.cr_ends_lines)

    def feed(self, text: str, final: bool = False) -> None:
        if self.cr_ends is None and (text or final):
            self.cr_ends = cr_ends_lines(text)
        if self.cr_ends:
            if self.carry_cr:
                text, self.carry_cr = "\r" + text, False
            if not final and text.endswith("\r"):
                text, self.carry_cr = text[:-1], True  # a CRLF may be cut between two pieces
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
        # otherwise a line ends at LF, and the CR of a CRLF is taken off the line it ends
        # (_emit_pending, _emit), so that a lone CR stays in its line (textio.line_list) without
        # a pass over the whole text to replace CRLFs
        cut = text.rfind("\n")
        if cut >= 0:
            head, tail = text[:cut], text[cut + 1:]
            first_end = head.find("\n")
            self._extend_pending(head if first_end < 0 else head[:first_end])
            self._emit_pending(ended=True)
            if first_end >= 0:
                self._emit(head[first_end + 1:])
            text = tail
        self._extend_pending(text)
        if final and self.pending_len:
            self._emit_pending(ended=False)

    def _extend_pending(self, text: str) -> None:
        room = self.cap - len(self.pending)
        if room > 0:
            self.pending += text[:room]
        if text:
            self.pending_cr = text.endswith("\r")
        self.pending_len += len(text)

    def _emit_pending(self, ended: bool) -> None:
        """The unfinished line is finished: by a line end (``ended``; a CRLF's CR is then no part
        of it) or by the end of the file."""
        line = self.count + 1
        if ended and self.pending_cr and not self.cr_ends:
            self.pending_len -= 1
            self.pending = self.pending[:self.pending_len]
        if self.pending_len > self.cap:
            self._note_long(line, self.pending_len)
        self._mark_replaced(self.pending, line)
        self.parts.append(pl.Series("text", [self.pending], dtype=pl.String))
        self.count += 1
        self.pending, self.pending_len, self.pending_cr = "", 0, False

    def _emit(self, block: str) -> None:
        """Whole lines (no trailing terminator): split in Rust, the CR of each CRLF taken off,
        long ones cut and listed."""
        series = pl.Series("text", [block], dtype=pl.String).str.split("\n").explode()
        if not self.cr_ends and "\r" in block:
            series = series.str.strip_suffix("\r")
        first = self.count + 1
        lengths = series.str.len_chars()
        if int(lengths.max() or 0) > self.cap:
            over = (lengths > self.cap).arg_true()
            for i in over.to_list():
                self._note_long(first + i, int(lengths[i]))
            series = series.str.slice(0, self.cap)
        if self.first_replaced is None and "\ufffd" in block:
            at = series.str.contains("\ufffd", literal=True).arg_true()
            if at.len():
                self.first_replaced = first + int(at[0])
        self.parts.append(series)
        self.count += series.len()

    def _note_long(self, line: int, length: int) -> None:
        self.long_count += 1
        if len(self.long) < MAX_LISTED:
            self.long.append((line, length))

    def _mark_replaced(self, text: str, line: int) -> None:
        if self.first_replaced is None and "\ufffd" in text:
            self.first_replaced = line


def read_lines(path: Path, cap: int = MAX_LINE_CHARS, piece: int = PIECE_BYTES) -> Lines:
    """Every line of the file at ``path``, read a piece at a time (see the module docstring)."""
    with path.open("rb") as fh:
        return read_stream(fh, None, cap, piece)


def read_stream(fh: BinaryIO, limit: int | None, cap: int = MAX_LINE_CHARS, piece: int = PIECE_BYTES) -> Lines:
    """The lines of an open binary file, at most ``limit`` bytes of it (the size it had when opened:
    a file still being written cannot keep the read going)."""
    reader = LineReader(fh, limit, cap, piece)
    parts = list(reader)
    if parts:
        lines = pl.concat(parts, rechunk=True) if len(parts) > 1 else parts[0]
    else:
        lines = pl.Series("text", [], dtype=pl.String)
    return Lines(lines.alias("text"), reader.encoding, reader.replaced,
                 reader.first_replaced if reader.replaced else None, reader.long, reader.long_count, reader.read)


class LineReader:
    """An open binary file's lines, handed over as they are read: iterating gives Series of whole
    lines, in order, one or more per piece read. Once the iteration is over, the attributes say
    what reading found (as :class:`Lines` does): ``encoding``, ``replaced``, ``first_replaced``,
    ``long``, ``long_count``, ``read`` (bytes) and ``count`` (lines).

    Why an iterator: a caller that works on lines a chunk at a time (the restore log's line
    stage) can start on the first chunk while the rest is read, and never holds the whole text.
    """

    def __init__(self, fh: BinaryIO, limit: int | None, cap: int = MAX_LINE_CHARS, piece: int = PIECE_BYTES):
        self.fh, self.limit, self.cap, self.piece = fh, limit, cap, piece
        self.encoding = "utf-8"
        self.replaced = 0
        self.first_replaced: int | None = None
        self.long: list[tuple[int, int]] = []
        self.long_count = 0
        self.read = 0
        self.count = 0

    def _take(self, n: int) -> bytes:
        left = -1 if self.limit is None else self.limit - self.read
        if left == 0:
            return b""
        data = self.fh.read(n if left < 0 else min(n, left))
        self.read += len(data)
        return data

    def __iter__(self) -> Iterator[pl.Series]:
        head = self._take(HEAD_BYTES + 4)  # past the sample, so a character cut at its end is seen as cut
        self.encoding = detect_encoding(head)
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="analyzer-count")
        splitter = LineSplitter(self.cap)
        chunk, started = head, False
        while True:
            final = not chunk
            counted = getattr(_count, "n", 0)  # (another reader in this thread may have counted before)
            text = decoder.decode(chunk, final=final)
            self.replaced += getattr(_count, "n", 0) - counted
            if not started and text:
                text, started = text[1:] if text.startswith("\ufeff") else text, True
            if text or final:
                splitter.feed(text, final=final)
            self.count, self.long, self.long_count = splitter.count, splitter.long, splitter.long_count
            self.first_replaced = splitter.first_replaced
            parts, splitter.parts = splitter.parts, []
            yield from parts
            if final:
                break
            chunk = self._take(self.piece)
