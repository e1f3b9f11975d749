"""Reading a Linux repair-bench log, for both Linux sources: lines, messages, times, meaning.

The two sources differ in name and in the grammar that does the first pass, never in what a line
means (see :mod:`._linux_usb`). Times:

* ``dmesg`` and libusb stamps (``[ 1234.567890]``, ``[88.990129]``) count seconds since boot or since
  libusb started, and ``dmesg -H`` deltas since the previous line: no wall time, so the text is kept
  in ``ts_raw``, ``clock`` is ``none`` and a note says how many lines are like that (never invented);
* usbmuxd's foreground ``[13:38:54.026]`` has a time of day but no date: the same (``none``);
* ``dmesg -T`` is the PC's local wall time with its year;
* journalctl/syslog ``Dec 05 10:00:00`` is local time without a year: the year comes from the file
  (``dmesg -T`` or ``short-iso`` lines in it, else the journal's ``ends at`` banner, else the file's
  modification time, noted) by :func:`._unix_time.resolve_years`; usbmuxd's own ``[10:00:00.123]``
  inside such a line gives the milliseconds (``ts_raw`` then holds both stamps);
* ``short-iso`` (``2026-12-05T10:00:00+0900``) keeps its wall time as written and gives the file's UTC
  offset (``report.clock["utc_offset"]``), which :mod:`analyzer.clock` uses for the file's local clock.
"""

from __future__ import annotations

import polars as pl

from .. import grammars
from ..model import Note
from ._base import Input, add_note
from ._linux_usb import RULES, family_expr, identities, level_expr
from ._relay import apply_rules, finish, json_of, lit, read_messages
from ._text import GrammarLineSource
from ._unix_family import claims
from ._unix_time import TS_FORMAT, file_offset, month_of, mtime_anchor, offset_text, resolve_years, wall

c = pl.col
FAMILIES = {"kernel": "linux_kernel_usb", "usbmuxd": "linux_usbmuxd"}
_RELATIVE = ("stamp", "dmesg_h", "dmesg_delta")
_JOURNAL = ("journal", "journal_nopid")
_ISO = ("journal_iso", "journal_iso_nopid")


