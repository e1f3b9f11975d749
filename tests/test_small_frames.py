"""The small-frame paths (taken to avoid the query engine's fixed cost per call) give what the
plain polars call gives: the rows of a filter, the per-incident counts of a rule's hits."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from analyzer import evaluate, frames


@settings(deadline=None, max_examples=200)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-5, 5)), st.one_of(st.none(), st.text(max_size=3))),
                max_size=30),
       st.integers(-5, 5))
def test_rows_where_equals_filter(rows, threshold):
    frame = pl.DataFrame(rows, schema={"n": pl.Int64, "s": pl.String}, orient="row")
    for predicate in (pl.col("n") > threshold, pl.col("s").str.len_chars() >= 1, pl.lit(True), pl.lit(False)):
        assert frames.rows_where(frame, predicate).equals(frame.filter(predicate))


def test_rows_where_takes_the_engine_path_for_big_frames(monkeypatch):
    frame = pl.DataFrame({"n": range(10)})
    monkeypatch.setattr(frames, "SMALL_ROWS", 3)
    seen = []
    real = pl.DataFrame.filter
    monkeypatch.setattr(pl.DataFrame, "filter", lambda self, *a, **k: seen.append(self.height) or real(self, *a, **k))
    assert frames.rows_where(frame, pl.col("n") % 2 == 0).get_column("n").to_list() == [0, 2, 4, 6, 8]
    assert seen == [10]


def test_rows_where_keeps_the_columns_of_an_empty_result():
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    got = frames.rows_where(frame, pl.col("a") > 5)
    assert got.height == 0 and got.schema == frame.schema


@settings(deadline=None, max_examples=100)
@given(st.lists(st.integers(0, 4), max_size=60), st.booleans())
def test_hits_per_incident_equal_the_group_by(incidents, small):
    rows = pl.DataFrame({"incident": incidents}, schema={"incident": pl.Int64})
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(evaluate, "SMALL_ROWS", 10_000 if small else 0)
        got = evaluate._per_incident(rows)
    expected = dict(rows.group_by("incident").len().iter_rows()) if rows.height else {}
    assert got == expected
