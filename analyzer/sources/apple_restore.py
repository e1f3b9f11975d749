"""Apple restore logs as the host writes them (iTunes / Finder AMPDevicesAgent / Apple Configurator).

One source for the host family because one file mixes it: dated header lines, MobileRestore
``[HH:MM:SS.ffff]`` body lines and device lines relayed with ``-GMT`` times (reference
apple-restore-logs.md §1, §2). The same MobileDevice messages re-emitted by repair tools (3uTools
"iTunesFlash": ``HH:MM:SS.mmm: message``, §7) are read here too, since their messages are Apple's.
A pasted tail without its header is still this format: its bracket lines are placed on a
placeholder day and the report says the date is unknown. The device's own restore log and
idevicerestore's output are :mod:`.apple_device_restore`: there an unprefixed line is a line of the
format, here it is not. The syntax lives in ``grammar/apple_restore.lark`` and runs
through the grammar's compiled fast path over all lines at once; meaning, clocks and order-dependent
facts are in the private helpers:

* :mod:`._apple_classify` — marker → kind, subject, codes, identifiers;
* :mod:`._apple_time` — header dates, measured bracket offset, midnight rollover, placeholder day;
* :mod:`._apple_session` — attempts, expected/unexpected disconnects, session_start/result/identity.

Never raises on bad input: undecodable bytes are replaced by the decoder, lines that match no shape
are counted in ``report.unrecognised`` (the first few get a located note from the Lark reference
parser), blank continuation lines are read and skipped quietly, indented ones (a wrapped line)
are kept as rows with no time of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import polars as pl

from .. import grammars
from ..model import Note, conform
from ._apple_lines import CHUNK_LINES, Tally, classified
from ._apple_classify import last_value
from ._apple_segments import Open, segments
from ._text import read_text_chunks
from ._apple_session import identities, mark_expected, overlay, results, session_starts, split_attempts
from ._apple_time import PLACEHOLDER_DAY, RESIDUAL_WARN_US, resolve
from ._base import Input, Parsed, Segments, Source, add_note, add_summary_note, note_changed

#: Notes listed for unrecognised lines (the rest are only counted).
MAX_LINE_NOTES = 5
#: A segment limit no file reaches: :meth:`AppleRestoreSource.parse` finishes the file as one.
WHOLE = 1 << 62
#: Sniffing looks at this many non-blank lines at the start of the file.
SNIFF_LINES = 60

_DATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (?:iTunes\.exe|iTunes|AMPDevicesAgent)?\[\d+:[0-9A-Fa-f]+\]: ")
_BRACKET = re.compile(r"^\[\d{2}:\d{2}:\d{2}\.\d{4}\] ")
_FLASH = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3}: ")
#: One of these on a bracket line is the MobileRestore end block or a device object: a pasted tail
#: of one line is enough.
_END_BLOCK = re.compile(r"^\[\d{2}:\d{2}:\d{2}\.\d{4}\] (?:Restore completed, status:|Depth:\d+ Code:-?\d+ Error:|"
                        r"(?:AMPDevicesAgent|iTunes): Restore error -?\d|<(?:Restore|Recovery Mode|DFU) Device[ >])")
_APPLE_WORDS = re.compile(r"MobileRestore|Restore Device|Recovery Mode Device|ECID|AMRestore|amai:|Changing state from|"
                          r"Restore completed|AMPDevicesAgent|restore library built|Restore Phase|checkpoint id|mode device")

_PROCESS = {"iTunes.exe": "iTunes", "iTunes": "iTunes", "AMPDevicesAgent": "AMPDevicesAgent"}
#: 3uTools writes its own notes with one more space after the time than the lines it re-emits.
_TOOL_NOTE_GAP = "  "


class AppleRestoreSource(Source):
    name = "apple_restore"
    description = ("Apple restore logs as the host writes them: iTunes/Finder updater logs (old and MobileRestore format, "
                   "pasted tails), relayed device lines, repair tools re-emitting them")
    segmented = True

    # -- sniffing ------------------------------------------------------------------------------
    def sniff(self, item: Input) -> bool:
        """A dated ``[pid:tid]:`` header line; MobileRestore bracket lines with Apple vocabulary near
        the start (or one end-block line: a pasted tail); or repair-tool ``HH:MM:SS.mmm:`` lines
        with Apple vocabulary. Content only."""
        lines = [ln for ln in item.head_text.splitlines()[:SNIFF_LINES * 4] if ln.strip()][:SNIFF_LINES]
        if any(_DATED.match(ln) or _END_BLOCK.match(ln) for ln in lines):
            return True
        for shape in (_BRACKET, _FLASH):
            timed = [ln for ln in lines if shape.match(ln)]
            if len(timed) >= 3 and any(_APPLE_WORDS.search(ln) for ln in timed):
                return True
        return False

    # -- parsing -------------------------------------------------------------------------------
    def parse(self, item: Input) -> Parsed:
        return self.read_guarded(item, self._parse)

    def parse_in_segments(self, item: Input) -> Parsed:
        """:meth:`parse` with the rows handed over a segment at a time as they are finished
        (:class:`._base.Segments`, :mod:`._apple_segments`): what reads them need not hold them all.
        Whatever the reading raises ends it with a ``reading_unfinished`` note; the segments handed
        over before it stand."""
        report = self.new_report(item)

        def guarded() -> Iterator[pl.DataFrame]:
            try:
                yield from self._segments(item, report)
            except Exception as exc:  # noqa: BLE001 - the contract is "never raise", as read_guarded
                add_note(report, Note(item.display, "reading_unfinished",
                                      {"source": self.name, "error": f"{type(exc).__name__}: {exc}"}))
            note_changed(report, item)
        return Parsed(Segments(guarded()), report)

    def _parse(self, item: Input, report) -> pl.DataFrame:
        # one segment: held whole, the rows are smaller as one frame than as finished segments stacked
        # (an 800k-line log peaked 40 MB higher cut in four)
        frames = list(self._segments(item, report, limit=WHOLE))
        return frames[0] if frames else conform(None)

    def _segments(self, item: Input, report, limit: int | None = None) -> Iterator[pl.DataFrame]:
        """The file's rows, a segment at a time: the lines are classified a chunk at a time while
        the rest of the file is read (:mod:`._apple_lines`), stacked into segments cut where an
        attempt starts (:mod:`._apple_segments`), and each segment finished with what the ones
        before it decided (:class:`_Decided`). The notes on lines and clocks come once all are read."""
        grammar = grammars.load(self.name)
        tally = Tally(MAX_LINE_NOTES)
        decided = _Decided()
        pieces = segments(classified(read_text_chunks(item, report, CHUNK_LINES), grammar, tally), tally, limit,
                          decided.open)
        while True:
            try:
                # (handed over without a name here: _finished lets the segment's read columns go as
                # it drops them, where a loop variable would hold them to the end: +50 MB at 800k lines)
                finished = self._finished(next(pieces), decided.open.goes_on, item, report, decided)
            except StopIteration:
                break
            yield finished
            del finished  # (a generator holds its locals while the next segment is made)
        item.forget_text()
        report.unrecognised, report.records = tally.unrecognised, tally.lines
        self._line_notes(tally, grammar, item, report)
        for line, attempt, fields in decided.open.late:
            add_note(report, Note(item.display, "session_header_after_cut", {"attempt": attempt, "fields": ", ".join(fields)},
                                  line=line, severity="warning"))
        if decided.unit is None:  # no line recognised
            return
        if report.clock.get("other_offsets_seen"):
            add_note(report, Note(item.display, "bracket_offsets_disagree",
                                  {"others": report.clock["other_offsets_seen"],
                                   "used": report.clock["bracket_minus_header_hours"]}, severity="warning"))
        if abs(report.clock.get("residual_seconds", 0)) * 1_000_000 > RESIDUAL_WARN_US:
            add_note(report, Note(item.display, "bracket_residual", {"seconds": report.clock["residual_seconds"]},
                                  severity="warning"))
        self._note_date_unknown(decided.placeholder, item, report)

    def _finished(self, rows: pl.DataFrame, before: tuple | None, item: Input, report, decided: "_Decided"
                  ) -> pl.DataFrame:
        """One segment's rows on their clocks, with attempts, transitions and summaries, as events.
        ``before`` (:func:`._apple_segments.segments`): None, or the segment goes on with the
        attempt the one before ended in, and each step starts from what that one left open
        (``decided.open``)."""
        if decided.unit is None:
            decided.unit = self._fraction_unit(rows, item, report)
        open_, goes_on = decided.open, before is not None
        # (a later segment keeps the offset the first measured: _apple_time.resolve)
        rows = resolve(rows, decided.unit, report.clock, carry=open_, goes_on=goes_on)
        # the times as written are in ts_raw now: their pieces would only be carried along
        rows = rows.drop("date", "time", "btime", "gtime", "ftime", "hdr_us", "br_us", strict=False)
        decided.placed(rows)
        rows = self._provider(rows, open_, goes_on)
        rows = (split_attempts(rows, first=decided.attempts, before=before) if goes_on
                else split_attempts(rows, first=decided.attempts + 1))
        decided.attempts = rows.get_column("attempt").max()
        rows = mark_expected(rows, open_, goes_on)
        rows = overlay(rows, session_starts(rows, open_, goes_on), results(rows), identities(rows))
        return conform(rows.select(
            "line", "ts_wall", "ts_raw", "clock", pl.lit(self.name).alias("format"), "kind", "attempt", "error_code",
            "expected", "device_mode", pl.col("ecid_value").alias("ecid"), "udid", "serial", "chip_id", "board_id",
            "usb_vid", "usb_pid", "provider", "subject", "detail", pl.col("_message").alias("message")))

    @staticmethod
    def _line_notes(tally: Tally, grammar, item: Input, report) -> None:
        """The first few unrecognised lines located, the rest counted."""
        for line, text in tally.bad_lines().iter_rows():
            add_note(report, Note(item.display, "line_shape_unknown",
                                  {"format": grammar.name, "detail": grammar.explain_failure(text[:500])},
                                  line=line, excerpt=text[:120], severity="warning"))
        if report.unrecognised > MAX_LINE_NOTES:
            add_summary_note(report, Note(item.display, "more_lines_unrecognised",
                                          {"count": report.unrecognised - MAX_LINE_NOTES}, severity="warning"))

    @staticmethod
    def _fraction_unit(rows: pl.DataFrame, item: Input, report) -> int:
        """µs per unit of the bracket fraction: Windows writes ``0xxx`` milliseconds, macOS 1/10,000 s."""
        procs = set(rows.filter(pl.col("shape") == "dated_proc").get_column("proc").unique().to_list())
        windows_header = rows.filter(pl.col("shape") == "dated").height > 0 or "iTunes.exe" in procs
        mac_header = bool(procs & {"iTunes", "AMPDevicesAgent"})
        fractions = rows.filter(pl.col("shape") == "bracket").get_column("btime").str.slice(9, 4).cast(pl.Int64, strict=False)
        big = fractions.len() > 0 and (fractions.max() or 0) >= 1000
        if mac_header or big:
            if windows_header and not mac_header:
                add_note(report, Note(item.display, "bracket_fraction_ten_thousandths", severity="warning"))
            return 100
        return 1000

    @staticmethod
    def _note_date_unknown(placeholder: dict[str, int], item: Input, report) -> None:
        """One located note per clock whose times were put on the placeholder day (at its first line)."""
        if not report.clock.get("date_unknown"):
            return
        for clock, line in sorted(placeholder.items(), key=lambda kv: kv[1]):
            if clock == "bracket" and report.clock.get("bracket_zone_unknown"):
                add_note(report, Note(item.display, "date_unknown_no_header", {}, line=line, severity="warning"))
            else:
                add_note(report, Note(item.display, "date_unknown", {"clock": clock}, line=line, severity="warning"))

    @staticmethod
    def _provider(rows: pl.DataFrame, carry: Open | None = None, goes_on: bool = False) -> pl.DataFrame:
        """Who wrote each row: the header's process for dated and bracket rows, the device, a repair
        tool; a continued line its first line's. ``carry``: the last process and provider of the
        segment before (read when the rows go on with its attempt, then set from these rows)."""
        going = carry is not None and goes_on
        shape = pl.col("shape")
        proc = (pl.when(shape == "dated").then(pl.lit("iTunes"))
                .when(shape == "dated_proc").then(pl.col("proc").replace_strict(_PROCESS, default="iTunes", return_dtype=pl.String)))
        flash = pl.when(pl.col("flash_gap") == _TOOL_NOTE_GAP).then(pl.lit("3uTools")).otherwise(pl.lit("MobileDevice"))
        own = (pl.when(shape.is_in(["dated", "dated_proc", "bracket"])).then(pl.col("_host"))
               .when(shape == "device").then(pl.lit("device"))
               .when(shape == "flash").then(flash))
        host = proc.forward_fill()
        host = host.fill_null(pl.lit(carry.process, dtype=pl.String)) if going else host
        previous = pl.col("provider").forward_fill()
        previous = previous.fill_null(pl.lit(carry.provider, dtype=pl.String)) if going else previous
        rows = (rows.with_columns(host.alias("_host"))
                .with_columns(own.alias("provider"))
                .with_columns(pl.when(shape == "continued").then(previous).otherwise(pl.col("provider")).alias("provider")))
        if carry is not None:
            for name, field in (("_host", "process"), ("provider", "provider")):
                last = last_value(rows.get_column(name))
                setattr(carry, field, last if last is not None else (getattr(carry, field) if going else None))
        return rows.drop("_host")

    @staticmethod
    def _summaries(rows: pl.DataFrame) -> pl.DataFrame:
        """Overlay the per-attempt session_start/result rows and the per-block identity rows."""
        return overlay(rows, session_starts(rows), results(rows), identities(rows))


class _Decided:
    """What a file's earlier segments decided for the later ones: the bracket fraction's unit, how
    many attempts they numbered, and each clock's first line on the placeholder day."""

    def __init__(self) -> None:
        self.unit: int | None = None
        self.attempts = 0
        self.open = Open()
        self.placeholder: dict[str, int] = {}

    def placed(self, rows: pl.DataFrame) -> None:
        placed = rows.filter(pl.col("ts_wall").dt.year() == PLACEHOLDER_DAY.year)
        for clock, line in placed.group_by("clock").agg(pl.col("line").min()).iter_rows():
            self.placeholder.setdefault(clock, line)


SOURCE = AppleRestoreSource()
