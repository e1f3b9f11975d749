"""Windows events exported as XML (reference/windows-formats.md §3).

Two shapes, both recognised by content after decoding (UTF-8 or UTF-16, with or
without BOM):

* Event Viewer "Save … as XML" / ``wevtutil /f:RenderedXml``: an ``<?xml …?>``
  declaration, an ``<Events>`` root, one ``<Event xmlns="…">`` per record with a
  ``RenderingInfo`` (rendered message, culture);
* ``wevtutil qe … /f:xml`` and PowerShell ``$e.ToXml()``: bare ``<Event xmlns='…'>``
  elements with single-quoted attributes, no declaration and no root (one event or
  many, one per line or all on one line).

The text is parsed with the standard library on a synthetic root. When the whole
document does not parse, every ``<Event>…</Event>`` span is parsed on its own, so a
broken record becomes a located note (line number and excerpt) and the others are kept.

Each record is flattened into winevent's raw record frame: System fields, the
EventData fields by name (unnamed ``<Data>`` numbered "1", "2", … as the message
template's %1, %2), UserData's element children by name, ``<Binary>`` as "Binary",
and the rendered message when there is one. ``EventID`` keeps only its number (the
``Qualifiers`` attribute is not part of the id); ``&amp;`` is decoded by the parser.
"""

from __future__ import annotations

import bisect
import json
import re
import xml.etree.ElementTree as ET

import polars as pl

from .. import winevent
from ..model import Note, conform
from ._base import Input, Parsed, Source, add_note
from ._text import open_report
from ._evtx_system import parse_utc

#: After optional BOM, whitespace, declaration and comments: an <Events> root or a bare <Event>.
_HEAD_RE = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(Events|Event)[\s>]", re.S)
_EVENT_START = re.compile(r"<Event[\s>]")
_EVENT_END = "</Event>"
_DECL_RE = re.compile(r"<\?xml[^>]*\?>")
_EVENT_XMLNS = "http://schemas.microsoft.com/win/2004/08/events/event"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(elem: ET.Element, name: str) -> ET.Element | None:
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _text(elem: ET.Element | None) -> str | None:
    if elem is None:
        return None
    return elem.text.strip() if elem.text is not None else None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip(), 0) if text.strip().lower().startswith("0x") else int(text.strip())
    except ValueError:
        return None


def _value(elem: ET.Element):
    """An element's value for the data object: its text, or its children as an object."""
    kids = list(elem)
    if not kids:
        return elem.text if elem.text is not None else None
    out: dict = {}
    for k in kids:
        out.setdefault(_local(k.tag), _value(k))
    return out


def record_of(event: ET.Element) -> dict:
    """Flatten one <Event> element into a raw record dict (winevent RAW_SCHEMA keys)."""
    system = _child(event, "System")
    rec: dict = {}
    data: dict = {}
    if system is not None:
        provider = _child(system, "Provider")
        if provider is not None:
            rec["provider"] = provider.get("Name") or provider.get("EventSourceName")
        rec["event_id"] = _int(_text(_child(system, "EventID")))
        rec["level"] = _int(_text(_child(system, "Level")))
        created = _child(system, "TimeCreated")
        if created is not None:
            rec["ts_raw"] = created.get("SystemTime")
        rec["record"] = _int(_text(_child(system, "EventRecordID")))
        rec["channel"] = _text(_child(system, "Channel"))
        rec["computer"] = _text(_child(system, "Computer"))
    event_data = _child(event, "EventData")
    if event_data is not None:
        position = 0
        for item in event_data:
            name = _local(item.tag)
            if name == "Data":
                key = item.get("Name")
                if key is None:
                    position += 1
                    data[str(position)] = item.text if item.text is not None else ""
                else:
                    data.setdefault(key, item.text)
            elif name == "Binary":
                data["Binary"] = item.text
            else:  # ComplexData and friends
                data.setdefault(item.get("Name") or name, _value(item))
    user_data = _child(event, "UserData")
    if user_data is not None:
        for element in user_data:  # normally exactly one element (e.g. UMDFHostDeviceRequest)
            for item in element:
                data.setdefault(_local(item.tag), _value(item))
    rec["data"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    rendering = _child(event, "RenderingInfo")
    if rendering is not None:
        message = _child(rendering, "Message")
        if message is not None and message.text:
            rec["message"] = message.text.strip()
        rec["_culture"] = rendering.get("Culture")
    return rec


class _Lines:
    """Offset -> 1-based line number."""

    def __init__(self, text: str):
        self.starts = [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) + 1


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:120]


