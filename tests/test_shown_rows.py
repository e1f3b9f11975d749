"""A timeline's first rows, count, progress subjects and span, folded from pieces of rows in any
split and order, are those of the rows given at once (analyzer.report.shown_rows): what lets a PC
read in parts show what it shows read whole, holding only what it shows."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
from hypothesis import given, settings, strategies as st

from analyzer.correlate import window_rows
from analyzer.model import conform
from analyzer.pipeline import EVENT_ORDER
from analyzer.report.shown_rows import FirstRows, fold

T0 = dt.datetime(2026, 2, 3, 10, 0, tzinfo=dt.timezone.utc)
SHOWN = pl.col("kind").cast(pl.String).is_in(["phase", "usb_io_error", "device_disconnect", "device_connect", "result"])
ATTEMPTS = [
    {"host": "bench-7", "file": "restore.log", "attempt": 1, "window_start": T0 - dt.timedelta(seconds=600),
     "window_end": T0 + dt.timedelta(seconds=400)},
    {"host": "bench-7", "file": "restore.log", "attempt": 2, "window_start": T0 + dt.timedelta(seconds=100),
     "window_end": T0 + dt.timedelta(seconds=900)},
    # (another PC whose log has the same name: its rows are its own)
    {"host": "bench-8", "file": "restore.log", "attempt": 1, "window_start": T0 - dt.timedelta(seconds=600),
     "window_end": T0 + dt.timedelta(seconds=400)},
]


def _events(specs: list[tuple[int, str, int, bool]]) -> pl.DataFrame:
    """Rows of two attempts of one restore log (with their own connects and disconnects) and of the
    PC's event log around them (its arrivals and removals of the iPhone among them), and every third
    row another PC's, in the run's order."""
    rows = []
    for n, (second, kind, who, dated) in enumerate(specs, 1):
        own = who in (1, 2)
        rows.append({"host": "bench-8" if n % 3 == 0 else "bench-7", "file": "restore.log" if own else "System.evtx",
                     "line": n if own else None, "record": None if own else 9000 + n,
                     "ts_utc": T0 + dt.timedelta(seconds=second) if dated or not own else None,
                     "kind": kind, "attempt": who if own else None,
                     "expected": (second % 3 == 0) if own and kind in ("device_connect", "device_disconnect") else None,
                     "subject": f"operation {second % 4}" if kind == "progress" else None,
                     "usb_vid": None if own else "05AC", "message": f"row {n}"})
    return conform(rows).sort(EVENT_ORDER, nulls_last=True, maintain_order=True)


spec = st.tuples(st.integers(-700, 1000), st.sampled_from(["phase", "progress", "usb_io_error", "device_disconnect",
                                                           "device_connect", "result", "firewall_allow"]),
                 st.sampled_from([0, 1, 2]), st.booleans())


@settings(max_examples=120, deadline=None)
@given(st.lists(spec, min_size=1, max_size=70), st.lists(st.integers(0, 70), max_size=6), st.integers(1, 9),
       st.randoms(use_true_random=False))
def test_pieces_in_any_split_and_order_show_what_the_whole_shows(specs, cuts, n, rnd: random.Random):
    events = _events(specs)
    whole = fold([events], ATTEMPTS, SHOWN, n)
    bounds = sorted({0, events.height, *(c for c in cuts if c < events.height)})
    pieces = [events.slice(a, b - a) for a, b in zip(bounds, bounds[1:])]
    rnd.shuffle(pieces)
    parts = fold(pieces, ATTEMPTS, SHOWN, n)
    for attempt in ATTEMPTS:
        got, want = parts.of(attempt), whole.of(attempt)
        assert got.rows.equals(want.rows)
        assert (got.count, got.subjects, got.first, got.last) == (want.count, want.subjects, want.first, want.last)
        # and the whole is what the timeline showed before it was folded: the window's first rows
        window = window_rows(events, attempt)
        shown = window.filter(SHOWN)
        assert want.count == shown.height and want.rows.height == min(n, shown.height)
        assert want.rows.select("file", "line", "record").equals(shown.head(n).select("file", "line", "record"))
        subjects = window.filter((pl.col("kind") == "progress") & pl.col("attempt").is_not_null()).get_column("subject")
        assert want.subjects == subjects.drop_nulls().unique(maintain_order=True).to_list()


def test_the_pc_side_removals_kept_are_paired_with_the_restore_logs_in_other_pieces():
    """A removal of the iPhone on the PC is a planned transition when the restore log disconnects
    within 15 s, even when that disconnect is in another piece (and is not among the rows shown)."""
    events = _events([(5, "device_disconnect", 1, True)] + [(6 + k, "phase", 1, True) for k in range(10)]
                     + [(12, "device_disconnect", 0, True), (300, "device_disconnect", 0, True)]).with_columns(
        host=pl.lit("bench-7"))
    assert events.filter(pl.col("attempt").is_not_null() & (pl.col("kind") == "device_disconnect")
                         ).get_column("expected").to_list() == [False]
    restore_side, rest = events.head(1), events.slice(1)
    rows = FirstRows(ATTEMPTS[:1], pl.col("file") == "System.evtx", 5)
    rows.add(rest)
    rows.add(restore_side)
    # the one at 12 s pairs with the restore log's unexpected disconnect at 5 s; the one at 300 s with none
    assert rows.of(ATTEMPTS[0]).rows.get_column("expected").to_list() == [False, None]
