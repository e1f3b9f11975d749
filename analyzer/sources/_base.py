"""What a source is: a sniffer and a parser for one log kind.

A source module ``analyzer/sources/<name>.py`` defines a subclass of
:class:`Source` with ``name = "<name>"`` and exposes an instance as the module
attribute ``SOURCE``. The registry finds it; nothing else needs editing. A
line-oriented text format pairs with ``grammar/<name>.lark`` (see
:mod:`analyzer.grammars`); structured formats (evtx, XML, CSV) may have no
grammar.

Contract, checked by tests/test_registry.py and tests/test_properties.py:

* ``sniff`` decides from content only (never the file name), is cheap, and
  returns False on anything it does not understand; it need not guard against
  exceptions, since the registry (:func:`analyzer.sources.claimants`) counts a
  sniffer that raises as not claiming the file, so sniffing never raises;
* ``parse`` never raises on bad input either: what it cannot read becomes a
  located :class:`~analyzer.model.Note` in the report, counted as skipped or
  unrecognised, and everything else in the file is still returned;
* the events frame passes :func:`analyzer.model.conform`; sources fill
  ``ts_wall``/``ts_raw``/``clock`` and leave ``ts_utc`` to :mod:`analyzer.clock`;
* a source that reads several files at once to share fixed costs (evtx) sets
  ``batched`` and overrides ``parse_many``, which must give what ``parse`` gives
  file by file.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import polars as pl

from .. import paste
from ..model import FileReport, Note, conform
from ..paste import Margin
from ..textio import HEAD_BYTES, Decoded, decode, detect_encoding

#: Upper bound on notes listed per file; the rest are counted in ``FileReport.notes_omitted``.
MAX_NOTES_PER_FILE = 50
#: Of those, the places kept for summary notes ("N lines in all …"): a source adds at most
#: two (the firewall log: unrecognised lines and odd field counts), after its line notes.
SUMMARY_ROOM = 2


@dataclass
class Input:
    """One file as a source sees it. Bytes are read once and never written back.

    With a ``margin`` (a quote mark, an indent, a relay prefix found by :mod:`analyzer.paste`),
    the text a source sees has it removed from every line that carries it, line for line.
    """

    path: Path
    display: str  # the path as shown in reports (as given on the command line)
    margin: Margin | None = None
    #: (size when opened, size after) when the file changed while :attr:`raw` read it, else None.
    changed: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def raw(self) -> bytes:
        return self._read_bytes()

    def _read_bytes(self) -> bytes:
        with open_regular(self.path) as fh:
            before = os.fstat(fh.fileno())
            data = fh.read(before.st_size)  # the size when opened: a file still written to cannot keep the read going
            self.check_unchanged(before, os.fstat(fh.fileno()), len(data))
        return data

    def check_unchanged(self, before: os.stat_result, after: os.stat_result, read: int) -> None:
        """Record in :attr:`changed` a file that grew, shrank or was rewritten while it was read."""
        if read != before.st_size or after.st_size != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
            self.changed = (before.st_size, max(after.st_size, read))

    @functools.cached_property
    def head(self) -> bytes:
        with open_regular(self.path) as fh:
            return fh.read(HEAD_BYTES)

    @functools.cached_property
    def head_text(self) -> str:
        """The decoded start of the file (encoding sniffed, margin removed), for text sniffers."""
        enc = detect_encoding(self.head)
        text = self.head.decode(enc, errors="replace").lstrip("\ufeff")
        return paste.strip(text, self.margin)[0] if self.margin else text

    @functools.cached_property
    def _read(self) -> tuple[Decoded, list[int]]:
        # the bytes are not kept once decoded (a big log would be held twice): ``raw`` reads them again if asked
        decoded = decode(self.__dict__["raw"] if "raw" in self.__dict__ else self._read_bytes())
        if self.margin is None:
            return decoded, []
        text, lacking = paste.strip(decoded.text, self.margin)
        return replace(decoded, text=text), lacking

    @property
    def decoded(self) -> Decoded:
        return self._read[0]

    @property
    def source_encoding(self) -> str:
        """The encoding the file is read in (from its head, as :func:`~analyzer.textio.decode` decides
        for the whole file), without reading the whole file."""
        if "_read" in self.__dict__:
            return self._read[0].encoding
        with open_regular(self.path) as fh:
            return detect_encoding(fh.read(HEAD_BYTES + 4))

    def forget_text(self) -> None:
        """Let go of the decoded text once a source holds it as lines: a big log is then not held
        twice while it is parsed. Asking for it again reads and decodes the file again."""
        self.__dict__.pop("_read", None)
        self.__dict__.pop("raw", None)

    @property
    def lacking_margin(self) -> list[int]:
        """Line numbers (1-based) of the non-blank lines that did not carry the margin."""
        return self._read[1]

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:  # gone since it was read: what was read
            return len(self.__dict__.get("raw", b""))


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading when it is a regular file; OSError for anything else, before a
    byte is read. The walk opens no FIFO or device (:mod:`analyzer.walk`), but one put in a file's
    place since would block the run for ever: opened without blocking, it is refused."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@dataclass
class Excerpt(Input):
    """Lines ``first_line``.. of a file (one log region of it, :mod:`analyzer.regions`), as a source
    sees a file: its text is given, and the source's line numbers count from the region's first line."""

    text: str = ""
    encoding: str = "utf-8"
    first_line: int = 1

    @functools.cached_property
    def raw(self) -> bytes:
        return self.text.encode("utf-8")

    @functools.cached_property
    def head(self) -> bytes:
        return self.raw[:HEAD_BYTES]

    @functools.cached_property
    def head_text(self) -> str:
        return self.text[:HEAD_BYTES]

    @functools.cached_property
    def _read(self) -> tuple[Decoded, list[int]]:
        return Decoded(text=self.text, encoding=self.encoding, replaced=0), []

    @property
    def source_encoding(self) -> str:
        return self.encoding

    @property
    def size(self) -> int:
        return len(self.raw)


class Segments:
    """A file's rows handed over a segment (a frame) at a time, as the source finishes them
    (:meth:`Source.parse_in_segments`). Iterated once; the file's report is complete after the last."""

    def __init__(self, frames: Iterator[pl.DataFrame]) -> None:
        self._frames = frames

    def __iter__(self) -> Iterator[pl.DataFrame]:
        return self._frames


