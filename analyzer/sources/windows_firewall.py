"""Windows Firewall text log ``pfirewall.log`` (reference/windows-formats.md §8).

Line syntax lives in ``grammar/windows_firewall.lark`` (directives, and records
as ``date time action`` plus the rest). The ``#Fields:`` directive decides the
columns (17 names up to ``path``, or 18 with ``pid``); a file without one gets
those standard names. Each record becomes one event:

* ``kind``: DROP → ``firewall_block``; ALLOW / OPEN / OPEN-INBOUND →
  ``firewall_allow``; CLOSE, INFO-EVENTS-LOST and anything else → ``generic``;
* ``subject``: ``src-ip:port -> dst-ip:port/proto`` (IPv6 in brackets);
* ``detail``: every column by its header name (``-`` → null), plus
  ``apple_usbmux`` (TCP port 27015 on loopback: iTunes ↔ Apple Mobile Device
  Service) and ``apple_network`` (an address in Apple's 17.0.0.0/8).

Times are the PC's local clock (``#Time Format: Local``), second precision.
Records cut short keep what they have and get a located warning.
"""

from __future__ import annotations

import re

import polars as pl

from .. import grammars
from ..model import Note, conform
from ._base import Input, Parsed, Source, add_note, add_summary_note
from ._text import grammar_frame, sniff_text, text_lines

FORMAT = "windows_firewall"

#: Columns of the Windows Firewall log (XP SP2 .. Windows 10); recent Windows appends "pid".
STANDARD_FIELDS = ("date", "time", "action", "protocol", "src-ip", "dst-ip", "src-port", "dst-port", "size",
                   "tcpflags", "tcpsyn", "tcpack", "tcpwin", "icmptype", "icmpcode", "info", "path")
USBMUX_PORT = "27015"

_ALLOW = ("ALLOW", "OPEN", "OPEN-INBOUND")
_RECORD_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:ALLOW|DROP|OPEN|CLOSE|OPEN-INBOUND|INFO-EVENTS-LOST)(?: |$)")
_LOOPBACK = r"^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$"
_APPLE_NET = r"^(?:::ffff:)?17\.\d{1,3}\.\d{1,3}\.\d{1,3}$"
_MAX_TRUNCATION_NOTES = 20


def _fields_of(value: str | None) -> list[str]:
    """Column names of a ``#Fields:`` value; a repeated name gets a ``#2``, ``#3`` … suffix."""
    names: list[str] = []
    for name in (value or "").split():
        candidate, n = name, 1
        while candidate in names:
            n += 1
            candidate = f"{name}#{n}"
        names.append(candidate)
    return names


