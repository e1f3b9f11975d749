"""Apple restore log: dates and clocks for the three time bases in one file.

Why this is its own module: the MobileRestore body ``[HH:MM:SS.ffff]`` has no date and, on
Windows, is usually UTC while the dated header is local time (reference §0.2). The date therefore
comes from the header, the offset between the two clocks is *measured* per file (first bracket line
against the last header line before it, rounded to whole hours) rather than assumed, and midnight
rollover is a backwards jump of more than 12 h between consecutive lines of the same clock.

Offsets 24 h apart cannot be told apart without a date on the bracket lines, so the measured offset
is folded into the window ``OFFSET_WINDOW`` (bracket minus header, hours): −13…+10 covers header
zones UTC−10 (Hawaii) to UTC+13 (New Zealand summer), the populated range; a zone outside it gives
bracket dates one day off, and the report says which window was used.

A file may have no header at all: the tail of a log a user pasted. Its bracket lines still keep
their order, so they are placed on the placeholder day :data:`PLACEHOLDER_DAY` (plus a day per
rollover) and the report says the date is unknown; nothing says either whether such brackets are
UTC (Windows) or local time (Mac), and the report says that too. Bracket lines *before* the first
header of a file that has one are dated backwards from that header (they were written before it).
The same placeholder day holds every other clock written without a date: the device's GMT lines
with no host time near them, and the ``HH:MM:SS.mmm:`` lines repair tools re-emit.

All of it is vectorised: rows are grouped into header blocks (one dated line plus the bracket lines
after it) and rollovers are a cumulative sum inside each block.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from ._apple_classify import attach, last_value

OFFSET_WINDOW = (-13, 10)
DAY_US = 86_400_000_000
HALF_DAY_US = DAY_US // 2
HOUR_US = 3_600_000_000
#: A first bracket line further than this from a whole-hour offset of its header is reported.
RESIDUAL_WARN_US = 15 * 60 * 1_000_000
#: The day a time of day is placed on when no line of its file gives the date (the clock stage and
#: the reports know it by ``report.clock["date_unknown"]``; it is never a real date of a restore log).
PLACEHOLDER_DAY = datetime(1900, 1, 1)

c = pl.col


def _tod_us(text: pl.Expr, frac_unit_us: pl.Expr | int) -> pl.Expr:
    """``HH:MM:SS.ffff`` → microseconds since midnight, the fraction scaled by ``frac_unit_us``."""
    f = lambda start, length: text.str.slice(start, length).cast(pl.Int64, strict=False)  # noqa: E731
    return (f(0, 2) * 3600 + f(3, 2) * 60 + f(6, 2)) * 1_000_000 + f(9, 4) * frac_unit_us


def fold_offset(delta_us: int) -> tuple[int, int]:
    """Whole-hour offset in OFFSET_WINDOW nearest to ``delta_us`` (mod 24 h), and the residual."""
    lo, hi = OFFSET_WINDOW
    hours = round(delta_us / HOUR_US) % 24
    if hours > hi:
        hours -= 24
    if hours < lo:
        hours += 24
    residual = (delta_us - hours * HOUR_US) % DAY_US
    if residual > HALF_DAY_US:
        residual -= DAY_US
    return hours, residual


def detect_offset(rows: pl.DataFrame) -> tuple[int, dict[str, Any], int | None]:
    """Measure bracket-minus-header hours from the first header→bracket boundary.

    ``rows`` has columns shape, hdr_us (header time of day, µs) and br_us (bracket time of day, µs),
    in line order. Returns (hours, report.clock dict, line of the bracket line used or None).
    """
    seq = rows.lazy().filter(c("shape").is_in(["dated", "dated_proc", "bracket"])).select("line", "shape", "hdr_us", "br_us").collect()
    seq = seq.with_columns(c("hdr_us").forward_fill().alias("_last_hdr"),
                           c("shape").shift(1).alias("_prev"))
    bounds = seq.filter((c("shape") == "bracket") & c("_last_hdr").is_not_null() & c("_prev").is_in(["dated", "dated_proc"]))
    first = bounds.head(1) if bounds.height else seq.filter((c("shape") == "bracket") & c("_last_hdr").is_not_null()).head(1)
    if first.height == 0:
        return 0, {}, None
    row = first.row(0, named=True)
    hours, residual = fold_offset(row["br_us"] - row["_last_hdr"])
    clock = {"header": "local", "bracket_minus_header_hours": hours,
             "how": "first bracket line vs last header line", "window_hours": list(OFFSET_WINDOW),
             "residual_seconds": round(residual / 1_000_000, 3)}
    # later header blocks (other attempts) may disagree, e.g. across a DST change: say so, keep the first
    others = sorted({fold_offset(b - h)[0] for b, h in bounds.select("br_us", "_last_hdr").iter_rows()} - {hours})
    if others:
        clock["other_offsets_seen"] = others
    return hours, clock, row["line"]


def on_placeholder_day(tod_us: pl.Expr, after: datetime | None = None) -> pl.Expr:
    """Times of day (µs, in line order, one clock) on :data:`PLACEHOLDER_DAY`, one day later after
    every backwards jump of more than 12 h (a midnight), so that the order of the lines is kept.
    ``after``: the last such time before these rows (an earlier segment's), which they go on from."""
    step = tod_us.diff()
    days = pl.lit(0, dtype=pl.Int64)
    if after is not None:
        last = (after - datetime(after.year, after.month, after.day)) // timedelta(microseconds=1)
        step = tod_us - tod_us.shift(1, fill_value=last)
        days = pl.lit((after - PLACEHOLDER_DAY).days, dtype=pl.Int64)
    days = days + (step < -HALF_DAY_US).fill_null(False).cast(pl.Int64).cum_sum()
    return pl.lit(PLACEHOLDER_DAY, dtype=pl.Datetime("us")) + pl.duration(days=days, microseconds=tod_us)


def nearest_day(tod_us: pl.Expr, near: pl.Expr) -> pl.Expr:
    """The time of day ``tod_us`` on the date that puts it within 12 h of the datetime ``near``."""
    cand = near.dt.truncate("1d") + pl.duration(microseconds=tod_us)
    diff = (cand - near).dt.total_microseconds()
    return (pl.when(diff > HALF_DAY_US).then(cand - pl.duration(days=1))
            .when(diff < -HALF_DAY_US).then(cand + pl.duration(days=1)).otherwise(cand))


def _stamp(rows: pl.DataFrame, frac_unit_us: int) -> pl.DataFrame:
    """ts_raw, clock and the per-clock times of day of every recognised row."""
    dated = c("shape").is_in(["dated", "dated_proc"])
    bracket, device, flash = c("shape") == "bracket", c("shape") == "device", c("shape") == "flash"
    rows = rows.with_columns(
        pl.when(dated).then(pl.concat_str(c("date"), pl.lit(" "), c("time")))
        .when(bracket).then(c("btime")).when(device).then(pl.concat_str(c("gtime"), pl.lit("-GMT")))
        .when(flash).then(c("ftime")).alias("ts_raw"),
        pl.when(dated | flash).then(pl.lit("local")).when(bracket).then(pl.lit("bracket"))
        .when(device).then(pl.lit("utc")).otherwise(pl.lit("none")).alias("clock"),
    )
    hdr_dt = pl.concat_str(c("date"), pl.lit(" "), c("time")).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    return rows.with_columns(
        pl.when(dated).then(hdr_dt).alias("_hdr_dt"),
        pl.when(dated).then(_tod_us(c("time"), 1000)).alias("hdr_us"),
        pl.when(bracket).then(_tod_us(c("btime"), frac_unit_us)).alias("br_us"),
        pl.when(device).then(_tod_us(c("gtime"), 100)).alias("_dev_us"),
        pl.when(flash).then(_tod_us(c("ftime"), 1000)).alias("_flash_us"),
    )


def _first_block_base(seq: pl.DataFrame) -> tuple[datetime, bool]:
    """The base day of the bracket lines before the first header, and whether it is the placeholder.

    With a header later in the file they were written before it: the last of them lies on the
    header's day (in the bracket clock) unless its time of day is later, then on the day before.
    """
    first = seq.filter(c("_anchor").is_not_null()).head(1)
    lead = seq.filter(c("_block") == 0)
    if first.height == 0:
        return PLACEHOLDER_DAY, True
    anchor: datetime = first.item(0, "_anchor")
    if lead.height == 0:
        return anchor, False
    last_tod, last_days = lead.item(-1, "_tod"), lead.item(-1, "_days")
    day = datetime(anchor.year, anchor.month, anchor.day)
    if last_tod > (anchor - day) // timedelta(microseconds=1):
        day -= timedelta(days=1)
    return day - timedelta(days=last_days), False


def _bracket_dates(rows: pl.DataFrame, hours: int, after: datetime | None = None) -> tuple[pl.DataFrame, bool]:
    """Dated and bracket rows resolved (``_resolved``) and in the bracket clock (``_host_in_bracket_clock``);
    True when the brackets had no header to take their date from. ``after``: for a segment that goes
    on with an attempt (:mod:`._apple_segments`), the last such time before it, in the bracket
    clock: the brackets before its first header go on from it (its day, and its time of day for
    the next midnight), as they would after it in one read.

    The working frame holds five narrow columns; the steps between them (block starts, steps,
    rollovers) are expressions, not columns: on a bench log nearly every row is a bracket row, and
    a column per step made this the run's peak (an 800k-line log: 114 MB more than its input)."""
    dated = c("shape").is_in(["dated", "dated_proc"])
    bracket = c("shape") == "bracket"
    anchor = c("_anchor")
    seq = (rows.lazy().filter(dated | bracket)
           .select("line", bracket.alias("_br"), (c("_hdr_dt") + pl.duration(hours=hours)).alias("_anchor"), "br_us")
           .with_columns(anchor.is_not_null().cum_sum().alias("_block"))
           .select("line", "_br", "_anchor", "_block",
                   pl.coalesce(c("br_us"), (anchor - anchor.dt.truncate("1d")).dt.total_microseconds()).alias("_tod"))
           .collect())
    if after is not None:  # a row standing for the last one before: block 0 steps on from its time
        tod = (after - datetime(after.year, after.month, after.day)) // timedelta(microseconds=1)
        seq = pl.concat([pl.DataFrame({"line": [-1], "_br": [True], "_anchor": [None], "_block": [0], "_tod": [tod]},
                                      schema=seq.schema), seq], how="vertical")
    # blocks are runs of rows (a header line and the brackets after it): "within a block" is a
    # whole-column step reset at each block's first row, not a window function (a group-by)
    start = (c("_block") != c("_block").shift(1)).fill_null(True)
    step = pl.when(start).then(None).otherwise(c("_tod").diff())
    rolled = (pl.when(step < -HALF_DAY_US).then(1).when(step > HALF_DAY_US).then(-1).otherwise(0)).cum_sum()
    seq = seq.with_columns((rolled - pl.when(start).then(rolled).forward_fill()).alias("_days"),
                           pl.when(start).then(anchor.dt.truncate("1d")).forward_fill().alias("_base"))
    unknown = False
    base = c("_base")
    if seq.height and seq.item(0, "_block") == 0:
        base0, unknown = _first_block_base(seq) if after is None else (datetime(after.year, after.month, after.day), False)
        base = pl.when(c("_block") == 0).then(pl.lit(base0, dtype=pl.Datetime("us"))).otherwise(base)
    in_bracket = base + pl.duration(days=c("_days"), microseconds=c("_tod"))
    resolved = seq.select(
        "line",
        # a header row's own time is its anchor less the offset (_hdr_dt)
        pl.when(c("_br")).then(in_bracket).otherwise(anchor - pl.duration(hours=hours)).alias("_resolved"),
        pl.when(c("_br")).then(in_bracket).otherwise(anchor).alias("_host_in_bracket_clock"))
    del seq
    if after is not None:
        resolved = resolved.slice(1)  # (the row that stood for the one before)
    return attach(rows, resolved), unknown


def resolve(rows: pl.DataFrame, frac_unit_us: int, report_clock: dict, hours: int | None = None,
            carry=None, goes_on: bool = False) -> pl.DataFrame:
    """Add ts_wall, ts_raw and clock to recognised rows (line order), filling report_clock.

    ``carry`` (:class:`._apple_segments.Open`): its ``host_time`` is read when the rows go on with
    the attempt of the segment before (``goes_on``), its ``loose`` and ``flash`` (the last times put
    on the placeholder day) always; then all are set from these rows.

    ``hours`` (bracket minus header) is measured from the file when None (or, for a later segment of
    a file, taken from ``report_clock`` where the first segment put it); tests pass it to check the
    date logic on its own, outside the detection window.

    Dated lines: the written local time. Bracket lines: the header's date moved by the measured
    offset, plus rollovers (no header: the placeholder day). Device ``-GMT`` lines: the date that
    puts them nearest to the host time around them (their zone is UTC, the host's is not known
    here). Repair-tool ``HH:MM:SS.mmm:`` lines: local time on the placeholder day. Other lines: no time.
    """
    rows = _stamp(rows, frac_unit_us)
    measured, clock, _ = detect_offset(rows)
    decided = report_clock.get("bracket_minus_header_hours")
    if hours is None and decided is not None and report_clock.get("how") != "given":
        # a later segment of the file (._apple_segments): the offset the first one measured holds,
        # and what this one measures is another offset seen, as a later header block's is
        hours = decided
        seen = set(clock.get("other_offsets_seen", ())) | ({clock["bracket_minus_header_hours"]} if clock else set())
        others = sorted((seen | set(report_clock.get("other_offsets_seen", ()))) - {hours})
        clock = {"other_offsets_seen": others} if others else {}
    elif hours is None:
        hours = measured
    else:
        clock = {**clock, "bracket_minus_header_hours": hours, "how": "given"} if clock else {}
    report_clock.update(clock)
    after = carry.host_time if carry is not None and goes_on else None
    rows, no_header = _bracket_dates(rows, hours, after)
    has = rows.select(**{name: (c("shape") == name).any() for name in ("bracket", "device", "flash")}).row(0, named=True)
    if clock or has["bracket"]:
        report_clock["bracket_fraction"] = "milliseconds" if frac_unit_us == 1000 else "1/10000 s"
    # device GMT lines: nearest date to the host time around them (in the bracket clock, UTC on Windows)
    near = c("_host_in_bracket_clock").forward_fill()
    if after is not None:
        near = near.fill_null(pl.lit(after, dtype=pl.Datetime("us")))
    rows = rows.with_columns(near.backward_fill().alias("_near"))
    if carry is not None:
        last = last_value(rows.get_column("_host_in_bracket_clock"))
        carry.host_time = last if last is not None else carry.host_time
    device = c("shape") == "device"
    # (device lines with no host time and repair-tool lines: on the placeholder day, file-wide)
    loose_after, flash_after = (carry.loose, carry.flash) if carry is not None else (None, None)
    loose = rows.lazy().filter(device & c("_near").is_null()).select(
        "line", on_placeholder_day(c("_dev_us"), loose_after).alias("_loose")).collect()
    flash = rows.lazy().filter(c("shape") == "flash").select(
        "line", on_placeholder_day(c("_flash_us"), flash_after).alias("_flash")).collect()
    if carry is not None:
        carry.loose = loose.item(-1, "_loose") if loose.height else loose_after
        carry.flash = flash.item(-1, "_flash") if flash.height else flash_after
    rows = attach(rows, loose.join(flash, on="line", how="full", coalesce=True))
    rows = rows.with_columns(
        pl.when(device).then(pl.coalesce(nearest_day(c("_dev_us"), c("_near")), c("_loose")))
        .when(c("shape") == "flash").then(c("_flash")).otherwise(c("_resolved")).alias("ts_wall"))
    if (has["bracket"] and no_header) or loose.height or flash.height:
        report_clock["date_unknown"] = True
    if has["bracket"] and no_header:
        report_clock["bracket_zone_unknown"] = True
    return rows.drop("_hdr_dt", "_dev_us", "_flash_us", "_resolved", "_host_in_bracket_clock", "_near", "_loose", "_flash")


#: The device and idevicerestore shapes (apple_device_restore) → clock.
DEVICE_CLOCKS = {"device": "utc", "syslog": "utc", "unified": "utc", "logged": "local"}


def resolve_device(rows: pl.DataFrame, report_clock: dict) -> pl.DataFrame:
    """ts_wall, ts_raw and clock for the device's restore log and idevicerestore's output.

    The device writes GMT: ``[HH:MM:SS.ffff-GMT]`` and ``SYSLOG: Mon DD HH:MM:SS`` lines give no
    year, unified-log lines a full date and zone. The GMT times take the date of the unified line
    nearest to them; with none, the placeholder day (and ``date_unknown``). idevicerestore's log
    file writes the host's local time of day (``logged``), always on the placeholder day. Plain
    console lines have no time.
    """
    shape = c("shape")
    unified_text = pl.concat_str(c("udate"), pl.lit(" "), c("utime"), c("uzone"))
    syslog_tod = _tod_us(pl.concat_str(c("sys_time").str.slice(7, 8), pl.lit(".0000")), 100)
    rows = rows.with_columns(
        pl.when(shape == "device").then(pl.concat_str(c("gtime"), pl.lit("-GMT")))
        .when(shape == "syslog").then(c("sys_time")).when(shape == "unified").then(unified_text)
        .when(shape == "logged").then(c("ltime")).alias("ts_raw"),
        shape.replace_strict(DEVICE_CLOCKS, default="none", return_dtype=pl.String).alias("clock"),
        pl.when(shape == "device").then(_tod_us(c("gtime"), 100)).when(shape == "syslog").then(syslog_tod)
        .when(shape == "logged").then(_tod_us(c("ltime"), 1000)).alias("_tod"),
        pl.when(shape == "unified").then(unified_text.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S%.f%z", strict=False)
                                         .dt.replace_time_zone(None)).alias("_dated"),
    )
    gmt = shape.is_in(["device", "syslog"])
    rows = rows.with_columns(c("_dated").forward_fill().backward_fill().alias("_near"))
    has_dates = rows.get_column("_dated").null_count() < rows.height
    gmt_rows = rows.lazy().filter(gmt).select("line", on_placeholder_day(c("_tod")).alias("_gmt")).collect()
    logged = rows.lazy().filter(shape == "logged").select("line", on_placeholder_day(c("_tod")).alias("_logged")).collect()
    rows = attach(rows, gmt_rows.join(logged, on="line", how="full", coalesce=True))
    placed_gmt = nearest_day(c("_tod"), c("_near")) if has_dates else c("_gmt")
    rows = rows.with_columns(
        pl.when(gmt).then(placed_gmt).when(shape == "logged").then(c("_logged"))
        .otherwise(c("_dated")).alias("ts_wall"))
    if logged.height or (gmt_rows.height and not has_dates):
        report_clock["date_unknown"] = True
    return rows.drop("_tod", "_dated", "_near", "_gmt", "_logged")
