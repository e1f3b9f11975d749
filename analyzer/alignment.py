"""Lining one file's events up with another's: the evidence the clock stage learns zones and days from.

Several sources record the same instant (the iPhone arriving or leaving, a driver install, a service
crash seen in evtx and in a text export). Pairing such anchor events of a local-time file with those of
a UTC file of the same PC measures the local file's offset (:func:`infer_offset`), the day of a log that
gives times of day only (:func:`infer_day`), and how far two files' clocks sit apart (:func:`skew`).
A single coincidence is never evidence: two matched events and no tie are needed.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .kinds import kinds_where

#: The day a source gives the rows of a log that has times of day only (``report.clock["date_unknown"]``).
SENTINEL_DAY = dt.datetime(1900, 1, 1)

#: Kinds that several sources record at the same instant (the iPhone arriving or leaving, a driver
#: install, a service crash seen in evtx and in a text export, ...). Only events of the same kind are paired.
ANCHOR_KINDS = kinds_where(anchor=True)
ANCHOR_TOLERANCE_S = 10
CANDIDATE_STEPS = range(-14 * 4, 14 * 4 + 1)  # quarter hours from UTC-14 to UTC+14


def anchors(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("kind").cast(pl.String).is_in(list(ANCHOR_KINDS)) & pl.col("ts_wall").is_not_null())


#: Rows (anchors × candidate offsets) one query of :func:`infer_offset` pairs at the most.
OFFSET_QUERY_ROWS = 1_000_000


def infer_offset(local: pl.DataFrame, reference: pl.DataFrame) -> tuple[dt.timedelta, int] | None:
    """The whole-quarter-hour offset that lines up ``local`` wall times with ``reference`` UTC times.

    ``local``/``reference`` are anchor rows; only rows of the same kind are paired.
    Returns (offset, matches) for the best candidate, or None when no candidate matches at
    least two events or the best is not unique — a single coincidence is not evidence. Every
    candidate's shifted anchors are paired in one query (as many candidates as keep it under
    OFFSET_QUERY_ROWS rows): a query per candidate, 113 of them, cost a fleet 60 ms a PC.
    """
    if local.height == 0 or reference.height == 0:
        return None
    ref = (reference.select(pl.col("kind").cast(pl.String), pl.col("ts_utc").dt.replace_time_zone(None).alias("t"))
           .drop_nulls().sort("kind", "t").with_columns(pl.col("t").alias("ref_t")))
    loc = local.select(pl.col("kind").cast(pl.String), pl.col("ts_wall").alias("wall")).drop_nulls()
    steps = list(CANDIDATE_STEPS)
    per_query = max(1, OFFSET_QUERY_ROWS // max(loc.height, 1))
    counts = []
    for at in range(0, len(steps), per_query):
        shifted = (loc.join(pl.DataFrame({"step": steps[at:at + per_query]}, schema={"step": pl.Int64}), how="cross")
                   .with_columns((pl.col("wall") - pl.duration(minutes=15 * pl.col("step"))).alias("t"))
                   .sort("kind", "t"))
        joined = shifted.join_asof(ref, on="t", by="kind", strategy="nearest", tolerance=f"{ANCHOR_TOLERANCE_S}s",
                                   check_sortedness=False)
        counts.append(joined.group_by("step").agg(pl.col("ref_t").is_not_null().sum().alias("n")))
    scores = sorted(pl.concat(counts).select("n", "step").iter_rows(), reverse=True)
    best, step = scores[0]
    if best < 2 or (len(scores) > 1 and scores[1][0] == best):
        return None
    return dt.timedelta(minutes=15 * step), best


def infer_day(local: pl.DataFrame, reference: pl.DataFrame) -> tuple[dt.date, dt.timedelta, int] | None:
    """For a log with times of day only (its anchors' wall times on SENTINEL_DAY): the day and the
    whole-quarter-hour offset that line its anchor events up with ``reference`` UTC events.

    Every pair of same-kind events votes for the shift between them, rounded to a quarter hour (a
    residual of at most ANCHOR_TOLERANCE_S); a shift of whole days minus an offset within ±12 h gives
    the day and the zone. The best shift needs two matched events and no tie, as in infer_offset.
    """
    if local.height == 0 or reference.height == 0:
        return None
    loc = local.select(pl.col("kind").cast(pl.String), pl.col("ts_wall").alias("wall")).drop_nulls().with_row_index("i")
    ref = reference.select(pl.col("kind").cast(pl.String), pl.col("ts_utc").dt.replace_time_zone(None).alias("t")).drop_nulls()
    pairs = loc.join(ref, on="kind").with_columns(((pl.col("t") - pl.col("wall")).dt.total_milliseconds() / 1000)
                                                  .alias("delta"))
    pairs = pairs.with_columns((pl.col("delta") / 900).round().cast(pl.Int64).alias("q"))
    pairs = pairs.filter((pl.col("delta") - pl.col("q") * 900).abs() <= ANCHOR_TOLERANCE_S)
    votes = pairs.group_by("q").agg(pl.col("i").n_unique().alias("n")).sort("n", "q", descending=[True, False])
    if votes.height == 0 or votes.item(0, "n") < 2 or (votes.height > 1 and votes.item(1, "n") == votes.item(0, "n")):
        return None
    shift = dt.timedelta(seconds=int(votes.item(0, "q")) * 900)
    offset = -(shift % dt.timedelta(days=1))  # the zone offset, so that shift = days - offset
    if offset < -dt.timedelta(hours=12):
        offset += dt.timedelta(days=1)
    day = (SENTINEL_DAY + shift + offset).date()
    return day, offset, int(votes.item(0, "n"))


def skews(anchors: pl.DataFrame, references: dict[str, pl.DataFrame]) -> dict[str, float]:
    """Median seconds by which one file's anchor events trail each of ``references`` (name -> anchor
    rows, after conversion; each event paired with the nearest of its kind within
    ANCHOR_TOLERANCE_S), in one query: a PC of many logs asked it of every pair one query at a time
    (85 logs: 3,400 small queries, 3.4 s more). Names with nothing paired are left out."""
    a = anchors.select(pl.col("kind").cast(pl.String), pl.col("ts_utc").alias("t")).drop_nulls()
    parts = [ref.select(pl.lit(name).alias("_ref"), pl.col("kind").cast(pl.String), pl.col("ts_utc").alias("t"))
             for name, ref in references.items() if ref.height]
    if a.height == 0 or not parts:
        return {}
    b = pl.concat(parts).drop_nulls().with_columns(pl.col("t").alias("ref_t")).sort("_ref", "kind", "t")
    left = a.join(b.select("_ref").unique(), how="cross").sort("_ref", "kind", "t")
    joined = left.join_asof(b, on="t", by=["_ref", "kind"], strategy="nearest", tolerance=f"{ANCHOR_TOLERANCE_S}s",
                            check_sortedness=False).drop_nulls("ref_t")
    medians = joined.group_by("_ref").agg(((pl.col("t") - pl.col("ref_t")).dt.total_milliseconds() / 1000).median())
    found = {name: round(float(value), 3) for name, value in medians.iter_rows()}
    return {name: found[name] for name in references if name in found}
