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
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

import polars as pl

from ..grammars import LineGrammar, load


def cells(text: str) -> int:
    """Console cells ``text`` takes: East Asian wide and full-width characters take two, and
    PowerShell wraps by cells, not characters."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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


#: Decides the day/month order from outside the dates themselves (e.g. each record's UTC time
#: beside its local one): given every value read day-first and month-first (one per input
#: value, None where it is not a date), the chosen order and how it was decided (``{"code",
#: "params"}``), or None to leave it to the file's own dates.
Judge = Callable[[dict[str, list[dt.datetime | None]]], "tuple[str, dict] | None"]


def resolve_dates(raw: list[str | None], lines: list[int | None] | None = None, judge: Judge | None = None) -> Dates:
    """Parse culture-formatted local date/times, deciding day/month order for the file.

    Year-first values (``2025/01/07 17:53:27``) are unambiguous. For ``a/b/yyyy`` the
    order is decided over all values of the file: ``judge`` first when given; then a
    number above 12 in the first place means day-month, in the second place
    month-day; when no value decides, the order that keeps the records monotonic
    (exports are newest- or oldest-first) wins; when both are equally monotonic, the
    separator's usual culture decides (``/`` month-day as en-US, ``.`` and ``-``
    day-month). The decision goes to the report's clock section as ``date_order`` and,
    for a day/month file, ``date_order_how``: a code and its parameters (the value
    and line that decided, how many rows each order leaves out of order, ...), which
    the reports word (``[date_order]`` in report/messages).
    """
    lines = lines or [None] * len(raw)
    cleaned = [(v.strip() if isinstance(v, str) else None) for v in raw]
    ex = _date_grammar().extract(pl.Series("v", cleaned, dtype=pl.String)).to_dicts()
    out, bad, amb = _year_first(ex, cleaned)
    clock: dict = {}
    if amb:
        both = {o: _day_month_values(ex, amb, o) for o in ("dmy", "mdy")}
        decided = judge({o: _placed(out, amb, both[o]) for o in both}) if judge else None
        order, how = decided or _day_month_order(ex, cleaned, lines, amb, both)
        for i, v in zip(amb, both[order]):
            out[i] = v
            if v is None:
                bad.append(i)
        clock["date_order"] = order
        clock["date_order_how"] = how
    elif any(v is not None for v in out):
        clock["date_order"] = "ymd"
    bad.sort()
    return Dates(out, clock, bad)


def _placed(out: list, amb: list[int], values: list) -> list:
    """``out`` with ``values`` put at the indexes ``amb``."""
    full = list(out)
    for i, v in zip(amb, values):
        full[i] = v
    return full


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


_FIRST_SEP = re.compile(r"[0-9]([^0-9])")


def _how(code: str, **params) -> dict:
    return {"code": code, "params": params}


def _day_month_order(ex: list[dict], cleaned: list[str | None], lines: list, amb: list[int],
                     both: dict[str, list]) -> tuple[str, dict]:
    """The file's order of day and month ("dmy" or "mdy") and how it was decided (see resolve_dates)."""
    firsts = [int(ex[i]["first"]) for i in amb]
    seconds = [int(ex[i]["second"]) for i in amb]
    seps = {m.group(1) for i in amb if (m := _FIRST_SEP.search(cleaned[i] or ""))}
    usual = "dmy" if seps & {".", "-"} else "mdy"
    big_first = next((k for k, a in enumerate(firsts) if a > 12), None)
    big_second = next((k for k, b in enumerate(seconds) if b > 12), None)
    if big_first is not None and big_second is None:
        return "dmy", _how("value_above_12", value=cleaned[amb[big_first]], line=lines[amb[big_first]])
    if big_second is not None and big_first is None:
        return "mdy", _how("value_above_12", value=cleaned[amb[big_second]], line=lines[amb[big_second]])
    if big_first is not None and big_second is not None:
        ok_d = sum(v is not None for v in both["dmy"])
        ok_m = sum(v is not None for v in both["mdy"])
        order = "dmy" if ok_d >= ok_m else "mdy"
        return order, _how("values_above_12_conflict", read=max(ok_d, ok_m), other=min(ok_d, ok_m))
    if all(a == b for a, b in zip(firsts, seconds)):
        return usual, _how("day_equals_month")
    bd, bm = _breaks(both["dmy"]), _breaks(both["mdy"])
    if bd != bm:
        return ("dmy" if bd < bm else "mdy"), _how("record_order", dmy_breaks=bd, mdy_breaks=bm)
    return usual, _how("separator_default", separator="/".join(sorted(seps)))


def iso_local(text: pl.Expr) -> pl.Expr:
    """wevtutil's ISO-8601 date (``2024-03-21T11:57:37.555`` or ``…5630000Z``) as a naive datetime."""
    core = text.str.strip_chars().str.strip_suffix("Z").str.strip_suffix("z")
    return core.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
