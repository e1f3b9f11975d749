"""``Get-WinEvent`` / ``Get-EventLog`` in PowerShell's table view (``Format-Table``, the default
when the output is not formatted as a list; grammar/windows_powershell_table.lark).

A label line with a ruler of dashes under it, one run per column, then one row per event;
``Get-WinEvent``'s view groups the rows under ``   ProviderName: <name>`` headers, whose
value every row of the group takes. Columns are found by position, in console cells: a
column whose values spill to the left of its dashes is right-aligned (``Id``) and ends
where its dashes end; the others start where their dashes start; the last runs to the end
of the line. Values PowerShell cut at the console width end in ``...`` (``…`` in
PowerShell 7): they are kept as written and counted in a note, since the rest is not in the
file. ``Format-Table -Wrap`` continues a row on lines whose first column is empty; those
join the row above. Times are the user's culture, local, no zone (day/month order decided
per file as for the other exports); the label names map to fields as for Format-List.
"""

from __future__ import annotations

import polars as pl

from .. import winevent
from ..grammars import load
from ..model import Note
from ._base import Input, Parsed, Source, add_note, add_omitted_note
from ._text import open_report, sniff_text, text_lines
from ._windows_text import cells, resolve_dates
from .windows_powershell import KNOWN_PROPERTIES, raw_row

_CUT = ("...", "…")
#: Table labels that name a property differently from Format-List (Get-EventLog's view).
_LABEL_PROPERTY = {"time": "TimeGenerated"}


def _grammar():
    return load("windows_powershell_table")


def _at_cells(text: str) -> list[int]:
    """The cell each character of ``text`` starts at (and, last, the cell after the text)."""
    out, at = [], 0
    for ch in text:
        out.append(at)
        at += cells(ch)
    return out + [at]


def _runs(ruler: str) -> list[tuple[int, int]]:
    """(start, end) cells of each run of dashes (the ruler is ASCII)."""
    runs, start = [], None
    for i, ch in enumerate(ruler + " "):
        if ch == "-" and start is None:
            start = i
        elif ch != "-" and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _slice(text: str, start: int, end: int | None) -> str:
    """The characters of ``text`` from cell ``start`` to cell ``end`` (None: to the end)."""
    at = _at_cells(text)
    lo = next((i for i, c in enumerate(at) if c >= start), len(text))
    hi = len(text) if end is None else next((i for i, c in enumerate(at) if c >= end), len(text))
    return text[lo:hi]


def _labels(header: str, runs: list[tuple[int, int]]) -> list[str] | None:
    """The column labels above the ruler's runs, or None when the line above is not their labels."""
    labels = [_slice(header, s, e).strip() for s, e in runs]
    return labels if all(labels) and len(set(labels)) == len(labels) else None


class PowerShellTable(Source):
    name = "windows_powershell_table"
    description = "Get-WinEvent / Get-EventLog in PowerShell's table view (Format-Table)"
    free_text = True  # records take free text: the region search decides (ingest._read_whole)

    def sniff(self, item: Input) -> bool:
        """A ruler in the first 60 lines under labels that are event properties, an id among them."""
        head = sniff_text(item)
        if head is None:
            return False
        lines = head.splitlines()[:60]
        grammar = _grammar()
        for i, line in enumerate(lines[1:], start=1):
            shape = grammar.match_shape(line)
            if shape is None or shape.name != "ruler" or not lines[i - 1].strip():
                continue
            labels = _labels(lines[i - 1], _runs(line))
            if labels and _event_labels(labels):
                return True
        return False

    def parse(self, item: Input) -> Parsed:
        decoded, report = open_report(self, item)
        lines = text_lines(decoded.text).to_list()
        shapes = _grammar().extract(pl.Series("text", lines, dtype=pl.String)).get_column("shape").to_list() \
            if lines else []
        records, stray, cut = _read_tables(lines, shapes)
        report.unrecognised = len(stray)
        for line in stray[:20]:
            add_note(report, Note(item.display, "table_line_outside", line=line, excerpt=lines[line - 1][:120],
                                  severity="warning"))
        if cut:
            add_note(report, Note(item.display, "table_values_cut", {"count": cut}, severity="info"))
        rows = []
        for rec in records:
            report.records += 1
            row = raw_row(rec, report)
            if row is None:
                report.skipped += 1
            else:
                rows.append(row)
        dates = resolve_dates([r["ts_raw"] for r in rows], [r["line"] for r in rows])
        report.clock.update(dates.clock)
        for i in dates.bad:
            add_note(report, Note(item.display, "record_not_a_time", {"value": rows[i]["ts_raw"]}, line=rows[i]["line"],
                                  record=rows[i]["record"], severity="warning"))
        for r, ts in zip(rows, dates.values):
            r["ts_wall"], r["clock"] = ts, ("local" if r["ts_raw"] else None)
        add_omitted_note(report, item.display)
        raw = winevent.raw_frame(pl.DataFrame(rows, schema_overrides={"ts_wall": pl.Datetime("us")}, strict=False)
                                 if rows else [])
        events = winevent.normalise(raw)
        # a device instance id read from a message cut at the console width is cut too: no subject
        cut_subject = pl.any_horizontal([pl.col("message").str.ends_with(pl.col("subject") + mark) for mark in _CUT])
        return Parsed(events.with_columns(pl.when(cut_subject.fill_null(False)).then(None).otherwise(pl.col("subject"))
                                          .alias("subject"), pl.lit(self.name).alias("format")), report)


