"""Dates of the Mac and Linux text logs: which order a slashed date is in, which year a year-less
line belongs to, and which UTC offset a file writes.

Why decisions are made per file and recorded as codes: ``10/02/16`` is October 2 in one locale and
February 10 in another, and BSD syslog / journalctl lines (``Oct  2 08:35:55``) carry no year at all.
A single line cannot settle either; the whole file usually can. What was decided, and how, goes into
``report.clock`` as codes (``date_order`` + ``date_order_method``, ``year_method``) so that a reader —
or a script — sees when a date was inferred rather than written.

* **Date order** (:func:`date_order`): a first number above 12 means day first, a second above 12
  month first (``field_over_12``); both seen is a conflict (the majority wins, noted); otherwise the
  order under which consecutive dates move forward by the smallest steps (``date_steps``); otherwise,
  for a file with one date only, the clock's convention: a 12-hour clock with AM/PM is the US
  month-first order, a 24-hour clock the day-first order of most other locales (``clock_convention``,
  noted as a guess).
* **Years** (:func:`resolve_years`): rows with a written year (full dates of other lines in the file,
  a ``BOOT_TIME`` epoch, a journal's ``ends at`` date, or finally the file's modification time) anchor
  the year-less rows between them; a month going back by two or more from one line to the next is a
  new year (back by one, a line out of order). With no anchor at all the year stays unknown and the
  rows get no time.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

c = pl.col
MONTHS = {m: i + 1 for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))}
TS_FORMAT = "%Y-%m-%d %H:%M:%S%.f"


def month_of(name: pl.Expr) -> pl.Expr:
    return name.replace_strict(MONTHS, default=None, return_dtype=pl.Int32)


def wall(year: pl.Expr, month: pl.Expr, day: pl.Expr, clock: pl.Expr) -> pl.Expr:
    """A naive datetime from year, month, day and ``HH:MM:SS[.fff]`` (null when any is missing or
    the date does not exist)."""
    text = pl.concat_str(year.cast(pl.String).str.zfill(4), pl.lit("-"), month.cast(pl.String).str.zfill(2), pl.lit("-"),
                         day.cast(pl.String).str.zfill(2), pl.lit(" "), clock)
    return text.str.strptime(pl.Datetime("us"), TS_FORMAT, strict=False)


def twelve_hour(clock: pl.Expr, ampm: pl.Expr) -> pl.Expr:
    """``8:35:55.972`` + ``PM`` → ``20:35:55.972`` (12 AM is midnight, 12 PM noon)."""
    hour = clock.str.extract(r"^(\d{1,2}):", 1).cast(pl.Int32, strict=False)
    rest = clock.str.extract(r"^\d{1,2}(:.*)$", 1)
    hour24 = (hour % 12) + pl.when(ampm.str.to_uppercase() == "PM").then(12).otherwise(0)
    return pl.concat_str(hour24.cast(pl.String).str.zfill(2), rest)


def full_year(short: pl.Expr) -> pl.Expr:
    """A written year: four digits as they are, two digits in 2000–2099."""
    value = short.cast(pl.Int32, strict=False)
    return pl.when(short.str.len_chars() <= 2).then(value + 2000).otherwise(value)


# -- date order ------------------------------------------------------------------------------------------
def date_order(first: pl.Series, second: pl.Series, twelve_hour_clock: bool) -> tuple[str, str, int]:
    """(order, method, conflicting lines) for slashed dates ``first/second/yy`` in line order.

    ``order`` is "MDY" or "DMY"; ``method`` one of field_over_12, conflict_majority, date_steps,
    clock_convention; the count is of the lines that contradict the order chosen (conflicts only).
    """
    a = first.cast(pl.Int32, strict=False)
    b = second.cast(pl.Int32, strict=False)
    day_first = int((a > 12).sum() or 0)
    month_first = int((b > 12).sum() or 0)
    if day_first and month_first:
        order = "DMY" if day_first >= month_first else "MDY"
        return order, "conflict_majority", min(day_first, month_first)
    if day_first or month_first:
        return ("DMY" if day_first else "MDY"), "field_over_12", 0
    steps = {order: _step_cost(a, b, order) for order in ("MDY", "DMY")}
    if steps["MDY"] != steps["DMY"]:
        return min(steps, key=steps.get), "date_steps", 0
    return ("MDY" if twelve_hour_clock else "DMY"), "clock_convention", 0


def _step_cost(a: pl.Series, b: pl.Series, order: str) -> tuple[int, int]:
    """(backward steps, total days moved) between consecutive distinct dates read in ``order``."""
    month, day = (a, b) if order == "MDY" else (b, a)
    frame = pl.DataFrame({"m": month, "d": day}).drop_nulls()
    frame = frame.filter(((c("m") != c("m").shift(1)) | (c("d") != c("d").shift(1))).fill_null(True))
    ordinal = (frame.get_column("m") * 31 + frame.get_column("d")).diff().drop_nulls()
    if ordinal.len() == 0:
        return (0, 0)
    return int((ordinal < 0).sum()), int(ordinal.abs().sum())


# -- years -----------------------------------------------------------------------------------------------
def resolve_years(seq: pl.DataFrame, end_anchor: tuple[int, int] | None) -> tuple[pl.Series, str]:
    """The year of every row of ``seq`` (columns ``month`` and ``year``, the year null where it is
    not written), in line order, and how it was found: ``written`` (every row had one), ``in_file``
    (anchored on rows that had one), ``end_anchor`` (on ``end_anchor`` = (year, month) of the end of
    the file: a journal's ``ends at`` or the file's modification time) or ``unknown``.
    """
    if seq.height == 0:
        return pl.Series("year", [], dtype=pl.Int32), "written"
    month = seq.get_column("month").cast(pl.Int32)
    step = month.diff().fill_null(0)
    turns = (step < -1).cast(pl.Int32).cum_sum()  # back by one month is a line out of order, by more a new year
    known = seq.get_column("year").cast(pl.Int32)
    if known.null_count() == 0:
        return known, "written"
    base = (known - turns).forward_fill().backward_fill()
    if base.null_count() == 0:
        return _prefer(known, base + turns), "in_file"
    last_month = month.drop_nulls()
    if end_anchor is None or last_month.len() == 0:
        return pl.Series("year", [None] * seq.height, dtype=pl.Int32), "unknown"
    year_at_end = end_anchor[0] - (1 if int(last_month[-1]) > end_anchor[1] else 0)
    last_turn = int(turns[-1] or 0)
    return (turns - last_turn + year_at_end).cast(pl.Int32), "end_anchor"


def _prefer(known: pl.Series, inferred: pl.Series) -> pl.Series:
    return pl.select(pl.coalesce(pl.lit(known), pl.lit(inferred)).cast(pl.Int32)).to_series().rename("year")


def mtime_anchor(path) -> tuple[int, int] | None:
    """(year, month) of a file's modification time, local to this machine, or None."""
    try:
        when = dt.datetime.fromtimestamp(path.stat().st_mtime)
    except (OSError, ValueError, OverflowError):
        return None
    return when.year, when.month


# -- offsets ---------------------------------------------------------------------------------------------
def offset_text(raw: pl.Expr) -> pl.Expr:
    """``-0700`` / ``+09:00`` / ``Z`` → ``-07:00`` / ``+09:00`` / ``+00:00`` (the zone form clock.py takes)."""
    digits = raw.str.replace(":", "", literal=True)
    return (pl.when(raw.str.to_uppercase() == "Z").then(pl.lit("+00:00"))
            .otherwise(pl.concat_str(digits.str.slice(0, 3), pl.lit(":"), digits.str.slice(3, 2))))


def file_offset(offsets: pl.Series) -> tuple[str | None, dict[str, int]]:
    """The offset most rows write, and how many rows write each (for the clock report and a note)."""
    counts = offsets.drop_nulls().value_counts(sort=True)
    if counts.height == 0:
        return None, {}
    seen = {str(k): int(n) for k, n in counts.iter_rows()}
    return str(counts.row(0)[0]), seen
