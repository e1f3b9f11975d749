"""The three ways a grammar matches messages to markers give the same rows.

A few rows go through one alternation of every marker (``_markers_at_once``), more rows through a
loop over the markers (``_first_markers``), and many repeated rows through that loop on their
distinct texts (``_marked``'s dedupe). They are there for speed only: for any messages, each must
give the first marker, in priority order, that matches the whole message, with its fields.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from analyzer import grammars

ROOT = Path(__file__).resolve().parent.parent
#: The grammars with message markers (the others say what a line is by its shape alone).
GRAMMARS = sorted(p.stem for p in (ROOT / "grammar").glob("*.lark")
                  if not p.stem.startswith("common") and grammars.load(p.stem).markers)
SAMPLE_TEXTS = sorted(p for p in (ROOT / "samples").rglob("*")
                      if p.is_file() and p.suffix.lower() in {".log", ".txt", ".csv", ".xml", ".ps1", ""})


def _messages(grammar: grammars.LineGrammar, lines: list[str]) -> pl.DataFrame:
    base = pl.DataFrame({"text": pl.Series(lines, dtype=pl.String)}).with_row_index("line", offset=1)
    base = base.with_columns(pl.col("line").cast(pl.Int64))
    shaped = base.join(grammar._shape_fields(base), on="line", how="left")
    if "message" not in shaped.columns:
        return pl.DataFrame(schema={"line": pl.Int64, "message": pl.String})
    return shaped.select("line", "message").filter(pl.col("message").is_not_null())


def _canonical(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=pl.String).alias(c) for c in columns if c not in frame.columns]
    return frame.with_columns(missing).select(columns).sort("line")


def _assert_paths_agree(grammar: grammars.LineGrammar, msg: pl.DataFrame, monkeypatch) -> None:
    at_once = grammar._markers_at_once(msg)
    loop = grammar._first_markers(msg)
    monkeypatch.setattr(grammars, "ONE_QUERY_ROWS", -1)
    monkeypatch.setattr(grammars, "DEDUPE_MIN_ROWS", 0)
    monkeypatch.setattr(grammars, "DEDUPE_BELOW", 1.01)
    deduped = grammar._marked(msg)
    monkeypatch.undo()
    columns = sorted({"line", "marker"} | set(at_once.columns) | set(loop.columns) | set(deduped.columns))
    expected = _canonical(loop, columns)
    assert _canonical(at_once, columns).equals(expected)
    assert _canonical(deduped, columns).equals(expected)


@pytest.mark.parametrize("name", GRAMMARS)
def test_paths_agree_on_every_sample(name, monkeypatch):
    grammar = grammars.load(name)
    checked = 0
    for path in SAMPLE_TEXTS:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for start in range(0, min(len(lines), 2000), 250):
            msg = _messages(grammar, lines[start:start + 250])
            if msg.height:
                _assert_paths_agree(grammar, msg, monkeypatch)
                checked += 1
    assert checked > 0, f"no sample line has a message for {name}"


def _marker_texts() -> list[str]:
    """Pieces that make messages near the markers' texts: their literals and some field-like words."""
    pieces = {"0x1A", "4013", "error", "failed", ":", " ", "=", "(", ")", "'", '"', "0", "-1", "USB", "ECID"}
    for name in GRAMMARS:
        pieces.update(m.literal for m in grammars.load(name).markers if m.literal)
    return sorted(pieces)


_PIECES = _marker_texts()


@settings(deadline=None, max_examples=60)
@given(st.sampled_from(GRAMMARS),
       st.lists(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join), min_size=1, max_size=40))
def test_paths_agree_on_generated_messages(name, texts):
    grammar = grammars.load(name)
    msg = pl.DataFrame({"line": pl.Series(range(1, len(texts) + 1), dtype=pl.Int64),
                        "message": pl.Series(texts, dtype=pl.String)})
    with pytest.MonkeyPatch.context() as monkeypatch:
        _assert_paths_agree(grammar, msg, monkeypatch)


def test_repeated_messages_are_matched_once_and_joined_back(monkeypatch):
    """A bench log's repeated progress lines: the dedupe path gives every row its marker."""
    grammar = grammars.load("apple_restore")
    texts = ["<Restore Device 0x000001d2c3f0a8e0>: operation 13 progress 40",
             "AMRestorePerformRestoreModeRestoreWithError failed with error: 4013",
             "not a marker at all"] * 900
    msg = pl.DataFrame({"line": pl.Series(range(1, len(texts) + 1), dtype=pl.Int64),
                        "message": pl.Series(texts, dtype=pl.String)})
    calls = []
    real = grammar._first_markers
    monkeypatch.setattr(type(grammar), "_first_markers", lambda self, m: calls.append(m.height) or real(m))
    got = grammar._marked(msg)
    assert calls == [3]  # the three distinct texts, once each
    by_line = dict(zip(got.get_column("line").to_list(), got.get_column("marker").to_list()))
    loop = dict(zip(*real(msg).select("line", "marker").get_columns()))
    assert by_line == loop
    assert len(by_line) == 2700 and len({by_line[1], by_line[2], by_line[3]}) == 3


def test_a_grammar_without_markers_matches_nothing():
    grammar = grammars.load("windows_firewall")
    assert not grammar.markers
    msg = pl.DataFrame({"line": [1, 2], "message": ["allow", "drop"]}, schema={"line": pl.Int64, "message": pl.String})
    assert grammar._markers_at_once(msg).height == 0 and grammar._first_markers(msg).height == 0
