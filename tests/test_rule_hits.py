"""How the diagnosis builds its evidence windows and tests the rules on them is a matter of memory,
never of meaning.

``evidence_window`` finds its rows on a narrow index and gathers them once, ``rule_hits`` tests a
rule on the columns it reads at the rows of its kinds and takes whole only the rows it matches
(:mod:`analyzer.evaluate`; a small window is split by kind instead, and both paths are checked). Here both are held, on every bundled sample PC, to the plain reading:
the window rows selected whole and each rule a filter of the window's rows of its kinds.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer import api
from analyzer.correlate import attempts, evidence_window, mark_transitions
from analyzer.diagnose import _with_history
from analyzer.history import history
from analyzer import evaluate
from analyzer.evaluate import rule_hits
from analyzer.rules import default_rules
from analyzer.rules.fields import derived_columns
from analyzer.window_need import window_need

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p for p in (ROOT / "samples").iterdir() if p.is_dir())


def _plain_hits(window: pl.DataFrame, rule) -> pl.DataFrame:
    """The reference: the window's rows of the rule's kinds (sorted kind order, window order
    within a kind), with its derived fields, filtered by its test."""
    if rule.kinds is None:
        rows = window
    else:
        parts = [window.filter(pl.col("kind").cast(pl.String) == k) for k in sorted(rule.kinds)]
        rows = pl.concat(parts, how="vertical")
    if rows.height == 0:
        return window.head(0)
    return rows.with_columns(derived_columns(rule.derived)).filter(rule.matches)


def _plain_rows(events: pl.DataFrame, need) -> pl.DataFrame:
    """The reference gate: the rows of the kinds taken whole, and those of a gated kind that some
    rule of that kind detects, rule by rule."""
    if need.kinds is None:
        return events
    kind = pl.col("kind").cast(pl.String)
    keep = kind.is_in(sorted(need.kinds - need.gated))
    for rule in default_rules():
        if rule.kinds & need.gated:
            tested = events.with_columns(derived_columns(rule.derived))
            keep = keep | pl.Series(tested.select(kind.is_in(sorted(need.gated)) & rule.detection).to_series())
    return events.filter(keep)


def _plain_window(events: pl.DataFrame, failed: pl.DataFrame, need) -> pl.DataFrame:
    """The reference window: for each incident, its own rows and the PC's rows in its time span
    (or its timeless configuration rows), whole, in window order."""
    rows = _plain_rows(events, need)
    parts = []
    for i, inc in enumerate(failed.iter_rows(named=True)):
        own = (pl.col("host").eq_missing(inc["host"]) & pl.col("file").eq_missing(inc["file"])
               & pl.col("attempt").eq_missing(inc["attempt"]) & pl.col("attempt").is_not_null())
        near = pl.lit(False)
        if inc["window_start"] is not None and inc["window_end"] is not None:
            near = (pl.col("attempt").is_null() & pl.col("host").eq_missing(inc["host"])
                    & pl.col("ts_utc").is_between(inc["window_start"], inc["window_end"]))
        config = (pl.col("attempt").is_null() & pl.col("ts_utc").is_null() & pl.col("host").eq_missing(inc["host"])
                  & (pl.col("kind").cast(pl.String) == "hosts_entry"))
        parts.append(rows.filter((own | near | config).fill_null(False))
                     .insert_column(0, pl.lit(i, dtype=pl.UInt32).alias("incident")))
    return pl.concat(parts, how="vertical").sort(["incident", "ts_utc", "file", "line", "record"], nulls_last=True,
                                                 maintain_order=True)


def _plain_with_history(window: pl.DataFrame, failed: pl.DataFrame, past: pl.DataFrame) -> pl.DataFrame:
    """The reference: each incident's history facts joined onto its window rows."""
    keyed = (failed.with_row_index("incident").with_columns(pl.col("incident").cast(pl.UInt32))
             .join(past.drop("related"), on=["host", "file", "attempt"], how="left", nulls_equal=True)
             .select("incident", pl.col("later_success").fill_null(False), pl.col("later_success_moved").fill_null(False),
                     pl.col("same_failure_moved").fill_null(0), "reported", pl.col("operation").alias("_op")))
    return (window.join(keyed, on="incident", how="left", maintain_order="left")
            .with_columns(pl.col("_op").alias("operation")).drop("_op"))


def _canonical(frame: pl.DataFrame) -> list:
    return sorted(map(repr, frame.rows()))


@pytest.mark.parametrize("small", [True, False], ids=["small-window path", "narrow path"])
@pytest.mark.parametrize("pc", SAMPLES, ids=[p.name for p in SAMPLES])
def test_window_and_hits_are_the_plain_reading(pc: Path, small: bool, monkeypatch):
    if not small:  # every window through the path a bench log's takes
        monkeypatch.setattr(evaluate, "SMALL_ROWS", -1)
    events = api.analyze([str(pc)]).events
    table = attempts(events)
    failed = table.filter(pl.col("outcome") == "failed").sort("reported", "host", "file", "attempt", nulls_last=True)
    rules = default_rules()
    if failed.height == 0:  # nothing to explain: an empty window, and no rule matches anything
        window = evidence_window(mark_transitions(events), failed, window_need(rules))
        assert window.height == 0
        assert all(hits.height == 0 for hits in rule_hits(window, rules).values())
        return
    kinds = window_need(rules)
    marked = mark_transitions(events)
    window = evidence_window(marked, failed, kinds)
    plain = _plain_window(marked, failed, kinds)
    assert window.drop("before_s").columns == plain.columns
    assert _canonical(window.drop("before_s")) == _canonical(plain)
    # the order is the window order: by incident, then as the events are ordered
    assert window.select("incident", "ts_utc", "file", "line").equals(
        window.select("incident", "ts_utc", "file", "line").sort(pl.all(), nulls_last=True, maintain_order=True))
    past = history(events, table)
    with_past = _with_history(window, failed, past)
    assert with_past.equals(_plain_with_history(window, failed, past))
    window = with_past
    hits = rule_hits(window, rules)
    for rule in rules:
        want = _plain_hits(window, rule)
        assert hits[rule.id].columns == want.columns, rule.id
        assert hits[rule.id].rows() == want.rows(), rule.id
