"""PowerShell ``Get-WinEvent`` exports: ``| Format-List`` and ``| Export-Csv``
(grammar/windows_powershell.lark; reference §6).

Format-List: ``Name : value`` lines with names padded before the colon, properties in
any order (the same in every record, so a record starts where its first property comes
again), values continued on lines indented to the value column and wrapped at the
console width, by words or by characters depending on the culture
(:mod:`._format_list` reads them back). Wrapping is undone only when the file shows it:
a line that was full was cut there (joined directly); a line that could not have taken
the next line's first word was word-wrapped (joined with one space, unless PowerShell's
trailing space is still there); anything else is a real line break of the message. A
message line that really ends where a wrap would have fallen is joined: the file cannot
tell the two apart.

Export-Csv: optional ``#TYPE …EventLogRecord`` line, a header naming properties
(all 27 of ``EventLogRecord`` or a selection such as
``TimeCreated,Id,LevelDisplayName,Message``), quoted values; split with the csv
module. EventData is not in the file (only Message).

``TimeCreated`` is the user's culture, local, no zone; day/month order is decided
per file like the Event Viewer exports and reported in ``report.clock``.
Legacy ``Get-EventLog`` property names (TimeGenerated, Source, EventID,
EntryType, Index) are mapped too.
"""

from __future__ import annotations

import csv
import io

import polars as pl

from .. import winevent
from ..grammars import load
from ..model import Note
from ._text import open_report, text_lines
from ._base import Input, Parsed, Source, add_note, add_omitted_note
from ._format_list import FormatListReader, wrap_width
from ._windows_text import ascii_int, data_from_dict, level_of, resolve_dates

#: Property (lower-case) → raw-frame column. Everything else goes to ``data``.
COLUMNS: dict[str, str] = {
    "timecreated": "ts", "timegenerated": "ts",
    "providername": "provider", "source": "provider",
    "id": "event_id", "eventid": "event_id",
    "logname": "channel", "level": "level", "leveldisplayname": "level_word", "entrytype": "level_word",
    "machinename": "computer", "recordid": "record", "index": "record", "message": "message",
}

#: Every property name of EventLogRecord (Export-Csv header order) and of EventLogEntry.
KNOWN_PROPERTIES = {
    "message", "id", "version", "qualifiers", "level", "task", "opcode", "keywords", "recordid", "providername",
    "providerid", "logname", "processid", "threadid", "machinename", "userid", "timecreated", "activityid",
    "relatedactivityid", "containerlog", "matchedqueryids", "bookmark", "leveldisplayname", "opcodedisplayname",
    "taskdisplayname", "keywordsdisplaynames", "properties",
    "eventid", "data", "index", "category", "categorynumber", "entrytype", "source", "replacementstrings",
    "instanceid", "timegenerated", "timewritten", "username", "site", "container",
}

csv.field_size_limit(1 << 30)


def _grammar():
    return load("windows_powershell")


def _csv_delim(line: str) -> str:
    return max((",", ";", "\t"), key=line.count)


def _csv_header(line: str) -> list[str] | None:
    try:
        cells = next(csv.reader([line], delimiter=_csv_delim(line)))
    except (csv.Error, StopIteration):
        return None
    names = [c.strip() for c in cells]
    low = [n.lower() for n in names]
    if len(names) < 3 or not ({"id", "eventid", "instanceid"} & set(low)) or not ({"timecreated", "timegenerated"} & set(low)):
        return None
    known = sum(1 for n in low if n in KNOWN_PROPERTIES)
    return names if known >= 0.75 * len(names) else None


