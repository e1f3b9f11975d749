"""``attach`` (the restore sources' left join by line) gives what a left join gives, on every path.

It takes a shortcut when the small frame has a value for every row, places values by binary search
when the rows are in key order and the keys unique, and joins otherwise; each is a speed choice.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings, strategies as st

from analyzer.sources._apple_classify import _unique, attach


def _left_join(rows: pl.DataFrame, small: pl.DataFrame) -> pl.DataFrame:
    return rows.join(small, on="line", how="left", maintain_order="left")


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.integers(1, 60), min_size=0, max_size=40),
       picked=st.lists(st.integers(0, 39), max_size=40, unique=True),
       sort_rows=st.booleans(), shuffle_small=st.randoms(use_true_random=False), every_row=st.booleans())
def test_attach_is_a_left_join(lines, picked, sort_rows, shuffle_small, every_row):
    lines = sorted(set(lines)) if sort_rows else list(dict.fromkeys(lines))
    rows = pl.DataFrame({"line": pl.Series(lines, dtype=pl.Int64), "text": [f"t{n}" for n in lines]})
    keys = list(lines) if every_row else [lines[i] for i in picked if i < len(lines)] + [999]
    shuffle_small.shuffle(keys) if not every_row else None
    small = pl.DataFrame({"line": pl.Series(keys, dtype=pl.Int64), "value": [n * 10 for n in keys],
                          "label": [f"v{n}" for n in keys]})
    got = attach(rows, small)
    assert got.to_dicts() == _left_join(rows, small).to_dicts()


def test_unique_keys():
    assert _unique(pl.Series([1, 2, 5]))
    assert not _unique(pl.Series([1, 2, 2, 5]))
    assert _unique(pl.Series([5, 1, 3]))
    assert not _unique(pl.Series([5, 1, 5]))
    assert _unique(pl.Series([], dtype=pl.Int64))
