"""A marker is tried only on the messages that hold its literal, so its literal must be in every
message it matches: checked on every sample line of every grammar, each message marked by the
one-alternation path, which uses no literal (grammars.LineGrammar._markers_at_once), and on the
literals the compiler takes out of regex terminals (grammar_compiler.required_literals)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from analyzer import grammars
from analyzer.grammar_compiler import required_literals

ROOT = Path(__file__).resolve().parent.parent
NAMES = sorted(p.stem for p in (ROOT / "grammar").glob("*.lark") if grammars.load(p.stem).markers)


def _sample_lines() -> list[str]:
    lines = []
    for path in sorted((ROOT / "samples").rglob("*")):
        if path.is_file():
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_every_marked_sample_message_holds_its_markers_literal(name):
    grammar = grammars.load(name)
    split = grammar.split(pl.Series("text", sorted(set(_sample_lines())), dtype=pl.String))
    msg = split.filter(pl.col("message").is_not_null()).select("line", "message")
    found = grammar._markers_at_once(msg).join(msg, on="line")
    literal = {m.name: m.literal for m in grammar.markers}
    missing = [(marker, text) for marker, text in found.select("marker", "message").iter_rows()
               if literal[marker] and literal[marker] not in text]
    assert not missing, missing[:3]


def test_the_literals_of_regex_terminals():
    assert required_literals(r"(?:[A-Za-z_]+: )*tss_submit_job") == ["tss_submit_job"]
    assert required_literals(r"(?:.*: )?radio-error") == ["radio-error"]
    assert required_literals(r"abc(?:de|fg)hi") == ["abc", "hi"]
    assert required_literals(r"x+yz(?!q)") == ["yz"]
    assert required_literals(r"(?i)abc") == []
    assert required_literals(r"a(?i:b)c") == ["a", "c"]
    restore = {m.name: m.literal for m in grammars.load("apple_restore").markers}
    assert restore["tss_invalid_response"] == "tss_submit_job" and restore["radio_error"] == "radio-error"


_REGEX_PIECES = st.sampled_from(["ab", "c", "(?:d|e)", "f*", "(?:gh)", "[ij]", "k?", "(?:l(?:mn))", "o+", "\\.",
                                 "(?!p)", ".", "(?:q|r)s"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_REGEX_PIECES, min_size=1, max_size=6).map("".join), st.data())
def test_a_text_the_regex_matches_holds_every_literal(regex, data):
    text = data.draw(st.from_regex(regex, fullmatch=True))
    for literal in required_literals(regex):
        assert literal in text, (regex, text, literal)