class PowerShellEvents(Source):
    name = "windows_powershell"
    description = "Get-WinEvent | Format-List or | Export-Csv export"
    free_text = True  # records take free text: the region search decides (ingest._read_whole)

    def sniff(self, item: Input) -> bool:
        return self._kind(item.head_text) is not None

    def _kind(self, text: str) -> str | None:
        lines = [ln for ln in text.splitlines()[:60]]
        nonblank = [ln for ln in lines if ln.strip()]
        if not nonblank:
            return None
        first = nonblank[0]
        grammar = _grammar()
        shape = grammar.match_shape(first)
        if shape and shape.name == "type":
            typename = first.split(None, 1)[1].strip() if " " in first else ""
            if typename.endswith(("Eventing.Reader.EventLogRecord", "System.Diagnostics.EventLogEntry")):
                return "csv"
            return None
        if _csv_header(first):
            return "csv"
        # Format-List: the first record's property lines name EventLogRecord properties
        names = []
        for ln in nonblank[:40]:
            sh = grammar.match_shape(ln)
            if sh is None or sh.name not in ("property", "continuation"):
                break
            if sh.name == "property":
                name = ln.split(":", 1)[0].strip().lower()
                if name in names:
                    break
                names.append(name)
        if not names or names[0] not in KNOWN_PROPERTIES:
            return None
        known = [n for n in names if n in KNOWN_PROPERTIES]
        if len(known) >= 2 and ({"id", "eventid", "instanceid"} & set(known)) and len(known) >= 0.75 * len(names):
            return "list"
        return None

    def parse(self, item: Input) -> Parsed:
        decoded, report = open_report(self, item)
        kind = self._kind(decoded.text[:65536]) or "list"
        if kind == "csv":
            records = self._csv_records(decoded.text, report)
        else:
            records = self._list_records(decoded.text, report)
        rows = []
        for rec in records:
            report.records += 1
            row = raw_row(rec, report)
            if row is None:
                report.skipped += 1
                continue
            rows.append(row)
        dates = resolve_dates([r["ts_raw"] for r in rows], [r["line"] for r in rows])
        report.clock.update(dates.clock)
        for i in dates.bad:
            add_note(report, Note(item.display, "record_not_a_time", {"value": rows[i]["ts_raw"]}, line=rows[i]["line"],
                                  record=rows[i]["record"], severity="warning"))
        for r, ts in zip(rows, dates.values):
            r["ts_wall"] = ts
            r["clock"] = "local" if r["ts_raw"] else None
        add_omitted_note(report, item.display)
        raw = winevent.raw_frame(pl.DataFrame(rows, schema_overrides={"ts_wall": pl.Datetime("us")}, strict=False)
                                 if rows else [])
        return Parsed(winevent.normalise(raw).with_columns(pl.lit(self.name).alias("format")), report)

    # -- Export-Csv ----------------------------------------------------------------------
    def _csv_records(self, text: str, report) -> list[dict]:
        reader_src = io.StringIO(text, newline="")
        first = reader_src.readline()
        offset = 0
        if first.startswith("#TYPE"):
            offset = 1
        else:
            reader_src.seek(0)
        pos = reader_src.tell()
        header_line = reader_src.readline()
        reader_src.seek(pos)
        delim = _csv_delim(header_line)
        reader = csv.reader(reader_src, delimiter=delim, quotechar='"', doublequote=True, strict=False)
        out: list[dict] = []
        try:
            header = next(reader, None)
        except csv.Error as exc:
            add_note(report, Note(report.path, "csv_header_unreadable", {"error": str(exc)}, line=offset + 1))
            return out
        if not header:
            return out
        header = [h.strip() for h in header]
        start = offset + reader.line_num + 1
        ordinal = 0
        try:
            for cells in reader:
                line = start
                start = offset + reader.line_num + 1
                if not cells or all(not c.strip() for c in cells):
                    continue
                ordinal += 1
                if len(cells) != len(header):
                    add_note(report, Note(report.path, "csv_record_field_count",
                                          {"count": len(cells), "total": len(header)}, line=line, record=ordinal,
                                          excerpt=delim.join(cells)[:120], severity="warning"))
                    if len(cells) < len(header) and len(cells) < 2:
                        report.records += 1
                        report.skipped += 1
                        continue
                props = {h: c for h, c in zip(header, cells) if h}
                props = {k: v.replace("\r\n", "\n").replace("\r", "\n") for k, v in props.items()}
                out.append({"props": props, "line": line, "ordinal": ordinal})
        except csv.Error as exc:
            add_note(report, Note(report.path, "csv_broken", {"error": str(exc)}, line=start))
            report.skipped += 1
        return out

    # -- Format-List ---------------------------------------------------------------------
    def _list_records(self, text: str, report) -> list[dict]:
        lines = text_lines(text).to_list()
        ex = _grammar().extract(pl.Series("text", lines, dtype=pl.String))
        shapes = ex.get_column("shape").to_list()
        names, values, indents, conts = (ex.get_column(c).to_list() for c in ("name", "value", "indent", "continued"))
        width, by_words = wrap_width(lines, shapes)
        if width:
            report.errors.append(Note(report.path, "console_width_rejoined", {"width": width}, severity="info"))
        reader = FormatListReader(lines, width, by_words)
        unrec = 0
        for i, shape in enumerate(shapes):
            if shape == "blank":
                reader.blanks += 1
            elif shape == "property":
                reader.property(i, names[i], values[i])
            elif shape == "continuation" and reader.prop is not None:
                reader.continuation(i, indents[i], conts[i])
            else:  # a line that fits no Format-List shape
                unrec += 1
                add_note(report, Note(report.path, "not_format_list", line=i + 1, excerpt=lines[i][:120]))
                reader.blanks = 0
        reader.close_record()
        report.unrecognised += unrec
        return reader.out