@dataclass
class Parsed:
    """A source's output for one file: the events (or :class:`Segments` of them, when asked for) and
    the report on what was read."""

    events: pl.DataFrame | Segments
    report: FileReport


class Source:
    """Base class for a log source. Subclasses set ``name`` and implement sniff/parse."""

    name: ClassVar[str] = ""
    #: A one-line human description of the format (for people reading the registry).
    description: ClassVar[str] = ""
    #: True when the source reads bytes (e.g. evtx) rather than decoded text.
    binary: ClassVar[bool] = False
    #: True when the source's :meth:`parse_many` reads several files at once (to share fixed
    #: costs between them), so a run hands it all of its files together.
    batched: ClassVar[bool] = False
    #: True when the source can hand a big file's rows over a segment at a time
    #: (:meth:`parse_in_segments`); the others hand over one frame.
    segmented: ClassVar[bool] = False
    #: True when the format's records take free text (an event's description, a device's own
    #: lines): another log pasted into it would not show as unrecognised lines, so the region
    #: search (analyzer.regions) runs on it whatever the parse counted.
    free_text: ClassVar[bool] = False

    def sniff(self, item: Input) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def parse(self, item: Input) -> Parsed:  # pragma: no cover - interface
        raise NotImplementedError

    def parse_in_segments(self, item: Input) -> Parsed:
        """:meth:`parse`, with the rows as :class:`Segments` where the source is ``segmented``
        (the others: one frame, as parse gives it)."""
        return self.parse(item)

    def parse_many(self, items: list[Input]) -> list[Parsed | Exception]:
        """:meth:`parse` for each of ``items``: the same results in the same order, where an
        exception ``parse`` raises takes that file's place (the caller reports it). Batched
        sources override it; by default it is :meth:`parse_one_by_one`."""
        return self.parse_one_by_one(items)

    def parse_one_by_one(self, items: list[Input]) -> list[Parsed | Exception]:
        """:meth:`parse_many` file after file: the default, and what a run falls back on when a
        batched source's batch fails as a whole."""
        out: list[Parsed | Exception] = []
        for item in items:
            try:
                out.append(self.parse(item))
            except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others
                out.append(exc)
        return out

    # helpers shared by sources ------------------------------------------------------
    def new_report(self, item: Input, encoding: str | None = None) -> FileReport:
        report = FileReport(path=item.display, format=self.name, size=item.size, encoding=encoding)
        note_changed(report, item)
        return report

    def read_guarded(self, item: Input, read, encoding: str | None = None) -> Parsed:
        """``read(item, report)``'s rows with a new report; whatever it raises becomes the report's
        ``reading_unfinished`` note and no rows, since a source never raises (its notes so far stay)."""
        report = self.new_report(item, encoding)
        try:
            events = read(item, report)
        except Exception as exc:  # noqa: BLE001 - safety net: the contract is "never raise"
            add_note(report, Note(item.display, "reading_unfinished",
                                  {"source": self.name, "error": f"{type(exc).__name__}: {exc}"}))
            events = conform(None)
        note_changed(report, item)
        return Parsed(events, report)


def note_changed(report: FileReport, item: Input) -> None:
    """The note for a file that changed while it was read (once per report): what was read is the
    file as it was when opened, cut at that size, so its end may be missing or mixed."""
    if item.changed and not any(n.code == "file_changed_while_read" for n in report.errors):
        before, after = item.changed
        report.errors.append(Note(item.display, "file_changed_while_read", {"before": before, "after": after}))


def add_note(report: FileReport, note: Note) -> None:
    """Append a note, keeping at most MAX_NOTES_PER_FILE - SUMMARY_ROOM listed; the rest are
    counted in ``report.notes_omitted``."""
    if len(report.errors) < MAX_NOTES_PER_FILE - SUMMARY_ROOM:
        report.errors.append(note)
    else:
        report.notes_omitted += 1


def add_summary_note(report: FileReport, note: Note) -> None:
    """Append a note that sums up others (how many lines in all, how many notes left out).
    Always listed, so that a file with many line notes still says how many there were: line
    notes leave SUMMARY_ROOM places for these, so the list stays within MAX_NOTES_PER_FILE."""
    report.errors.append(note)


def add_omitted_note(report: FileReport, display: str) -> None:
    """A listed summary of how many notes the cap left out (none when it left none)."""
    if report.notes_omitted:
        add_summary_note(report, Note(display, "notes_omitted", {"count": report.notes_omitted}, severity="warning"))
