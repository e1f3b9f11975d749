"""Helpers shared by the Windows *text* export sources (wevtutil text, Event Viewer
TSV/CSV, Get-WinEvent Format-List / Export-Csv).

Each of those sources flattens its records into the raw record frame of
:mod:`analyzer.winevent` and lets ``winevent.normalise`` give them meaning; this
module holds what they have in common: level words in several UI languages,
culture-formatted dates with a per-file day/month decision, and JSON text for
the ``data`` column built without a Python loop.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

import polars as pl

from ..grammars import LineGrammar, load

def level_numbers(values: pl.Series) -> pl.Series:
    """Level number for each value: a display word (the ``level_N`` shapes of
    grammar/windows_eventviewer_table.lark, any UI language listed there) or a number."""
    if len(values) == 0:
        return pl.Series(values.name, [], dtype=pl.Int64)
    cleaned = values.cast(pl.String).str.strip_chars()
    shape = _date_grammar().extract(cleaned).get_column("shape")
    frame = pl.DataFrame({"shape": shape, "v": cleaned})
    number = pl.col("v").str.extract(r"^([0-9]{1,3})$", 1).cast(pl.Int64, strict=False)
    out = frame.select(
        pl.when(pl.col("shape").str.starts_with("level_"))
          .then(pl.col("shape").str.strip_prefix("level_").cast(pl.Int64, strict=False))
          .when(number < 256).then(number)
          .otherwise(pl.lit(None, dtype=pl.Int64)).alias(values.name))
    return out.to_series()


_ASCII_INT = re.compile(r"-?[0-9]{1,18}")


def ascii_int(text: str | None) -> int | None:
    """An integer written in ASCII digits (``str.isdigit`` also accepts ``¹`` and friends)."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if _ASCII_INT.fullmatch(text) else None


def level_of(text: str | None) -> int | None:
    """Level number of one display word or number (see :func:`level_numbers`)."""
    if text is None:
        return None
    shape = _date_grammar().match_shape(text.strip())
    if shape is not None and shape.name.startswith("level_"):
        return int(shape.name[len("level_"):])
    value = ascii_int(text)
    return value if value is not None and 0 <= value < 256 else None


def json_text(expr: pl.Expr) -> pl.Expr:
    """A string expression as a JSON string literal (quoted and escaped), vectorised."""
    return pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")


def data_from_pairs(pairs: pl.DataFrame, key: str = "key", value: str = "value", by: str = "rec") -> pl.DataFrame:
    """Per ``by`` group, a JSON object text of ``key``→``value`` rows (order kept)."""
    if pairs.height == 0:
        return pl.DataFrame(schema={by: pairs.schema.get(by, pl.Int64), "data": pl.String})
    keys = pairs.get_column(key).unique().drop_nulls().to_list()
    key_json = pl.col(key).replace_strict({k: json.dumps(k, ensure_ascii=False) + ":" for k in keys},
                                          default='"":', return_dtype=pl.String)
    frag = pairs.select(
        pl.col(by),
        pl.concat_str([key_json, json_text(pl.col(value).fill_null(""))]).alias("frag"),
    )
    return frag.group_by(by, maintain_order=True).agg(
        pl.concat_str([pl.lit("{"), pl.col("frag").str.join(","), pl.lit("}")]).first().alias("data"))