def raw_row(rec: dict, report) -> dict | None:
    """One record's properties as a raw record dict (None, with a note, when it has no usable
    event id): known properties to their columns (the first of synonyms wins), the rest to data."""
    props, line, ordinal = rec["props"], rec["line"], rec["ordinal"]
    mapped: dict = {}
    data: dict = {}
    for name, value in props.items():
        if name.lower() == "instanceid":
            # Get-EventLog's InstanceId is the event id with qualifiers, not a device
            # instance (which is what an "InstanceId" data field means to winevent)
            data["EventInstanceId"] = value
            continue
        col = COLUMNS.get(name.lower())
        if col and col not in mapped:
            mapped[col] = value
        else:
            data[name] = value
    eid = (mapped.get("event_id") or "").strip()
    instance = ascii_int(data.get("EventInstanceId"))
    if not eid and instance is not None:
        # Get-EventLog: InstanceId carries the qualifiers in its high bits
        eid = str(instance & 0xFFFF)
    eid_n = ascii_int(eid)
    if eid_n is None:
        if "event_id" not in mapped:
            add_note(report, Note(report.path, "record_skipped_no_id", line=line, record=ordinal))
        else:
            add_note(report, Note(report.path, "record_skipped_id_not_number", {"value": eid}, line=line, record=ordinal))
        return None
    level = level_of(mapped.get("level")) if mapped.get("level") else None
    if level is None and mapped.get("level_word"):
        level = level_of(mapped["level_word"])
    if mapped.get("level_word"):
        data.setdefault("LevelDisplayName", mapped["level_word"])
    record_id = ascii_int(mapped.get("record"))
    message = mapped.get("message")
    return {
        "record": record_id if record_id is not None and record_id >= 0 else ordinal,
        "line": line,
        "ts_raw": (mapped.get("ts") or "").strip() or None,
        "channel": (mapped.get("channel") or "").strip() or None,
        "provider": (mapped.get("provider") or "").strip() or None,
        "event_id": eid_n,
        "level": level,
        "computer": (mapped.get("computer") or "").strip() or None,
        "data": data_from_dict({k: v for k, v in data.items() if v not in (None, "")}),
        "message": message.strip() if message and message.strip() else None,
    }


SOURCE = PowerShellEvents()
