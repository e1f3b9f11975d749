"""Event Viewer "Copy details as text": the form people paste into tickets
(grammar/windows_eventviewer_details.lark; reference/windows-formats.md §3).

A header of ``Label: value`` lines in the UI's language (English, Japanese, Chinese,
Korean), ``Description:`` and the rendered message on the following lines, then often
``Event Xml:`` and the event's XML, pretty-printed. Several events pasted one after
another are several records: one starts at a ``Log Name`` label after a description or
XML, or where a header label comes a second time. A paste may drop the ``Description:``
label (the first line that is not a label starts the description), the XML, or its end.

From the XML come the identity (provider, event ID, level, record ID, channel, computer),
the EventData fields by name (winevent classifies on them) and ``SystemTime``, which is
UTC: a record with it is on the ``utc`` clock. The header's ``Date`` is local time without
zone in the user's culture: the clock of a record without XML, and, beside the
``SystemTime`` of the same event, a measurement of the PC's zone. Those measurements go to
``report.clock`` (``measured_zone``, ``measured_pairs``), where :mod:`analyzer.clock`
takes them as the file's own zone and lends them to the PC's other local-time files; they
also decide the day/month order of the dates when the dates alone cannot.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

import polars as pl

from .. import winevent
from ..grammars import load
from ..model import Note
from ._base import Input, Parsed, Source, add_note, add_omitted_note
from ._text import open_report, sniff_text, text_lines
from ._windows_text import ascii_int, level_of, resolve_dates
from .windows_event_xml import MAX_DEPTH, record_of

#: Label word (as written) -> field. Event Viewer's labels in English, Japanese, Chinese
#: (simplified, traditional) and Korean, and wevtutil's (see the grammar).
LABELS: dict[str, str] = {
    **dict.fromkeys(("Log Name", "ログの名前", "日志名称", "記錄檔名稱", "로그 이름"), "channel"),
    **dict.fromkeys(("Source", "ソース", "来源", "來源", "원본"), "provider"),
    **dict.fromkeys(("Date", "日付", "日期", "날짜"), "date"),
    **dict.fromkeys(("Event ID", "イベント ID", "事件 ID", "事件識別碼", "이벤트 ID"), "event_id"),
    **dict.fromkeys(("Task Category", "Task", "タスクのカテゴリ", "任务类别", "工作類別", "태스크 범주", "작업 범주"),
                    "Task Category"),
    **dict.fromkeys(("Level", "レベル", "级别", "層級", "수준"), "level"),
    **dict.fromkeys(("Opcode", "オペコード", "操作代码", "作業碼", "옵코드"), "Opcode"),
    **dict.fromkeys(("Keywords", "Keyword", "キーワード", "关键字", "關鍵字", "키워드"), "Keywords"),
    **dict.fromkeys(("User", "ユーザー", "用户", "使用者", "사용자"), "User"),
    "User Name": "User Name",
    **dict.fromkeys(("Computer", "コンピューター", "计算机", "電腦", "컴퓨터"), "computer"),
    **dict.fromkeys(("Description", "説明", "描述", "설명"), "description"),
}
#: Header fields that go to the data object (under these names) rather than a column.
EXTRA_FIELDS = ("Task Category", "Opcode", "Keywords", "User", "User Name")
#: The XML's System fields read by regex when the XML as a whole does not parse.
_XML_FIELDS = {"ts_raw": r'SystemTime="([^"]+)"', "event_id": r"<EventID[^>]*>\s*(\d+)",
               "record": r"<EventRecordID>\s*(\d+)", "level": r"<Level>\s*(\d+)",
               "channel": r"<Channel>([^<]+)</Channel>", "computer": r"<Computer>([^<]+)</Computer>",
               "provider": r'<Provider\s+Name="([^"]+)"'}
_UTC = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$")
_QUARTER = dt.timedelta(minutes=15)


def _grammar():
    return load("windows_eventviewer_details")


def _label(line: str) -> str:
    return re.split("[:：]", line, maxsplit=1)[0]


def _value(line: str) -> str:
    parts = re.split("[:：]", line, maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


class EventViewerDetails(Source):
    name = "windows_eventviewer_details"
    description = "Event Viewer 'Copy details as text' (pasted events; English, Japanese, Chinese, Korean labels)"
    free_text = True  # records take free text: the region search decides (ingest._read_whole)

    def sniff(self, item: Input) -> bool:
        """Four or more header labels of one event, a numeric Event ID among them, within twelve
        lines of the first label, which comes in the first twenty non-blank lines (a ticket can
        put a sentence above the paste, and a copy can start in the middle of the header)."""
        head = sniff_text(item)
        if head is None:
            return False
        nonblank = [ln for ln in head.splitlines()[:400] if ln.strip()][:32]
        grammar = _grammar()
        shapes = [grammar.match_shape(ln) for ln in nonblank]
        first = next((i for i, sh in enumerate(shapes[:20]) if sh is not None and sh.name == "field"), None)
        if first is None:
            return False
        fields = {LABELS.get(_label(ln)): _value(ln) for ln, sh in zip(nonblank[first:first + 12], shapes[first:first + 12])
                  if sh is not None and sh.name == "field"}
        return len(fields) >= 4 and ascii_int(fields.get("event_id")) is not None

    def parse(self, item: Input) -> Parsed:
        decoded, report = open_report(self, item)
        lines = text_lines(decoded.text)
        frame = _grammar().extract(lines) if len(lines) else None
        records, stray = _assemble(frame) if frame is not None else ([], [])
        report.records = len(records)
        report.unrecognised = len(stray)
        for line, text in stray[:20]:
            add_note(report, Note(item.display, "details_text_outside_event", line=line, excerpt=text[:120],
                                  severity="warning"))
        rows = []
        for ordinal, rec in enumerate(records, start=1):
            row = _raw_row(rec, ordinal, report)
            if row is None:
                report.skipped += 1
            else:
                rows.append(row)
        _times(rows, report)
        add_omitted_note(report, item.display)
        raw = winevent.raw_frame(pl.DataFrame(rows, schema_overrides={"ts_wall": pl.Datetime("us")}, strict=False)
                                 if rows else [])
        return Parsed(winevent.normalise(raw).with_columns(pl.lit(self.name).alias("format")), report)


# -- records ------------------------------------------------------------------------------------


def _new(line: int) -> dict:
    return {"line": line, "fields": {}, "field_lines": {}, "desc": [], "xml": [], "xml_line": None,
            "xml_closed": False, "state": "header"}


def _assemble(frame: pl.DataFrame) -> tuple[list[dict], list[tuple[int, str]]]:
    """The events of the paste in order, and the lines that belong to none (line, text)."""
    records: list[dict] = []
    stray: list[tuple[int, str]] = []
    rec: dict | None = None
    for line, text, shape, label, value in frame.select("line", "text", "shape", "label", "value").iter_rows():
        key = LABELS.get(label) if shape == "field" else None
        state = rec["state"] if rec else None
        if key and (rec is None or (state == "header" and key in rec["fields"])
                    or (state in ("description", "xml", "done") and key == "channel")):
            rec = _new(line)
            records.append(rec)
            state = "header"
        if rec is None or state == "done":
            if shape != "blank":
                stray.append((line, text))
        elif state == "xml":
            rec["xml"].append(text)
            rec["xml_closed"] = "</Event>" in text
            rec["state"] = "done" if rec["xml_closed"] else "xml"
        elif shape == "xml_label":
            rec["state"], rec["xml_line"] = "xml", line + 1
        elif state == "header" and key == "description":
            rec["state"] = "description"
            if value and value.strip():
                rec["desc"].append(value.strip())
        elif state == "header" and key:
            rec["fields"][key] = (value or "").strip()
            rec["field_lines"][key] = line
        elif state == "header" and shape == "blank":
            continue
        else:  # the description (a line that is no label starts it when its label was left out)
            rec["state"] = "description"
            rec["desc"].append(text)
    return records, stray


def _xml_fields(rec: dict, report) -> dict:
    """The raw-record fields of the event's XML: parsed whole, or (when it does not parse, e.g.
    cut short) the System fields found by regex, with a located note."""
    if not rec["xml"]:
        return {}
    text = "\n".join(rec["xml"])
    start = text.find("<Event")
    try:
        if not rec["xml_closed"]:
            raise ET.ParseError("no </Event>: the XML stops before its end")
        xml = record_of(ET.fromstring(text[start:text.rindex("</Event>") + len("</Event>")]))
        if xml.pop("_cut"):
            add_note(report, Note(report.path, "xml_event_nesting_cut", {"depth": MAX_DEPTH}, line=rec["xml_line"],
                                  severity="error"))
        return xml
    except (ET.ParseError, ValueError) as exc:
        detail = str(exc).split(":", 1)[0] if rec["xml_closed"] else "no </Event>"
        add_note(report, Note(report.path, "details_xml_unreadable", {"detail": detail}, line=rec["xml_line"],
                              severity="warning"))
    found = {k: m.group(1).strip() for k, rx in _XML_FIELDS.items() if (m := re.search(rx, text))}
    for k in ("event_id", "record", "level"):
        if k in found:
            found[k] = int(found[k])
    return found


def _raw_row(rec: dict, ordinal: int, report) -> dict | None:
    """One pasted event as a raw record dict: the XML's fields first, the header's where the XML
    has none; None (with a note) without a usable event ID."""
    fields, xml = rec["fields"], _xml_fields(rec, report)
    where = {"line": rec["line"], "record": ordinal}
    eid = xml.get("event_id", ascii_int(fields.get("event_id")))
    if eid is None:
        if "event_id" in fields:
            add_note(report, Note(report.path, "record_skipped_event_id_not_number", {"value": fields["event_id"]},
                                  **where))
        else:
            add_note(report, Note(report.path, "record_skipped_no_event_id", **where))
        return None
    data = {k: fields[k] for k in EXTRA_FIELDS if fields.get(k)}
    data.update(json.loads(xml.get("data") or "{}"))
    message = "\n".join(rec["desc"]).strip("\n").rstrip() or None
    return {
        "record": xml.get("record") or ordinal, "line": rec["line"], "event_id": eid,
        "channel": xml.get("channel") or fields.get("channel") or None,
        "provider": xml.get("provider") or fields.get("provider") or None,
        "level": xml.get("level", level_of(fields.get("level"))),
        "computer": xml.get("computer") or fields.get("computer") or None,
        "data": json.dumps(data, ensure_ascii=False), "message": xml.get("message") or message,
        "utc_raw": xml.get("ts_raw"), "date_raw": fields.get("date") or None,
        "date_line": rec["field_lines"].get("date", rec["line"]),
    }


# -- times ------------------------------------------------------------------------------------


def _utc(text: str | None) -> dt.datetime | None:
    match = _UTC.match((text or "").strip())
    if not match:
        return None
    return dt.datetime.fromisoformat(match.group(1)).replace(microsecond=int((match.group(2) or "0")[:6].ljust(6, "0")))


def _offset(local: dt.datetime | None, utc: dt.datetime | None) -> dt.timedelta | None:
    """Local minus UTC as whole quarter hours (the Date has no fraction: within a second), or None."""
    if local is None or utc is None:
        return None
    delta = local - utc.replace(microsecond=0)
    quarters = round(delta / _QUARTER)
    offset = quarters * _QUARTER
    return offset if abs(delta - offset) <= dt.timedelta(seconds=1) and abs(quarters) <= 14 * 4 else None


def _times(rows: list[dict], report) -> None:
    """Each row's time (its UTC SystemTime, else its local Date), and the zone the pairs measure."""
    utcs = [_utc(r["utc_raw"]) for r in rows]
    # a Date in wevtutil's UTC form ("...Z") is a UTC time, not a culture date
    for r, u in zip(rows, utcs):
        if u is None and _utc(r["date_raw"]):
            r["utc_raw"], r["date_raw"] = r["date_raw"], None
    utcs = [_utc(r["utc_raw"]) for r in rows]

    def judge(both: dict) -> tuple[str, dict] | None:
        fits = {o: [_offset(v, u) is not None for v, u in zip(both[o], utcs) if v is not None and u is not None]
                for o in both}
        good = [o for o in fits if fits[o] and all(fits[o])]
        return (good[0], {"code": "utc_pair", "params": {"pairs": len(fits[good[0]])}}) if len(good) == 1 else None

    dates = resolve_dates([r["date_raw"] for r in rows], [r["date_line"] for r in rows], judge)
    report.clock.update(dates.clock)
    for i in dates.bad:
        add_note(report, Note(report.path, "record_date_not_understood", {"value": rows[i]["date_raw"]},
                              line=rows[i]["date_line"], record=rows[i]["record"], severity="warning"))
    for r, local, utc in zip(rows, dates.values, utcs):
        r["ts_wall"], r["ts_raw"], r["clock"] = ((utc, r["utc_raw"], "utc") if utc else
                                                 (local, r["date_raw"], "local") if local else (None, None, None))
        r["_offset"] = _offset(local, utc)
        if utc is None and local is None and r["date_raw"] is None:
            add_note(report, Note(report.path, "record_no_date_label", line=r["line"], record=r["record"],
                                  severity="warning"))
    _measure(rows, report)
    for r in rows:
        for k in ("utc_raw", "date_raw", "date_line", "_offset"):
            r.pop(k, None)


def _zone(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _measure(rows: list[dict], report) -> None:
    """The PC's zone from the events that carry both times: the offset most of them show.
    Offsets that differ (a change to or from summer time between the events) are noted."""
    offsets = Counter(r["_offset"] for r in rows if r["_offset"] is not None)
    if not offsets:
        return
    used, pairs = offsets.most_common(1)[0]
    report.clock["measured_zone"] = _zone(used)
    report.clock["measured_pairs"] = pairs
    if len(offsets) > 1:
        add_note(report, Note(report.path, "details_offsets_differ",
                              {"offsets": ", ".join(sorted(_zone(o) for o in offsets)), "used": _zone(used)},
                              severity="warning"))


SOURCE = EventViewerDetails()
