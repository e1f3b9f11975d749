"""Reading a file's lines a piece at a time (analyzer.lines) gives what reading it whole gives."""

from __future__ import annotations

import codecs

from hypothesis import given, settings, strategies as st

from analyzer import lines as lines_mod
from analyzer.sources._text import text_lines
from analyzer.textio import decode

_TEXT = st.text(alphabet=st.sampled_from(list("ab \r\n\u00e9\u65e5\ufffd")), max_size=60)


@settings(deadline=None, max_examples=300)
@given(_TEXT, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]), st.integers(1, 7))
def test_pieces_give_the_lines_of_the_whole_file(tmp_path_factory, text, encoding, piece):
    raw = text.encode(encoding, errors="replace")
    path = tmp_path_factory.mktemp("lines") / "f.log"
    path.write_bytes(raw)
    whole = decode(raw)
    got = lines_mod.read_lines(path, piece=piece)
    assert got.lines.to_list() == text_lines(whole.text).to_list()
    assert got.replaced == whole.replaced
    assert got.long == [] and got.long_count == 0


@settings(deadline=None, max_examples=200)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=8), st.integers(1, 9), st.integers(3, 10))
def test_long_lines_are_cut_counted_and_located(tmp_path_factory, lengths, piece, cap):
    text = "\n".join("x" * n for n in lengths) + "\n"
    path = tmp_path_factory.mktemp("long") / "f.log"
    path.write_bytes(text.encode())
    got = lines_mod.read_lines(path, cap=cap, piece=piece)
    assert got.lines.to_list() == ["x" * min(n, cap) for n in lengths]
    assert got.long == [(i + 1, n) for i, n in enumerate(lengths) if n > cap]
    assert got.long_count == sum(1 for n in lengths if n > cap)


def test_undecodable_bytes_are_counted_with_the_line_of_the_first(tmp_path):
    path = tmp_path / "f.log"
    path.write_bytes(b"ok\nfine\nbad \x81 here\nand \x8d again\n")  # bytes cp1252 leaves undefined
    got = lines_mod.read_lines(path, piece=3)
    whole = decode(path.read_bytes())
    assert got.encoding == whole.encoding
    assert got.replaced == whole.replaced >= 2
    assert got.first_replaced == 3


def test_a_bom_is_not_part_of_the_first_line(tmp_path):
    path = tmp_path / "f.log"
    path.write_bytes(codecs.BOM_UTF8 + b"first\r\nsecond")
    assert lines_mod.read_lines(path, piece=2).lines.to_list() == ["first", "second"]


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("xy\r\n")), max_size=40), st.integers(1, 6), st.integers(1, 6))
def test_crlf_lines_cut_and_counted_as_the_one_rule_reads_them(tmp_path_factory, text, piece, cap):
    """A CRLF's CR is no part of its line, a lone CR is, for the kept text and the counted length
    alike, whatever the piece and cap sizes (textio.line_list is the rule)."""
    from analyzer.textio import line_list

    path = tmp_path_factory.mktemp("crlf") / "f.log"
    path.write_bytes(text.encode())
    expected = line_list(text) if text else []
    if expected and expected[-1] == "" and len(expected) > 1 or expected == [""]:
        expected = expected[:-1]  # a final terminator adds no empty line
    got = lines_mod.read_lines(path, cap=cap, piece=piece)
    assert got.lines.to_list() == [line[:cap] for line in expected]
    assert got.long_count == sum(1 for line in expected if len(line) > cap)
    assert got.long == [(i + 1, len(line)) for i, line in enumerate(expected) if len(line) > cap][:lines_mod.MAX_LISTED]