def data_from_dict(values: dict[str, str | None]) -> str:
    return json.dumps({k: v for k, v in values.items() if v is not None}, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# culture-formatted dates


@dataclass
class Dates:
    """Parsed culture dates of one file: one datetime (or None) per input value."""

    values: list[dt.datetime | None]
    clock: dict = field(default_factory=dict)
    bad: list[int] = field(default_factory=list)  # indexes of non-null values that did not parse


def _date_grammar() -> LineGrammar:
    return load("windows_eventviewer_table")


def _hour24(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    pm = ampm.strip().lower().replace(".", "") in ("pm", "午後", "오후", "下午")
    if hour == 12:
        return 12 if pm else 0
    return hour + 12 if pm else hour


def _year(text: str) -> int:
    y = int(text)
    return y + 2000 if len(text) == 2 else y


def _mk(y: int, mo: int, d: int, h: int, mi: int, s: int, frac: str | None) -> dt.datetime | None:
    try:
        us = int((frac or "0").ljust(6, "0")[:6])
        return dt.datetime(y, mo, d, h, mi, s, us)
    except ValueError:
        return None


def _breaks(seq: list[dt.datetime | None]) -> int:
    """Adjacent pairs that break the better of ascending / descending order."""
    vals = [v for v in seq if v is not None]
    up = sum(1 for a, b in zip(vals, vals[1:]) if b < a)
    down = sum(1 for a, b in zip(vals, vals[1:]) if b > a)
    return min(up, down)


def resolve_dates(raw: list[str | None], lines: list[int | None] | None = None) -> Dates:
    """Parse culture-formatted local date/times, deciding day/month order for the file.

    Year-first values (``2025/01/07 17:53:27``) are unambiguous. For ``a/b/yyyy`` the
    order is decided over all values of the file: a number above 12 in the first
    place means day-month, in the second place month-day; when no value decides,
    the order that keeps the records monotonic (exports are newest- or oldest-first)
    wins; when both are equally monotonic, the separator's usual culture decides
    (``/`` month-day as en-US, ``.`` and ``-`` day-month). The decision and its
    basis go to the report's clock section.
    """
    lines = lines or [None] * len(raw)
    cleaned = [(v.strip() if isinstance(v, str) else None) for v in raw]
    ex = _date_grammar().extract(pl.Series("v", cleaned, dtype=pl.String)).to_dicts()
    out, bad, amb = _year_first(ex, cleaned)
    clock: dict = {}
    if amb:
        order, basis = _day_month_order(ex, cleaned, lines, amb)
        for i, v in zip(amb, _day_month_values(ex, amb, order)):
            out[i] = v
            if v is None:
                bad.append(i)
        clock["date_order"] = order
        clock["date_order_basis"] = basis
    elif any(v is not None for v in out):
        clock["date_order"] = "ymd"
    bad.sort()
    return Dates(out, clock, bad)


def _year_first(ex: list[dict], cleaned: list[str | None]) -> tuple[list[dt.datetime | None], list[int], list[int]]:
    """The year-first values parsed; the indexes of values that are not dates (or not valid
    ones), and of the ``a/b/yyyy`` values left for the file's day/month decision."""
    out: list[dt.datetime | None] = [None] * len(cleaned)
    bad: list[int] = []
    amb: list[int] = []
    for i, row in enumerate(ex):
        if cleaned[i] is None or cleaned[i] == "":
            continue
        shape = row["shape"]
        if shape == "datetime_ymd":
            h = _hour24(int(row["hour"]), row["ampm"] or row["ampm_before"])
            out[i] = _mk(int(row["year4"]), int(row["month"]), int(row["day"]), h, int(row["minute"]),
                         int(row["second_of_minute"]), row["fraction"])
            if out[i] is None:
                bad.append(i)
        elif shape == "datetime_xy":
            amb.append(i)
        else:
            bad.append(i)
    return out, bad, amb


def _day_month_values(ex: list[dict], amb: list[int], order: str) -> list[dt.datetime | None]:
    """The ``a/b/yyyy`` values at ``amb`` read in ``order`` ("dmy" or "mdy"); None where invalid."""
    res = []
    for i in amb:
        r = ex[i]
        a, b = int(r["first"]), int(r["second"])
        d, m = (a, b) if order == "dmy" else (b, a)
        h = _hour24(int(r["hour"]), r["ampm"] or r["ampm_before"])
        res.append(_mk(_year(r["year"]), m, d, h, int(r["minute"]), int(r["second_of_minute"]), r["fraction"]))
    return res


def _day_month_order(ex: list[dict], cleaned: list[str | None], lines: list, amb: list[int]) -> tuple[str, str]:
    """The file's order of day and month ("dmy" or "mdy") and its basis (see resolve_dates)."""
    firsts = [int(ex[i]["first"]) for i in amb]
    seconds = [int(ex[i]["second"]) for i in amb]
    seps = {cleaned[i][len(ex[i]["first"])] for i in amb}
    usual = "dmy" if seps & {".", "-"} else "mdy"
    big_first = next((k for k, a in enumerate(firsts) if a > 12), None)
    big_second = next((k for k, b in enumerate(seconds) if b > 12), None)
    if big_first is not None and big_second is None:
        return "dmy", f"a first number above 12 ({cleaned[amb[big_first]]!r}, line {lines[amb[big_first]]})"
    if big_second is not None and big_first is None:
        return "mdy", f"a second number above 12 ({cleaned[amb[big_second]]!r}, line {lines[amb[big_second]]})"
    dmy, mdy = _day_month_values(ex, amb, "dmy"), _day_month_values(ex, amb, "mdy")
    if big_first is not None and big_second is not None:
        ok_d = sum(v is not None for v in dmy)
        ok_m = sum(v is not None for v in mdy)
        return ("dmy" if ok_d >= ok_m else "mdy"), ("conflicting values above 12 in both places; "
                                                    "chose the order that reads more rows")
    if all(a == b for a, b in zip(firsts, seconds)):
        return usual, "day equals month in every row (order does not matter)"
    bd, bm = _breaks(dmy), _breaks(mdy)
    if bd != bm:
        return ("dmy" if bd < bm else "mdy"), f"record order: day-month leaves {bd} out-of-order rows, month-day {bm}"
    return usual, f"undecided by values and record order; usual order for separator {'/'.join(sorted(seps))!r}"


def iso_local(text: pl.Expr) -> pl.Expr:
    """wevtutil's ISO-8601 date (``2024-03-21T11:57:37.555`` or ``…5630000Z``) as a naive datetime."""
    core = text.str.strip_chars().str.strip_suffix("Z").str.strip_suffix("z")
    return core.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
