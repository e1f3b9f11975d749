"""Decoding and line splitting shared by every text source."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, strategies as st

from analyzer.sources._text import text_lines
from analyzer.textio import decode, detect_encoding, looks_binary

JA = "イベント ID: 7031\r\nソース: Service Control Manager\r\n"


@pytest.mark.parametrize("text,expected", [
    ("a\r\nb\nc\rd", ["a", "b", "c\rd"]),           # CRLF and LF end lines; a lone CR among them does not
    ("a\rb\rc\r", ["a", "b", "c"]),                  # a file of CR line ends (no LF at all)
    ("a\fb\u2028c\x0bd\n", ["a\fb\u2028c\x0bd"]),     # only CR/LF end lines, as in an editor
    ("a\n\nb\n", ["a", "", "b"]),                    # blank lines kept, final terminator adds none
    ("", []),
])
def test_text_lines_number_lines_like_grep(text, expected):
    assert text_lines(text).to_list() == expected


@pytest.mark.parametrize("raw,encoding", [
    (codecs.BOM_UTF16_LE + JA.encode("utf-16-le"), "utf-16"),
    (JA.encode("utf-16-le"), "utf-16-le"),
    (JA.encode("utf-16-be"), "utf-16-be"),
    (codecs.BOM_UTF8 + JA.encode("utf-8"), "utf-8-sig"),
    (JA.encode("utf-8"), "utf-8"),
    (JA.encode("cp932"), "cp932"),
    ("Quelle: Dienststeuerung für Geräte\r\n".encode("cp1252"), "cp1252"),
])
def test_encodings_are_detected_and_decoded(raw, encoding):
    assert detect_encoding(raw) == encoding
    decoded = decode(raw)
    assert decoded.replaced == 0 and not decoded.text.startswith("\ufeff")
    assert ("ソース" in decoded.text) or ("für" in decoded.text)


def test_undecodable_bytes_are_counted_not_dropped():
    decoded = decode(b"ok line\n\xff\xfe\xfd bad\n", encoding="utf-8")
    assert decoded.replaced == 3 and decoded.text.count("\ufffd") == 3


def test_binary_versus_utf16_text():
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not looks_binary("Event[0]:\r\n".encode("utf-16-le"))


@pytest.mark.parametrize("content, kind", [
    (b"2025-02-14 14:47:05.213 [7412:1d3c]: restore library built Oct 17 2024 at 19:42:11\n"
     b"2025-02-14 14:47:05.213 [7412:1d3c]: iTunes: iTunes 12.13.5.3 \xff\xfe\xfa\n", "apple"),
    (b'<Events><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
     b'<Provider Name="x"/><EventID>1</EventID><TimeCreated SystemTime="2025-03-08T13:56:02.000Z"/>'
     b'<Computer>PC\xff\xfe\xfa</Computer></System></Event></Events>\n', "xml"),
])
def test_every_source_locates_its_undecodable_bytes(tmp_path, content, kind):
    """One note for replaced bytes, the same in every source: how many, read as what, and the
    line of the first one."""
    from analyzer.ingest import parse_file
    path = tmp_path / "input.log"
    path.write_bytes(b"\xef\xbb\xbf\n" + content)  # UTF-8 by its BOM, so the bad bytes cannot be read otherwise
    notes = [n for n in parse_file(path).report.errors if "undecodable" in n.message]
    assert len(notes) == 1, parse_file(path).report
    assert notes[0].line == (3 if kind == "apple" else 2) and notes[0].severity == "warning"
    assert notes[0].message.startswith("3 undecodable byte sequence(s) replaced by U+FFFD")


@pytest.mark.parametrize("text, encoding", [
    ("イベント[0]:\r\n  ログの名前: System\r\n  ソース: Service Control Manager\r\n", "cp932"),
    ("Event[0]:\r\n  로그 이름: System\r\n  원본: Service Control Manager\r\n  설명:\r\n서비스가 예기치 않게 종료되었습니다.\r\n",
     "cp949"),
    ("Event[0]:\r\n  日志名称: System\r\n  来源: Service Control Manager\r\n  描述:\r\n服务意外终止。\r\n", "gbk"),
    ("Event[0]:\r\n  記錄檔名稱: System\r\n  來源: Service Control Manager\r\n  描述:\r\n服務意外終止。\r\n", "big5"),
])
def test_east_asian_windows_code_pages_are_told_apart(text, encoding):
    """wevtutil or Event Viewer text saved on a Japanese, Korean or Chinese Windows is in its ANSI code page."""
    raw = text.encode(encoding)
    assert detect_encoding(raw) == encoding
    decoded = decode(raw)
    assert decoded.text == text and decoded.replaced == 0


@given(st.lists(st.text(alphabet="ab\r\n\u2028\x0c", max_size=12), max_size=12), st.integers(1, 9))
def test_text_lines_in_pieces_agree_with_one_split(parts, piece):
    """Splitting a few characters at a time (as big files are) gives the lines of one split."""
    from analyzer.sources import _text
    from analyzer.textio import line_list
    text = "".join(parts)
    expected = line_list(text) if text else []
    if expected and expected[-1] == "" and len(expected) > 1 or expected == [""]:
        expected = expected[:-1]  # a final terminator adds no empty line
    saved = _text.SPLIT_CHARS
    try:
        _text.SPLIT_CHARS = piece
        assert _text.text_lines(text).to_list() == expected
    finally:
        _text.SPLIT_CHARS = saved


def test_a_stray_nul_does_not_make_a_log_binary():
    log = b"".join(b"[10:00:%02d.0000] line %d of a restore log\r\n" % (i, i) for i in range(60))
    assert not looks_binary(log[:400] + b"\x00" + log[400:])
    assert looks_binary(b"ElfFile\x00" + b"\x00" * 120 + b"\x80" * 20)  # an evtx header stays binary


def test_one_bad_byte_keeps_a_utf8_file_utf8():
    text = "C:\\Users\\田中太郎\\AppData\n".encode() * 3 + b"bad \xff\xfe byte\n"
    assert detect_encoding(text) == "utf-8"
    assert decode(text).replaced == 2 and "田中太郎" in decode(text).text
    # text in a legacy code page has no well-formed UTF-8 multi-byte characters: still read as one
    assert detect_encoding("café crème brûlée\n".encode("cp1252") * 3) == "cp1252"
    assert detect_encoding("ログ ファイル\n".encode("cp932") * 5) == "cp932"
