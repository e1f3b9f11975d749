"""Frame operations without the query engine's fixed cost, for the many small frames of a PC.

Why: ``DataFrame.filter`` runs a query, and on the machines we measure (2 cores) a filter costs
about 0.25-0.35 ms whatever the rows, while the same rows taken column by column with
``Series.filter`` cost a few µs a column. A PC of a fleet (a restore log of a hundred lines and
an event export) goes through a few hundred filters, so this fixed cost was a large share of
its whole analysis. On big frames the engine is the better choice (it filters the columns in
parallel), so the column-by-column path is taken below :data:`SMALL_ROWS` rows only; both give
the same rows in the same order.
"""

from __future__ import annotations

import polars as pl

#: Frames of at most this many rows are filtered a column at a time (see the module docstring).
SMALL_ROWS = 20_000


def rows_where(frame: pl.DataFrame, predicate: pl.Expr | pl.Series) -> pl.DataFrame:
    """``frame.filter(predicate)``: the rows where ``predicate`` is true (null counts as false)."""
    if frame.height > SMALL_ROWS or frame.width == 0:
        return frame.filter(predicate)
    mask = predicate if isinstance(predicate, pl.Series) else frame.select(predicate).to_series()
    if mask.len() != frame.height or mask.dtype != pl.Boolean:  # a scalar predicate: the engine broadcasts it
        return frame.filter(predicate)
    return pl.DataFrame([column.filter(mask) for column in frame.get_columns()])


def row_mask(frame: pl.DataFrame, predicate: pl.Expr) -> pl.Series:
    """``predicate`` on every row of ``frame`` as a Boolean series (null counts as false), also
    when it is one value for every row (a predicate that reads no column)."""
    mask = frame.select(predicate.fill_null(False).alias("_m")).to_series()
    if mask.len() != frame.height:
        mask = pl.repeat(bool(mask[0]) if mask.len() else False, frame.height, eager=True)
    return mask


def in_order(frame: pl.DataFrame, keys: list[str]) -> bool:
    """Is every row at or before the next in the order of ``keys`` (nulls last)? Found by
    comparing each row with the next, a column at a time: a sort (what the order would be) encodes
    every key row first, which on a bench log costs more than the events' own text columns."""
    if frame.height < 2:
        return True
    after = pl.lit(True)
    for key in reversed(keys):
        this, nxt = pl.col(key), pl.col(key).shift(-1)
        before = (this < nxt).fill_null(False) | (this.is_not_null() & nxt.is_null())
        after = before | (this.eq_missing(nxt) & after)
    return bool(frame.select(after.head(frame.height - 1).all()).item())


def compact(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every column in buffers of its own. Why: what a filter or a slice keeps of a
    column may still point into the buffers of every row: a text column's views always (polars'
    string views), and any column where a filter keeps one run of rows (polars then slices rather
    than copies). So a few rows kept of each part of a big PC held every part: a PC of 540 event
    logs grew by 20 MB a part (their texts), a 14M-line restore log by 3.6 MB a part (the number
    and time columns of the one or two rows kept). Text is written anew (joined to nothing), the
    other columns gathered; a column of one value stays one value."""
    if frame.height == 0:
        return frame
    texts = {name for name, dtype in frame.schema.items() if dtype == pl.String}
    index = pl.int_range(pl.len(), dtype=pl.UInt32)
    return frame.with_columns(pl.concat_str(pl.col(name), pl.lit("")).alias(name) if name in texts
                              else pl.col(name).gather(index) for name in frame.columns)


def inside(times: pl.Series, spans: pl.DataFrame) -> pl.Series:
    """Whether each of the sorted ``times`` (nulls last) lies in one of ``spans`` (columns
    window_start, window_end), by binary search: a row is inside when more windows opened at or
    before it than closed before it. Cost ~ (rows + windows) · log(rows), whatever the overlaps."""
    dated = times.head(times.len() - times.null_count())  # (sorted with nulls last)
    lo = dated.search_sorted(spans.get_column("window_start"), side="left")
    hi = dated.search_sorted(spans.get_column("window_end"), side="right")
    marks = (pl.DataFrame({"at": pl.concat([lo, hi]), "step": [1] * spans.height + [-1] * spans.height})
             .group_by("at").agg(pl.col("step").sum()))
    steps = pl.zeros(times.len() + 1, dtype=pl.Int64, eager=True).scatter(marks.get_column("at"), marks.get_column("step"))
    return (steps.cum_sum() > 0).head(times.len()).alias("inside")
