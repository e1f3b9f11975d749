"""The PC's events in one canonical order, found without copying a frame that is already in it."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings, strategies as st

from analyzer.pipeline import EVENT_ORDER, _in_order

_ROW = st.fixed_dictionaries({
    "host": st.sampled_from(["pc1", "pc2", None]), "ts_utc": st.one_of(st.none(), st.integers(0, 5)),
    "file": st.sampled_from(["a.log", "b.log"]), "line": st.integers(1, 4), "record": st.one_of(st.none(), st.integers(1, 3)),
})


@settings(deadline=None, max_examples=200)
@given(st.lists(_ROW, max_size=40))
def test_in_order_is_the_stable_sort_and_keeps_a_sorted_frame_as_it_is(rows):
    frame = pl.DataFrame([{**r, "n": i} for i, r in enumerate(rows)],
                         schema={"host": pl.String, "ts_utc": pl.Int64, "file": pl.String, "line": pl.Int64,
                                 "record": pl.Int64, "n": pl.Int64})
    expected = frame.sort(EVENT_ORDER, nulls_last=True, maintain_order=True)
    got = _in_order(frame)
    assert got.equals(expected)
    assert _in_order(expected) is expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 3)), st.one_of(st.none(), st.sampled_from(["x", "y", "z"]))),
                min_size=2, max_size=8))
def test_the_order_check_agrees_with_a_sort(rows):
    """``in_order`` (a row against the next) says "in order" exactly when a stable sort would leave
    the rows where they are, nulls last, ties included."""
    from analyzer.frames import in_order

    frame = pl.DataFrame(rows, schema={"a": pl.Int64, "b": pl.String}, orient="row")
    order = frame.select(pl.arg_sort_by(["a", "b"], nulls_last=True, maintain_order=True)).to_series()
    assert in_order(frame, ["a", "b"]) == order.is_sorted()