class WindowsFirewall(Source):
    name = FORMAT
    description = "Windows Firewall text log (pfirewall.log)"

    def sniff(self, item: Input) -> bool:
        head = sniff_text(item)
        if head is None:
            return False
        lines = [ln.strip() for ln in head.splitlines()[:40] if ln.strip()]
        if not lines:
            return False
        directives = [ln for ln in lines if ln.startswith("#")]
        for ln in directives:
            name, _, value = ln[1:].partition(":")
            if name.strip().lower() == "fields":
                names = set(value.split())
                if {"date", "time", "action", "src-ip", "dst-ip"} <= names:
                    return True
        if any(ln.lower().startswith("#version:") for ln in directives) and any(
                ln.lower().startswith("#software:") and "windows firewall" in ln.lower() for ln in directives):
            return True
        # records alone (a copy without the header): all of the first ten, but for one cut
        # short where the copy starts or ends
        records = [ln for ln in lines if not ln.startswith("#")][:10]
        matching = sum(1 for ln in records if _RECORD_RE.match(ln))
        return matching >= 2 and matching >= len(records) - 1

    def parse(self, item: Input) -> Parsed:
        report = self.new_report(item, item.source_encoding)
        report.clock = {"clock": "local"}
        display = item.display
        frame = grammar_frame(item, report, grammars.load(FORMAT))
        if frame is None:
            return Parsed(conform(None), report)

        directives = _directives(frame)
        header = _header(directives)
        clock = "local"
        time_format = header.get("time format")
        if time_format:
            report.clock["time_format"] = time_format
            if time_format.strip().upper() == "UTC":
                clock = "utc"
                report.clock["clock"] = "utc"

        records = frame.filter(pl.col("shape") == "record").select(
            "line", "text", "fw_date", "fw_time", "action")
        if records.height == 0:
            add_note(report, Note(display, "firewall_header_only", severity="info"))
            return Parsed(conform(None), report)

        # Which #Fields: applies to each record: the last one above it (the header can repeat after a restart).
        layouts = [(line, _fields_of(value)) for line, name, value in directives.iter_rows() if name == "fields"]
        layouts = [(line, names) for line, names in layouts if names]
        records = _with_layout(records, layouts, report, display)
        parts = []
        notes = 0
        for layout, group in records.group_by("layout", maintain_order=True):
            names = _names_of(layout[0], layouts, group)
            notes = _note_field_counts(group, names, report, display, notes)
            parts.append(self._events(group, names, clock))
        if notes > _MAX_TRUNCATION_NOTES:
            add_summary_note(report, Note(display, "firewall_field_counts_total", {"count": notes}, severity="warning"))
        events = pl.concat(parts, how="vertical_relaxed").sort("line") if parts else conform(None)
        return Parsed(events, report)

    def _events(self, group: pl.DataFrame, names: list[str], clock: str) -> pl.DataFrame:
        vals = pl.col("values")
        dash = {name: vals.list.get(i, null_on_oob=True) for i, name in enumerate(names)}
        cols = {name: pl.when(expr == "-").then(None).otherwise(expr) for name, expr in dash.items()}
        frame = group.with_columns([expr.alias(f"c{i}") for i, expr in enumerate(cols.values())])
        col = {name: pl.col(f"c{i}") for i, name in enumerate(names)}

        def get(name: str) -> pl.Expr:
            return col[name] if name in col else pl.lit(None, dtype=pl.String)

        src, dst, sport, dport, proto = get("src-ip"), get("dst-ip"), get("src-port"), get("dst-port"), get("protocol")

        def endpoint(ip: pl.Expr, port: pl.Expr) -> pl.Expr:
            host = pl.when(ip.str.contains(":", literal=True)).then(pl.concat_str([pl.lit("["), ip, pl.lit("]")])) \
                .otherwise(ip)
            return pl.when(port.is_null()).then(host.fill_null("-")) \
                .otherwise(pl.concat_str([host.fill_null("-"), pl.lit(":"), port]))

        subject = pl.when(src.is_null() & dst.is_null()).then(None).otherwise(
            pl.concat_str([endpoint(src, sport), pl.lit(" -> "), endpoint(dst, dport),
                           pl.when(proto.is_null()).then(pl.lit("")).otherwise(pl.concat_str([pl.lit("/"), proto]))]))
        proto_up = proto.str.to_uppercase()
        tcp = (proto_up == "TCP") | (proto == "6")
        usbmux = tcp & (
            ((dport == USBMUX_PORT) & dst.str.contains(_LOOPBACK).fill_null(False))
            | ((sport == USBMUX_PORT) & src.str.contains(_LOOPBACK).fill_null(False)))
        apple_net = src.str.contains(_APPLE_NET).fill_null(False) | dst.str.contains(_APPLE_NET).fill_null(False)
        fields = [col[name].alias(name) for name in names]
        extra = pl.when(vals.list.len() > len(names)).then(vals.list.slice(len(names))).otherwise(None)
        detail_struct = pl.struct([*fields, usbmux.fill_null(False).alias("apple_usbmux"),
                                   apple_net.alias("apple_network")])
        action = pl.col("action").str.to_uppercase()
        kind = pl.when(action == "DROP").then(pl.lit("firewall_block")) \
            .when(action.is_in(list(_ALLOW))).then(pl.lit("firewall_allow")).otherwise(pl.lit("generic"))
        out = frame.select(
            pl.col("line"),
            pl.concat_str([pl.col("fw_date"), pl.lit(" "), pl.col("fw_time")]).alias("ts_raw"),
            pl.concat_str([pl.col("fw_date"), pl.lit(" "), pl.col("fw_time")])
              .str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False).alias("ts_wall"),
            pl.lit(clock).alias("clock"),
            pl.lit(FORMAT).alias("format"),
            kind.alias("kind"),
            subject.alias("subject"),
            pl.when(extra.is_null()).then(detail_struct.struct.json_encode())
              .otherwise(pl.struct([*fields, extra.alias("extra"), usbmux.fill_null(False).alias("apple_usbmux"),
                                    apple_net.alias("apple_network")]).struct.json_encode()).alias("detail"),
            pl.col("text").alias("message"),
        )
        return conform(out)


