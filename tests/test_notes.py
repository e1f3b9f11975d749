"""Notes about the input are codes with parameters, worded from one catalogue per language.

``analyzer/data/notes.toml`` declares every code with an English and a Japanese template (same
placeholders); every ``Note(...)`` in the package names a declared code as a literal, so a
free-text note cannot come back; the English wording is what it was before notes had codes."""

from __future__ import annotations

import ast
import string

import pytest

from analyzer import notes
from analyzer.model import Note

from conftest import ROOT
from test_i18n import english_lines

PACKAGE = ROOT / "analyzer"


def _fields(template: str) -> set[tuple[str, str | None, str]]:
    """Each placeholder with its conversion and format spec (``{value!r}`` is ("value", "r", ""))."""
    return {(name, conv, spec) for _, name, spec, conv in string.Formatter().parse(template) if name is not None}


def _dummy(code: str) -> dict:
    return {name: "1" for name in notes.required(code)}


def test_every_code_has_english_and_japanese_with_the_same_placeholders():
    catalogue = notes.catalogue()
    assert len(catalogue) > 50
    for code, table in catalogue.items():
        assert set(table) == {"en", "ja"}, code
        assert table["en"].strip() and table["ja"].strip(), code
        assert _fields(table["en"]) == _fields(table["ja"]), code


def test_japanese_notes_have_no_english_sentence():
    catalogue = notes.catalogue()
    ja = [notes.render(code, _dummy(code), "ja") for code in catalogue]
    en = [notes.render(code, _dummy(code), "en") for code in catalogue]
    assert english_lines(ja) == []
    assert len(english_lines(en)) >= 20, "the detector must see the English notes' sentences"


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)]


def _code_argument(call: ast.Call, position: int) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == "code"), None)


def codes_in_package() -> tuple[list[tuple[str, str]], list[str]]:
    """(where, code) of every ``Note(file, code, …)`` and ``part(code, …)`` call in the package, and
    the places where the code is not a string literal."""
    found, loose = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, position in (("Note", 1), ("part", 0)):
            for call in _calls(tree, name):
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                arg = _code_argument(call, position)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((where, arg.value))
                else:
                    loose.append(where)
    return found, loose


def test_every_note_in_the_package_names_a_declared_code_as_a_literal():
    found, loose = codes_in_package()
    assert loose == [], "a note's code must be a string literal declared in analyzer/data/notes.toml"
    assert len(found) > 60
    catalogue = notes.catalogue()
    assert [(where, code) for where, code in found if code not in catalogue] == []
    assert set(catalogue) - {code for _, code in found} == set(), "declared but never used"


def test_the_ast_check_sees_a_free_text_note():
    tree = ast.parse('Note(display, f"cannot read: {why}")\nNote(display, "empty_file")\npart(kind)\n')
    assert [type(_code_argument(c, 1)).__name__ for c in _calls(tree, "Note")] == ["JoinedStr", "Constant"]
    assert type(_code_argument(_calls(tree, "part")[0], 0)).__name__ == "Name"


@pytest.mark.parametrize("note, english", [
    (Note("a.log", "empty_file", severity="warning"), "empty file"),
    (Note("a.log", "unrecognised_text", line=1), "not a recognised log format (text)"),
    (Note("a.bin", "unrecognised_binary"), "not a recognised log format (binary data)"),
    (Note("gone", "not_found"), "no such file or folder"),
    (Note("a.log", "cannot_read", {"reason": "Permission denied"}), "cannot read: Permission denied"),
    (Note("a.log", "undecodable_bytes", {"count": 3, "encoding": "cp1252"}),
     "3 undecodable byte sequence(s) replaced by U+FFFD (read as cp1252)"),
    (Note("s.log", "lines_unrecognised_total", {"count": 100, "format": "windows_setupapi"}),
     "100 lines in all match no line shape of windows_setupapi"),
    (Note("s.log", "line_shape_unknown", {"format": "windows_setupapi",
                                          "detail": notes.part("lark_at_column_expected", column=3, expected="A, B")}),
     "no line shape of windows_setupapi matches at column 3 (expected A, B)"),
    (Note("s.evtx", "evtx_chunk_unreadable", {"chunk": 6, "gap": notes.part("records_lost", first=271, last=300),
                                              "error": "Invalid EVTX chunk header magic"}),
     "chunk 6 unreadable, skipped (records 271-300 lost): Invalid EVTX chunk header magic"),
    (Note("s.evtx", "evtx_record_unreadable", {"gap": notes.part("after_record", record=9),
                                               "error": notes.part("gave_up", count=10000)}),
     "a record unreadable, skipped (after record 9): gave up after 10000 errors in a row"),
    (Note("e.txt", "record_skipped_event_id_not_number", {"value": "x7"}),
     "record skipped: Event ID 'x7' is not a number"),
    (Note("z.zip!a", "compression_ratio_refused", {"ratio": 250, "limit": 200}),
     "compression ratio 250:1 is over the 200:1 limit (zip bomb guard); not extracted"),
    (Note("z.zip", "archive_refused", {"why": notes.part("too_many_members", limit=10000)}),
     "archive refused: more than 10000 members"),
])
def test_english_wording_is_what_it_was_and_japanese_has_no_english_sentence(note, english):
    assert note.message == english == notes.render(note.code, note.params, "en")
    japanese = notes.render(note.code, note.params, "ja")
    assert japanese != english and english_lines([japanese]) == []


def test_a_note_is_code_params_and_its_english_message():
    note = Note("a.log", "cannot_read", {"reason": "Permission denied"}, line=3)
    assert note.as_dict() == {"file": "a.log", "code": "cannot_read", "params": {"reason": "Permission denied"},
                              "message": "cannot read: Permission denied", "line": 3, "severity": "error"}
    assert Note("a.log", "empty_file").as_dict()["params"] == {}


def test_an_undeclared_code_or_a_missing_parameter_is_refused_where_the_note_is_made():
    with pytest.raises(ValueError, match="unknown note code 'cannot read: x'"):
        Note("a.log", "cannot read: x")
    with pytest.raises(ValueError, match=r"needs parameters \['reason'\]"):
        Note("a.log", "cannot_read")
    with pytest.raises(ValueError, match="unknown note code"):
        notes.part("no_such_part")


def test_map_strings_reaches_every_shown_text_and_keeps_codes():
    params = {"error": "C:\\Users\\alice\\x", "gap": notes.part("after_record", record=3), "n": 2,
              "names": ["alice", 1]}
    out = notes.map_strings(params, str.upper)
    assert out == {"error": "C:\\USERS\\ALICE\\X", "gap": {"code": "after_record", "params": {"record": 3}}, "n": 2,
                   "names": ["ALICE", 1]}
