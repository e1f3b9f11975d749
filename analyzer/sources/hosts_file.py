"""The hosts file (``C:\\Windows\\System32\\drivers\\etc\\hosts``, ``/etc/hosts``; reference
backup-and-network.md §5), recognised by its content.

Line syntax lives in ``grammar/hosts_file.lark``: entries ``address name [aliases...]`` (IPv4 or
IPv6, blanks or tabs between, an optional trailing comment) and ``#`` comment lines. Each name of an
entry that is Apple's (:mod:`analyzer.apple_hosts`) becomes a ``hosts_entry`` row: ``subject`` the
name, ``detail`` ``{"address", "apple": true, "signing", "target", "file_mtime"}``, where ``target``
says where the entry sends it (``loopback``, ``unspecified`` for 0.0.0.0/::, ``apple`` inside Apple's
17.0.0.0/8, ``private``, ``public``) and ``signing`` whether the name is on the restore's signing
path. Every other entry line is one ``generic`` row (its first name, all names in ``detail``), so
the report counts it without it reading as evidence.

Why no time: a hosts file records a configuration, not an event. Its rows have clock ``none`` and
hold around every incident of the PC; the file's modification time is kept in ``detail``
(``file_mtime``, UTC) and said in an info note. The encoding is a finding of its own: whether
Windows honours a hosts file in UTF-16 or UTF-8 with a BOM is disputed (§5.2), so such a file
gets a warning.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re

import polars as pl

from .. import grammars
from ..apple_hosts import apple_host_expr, is_signing_host
from ..model import Note, conform
from ._base import Input, Parsed, Source, add_note
from ._text import grammar_frame, sniff_text

FORMAT = "hosts_file"

#: Of the non-blank lines a sniffer looks at, the share that must be entries or comments.
_SHAPED_SHARE = 0.9
_SNIFF_LINES = 200
#: What a host name is made of (any non-ASCII letter allowed: internationalised names).
_NAME = re.compile(r"^[A-Za-z0-9_.\-\u0080-\uffff]+$")
#: Encodings Windows may not read a hosts file in (§5.2: disputed), noted as a finding.
_DOUBTFUL_ENCODINGS = {"utf-16": "UTF-16", "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE", "utf-8-sig": "UTF-8 with BOM"}
_APPLE_NET = ipaddress.ip_network("17.0.0.0/8")


def _sniff_counts(head: str) -> tuple[int, int, int, int]:
    """(non-blank lines, shaped lines, entries, entries whose names all look like host names)."""
    grammar = grammars.load(FORMAT)
    lines = [ln for ln in head.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()][:_SNIFF_LINES]
    shaped = entries = named = 0
    for ln in lines:
        shape = grammar.match_shape(ln)
        if shape is None:
            continue
        shaped += 1
        if shape.name == "entry":
            entries += 1
            names = ln.split("#", 1)[0].split()[1:]
            named += all(_NAME.match(n) for n in names)
    return len(lines), shaped, entries, named


def target_of(address: str) -> str:
    """Where an entry sends its names: loopback, unspecified, apple, private, public, or invalid."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.version == 4 and ip in _APPLE_NET:
        return "apple"
    return "private" if ip.is_private else "public"


def _mtime(item: Input) -> str | None:
    try:
        stamp = item.path.stat().st_mtime
    except OSError:
        return None
    when = dt.datetime.fromtimestamp(stamp, tz=dt.timezone.utc)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


class HostsFile(Source):
    name = FORMAT
    description = "hosts file (Windows drivers\\etc\\hosts, /etc/hosts)"

    def sniff(self, item: Input) -> bool:
        """Mostly ``address name...`` lines and comments, at least one entry, and entries that name
        hosts: a text that merely contains an address somewhere is not claimed."""
        head = sniff_text(item)
        if head is None:
            return False
        lines, shaped, entries, named = _sniff_counts(head)
        if entries == 0 or named < entries:
            return False
        if lines <= 2:
            return shaped == lines
        return shaped >= _SHAPED_SHARE * lines

    def parse(self, item: Input) -> Parsed:
        report = self.new_report(item, item.source_encoding)
        mtime = _mtime(item)
        report.clock = {"clock": "none"}
        frame = grammar_frame(item, report, grammars.load(FORMAT))
        if frame is None:
            return Parsed(conform(None), report)
        entries = (frame.filter(pl.col("shape") == "entry")
                   .select("line", "text", pl.col("address").str.strip_chars(),
                           pl.col("names").str.replace_all(r"[ \t]+", " ").str.strip_chars().str.split(" ").alias("names")))
        apple = self._apple_rows(entries, mtime)
        other = self._other_rows(entries)
        events = pl.concat([apple, other], how="vertical_relaxed").sort("line") if entries.height else conform(None)
        display = item.display
        if apple.height:
            add_note(report, Note(display, "hosts_no_time", {"count": apple.height, "mtime": mtime or "?"},
                                  line=int(apple.get_column("line").min()), severity="info"))
        shown = _DOUBTFUL_ENCODINGS.get(report.encoding or "")
        if shown:
            add_note(report, Note(display, "hosts_encoding", {"encoding": shown}, severity="warning"))
        return Parsed(conform(events), report)

    @staticmethod
    def _apple_rows(entries: pl.DataFrame, mtime: str | None) -> pl.DataFrame:
        """One hosts_entry row per Apple name of an entry (a handful: detail built in Python)."""
        names = entries.explode("names").rename({"names": "name"})
        hits = names.filter(apple_host_expr(pl.col("name")))
        details = [json.dumps({"address": address, "apple": True, "signing": is_signing_host(name),
                               "target": target_of(address), **({"file_mtime": mtime} if mtime else {})},
                              separators=(",", ":"))
                   for address, name in hits.select("address", "name").iter_rows()]
        return hits.select(
            "line", pl.lit("hosts_entry").alias("kind"),
            pl.col("name").str.strip_chars().str.to_lowercase().str.strip_chars_end(".").alias("subject"),
            pl.Series("detail", details, dtype=pl.String), pl.col("text").alias("message"),
            pl.lit("none").alias("clock"), pl.lit(FORMAT).alias("format"))

    @staticmethod
    def _other_rows(entries: pl.DataFrame) -> pl.DataFrame:
        """One generic row per entry line that names no Apple host: counted, not evidence."""
        rest = entries.filter(~pl.col("names").list.eval(apple_host_expr(pl.element())).list.any())
        detail = pl.struct(pl.col("address"), pl.col("names").list.join(" ").alias("names")).struct.json_encode()
        return rest.select("line", pl.lit("generic").alias("kind"), pl.col("names").list.first().alias("subject"),
                           detail.alias("detail"), pl.col("text").alias("message"),
                           pl.lit("none").alias("clock"), pl.lit(FORMAT).alias("format"))


SOURCE = HostsFile()
