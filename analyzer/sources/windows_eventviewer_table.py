"""Event Viewer "Save as Text (Tab delimited)" and "Save as CSV" exports
(grammar/windows_eventviewer_table.lark for the header and cell shapes).

Five header labels (localised: ``Level/Date and Time/Source/Event ID/Task Category``,
Japanese ``レベル/日付と時刻/ソース/イベント ID/タスクのカテゴリ``) but six fields per
row: the message is the unlabeled last column. Multi-line messages are quoted
CSV-style (raw CR/LF inside, ``""`` for a quote), so records are split with the
stdlib ``csv`` module, never by lines. Dates are in the user's culture, local,
no zone; the day/month order is decided once per file (see
:func:`analyzer.sources._windows_text.resolve_dates`) and reported in
``report.clock``. No channel is exported: the file does not say which log it
came from.
"""

from __future__ import annotations

import csv
import io

import polars as pl

from .. import winevent
from ..grammars import load
from ..model import Note
from ._text import open_report
from ._base import Input, Parsed, Source, add_note, add_omitted_note
from ._windows_text import ascii_int, data_from_dict, level_of, resolve_dates

#: Header label sets known to be Event Viewer's (English, Japanese). Other UI languages
#: are recognised by structure: 5 labels and a first row whose cells have the shapes.
KNOWN_HEADERS = (
    ("Level", "Date and Time", "Source", "Event ID", "Task Category"),
    ("レベル", "日付と時刻", "ソース", "イベント ID", "タスクのカテゴリ"),
)

csv.field_size_limit(1 << 30)


def _delimiter(first_line: str) -> str | None:
    if first_line.count("\t") >= 4:
        return "\t"
    if first_line.count(",") >= 4:
        return ","
    if first_line.count(";") >= 4:
        return ";"
    return None


def _split(text: str, delim: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """CSV records with the 1-based physical line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', doublequote=True, strict=False)
    out = []
    start = 1
    try:
        for row in reader:
            out.append((start, row))
            start = reader.line_num + 1
            if limit and len(out) >= limit:
                break
    except csv.Error as exc:  # NUL bytes and the like: keep what was read
        out.append((start, ["\x00csv-error", str(exc)]))
    return out


def _body(text: str) -> tuple[int, str]:
    """The text from its first non-blank line (a copy can start with empty lines), and how many
    lines were left out before it."""
    stripped = text.lstrip("\r\n\t ")
    head = text[:len(text) - len(stripped)]
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return head[:start].replace("\r\n", "\n").count("\n") + head[:start].replace("\r\n", "\n").count("\r"), text[start:]


def _header_ok(cells: list[str]) -> bool:
    cells = [c.strip() for c in cells]
    while cells and cells[-1] == "":
        cells.pop()
    if len(cells) != 5 or any(not c for c in cells):
        return False
    return load("windows_eventviewer_table").match_shape("\t".join(cells)) is not None


def _row_shapes_ok(cells: list[str]) -> bool:
    if len(cells) < 5:
        return False
    grammar = load("windows_eventviewer_table")
    date = grammar.match_shape(cells[1].strip())
    eid = grammar.match_shape(cells[3].strip())
    return bool(date and date.name.startswith("datetime") and eid and eid.name == "event_id")


class EventViewerTable(Source):
    name = "windows_eventviewer_table"
    description = "Event Viewer 'Save as Text (Tab delimited)' / 'Save as CSV' export"
    free_text = True  # records take free text: the region search decides (ingest._read_whole)

    def sniff(self, item: Input) -> bool:
        _, text = _body(item.head_text)
        first = text.split("\n", 1)[0].rstrip("\r")
        delim = _delimiter(first)
        if delim is None:
            return False
        rows = _split(text, delim, limit=3)
        if not rows or not _header_ok(rows[0][1]):
            return False
        header = tuple(c.strip() for c in rows[0][1][:5])
        if header in KNOWN_HEADERS:
            return True
        # unknown UI language: the first data row must have the cell shapes
        return len(rows) > 1 and _row_shapes_ok(rows[1][1])

    def parse(self, item: Input) -> Parsed:
        decoded, report = open_report(self, item)
        skipped_lines, text = _body(decoded.text)
        first = text.split("\n", 1)[0].rstrip("\r")
        delim = _delimiter(first) or "\t"
        rows = [(line + skipped_lines, cells) for line, cells in _split(text, delim)]
        if not rows:
            return Parsed(winevent.normalise(winevent.raw_frame([])), report)
        kept: list[dict] = []
        for ordinal, (line, cells) in enumerate(rows[1:], start=1):
            if cells and cells[0] == "\x00csv-error":
                add_note(report, Note(item.display, "csv_broken", {"error": cells[1]}, line=line))
                report.skipped += 1
                continue
            if not cells or all(not c.strip() for c in cells):
                continue
            report.records += 1
            row = _raw_row(ordinal, line, cells, delim, report)
            if row is None:
                report.skipped += 1
            else:
                kept.append(row)
        dates = resolve_dates([r["ts_raw"] for r in kept], [r["line"] for r in kept])
        report.clock.update(dates.clock)
        for i in dates.bad:
            r = kept[i]
            add_note(report, Note(item.display, "record_not_a_time", {"value": r["ts_raw"]}, line=r["line"],
                                  record=r["record"], severity="warning"))
        for r, ts in zip(kept, dates.values):
            r["ts_wall"] = ts
            r["clock"] = "local" if r["ts_raw"] else None
        add_omitted_note(report, item.display)
        raw = winevent.raw_frame(pl.DataFrame(kept, schema_overrides={"ts_wall": pl.Datetime("us")}, strict=False)
                                 if kept else [])
        return Parsed(winevent.normalise(raw).with_columns(pl.lit(self.name).alias("format")), report)


def _raw_row(ordinal: int, line: int, cells: list[str], delim: str, report) -> dict | None:
    """One exported row as a raw record dict (None, with a note, when it cannot be a record).
    The message is the sixth cell; more cells mean an unquoted delimiter inside it."""
    if len(cells) < 5:
        add_note(report, Note(report.path, "record_skipped_field_count", {"count": len(cells), "expected": 6},
                              line=line, record=ordinal, excerpt=delim.join(cells)[:120]))
        return None
    eid = cells[3].strip()
    eid_n = ascii_int(eid)
    if eid_n is None or eid_n < 0:
        add_note(report, Note(report.path, "record_skipped_event_id_not_number", {"value": eid},
                              line=line, record=ordinal, excerpt=delim.join(cells)[:120]))
        return None
    message = delim.join(cells[5:]) if len(cells) > 6 else (cells[5] if len(cells) > 5 else None)
    if message is not None:
        message = message.replace("\r\n", "\n").replace("\r", "\n").strip() or None
    task = cells[4].strip()
    return {
        "record": ordinal, "line": line, "ts_raw": cells[1].strip() or None,
        "provider": cells[2].strip() or None, "event_id": eid_n,
        "level": level_of(cells[0]),
        "data": data_from_dict({"Level": cells[0].strip() or None, "Task Category": task or None}),
        "message": message,
    }


SOURCE = EventViewerTable()