class WindowsEventXml(Source):
    name = "windows_event_xml"
    description = "Windows events as XML (Event Viewer 'Save as XML', wevtutil /f:xml, ToXml())"

    def sniff(self, item: Input) -> bool:
        head = item.head_text
        match = _HEAD_RE.match(head)
        if not match:
            return False
        if match.group(1) == "Event":
            return True
        # <Events> root: an Event in the event namespace must follow
        return _EVENT_XMLNS in head or "<Event>" in head or "<Event " in head or "</Events>" in head

    def parse(self, item: Input) -> Parsed:
        decoded, report = open_report(self, item)
        report.clock = {"clock": "utc", "source": "TimeCreated/@SystemTime"}
        text = decoded.text
        lines = _Lines(text)
        records: list[dict] = []
        spans = self._spans(text, report, item, lines)
        body = _DECL_RE.sub(lambda m: " " * len(m.group(0)), text)
        whole = None
        try:
            root = ET.fromstring(f"<_root>{body}</_root>")
            whole = [e for e in root.iter() if _local(e.tag) == "Event"]
        except ET.ParseError:
            whole = None
        if whole is not None and len(whole) == len(spans):
            for (start, _end), event in zip(spans, whole):
                rec = record_of(event)
                rec["line"] = lines.line(start)
                records.append(rec)
        else:
            for start, end in spans:
                chunk = text[start:end]
                try:
                    event = ET.fromstring(chunk)
                except ET.ParseError as exc:
                    line = lines.line(start)
                    where = getattr(exc, "position", None)
                    detail = str(exc).split(":", 1)[0] if str(exc) else "not well-formed"
                    if where:
                        line += where[0] - 1
                    report.skipped += 1
                    add_note(report, Note(item.display, "xml_event_malformed", {"detail": detail},
                                          line=line, excerpt=_excerpt(chunk)))
                    continue
                rec = record_of(event)
                rec["line"] = lines.line(start)
                records.append(rec)
        report.records = len(records)
        if not records:
            if not report.errors:
                add_note(report, Note(item.display, "xml_no_event", severity="warning"))
            return Parsed(conform(None), report)
        cultures = sorted({r.pop("_culture") for r in records if r.get("_culture")})
        for r in records:
            r.pop("_culture", None)
        if cultures:
            report.clock["culture"] = ",".join(cultures)
        for i, r in enumerate(records, 1):
            if r.get("record") is None:
                r["record"] = i
        raw = winevent.raw_frame(records)
        raw = raw.with_columns(parse_utc(pl.col("ts_raw")).alias("ts_wall"), pl.lit("utc").alias("clock"))
        missing = raw.filter(pl.col("ts_wall").is_null())
        for row in missing.select("line", "ts_raw").head(5).iter_rows():
            add_note(report, Note(item.display, "xml_event_no_time", {"value": row[1]},
                                  line=row[0], severity="warning"))
        events = winevent.normalise(raw).with_columns(pl.lit(self.name).alias("format"))
        report.events = events.height
        return Parsed(events, report)

    @staticmethod
    def _spans(text: str, report, item: Input, lines: _Lines) -> list[tuple[int, int]]:
        """(start, end) of every <Event>…</Event>; an unterminated one becomes a note."""
        spans = []
        pos = 0
        while True:
            m = _EVENT_START.search(text, pos)
            if not m:
                break
            start = m.start()
            end = text.find(_EVENT_END, m.end())
            nxt = _EVENT_START.search(text, m.end())
            if end < 0 or (nxt and nxt.start() < end):
                report.skipped += 1
                stop = nxt.start() if nxt else len(text)
                add_note(report, Note(item.display, "xml_event_unclosed",
                                      line=lines.line(start), excerpt=_excerpt(text[start:stop])))
                pos = stop
                continue
            end += len(_EVENT_END)
            spans.append((start, end))
            pos = end
        return spans


SOURCE = WindowsEventXml()
