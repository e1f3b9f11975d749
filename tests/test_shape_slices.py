"""A line shape whose fields sit at fixed places before its message is read by position
(grammars.slice_plan): tested on its head alone and cut by slices. That must give exactly what the
whole-line regex gives, on every sample line of every grammar and on generated lines near the
shapes (wrong digits, short heads, Unicode digits and letters, tabs, lone CRs, empty messages)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from analyzer import grammars

ROOT = Path(__file__).resolve().parent.parent
NAMES = sorted(p.stem for p in (ROOT / "grammar").glob("*.lark")
               if any(grammars.load(p.stem).slice_plans))


def _by_regex(grammar: grammars.LineGrammar) -> grammars.LineGrammar:
    """The same grammar with every shape read by its whole-line regex."""
    plain = dataclasses.replace(grammar)
    plain.__dict__["slice_plans"] = [None] * len(grammar.shapes)
    return plain


def _same(grammar: grammars.LineGrammar, lines: list[str]) -> None:
    series = pl.Series("text", lines, dtype=pl.String)
    got, want = grammar.split(series), _by_regex(grammar).split(series)
    assert got.columns == want.columns
    assert got.rows() == want.rows()


def test_the_restore_log_bracket_shape_has_a_plan():
    plan = grammars.load("apple_restore").slice_plans[[s.name for s in grammars.load("apple_restore").shapes].index("bracket")]
    assert plan is not None and plan.fields == (("btime", 1, 13),) and plan.message == 16
    assert "apple_restore" in NAMES and "linux_usbmuxd" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_sample_line_is_read_the_same(name):
    grammar = grammars.load(name)
    lines = []
    for path in sorted((ROOT / "samples").rglob("*")):
        if path.is_file():
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()[:400]
    assert len(lines) > 1000
    _same(grammar, lines)


_PIECES = st.sampled_from(["[", "]", " ", "  ", ":", ".", "-GMT", "{", "}", "0", "7", "12", "59", "2024",
                           "\u0663", "\uff11", "Mon", "Jan", "a", "\t", "\r", "é", "[12:34:56.7890] ",
                           "[Mon Jan  1 12:34:56 2024] ", "[12:34:56.789][3] ", "iTunes"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=12).map("".join), min_size=1, max_size=30))
def test_generated_lines_are_read_the_same(lines):
    for name in NAMES:
        _same(grammars.load(name), lines)
