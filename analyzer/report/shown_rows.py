"""What a timeline shows of each attempt, folded from the rows around it a piece at a time.

Why: a timeline shows an attempt's first rows (the terminal 60, the HTML table 400) and counts the
rest, but a bench attempt's window holds a million rows, and a 1 GB log of one attempt fourteen
million. Reading them all to keep so few held 1.2 GB (``--details``) and 5.3 GB (``--html``). The
rows come instead as pieces (:meth:`analyzer.api.Analysis.timeline_pieces`: the one table, or a
file of a PC's rows at a time), and :class:`FirstRows` keeps per attempt only what is shown: its
first rows in time order, their count, its progress subjects, the span of its rows and the restore
log's own arrivals and removals that pair the PC's (:func:`analyzer.correlate.transition_side`).
Each fold gives the same result whatever the pieces, so a PC read in parts shows what it shows read
whole (``tests/test_parts.py``, ``tests/test_shown_rows.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

import polars as pl

from ..correlate import SIDE_SCHEMA, TIME_ORDER, transition_side, window_rows
from ..frames import compact
from ..model import conform
from .marks import paired_events


def in_window_order(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in :data:`TIME_ORDER`, rows that tie kept in the order given."""
    return frame.sort(TIME_ORDER, nulls_last=True, maintain_order=True)


def host_runs(frame: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """``frame``'s rows by PC: a slice for each run of one PC's rows (the run's order puts a PC's rows
    together), so that an attempt's window is looked for among its PC's rows only (a fleet of 500 PCs
    read whole: 500 scans of every PC's rows)."""
    runs = frame.select(pl.col("host").rle()).unnest("host")
    start = 0
    for host, n in zip(runs.get_column("value").to_list(), runs.get_column("len").to_list()):
        yield host, frame.slice(start, n)
        start += n


def attempt_key(attempt: dict) -> tuple:
    return attempt["host"], attempt["file"], attempt["attempt"]


class Shown(NamedTuple):
    """What one attempt's timeline shows: ``rows``, its first rows of the kinds shown in time
    order (the PC's arrivals and removals paired); ``count``, how many its window holds;
    ``subjects``, its progress subjects in the order they first came; ``first`` and ``last``, the
    times of its earliest and latest rows of the kinds shown or progress (None without a time)."""

    rows: pl.DataFrame
    count: int
    subjects: list[str]
    first: dt.datetime | None
    last: dt.datetime | None


class _Kept:
    """One attempt's fold so far."""

    def __init__(self) -> None:
        self.rows: pl.DataFrame | None = None
        self.progress: pl.DataFrame | None = None
        self.count = 0
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None


def _joined(kept: pl.DataFrame | None, more: pl.DataFrame) -> pl.DataFrame:
    """The rows kept so far and a piece's, in window order (the kept first, which came first)."""
    return in_window_order(more if kept is None else pl.concat([kept, more], how="vertical"))



class FirstRows:
    """Per attempt of ``attempts`` (dicts with host, file, attempt and the evidence window), the
    first ``n`` rows of its window (own rows and the PC's nearby, :func:`window_rows`) where
    ``shown`` holds, and the rest of :class:`Shown`, from pieces of rows given in any split
    (:meth:`add`); each piece is read for every attempt at once."""

    def __init__(self, attempts: list[dict], shown: pl.Expr, n: int):
        self._of_host: dict[str, list[dict]] = {}
        for attempt in attempts:
            self._of_host.setdefault(attempt["host"], []).append(attempt)
        self._shown = shown
        self._n = n
        self._kept = {attempt_key(a): _Kept() for a in attempts}
        self._sides: list[pl.DataFrame] = []
        self._side: pl.DataFrame | None = None
        self._empty = conform(None)  # (the pieces' columns once one came: what an attempt without rows shows)

    def add(self, piece: pl.DataFrame) -> None:
        """Fold in one piece of rows (of any PCs; pieces in any order)."""
        self._sides.append(transition_side(piece))
        self._side = None
        self._empty = piece.clear()
        kind = pl.col("kind").cast(pl.String)
        for host, rows_of_host in host_runs(piece):
            for attempt in self._of_host.get(host, ()):
                self._add_window(attempt, window_rows(rows_of_host, attempt), kind)

    def _add_window(self, attempt: dict, window: pl.DataFrame, kind: pl.Expr) -> None:
        """Fold in rows of ``attempt``'s window (in time order)."""
        if not window.height:
            return
        kept = self._kept[attempt_key(attempt)]
        rows = window.filter(self._shown)
        kept.count += rows.height
        if rows.height:  # (compact: a text column sorted or cut still points into the whole piece's texts)
            kept.rows = compact(_joined(kept.rows, rows.head(self._n)).head(self._n))
        progress = window.filter((kind == "progress") & pl.col("attempt").is_not_null() & pl.col("subject").is_not_null())
        if progress.height:
            firsts = progress.unique("subject", keep="first", maintain_order=True)
            kept.progress = compact(_joined(kept.progress, firsts).unique("subject", keep="first", maintain_order=True))
        times = window.filter((self._shown | (kind == "progress")) & pl.col("ts_utc").is_not_null()).get_column("ts_utc")
        if times.len():
            lo, hi = times.min(), times.max()
            kept.first = lo if kept.first is None else min(kept.first, lo)
            kept.last = hi if kept.last is None else max(kept.last, hi)

    @property
    def side(self) -> pl.DataFrame:
        """The restore log's arrivals and removals of every piece read: what pairs the PC's."""
        if self._side is None:
            self._side = pl.concat(self._sides, how="vertical").sort("host", "pair_kind", "t") if self._sides else (
                pl.DataFrame(schema=SIDE_SCHEMA))
            self._sides = [self._side]
        return self._side

    def of(self, attempt: dict) -> Shown:
        """What ``attempt``'s timeline shows."""
        kept = self._kept[attempt_key(attempt)]
        rows = paired_events(kept.rows, self.side) if kept.rows is not None else self._empty
        subjects = [] if kept.progress is None else kept.progress.get_column("subject").to_list()
        return Shown(rows, kept.count, subjects, kept.first, kept.last)


def fold(pieces, attempts: list[dict], shown: pl.Expr, n: int) -> FirstRows:
    """:class:`FirstRows` of ``attempts`` with every piece of ``pieces`` added."""
    rows = FirstRows(attempts, shown, n)
    for piece in pieces:
        rows.add(piece)
    return rows
