"""Decoding and line splitting shared by every text source."""

from __future__ import annotations

import codecs

import pytest

from analyzer.sources._text import text_lines
from analyzer.textio import decode, detect_encoding, looks_binary

JA = "イベント ID: 7031\r\nソース: Service Control Manager\r\n"


@pytest.mark.parametrize("text,expected", [
    ("a\r\nb\nc\rd", ["a", "b", "c", "d"]),          # mixed terminators in one file
    ("a\fb\u2028c\x0bd\n", ["a\fb\u2028c\x0bd"]),     # only CR/LF end lines, as in an editor
    ("a\n\nb\n", ["a", "", "b"]),                    # blank lines kept, final terminator adds none
    ("", []),
])
def test_text_lines_number_lines_like_an_editor(text, expected):
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
