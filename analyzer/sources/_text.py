"""Helpers every text source shares: splitting lines as an editor numbers them, and the
located notes for undecodable bytes and for lines that match no line shape.

One place so that line numbers, and what counts as unrecognised, mean the same in every report.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator

import polars as pl

from .. import grammars
from ..model import FileReport, Note, conform
from ..lines import MAX_LINE_CHARS, LineReader, LineSplitter
from ..textio import Decoded, cr_ends_lines
from . import _base
from ._base import Excerpt, Input, Parsed, Source, add_note, add_summary_note

#: Unrecognised lines explained by the (slow) Lark reference parser, and the longest line it is given.
EXPLAIN_MAX_LINES = 20
EXPLAIN_MAX_CHARS = 400


#: Text is split into lines this many characters at a time: polars splits a few megabytes far
#: faster than one huge string (whose intermediate list costs several times the text), so the
#: peak stays near the size of the lines themselves.
SPLIT_CHARS = 4 << 20


def text_lines(text: str) -> pl.Series:
    """Lines without terminators as a polars Series, by the one rule (``textio.line_list``: CRLF and
    LF end a line, a lone CR does not; a final terminator adds no empty line).

    The text is fed to the file reader's splitter a few MB at a time, uncapped: polars splits a
    few megabytes far faster than one huge string, so the peak stays near the lines themselves,
    and a file read in pieces and the same text held whole give the same lines.
    """
    splitter = LineSplitter(cap=sys.maxsize, cr_ends=cr_ends_lines(text))
    for start in range(0, len(text), SPLIT_CHARS):
        splitter.feed(text[start:start + SPLIT_CHARS])
    splitter.feed("", final=True)
    if not splitter.parts:
        return pl.Series("text", [], dtype=pl.String)
    parts = splitter.parts
    return (parts[0] if len(parts) == 1 else pl.concat(parts, rechunk=True)).alias("text")


def read_text_lines(item, report: FileReport) -> pl.Series:
    """The lines of ``item`` for a line source, with the encoding, undecodable bytes and cut long
    lines noted in ``report``. A plain file is read a piece at a time (:mod:`analyzer.lines`: never
    held whole, lines over ``MAX_LINE_CHARS`` cut and located); a pasted log (a margin taken off)
    or a region of a file is read from its text, which is held already."""
    parts = list(read_text_chunks(item, report, None))
    if not parts:
        return pl.Series("text", [], dtype=pl.String)
    return (parts[0] if len(parts) == 1 else pl.concat(parts, rechunk=True)).alias("text")


def read_text_chunks(item, report: FileReport, size: int | None) -> Iterator[pl.Series]:
    """:func:`read_text_lines` handed over ``size`` lines at a time (the last chunk shorter; None:
    as they are read) while the file is read: the caller can work on the first lines while the
    rest are read, and a plain file's text is never held whole. The notes are added to
    ``report`` once the last chunk is handed over."""
    if item.margin is not None or isinstance(item, Excerpt) or "_read" in item.__dict__:
        decoded = item.decoded
        report.encoding = decoded.encoding
        decoding_note(report, decoded, item.display)
        yield from _cut([text_lines(decoded.text)], size)
        return
    with _base.open_regular(item.path) as fh:  # through the module: the one place files are opened
        before = os.fstat(fh.fileno())
        got = LineReader(fh, before.st_size)
        yield from _cut(got, size)
        item.check_unchanged(before, os.fstat(fh.fileno()), got.read)
    report.encoding = got.encoding
    if got.replaced:
        add_note(report, Note(item.display, "undecodable_bytes", {"count": got.replaced, "encoding": got.encoding},
                              line=got.first_replaced, severity="warning"))
    for line, length in got.long:
        add_note(report, Note(item.display, "line_too_long", {"length": length, "kept": MAX_LINE_CHARS},
                              line=line, severity="warning"))
    if got.long_count > len(got.long):
        add_summary_note(report, Note(item.display, "more_lines_too_long", {"count": got.long_count,
                                                                            "kept": MAX_LINE_CHARS}, severity="warning"))
    report.skipped += got.long_count


def _cut(parts: Iterable[pl.Series], size: int | None) -> Iterator[pl.Series]:
    """The lines of ``parts`` again, ``size`` at a time (the last chunk shorter); as they come for None."""
    if size is None:
        yield from (p for p in parts if p.len())
        return
    held: list[pl.Series] = []
    count = 0
    for part in parts:
        held.append(part)
        count += part.len()
        if count < size:
            continue
        lines = pl.concat(held, rechunk=True) if len(held) > 1 else held[0]
        while lines.len() >= size:
            yield lines.slice(0, size).alias("text")
            lines = lines.slice(size)
        held, count = ([lines] if lines.len() else []), lines.len()
    if count:
        yield (pl.concat(held, rechunk=True) if len(held) > 1 else held[0]).alias("text")


def sniff_text(item) -> str | None:
    """The decoded head of ``item`` for a line-oriented text sniffer, or None when it cannot be
    one: NUL characters in its first 4 KiB (binary, or UTF-16 read wrongly). (An unreadable
    file raises; the registry's :func:`~analyzer.sources.claimants` counts that as "not mine".)"""
    head = item.head_text
    return None if "\x00" in head[:4096] else head


def open_report(source, item) -> tuple[Decoded, FileReport]:
    """Decode ``item`` and open its report with the encoding read, noting undecodable bytes."""
    decoded = item.decoded
    report = source.new_report(item, decoded.encoding)
    decoding_note(report, decoded, item.display)
    return decoded, report


def decoding_note(report: FileReport, decoded: Decoded, display: str) -> None:
    """A located warning when bytes could not be decoded (they were replaced, never dropped)."""
    if not decoded.replaced:
        return
    at = decoded.text.find("\ufffd")
    line = decoded.text.count("\n", 0, at) + 1 if at >= 0 else None
    add_note(report, Note(display, "undecodable_bytes", {"count": decoded.replaced, "encoding": decoded.encoding},
                          line=line, severity="warning"))


def unrecognised_notes(report: FileReport, grammar: grammars.LineGrammar, frame: pl.DataFrame, display: str) -> None:
    """Count the non-blank lines no shape matched; locate the first few, explained by Lark."""
    bad = frame.filter(pl.col("shape").is_null() & (pl.col("text").str.strip_chars() != "")).select("line", "text")
    report.unrecognised = bad.height
    for i, (line, text) in enumerate(bad.head(EXPLAIN_MAX_LINES * 3).iter_rows()):
        if i < EXPLAIN_MAX_LINES and len(text) <= EXPLAIN_MAX_CHARS:
            note = Note(display, "line_shape_unknown", {"format": grammar.name, "detail": grammar.explain_failure(text)},
                        line=line, excerpt=text[:200], severity="warning")
        else:
            note = Note(display, "line_shape_unknown_unexplained", {"format": grammar.name},
                        line=line, excerpt=text[:200], severity="warning")
        add_note(report, note)
    if bad.height > EXPLAIN_MAX_LINES * 3:
        add_summary_note(report, Note(display, "lines_unrecognised_total", {"count": bad.height, "format": grammar.name},
                                      severity="warning"))


def grammar_frame(item, report: FileReport, grammar: grammars.LineGrammar) -> pl.DataFrame | None:
    """Decode ``item`` and run every line through ``grammar``'s fast path, noting what was odd.

    Sets ``report.records`` (lines read) and ``report.unrecognised``, adds the
    decoding and unrecognised-line notes, and returns the extracted frame (None
    for a file with no lines).
    """
    lines = read_text_lines(item, report)
    report.records = len(lines)
    if len(lines) == 0:
        return None
    frame = grammar.extract(lines)
    unrecognised_notes(report, grammar, frame, item.display)
    return frame


class GrammarLineSource(Source):
    """A line-oriented text source read through its own grammar (``grammar/<name>.lark``).

    Why a base: reading a file's lines through the grammar's fast path, noting what was odd
    (:func:`grammar_frame`) and keeping the lines some shape recognised is the same for each such
    source, and guarded the same way (:meth:`Source.read_guarded`); a source says only what its
    recognised lines mean, in :meth:`events`.
    """

    def parse(self, item: Input) -> Parsed:
        return self.read_guarded(item, self._parse, item.source_encoding)

    def _parse(self, item: Input, report: FileReport) -> pl.DataFrame:
        frame = grammar_frame(item, report, grammars.load(self.name))
        rows = None if frame is None else frame.filter(pl.col("shape").is_not_null())
        if rows is None or rows.height == 0:
            return conform(None)
        return self.events(rows, item, report)

    def events(self, rows: pl.DataFrame, item: Input, report: FileReport) -> pl.DataFrame:  # pragma: no cover - interface
        """The events of the file's recognised lines (``rows``: :meth:`analyzer.grammars.LineGrammar.extract`'s
        columns, ``shape`` set, at least one row)."""
        raise NotImplementedError
