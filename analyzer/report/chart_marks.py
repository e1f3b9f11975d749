"""What one attempt's HTML chart draws, folded from the rows of its window a piece at a time.

Why: the chart merges a lane's rows that lie within :data:`GAP_PX` of each other into one marker
(:func:`clusters`) and draws at most one phase segment per pixel (:func:`phase_rows`), so what it
draws is a chart's worth whatever the rows. A 14M-line attempt's window read whole to draw it held
5.3 GB. Rows that fall in the same pixel of a lane and style always chain (they are less than a
pixel apart), so :class:`ChartFold` keeps of each such pixel only its count, first and last times,
whether a row is cited and its first :data:`TOOLTIP_ROWS` rows, and of the phase rows the first of
each pixel once they outnumber the pixels: the chaining then runs on pixels, with the same result
as on the rows (``tests/test_html_chart.py`` checks it against the row-by-row chaining, and pieces
against the whole). The axis (:class:`Scale`) is the attempt's span and its rows', known before the
marks are folded (:class:`analyzer.report.shown_rows.FirstRows`).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import polars as pl

from ..correlate import TIME_ORDER, window_rows
from ..frames import compact
from .html_assets import BAD_KINDS, LANE_OF, PHASE_KINDS
from .marks import has_key, paired_events, with_counted
from .shown_rows import in_window_order

WIDTH, GUTTER, RIGHT = 1100, 150, 24
#: Rows of a lane and style closer than this (pixels) are one marker.
GAP_PX = 8
#: The chart's width for the time axis, in pixels: no more phase segments than this are drawn.
PLOT_PX = WIDTH - GUTTER - RIGHT
#: Rows a cluster's tooltip lists (the rest are counted).
TOOLTIP_ROWS = 5
_GROUP = ["_lane", "_style", "_px"]
_TIPS = [*TIME_ORDER, "kind", "message", "expected"]
_PHASES = [*TIME_ORDER, "kind", "subject", "message", "_px"]


class Scale:
    """The chart's time axis: the attempt's span and its rows' (``first``, ``last``), padded, onto pixels."""

    def __init__(self, first: dt.datetime | None, last: dt.datetime | None, start: dt.datetime, end: dt.datetime):
        times = [t for t in (first, last) if t is not None]
        t0, t1 = min([*times, start, end]), max([*times, start, end])
        span = max((t1 - t0).total_seconds(), 1.0)
        pad = span * 0.02
        self.t0, self.span = t0 - dt.timedelta(seconds=pad), span + 2 * pad

    @classmethod
    def of_rows(cls, rows: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> Scale:
        """The axis of ``rows`` (all of a window's rows at once)."""
        times = rows.get_column("ts_utc")
        return cls(times.min(), times.max(), start, end)

    def x(self, ts: dt.datetime) -> float:
        return GUTTER + (ts - self.t0).total_seconds() / self.span * (WIDTH - GUTTER - RIGHT)

    def x_expr(self, ts: pl.Expr) -> pl.Expr:
        """:meth:`x` of a column of times."""
        seconds = (ts - pl.lit(self.t0)).dt.total_microseconds() / 1_000_000
        return GUTTER + seconds / self.span * (WIDTH - GUTTER - RIGHT)


def chart_end(attempt: dict) -> dt.datetime:
    """Where an attempt's chart ends: its failure, else its last row, else its start."""
    return attempt.get("failed_at") or attempt["ended_at"] or attempt["started_at"]


def axis(attempt: dict, first: dt.datetime | None, last: dt.datetime | None) -> Scale:
    """The axis of ``attempt``'s chart, whose rows lie between ``first`` and ``last``."""
    return Scale(first, last, attempt["started_at"], chart_end(attempt))


def style() -> pl.Expr:
    """Marker style class of each row: a fixed set, so no event text ever reaches an attribute."""
    kind, expected = pl.col("kind"), pl.col("expected")
    return (pl.when(kind == "result").then(pl.when(pl.col("error_code").fill_null(0) != 0).then(pl.lit("fail"))
                                           .otherwise(pl.lit("done")))
            .when(kind.is_in(["device_connect", "device_disconnect"]) & expected.eq_missing(True))
            .then(pl.lit("transition"))
            # only what the diagnosis calls unexpected; a removal nothing paired stays neutral
            .when((kind == "device_disconnect") & expected.eq_missing(False)).then(pl.lit("drop"))
            .when(kind.is_in(sorted(BAD_KINDS))).then(pl.lit("bad"))
            .otherwise(pl.lit("ok")))


class Marks(NamedTuple):
    """A chart's marks before chaining: ``groups``, one row per lane, style and pixel (n, first, last,
    cited); ``tips``, each group's first TOOLTIP_ROWS rows; ``phases``, the phase rows the band draws
    (every one, or the first of each pixel once they outnumber the pixels); ``phase_total``, how many
    phase rows there are."""

    groups: pl.DataFrame
    tips: pl.DataFrame
    phases: pl.DataFrame
    phase_total: int


def _first_of_each(frame: pl.DataFrame, by: list[str], n: int) -> pl.DataFrame:
    """The first ``n`` rows of each ``by`` group of ``frame`` (in window order)."""
    return in_window_order(frame).filter(pl.int_range(pl.len()).over(by) < n)


class ChartFold:
    """The marks of one attempt's chart on ``scale``, from its rows given in pieces of any split
    (:meth:`add`). Rows are those of the attempt's window (:func:`window_rows`) with a time and a
    lane, their arrivals and removals paired with ``side`` (:func:`analyzer.correlate.transition_side`)
    and marked as the verdict ``counted`` them, ``cited`` the (file, line, record) of its evidence."""

    def __init__(self, attempt: dict, scale: Scale, cited: set[tuple] = frozenset(), counted: set[tuple] = frozenset(),
                 side: pl.DataFrame | None = None):
        self.scale = scale
        self._attempt, self._cited, self._counted, self._side = attempt, cited, counted, side
        self._groups: pl.DataFrame | None = None
        self._tips: pl.DataFrame | None = None
        self._phases: pl.DataFrame | None = None
        self._phase_total = 0

    def add(self, piece: pl.DataFrame) -> None:
        """Fold in one piece of rows (of any PCs and attempts; pieces in any order)."""
        rows = window_rows(piece, self._attempt).with_columns(pl.col("kind").cast(pl.String))
        rows = rows.filter(pl.col("ts_utc").is_not_null() & pl.col("kind").is_in(list(LANE_OF)))
        if rows.height:
            self.add_rows(with_counted(paired_events(rows, self._side), self._counted))

    def add_rows(self, rows: pl.DataFrame) -> None:
        """Fold in rows of the window that are drawn (with a time and a lane, ``kind`` as text,
        arrivals and removals paired)."""
        if not rows.height:
            return
        pixel = self.scale.x_expr(pl.col("ts_utc")).floor().cast(pl.Int64)
        marked = has_key(rows, self._cited, "_cited").with_columns(
            pl.col("kind").replace_strict(LANE_OF, default=None, return_dtype=pl.String).alias("_lane"),
            style().alias("_style"), pixel.alias("_px"))
        groups = marked.group_by(_GROUP).agg(pl.len().alias("n"), pl.col("ts_utc").min().alias("first"),
                                             pl.col("ts_utc").max().alias("last"), pl.col("_cited").any().alias("cited"))
        self._groups = groups if self._groups is None else pl.concat([self._groups, groups]).group_by(_GROUP).agg(
            pl.col("n").sum(), pl.col("first").min(), pl.col("last").max(), pl.col("cited").any())
        # (compact: what is kept of a text column still points into the texts of every row of the piece)
        tips = marked.select(*_GROUP, *_TIPS)
        self._tips = compact(_first_of_each(tips if self._tips is None else pl.concat([self._tips, tips]), _GROUP,
                                            TOOLTIP_ROWS))
        phases = marked.filter(pl.col("kind").is_in(list(PHASE_KINDS)) & pl.col("attempt").is_not_null()).select(_PHASES)
        self._phase_total += phases.height
        phases = in_window_order(phases if self._phases is None else pl.concat([self._phases, phases]))
        # beyond one per pixel only the first of each pixel can be seen (pixels grow with time)
        self._phases = compact(phases.filter(pl.col("_px").is_first_distinct()) if self._phase_total > PLOT_PX else phases)

    def marks(self) -> Marks:
        groups = self._groups if self._groups is not None else pl.DataFrame(
            schema={"_lane": pl.String, "_style": pl.String, "_px": pl.Int64, "n": pl.UInt32,
                    "first": pl.Datetime("us", "UTC"), "last": pl.Datetime("us", "UTC"), "cited": pl.Boolean})
        phases = self._phases if self._phases is not None else pl.DataFrame(
            schema={"ts_utc": pl.Datetime("us", "UTC"), "kind": pl.String, "subject": pl.String, "message": pl.String})
        return Marks(groups, self._tips, phases, self._phase_total)


def marks_of(rows: pl.DataFrame, scale: Scale, cited: set[tuple] = frozenset()) -> Marks:
    """The marks of a window's rows given at once (in window order, their arrivals and removals
    already paired)."""
    fold = ChartFold({}, scale, cited)
    fold.add_rows(rows.filter(pl.col("ts_utc").is_not_null()).with_columns(pl.col("kind").cast(pl.String))
                  .filter(pl.col("kind").is_in(list(LANE_OF))))
    return fold.marks()


def clusters(marks: Marks, scale: Scale) -> list[dict]:
    """Chain a lane's marks of one style that lie within GAP_PX of each other into one cluster:
    each a dict of lane, style, n (rows), first and last time, cited, and the first TOOLTIP_ROWS
    rows' times, kinds, messages and ``expected``. Lanes and styles in the order they first appear,
    each in time order; faults last, so they are drawn on top."""
    if not marks.groups.height:
        return []
    lanes = (in_window_order(marks.tips).select("_lane", "_style").unique(maintain_order=True)
             .with_row_index("_order"))
    groups = marks.groups.join(lanes, on=["_lane", "_style"]).sort("_order", "_px")
    gap = scale.x_expr(pl.col("first")) - scale.x_expr(pl.col("last")).shift(1).over("_order")
    groups = groups.with_columns(gap.is_null().or_(gap > GAP_PX).cum_sum().alias("_cluster"))
    tips = (_first_of_each(marks.tips.join(groups.select(*_GROUP, "_cluster"), on=_GROUP), ["_cluster"], TOOLTIP_ROWS)
            .group_by("_cluster").agg(*(pl.col(c) for c in ("ts_utc", "kind", "message", "expected"))))
    out = (groups.group_by("_cluster", maintain_order=True)
           .agg(pl.col("_lane").first().alias("lane"), pl.col("_style").first().alias("style"), pl.col("n").sum(),
                pl.col("first").first(), pl.col("last").last(), pl.col("cited").any())
           .join(tips, on="_cluster", maintain_order="left").drop("_cluster").to_dicts())
    out.sort(key=lambda c: c["style"] in ("fail", "drop"))  # faults drawn last, on top
    return out


def phase_rows(marks: Marks) -> tuple[list[dict], int]:
    """The phase/state rows that open a segment of the band, and how many there are in all. Beyond
    one per pixel (a bench log's attempt holds tens of thousands), only the first of each pixel: the
    others could not be seen (the chart says so, :func:`analyzer.report.html_svg.band_note`)."""
    return marks.phases.select("ts_utc", "kind", "subject", "message").to_dicts(), marks.phase_total