class LinuxSource(GrammarLineSource):
    """A Linux bench log; subclasses set ``name`` (their grammar) and ``description``."""

    def sniff(self, item: Input) -> bool:
        return claims(item, self.name)

    def events(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        rows = rows.with_columns(family_expr().alias("family"))
        routes = {family: grammars.load(name) for family, name in FAMILIES.items()}
        rows = read_messages(rows, routes, self.name)
        fields = sorted({f for g in routes.values() for m in g.markers for f in m.fields} - set(rows.columns))
        rows = rows.with_columns([pl.lit(None, dtype=pl.String).alias(f) for f in fields]).with_columns(c("marker").alias("rule"))
        rows = _times(rows, item, report)
        local = identities(rows, apply_rules(rows, RULES))
        family = c("family")
        rows = rows.with_columns(
            pl.coalesce(c("proc"), pl.when(c("lthread").is_not_null() | (c("shape") == "libusb_bare")).then(lit("libusb")),
                        pl.when(family.is_not_null()).then(family)).alias("provider"),
            c("host").alias("computer"), level_expr().alias("level"), json_of(thread=c("lthread")).alias("context"))
        return finish(rows, local, self.name, apple_rows=c("family") != "kernel")


def _times(rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
    """ts_wall, ts_raw and clock of every row (see the module docstring), the file's year and offset
    decisions in ``report.clock``, and a note for what could not be placed on a clock."""
    shape = c("shape")
    iso_wall = (c("iso_time").str.extract(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)", 0).str.replace("T", " ")
                .str.strptime(pl.Datetime("us"), TS_FORMAT, strict=False))
    ctime = (c("kctime").str.slice(4).str.replace_all(" +", " ").str.strptime(pl.Datetime("us"), "%b %d %H:%M:%S %Y", strict=False))
    rows = rows.with_columns(
        pl.when(shape.is_in(list(_ISO))).then(iso_wall).when(shape == "dmesg_t").then(ctime).alias("_full"),
        pl.when(shape.is_in(list(_ISO))).then(offset_text(c("iso_time").str.extract(r"([+-]\d\d:?\d\d|Z)$", 1))).alias("_offset"),
        month_of(c("mon")).alias("_month"))
    seq = rows.filter(shape.is_in([*_JOURNAL, *_ISO, "dmesg_t"])).select(
        "line", pl.coalesce(c("_month"), c("_full").dt.month()).alias("month"), c("_full").dt.year().alias("year"))
    years, method = resolve_years(seq, None)
    if method == "unknown":
        years, method = _end_anchor(rows, seq, item, report)
    if seq.height:
        report.clock["year_method"] = method
    rows = rows.join(seq.select("line", years.alias("_year")), on="line", how="left")
    # usbmuxd's own [HH:MM:SS.mmm] inside a journal line refines the journal's second (same second only)
    finer = (c("rmux_time").str.slice(0, 8) == c("btime").str.slice(0, 8)).fill_null(False)
    clock_text = pl.when(finer).then(c("rmux_time")).otherwise(c("btime"))
    bsd_raw = pl.concat_str(c("mon"), lit(" "), c("day"), lit(" "), c("btime"))
    journal_wall = wall(c("_year"), c("_month"), c("day").str.strip_chars().cast(pl.Int32, strict=False), clock_text)
    ts_wall = pl.when(shape.is_in(list(_JOURNAL))).then(journal_wall).otherwise(c("_full"))
    ts_raw = (pl.when(shape == "stamp").then(c("rel").str.strip_chars()).when(shape == "dmesg_t").then(c("kctime"))
              .when(shape == "dmesg_h").then(c("khtime")).when(shape == "dmesg_delta").then(c("kdelta").str.strip_chars())
              .when(shape == "usbmuxd_fg").then(c("mux_time"))
              .when(shape.is_in(list(_JOURNAL)) & finer).then(pl.concat_str(bsd_raw, lit(" ["), c("rmux_time"), lit("]")))
              .when(shape.is_in(list(_JOURNAL))).then(bsd_raw)
              .when(shape.is_in(list(_ISO))).then(c("iso_time")))
    rows = rows.with_columns(ts_wall.alias("ts_wall"), ts_raw.alias("ts_raw"))
    rows = rows.with_columns(pl.when(c("ts_wall").is_not_null()).then(lit("local")).otherwise(lit("none")).alias("clock"))
    _clock_notes(rows, item, report)
    return rows.drop("_full", "_month", "_year")


def _end_anchor(rows: pl.DataFrame, seq: pl.DataFrame, item: Input, report) -> tuple[pl.Series, str]:
    """Years from the end of the file: the journal's ``end(s) at`` date, else the file's modification time."""
    ends = (rows.filter(c("shape") == "journal_banner")
            .select(c("journal_note").str.extract(r"ends? at \w{3} (\d{4})-(\d\d)-\d\d", 0).alias("_end")).drop_nulls())
    if ends.height:
        text = ends.get_column("_end")[-1]
        year, month = int(text[-10:-6]), int(text[-5:-3])
        years, method = resolve_years(seq, (year, month))
        return years, "journal_end" if method == "end_anchor" else method
    anchor = mtime_anchor(item.path)
    years, method = resolve_years(seq, anchor)
    if method == "end_anchor":
        add_note(report, Note(item.display, "year_from_file_time", {"year": int(years[-1])}, severity="warning"))
        return years, "file_time"
    return years, method


def _clock_notes(rows: pl.DataFrame, item: Input, report) -> None:
    offset, seen = file_offset(rows.get_column("_offset"))
    if offset:
        report.clock["utc_offset"] = offset
    if len(seen) > 1:
        report.clock["utc_offsets"] = seen
        add_note(report, Note(item.display, "utc_offsets_differ", {"offsets": ", ".join(seen), "used": offset}, severity="warning"))
    shape = c("shape")
    counts = rows.select(
        (shape.is_in(list(_RELATIVE))).sum().alias("relative"), (shape == "usbmuxd_fg").sum().alias("undated"),
        (shape.is_in(list(_JOURNAL)) & c("ts_wall").is_null()).sum().alias("no_year")).row(0, named=True)
    if counts["relative"]:
        add_note(report, Note(item.display, "times_relative_only", {"count": counts["relative"]}, severity="info"))
    if counts["undated"]:
        add_note(report, Note(item.display, "times_without_date", {"count": counts["undated"]}, severity="info"))
    if counts["no_year"]:
        add_note(report, Note(item.display, "year_unknown", {"count": counts["no_year"]}, severity="warning"))
