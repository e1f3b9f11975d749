"""The compiled grammars kept on disk between runs (analyzer.grammar_cache)."""

from __future__ import annotations

import json

import pytest

from analyzer import grammar_cache, grammars


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """A private, empty cache folder and no grammar compiled in this process yet."""
    monkeypatch.setenv(grammar_cache.CACHE_ENV, str(tmp_path / "cache"))
    grammars.load.cache_clear()
    yield tmp_path / "cache"
    grammars.load.cache_clear()


def _compiled(g: grammars.LineGrammar):
    return [(s.name, s.regex, s.fields, s.has_message) for s in g.shapes], \
           [(m.name, m.priority, m.regex, m.literal, m.fields) for m in g.markers], g.named


def test_a_cached_grammar_is_the_grammar_compiled_afresh(fresh, monkeypatch):
    first = grammars.load("windows_setupapi")
    entries = list(fresh.glob("grammar-windows_setupapi-*.json"))
    assert len(entries) == 1
    grammars.load.cache_clear()
    calls = []
    monkeypatch.setattr(grammars, "_Compiler", lambda *a: calls.append(a))  # a cache hit never compiles
    second = grammars.load("windows_setupapi")
    assert calls == []
    assert _compiled(second) == _compiled(first)
    # the reference parser is built on demand and still explains a line
    assert second.explain_failure("not a setupapi line")["code"].startswith("lark_")


def test_a_damaged_entry_is_compiled_again_and_replaced(fresh):
    good = _compiled(grammars.load("windows_firewall"))
    (entry,) = fresh.glob("grammar-windows_firewall-*.json")
    entry.write_text('{"name": "windows_firewall", "layout": 1, "shapes": [', encoding="utf-8")
    grammars.load.cache_clear()
    assert _compiled(grammars.load("windows_firewall")) == good
    assert json.loads(entry.read_text(encoding="utf-8"))["name"] == "windows_firewall"


def test_an_unwritable_cache_is_ignored(fresh, monkeypatch, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv(grammar_cache.CACHE_ENV, str(blocker / "cache"))
    assert grammars.load("apple_restore").shapes
    assert not (blocker / "cache").exists()


def test_the_key_changes_when_a_grammar_file_changes(tmp_path):
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "a.lark").write_text("line: X -> x\nX: /x/\n")
    before = grammar_cache._fingerprint(folder)
    grammar_cache._fingerprint.cache_clear()
    (folder / "a.lark").write_text("line: X -> x\nX: /y/\n")
    assert grammar_cache._fingerprint(folder) != before
    grammar_cache._fingerprint.cache_clear()
