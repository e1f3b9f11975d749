"""macOS ``system.log`` and Console.app lines (reference apple-restore-logs.md §5).

Three prefixes, in ``grammar/mac_syslog.lark``: the Console copy ``10/02/16 8:35:55.972 AM
iTunes[926]: …`` (or ``02/10/2016 08:35:55.972 …`` with a 24-hour clock), ``2016/10/02 08:35:55.972
AppleMobileBackup[568]: …``, and the BSD syslog form of system.log ``Oct  2 08:35:55 MacBook-Pro
iTunes[926]: …``. Messages are read as :mod:`._mac_read` says; Apple's restore messages mean what they
mean in a restore log.

Times are the Mac's local wall clock (``clock`` "local"). Two things a line cannot settle are decided
over the whole file and recorded as codes in ``report.clock`` (:mod:`._unix_time`):

* ``date_order`` ("MDY" / "DMY") with ``date_order_method`` — a number above 12, the order in which
  dates move forward by the smallest steps, or (one date only) the clock's convention, noted;
* ``year_method`` for the BSD form, which has no year — from the dated lines of the same file or its
  ``BOOT_TIME`` line (``in_file``), else the file's modification time (``file_time``, noted), else none
  (``unknown``: those lines get no time, noted).
"""

from __future__ import annotations

import polars as pl

from ..model import Note
from ._base import Input, add_note
from ._mac_read import MacSource
from ._relay import lit
from ._unix_time import date_order, full_year, month_of, mtime_anchor, resolve_years, twelve_hour, wall

c = pl.col
_SLASHED = ("console12", "console24")
_BSD = ("bsd", "bsd_sender", "repeated", "repeated_once")
_ORDER_FIELDS = {"MDY": ("d1", "d2"), "DMY": ("d2", "d1")}


class MacSyslog(MacSource):
    name = "mac_syslog"
    description = "macOS system.log / Console.app lines (M/D/YY or D/M/YY, YYYY/MM/DD, BSD syslog)"

    def times(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        shape = c("shape")
        rows = rows.with_columns(_slashed_parts(rows, item, report)).with_columns(
            pl.when(shape == "console12").then(twelve_hour(c("time12"), c("ampm"))).otherwise(c("time24")).alias("_clock"))
        ymd = c("ymd").str.split("/")
        full = (pl.when(shape.is_in(list(_SLASHED))).then(wall(c("_y"), c("_m"), c("_d"), c("_clock")))
                .when(shape == "console_ymd").then(wall(ymd.list.get(0, null_on_oob=True).cast(pl.Int32, strict=False),
                                                        ymd.list.get(1, null_on_oob=True).cast(pl.Int32, strict=False),
                                                        ymd.list.get(2, null_on_oob=True).cast(pl.Int32, strict=False), c("_clock"))))
        boot = pl.from_epoch(to_int_expr("boot_epoch"), time_unit="s")
        rows = rows.with_columns(full.alias("_full"), pl.when(c("rule") == "boot_time").then(boot).alias("_boot"))
        seq = rows.filter(shape.is_in([*_SLASHED, "console_ymd", *_BSD])).select(
            "line", pl.coalesce(month_of(c("mon")), c("_full").dt.month()).alias("month"),
            pl.coalesce(c("_full").dt.year(), c("_boot").dt.year()).alias("year"))
        years, method = resolve_years(seq, None)
        if method == "unknown":
            anchor = mtime_anchor(item.path)
            years, method = resolve_years(seq, anchor)
            if method == "end_anchor":
                method = "file_time"
                add_note(report, Note(item.display, "year_from_file_time", {"year": int(years[-1])}, severity="warning"))
        if rows.filter(shape.is_in(list(_BSD))).height:
            report.clock["year_method"] = method
        rows = rows.join(seq.select("line", years.alias("_year")), on="line", how="left")
        bsd_wall = wall(c("_year"), month_of(c("mon")), c("day").str.strip_chars().cast(pl.Int32, strict=False), c("btime"))
        bsd = shape.is_in(list(_BSD))
        rows = rows.with_columns(
            pl.when(bsd).then(bsd_wall).otherwise(c("_full")).alias("ts_wall"),
            pl.when(shape == "console12").then(pl.concat_str(c("d1"), lit("/"), c("d2"), lit("/"), c("dy"), lit(" "), c("time12"),
                                                              lit(" "), c("ampm")))
            .when(shape == "console24").then(pl.concat_str(c("d1"), lit("/"), c("d2"), lit("/"), c("dy"), lit(" "), c("time24")))
            .when(shape == "console_ymd").then(pl.concat_str(c("ymd"), lit(" "), c("time24")))
            .when(bsd).then(pl.concat_str(c("mon"), lit(" "), c("day"), lit(" "), c("btime"))).alias("ts_raw"))
        rows = rows.with_columns(pl.when(c("ts_wall").is_not_null()).then(lit("local")).otherwise(lit("none")).alias("clock"))
        missing = rows.filter(bsd & c("ts_wall").is_null()).height
        if missing:
            add_note(report, Note(item.display, "year_unknown", {"count": missing}, severity="warning"))
        return rows.drop("_y", "_m", "_d", "_clock", "_full", "_boot", "_year")


def to_int_expr(name: str) -> pl.Expr:
    return c(name).cast(pl.Int64, strict=False)


def _slashed_parts(rows: pl.DataFrame, item: Input, report) -> list[pl.Expr]:
    """Year, month and day of the slashed dates, in the order decided over the whole file."""
    slashed = rows.filter(c("shape").is_in(list(_SLASHED)))
    if slashed.height == 0:
        return [pl.lit(None, dtype=pl.Int32).alias(n) for n in ("_y", "_m", "_d")]
    twelve = slashed.filter(c("shape") == "console12").height > 0
    order, method, conflicts = date_order(slashed.get_column("d1"), slashed.get_column("d2"), twelve)
    report.clock.update(date_order=order, date_order_method=method)
    first = slashed.row(0, named=True)
    if method == "clock_convention":
        add_note(report, Note(item.display, "date_order_guessed", {"example": f"{first['d1']}/{first['d2']}/{first['dy']}",
                                                                   "order": order}, line=first["line"], severity="warning"))
    if conflicts:
        add_note(report, Note(item.display, "date_order_conflict", {"count": conflicts, "order": order}, severity="warning"))
    month, day = _ORDER_FIELDS[order]
    return [full_year(c("dy")).alias("_y"), c(month).cast(pl.Int32, strict=False).alias("_m"),
            c(day).cast(pl.Int32, strict=False).alias("_d")]


SOURCE = MacSyslog()