def read_header(item: Input) -> dict[str, str]:
    """The log's ``#Name: value`` directives (version, software, time format, fields): names
    lower-case, the first value of each, as the parse reads its clock from them. Not in the
    events; for people and tests."""
    lines = text_lines(item.decoded.text)
    return _header(_directives(grammars.load(FORMAT).extract(lines))) if len(lines) else {}


def _directives(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("shape") == "directive").select(
        "line", pl.col("directive").str.strip_chars().str.to_lowercase().alias("name"),
        pl.col("directive_value").str.strip_chars().alias("value"))


def _header(directives: pl.DataFrame) -> dict[str, str]:
    header: dict[str, str] = {}
    for _, name, value in directives.iter_rows():
        header.setdefault(name, value)
    return header


def _with_layout(records: pl.DataFrame, layouts: list[tuple[int, list[str]]], report, display: str) -> pl.DataFrame:
    """``records`` with ``layout``: the index of the ``#Fields:`` line above each record in
    ``layouts``, or -1 before any (read with the standard columns, noted once)."""
    records = records.with_columns(pl.col("text").str.strip_chars_end().str.split(" ").alias("values"))
    if layouts:
        owner = pl.DataFrame({"line": [l for l, _ in layouts], "layout": list(range(len(layouts)))},
                             schema={"line": pl.Int64, "layout": pl.Int64})
        records = records.join_asof(owner, on="line", strategy="backward")
        if records.get_column("layout").null_count():
            records = records.with_columns(pl.col("layout").fill_null(-1))
    else:
        records = records.with_columns(pl.lit(-1, dtype=pl.Int64).alias("layout"))
    if (records.get_column("layout") == -1).any():
        add_note(report, Note(display, "firewall_before_fields",
                              line=int(records.filter(pl.col("layout") == -1).get_column("line")[0]),
                              severity="info"))
    return records


def _names_of(index: int, layouts: list[tuple[int, list[str]]], group: pl.DataFrame) -> list[str]:
    """The column names of a layout; before any ``#Fields:``, the standard ones (with ``pid``
    when some record has one value more)."""
    if index >= 0:
        return list(layouts[index][1])
    names = list(STANDARD_FIELDS)
    widest = int(group.get_column("values").list.len().max() or 0)
    if widest == len(STANDARD_FIELDS) + 1:
        names.append("pid")
    return names


def _note_field_counts(group: pl.DataFrame, names: list[str], report, display: str, notes: int) -> int:
    """Note the records with fewer or more values than ``names`` (the first few of the file,
    ``notes`` being how many came before); returns the new count of such records."""
    count = group.get_column("values").list.len()
    short = group.filter(count < len(names))
    for line, n in short.select("line", pl.col("values").list.len()).iter_rows():
        if notes < _MAX_TRUNCATION_NOTES:
            text = group.filter(pl.col("line") == line).get_column("text")[0]
            add_note(report, Note(display, "firewall_record_cut",
                                  {"count": n, "total": len(names), "missing": ", ".join(names[n:][:3])},
                                  line=line, excerpt=text[:200], severity="warning"))
        notes += 1
    extra = group.filter(count > len(names))
    for line, n in extra.select("line", pl.col("values").list.len()).iter_rows():
        if notes < _MAX_TRUNCATION_NOTES:
            add_note(report, Note(display, "firewall_record_extra", {"count": n, "total": len(names)}, line=line,
                                  severity="warning"))
        notes += 1
    return notes


SOURCE = WindowsFirewall()
