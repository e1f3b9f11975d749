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
broken record becomes a located note (line number and excerpt) and the others are kept. A
``<!DOCTYPE`` is refused before the parser sees it (blanked, with a located note): an export has
none, and its entities are what a billion-laughs or external-entity file is made of.

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
#: Event data nested deeper than this is kept as its flat text (Windows' own nests a few levels).
MAX_DEPTH = 32
MAX_FLAT_CHARS = 4096


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


def _value(elem: ET.Element, cut: list[bool], depth: int = 0):
    """An element's value for the data object: its text, or its children as an object. Below
    MAX_DEPTH levels an element's text is kept flat (and ``cut`` says so): a hostile export's
    nesting must not exhaust the recursion here or in the JSON that ``detail`` becomes."""
    kids = list(elem)
    if not kids:
        return elem.text if elem.text is not None else None
    if depth >= MAX_DEPTH:
        cut[0] = True
        return "".join(elem.itertext())[:MAX_FLAT_CHARS]
    out: dict = {}
    for k in kids:
        out.setdefault(_local(k.tag), _value(k, cut, depth + 1))
    return out


def record_of(event: ET.Element) -> dict:
    """Flatten one <Event> element into a raw record dict (winevent RAW_SCHEMA keys; ``_cut`` is
    True when event data nested deeper than MAX_DEPTH was kept as flat text)."""
    system = _child(event, "System")
    rec: dict = {}
    data: dict = {}
    cut = [False]
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
                data.setdefault(item.get("Name") or name, _value(item, cut))
    user_data = _child(event, "UserData")
    if user_data is not None:
        for element in user_data:  # normally exactly one element (e.g. UMDFHostDeviceRequest)
            for item in element:
                data.setdefault(_local(item.tag), _value(item, cut))
    rec["data"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    rec["_cut"] = cut[0]
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


#: Inside a DOCTYPE: a quote, a bracket of the internal subset, its closing ``>``, or a comment.
_DOCTYPE_MARK = re.compile(r"[\"'\[\]>]|<!--")


def doctype_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every ``<!DOCTYPE …>`` declaration, its internal subset included (quoted
    ``>`` and ``]`` and comments skipped); one left open runs to the end of the text."""
    spans = []
    start = text.find("<!DOCTYPE")
    while start >= 0:
        end = _doctype_end(text, start + len("<!DOCTYPE"))
        spans.append((start, end))
        start = text.find("<!DOCTYPE", end)
    return spans


def _doctype_end(text: str, pos: int) -> int:
    depth = 0
    while (m := _DOCTYPE_MARK.search(text, pos)) is not None:
        mark, pos = m.group(0), m.end()
        if mark in "\"'" or mark == "<!--":
            close = text.find("-->" if mark == "<!--" else mark, pos)
            if close < 0:
                return len(text)
            pos = close + (3 if mark == "<!--" else 1)
        elif mark == "[":
            depth += 1
        elif mark == "]":
            depth = max(0, depth - 1)
        elif depth == 0:  # ">"
            return pos
    return len(text)


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span's characters turned to spaces, its line breaks kept."""
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], re.sub(r"[^\r\n]", " ", text[start:end])]
        last = end
    return "".join(parts + [text[last:]])


class WindowsEventXml(Source):
    name = "windows_event_xml"
    description = "Windows events as XML (Event Viewer 'Save as XML', wevtutil /f:xml, ToXml())"

    def sniff(self, item: Input) -> bool:
        head = item.head_text
        if "<!DOCTYPE" in head:  # recognised, so that parse can say it refused the declaration
            head = blank(head, doctype_spans(head))
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
        text = self._refuse_doctypes(text, report, item, lines)
        records = self._records(text, report, item, lines)
        report.records = len(records)
        if not records:
            if not report.errors:
                add_note(report, Note(item.display, "xml_no_event", severity="warning"))
            return Parsed(conform(None), report)
        cultures = sorted({r.pop("_culture") for r in records if r.get("_culture")})
        for r in records:
            r.pop("_culture", None)
            if r.pop("_cut"):
                add_note(report, Note(item.display, "xml_event_nesting_cut", {"depth": MAX_DEPTH},
                                      line=r["line"], severity="error"))
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
    def _refuse_doctypes(text: str, report, item: Input, lines: _Lines) -> str:
        """The text with every DOCTYPE declaration blanked (line numbers kept), each one a located note.
        Its entities are never expanded (billion laughs) nor fetched (``SYSTEM "file:///…"``, ``http://``)
        whatever the XML parser would do: the parser never sees the declaration, and an event that uses
        one of its entities fails as undefined, with its own note."""
        spans = doctype_spans(text) if "<!DOCTYPE" in text else []
        for start, end in spans:
            declared = text.count("<!ENTITY", start, end)
            add_note(report, Note(item.display, "xml_doctype_refused", {"entities": declared},
                                  line=lines.line(start), excerpt=_excerpt(text[start:min(end, start + 400)])))
        return blank(text, spans) if spans else text

    @staticmethod
    def _records(text: str, report, item: Input, lines: _Lines) -> list[dict]:
        """Every event's raw record: the whole document parsed at once, or, when it does not parse,
        each ``<Event>`` on its own (a broken one a located note, the others kept)."""
        records: list[dict] = []
        spans = WindowsEventXml._spans(text, report, item, lines)
        body = _DECL_RE.sub(lambda m: " " * len(m.group(0)), text)
        try:
            root = ET.fromstring(f"<_root>{body}</_root>")
            whole = [e for e in root.iter() if _local(e.tag) == "Event"]
        except ET.ParseError:
            whole = None
        if whole is not None and len(whole) == len(spans):
            for (start, _end), event in zip(spans, whole):
                records.append({**record_of(event), "line": lines.line(start)})
            return records
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
            records.append({**record_of(event), "line": lines.line(start)})
        return records

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