def _event_labels(labels: list[str]) -> bool:
    low = [label.lower() for label in labels]
    known = sum(1 for label in low if label in KNOWN_PROPERTIES or label == "time")
    return bool({"id", "eventid", "instanceid"} & set(low)) and known >= 0.75 * len(low)


def _read_tables(lines: list[str], shapes: list[str]) -> tuple[list[dict], list[int], int]:
    """Every table's rows as property records (``props``, ``line``, ``ordinal``), the lines that
    belong to no table, and how many values were cut."""
    records: list[dict] = []
    used: set[int] = set()
    cut = 0
    group: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if shapes[i] == "group":
            name, _, value = lines[i].strip().partition(": ")
            group, i = {name: value.strip()}, i + 1
            used.add(i)
            continue
        labels = None
        if shapes[i] == "text" and i + 1 < len(lines) and shapes[i + 1] == "ruler":
            runs = _runs(lines[i + 1])
            labels = _labels(lines[i], runs)
        if not labels:
            i += 1
            continue
        used.update((i + 1, i + 2))
        end = i + 2
        while end < len(lines) and shapes[end] == "text" and not (end + 1 < len(lines) and shapes[end + 1] == "ruler"):
            end += 1
        block = list(range(i + 2, end))
        used.update(n + 1 for n in block)
        cut += _rows(lines, block, labels, runs, group, records)
        i = end
    stray = [n + 1 for n, sh in enumerate(shapes) if sh != "blank" and n + 1 not in used]
    return records, stray, cut


def _starts(lines: list[str], block: list[int], runs: list[tuple[int, int]]) -> list[tuple[int, bool]]:
    """Each column's start cell and whether it is right-aligned: its values spill to the left of
    its dashes (a text column's value always starts at its dashes, after a space)."""
    out = []
    for k, (start, end) in enumerate(runs):
        spills = k > 0 and any(_slice(lines[n], start - 1, start).strip() for n in block)
        out.append((start, spills))
    return out


def _cells(text: str, runs: list[tuple[int, int]], starts: list[tuple[int, bool]]) -> list[str]:
    """One row cut into its columns (see the module docstring)."""
    bounds = []
    for (start, right), (_, end) in zip(starts, runs):
        head = _slice(text, 0, end).rstrip()
        if right and cells(head) == end:  # the value is the last word, ending at the dashes' end
            bound = cells(head.rsplit(" ", 1)[0]) + 1 if " " in head else 0
            bounds.append(min(bound, start))
        else:
            bounds.append(start)
    bounds[0] = 0
    return [_slice(text, bounds[k], bounds[k + 1] if k + 1 < len(bounds) else None).strip()
            for k in range(len(bounds))]


def _rows(lines: list[str], block: list[int], labels: list[str], runs: list[tuple[int, int]],
          group: dict[str, str], records: list[dict]) -> int:
    """The rows of one table appended to ``records`` (a row whose first column is empty continues
    the one above: ``-Wrap``); returns how many values were cut at the console width."""
    starts = _starts(lines, block, runs)
    cut = 0
    for n in block:
        values = _cells(lines[n], runs, starts)
        if not values[0] and records and records[-1]["table"] == id(labels):
            props = records[-1]["props"]
            for label, value in zip(labels, values):
                label = _LABEL_PROPERTY.get(label.lower(), label)
                if value:
                    props[label] = f"{props.get(label, '')} {value}".strip()
            continue
        cut += sum(1 for v in values if v.endswith(_CUT))
        props = {**group, **{_LABEL_PROPERTY.get(k.lower(), k): v for k, v in zip(labels, values)}}
        records.append({"props": props, "line": n + 1, "ordinal": len(records) + 1, "table": id(labels)})
    return cut


SOURCE = PowerShellTable()
