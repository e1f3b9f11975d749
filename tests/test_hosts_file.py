"""The hosts file: entries for Apple hosts, comments, IPv6, several names a line, encodings, and a
sniffer that does not claim any text with an address in it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import grammars
from analyzer.apple_hosts import is_apple_host, is_signing_host
from analyzer.ingest import parse_file
from analyzer.sources import Input, claimants
from analyzer.sources.hosts_file import SOURCE, target_of

from grammar_agreement import assert_fast_path_agrees

from conftest import write_encoded

GRAMMAR = grammars.load("hosts_file")
WINDOWS = ("# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.\r\n"
           "#\r\n#      102.54.94.97     rhino.acme.com          # source server\r\n#       38.25.63.10     x.acme.com"
           "              # x client host\r\n\r\n# localhost name resolution is handled within DNS itself.\r\n"
           "#\t127.0.0.1       localhost\r\n#\t::1             localhost\r\n")


def parse(path: Path):
    return parse_file(path, display=path.name, host="pc")


def rows(parsed) -> list[tuple]:
    return parsed.events.select("line", "kind", "subject").rows()


def test_apple_entries_become_hosts_entry_rows_with_where_they_point(tmp_path):
    text = WINDOWS + "127.0.0.1 localhost\r\n74.208.105.171\tgs.apple.com\r\n0.0.0.0 albert.apple.com ocsp.apple.com # block\r\n"
    parsed = parse(write_encoded(tmp_path, "hosts", text))
    assert parsed.report.format == "hosts_file" and parsed.report.unrecognised == 0
    assert rows(parsed) == [(11, "generic", "localhost"), (12, "hosts_entry", "gs.apple.com"),
                            (13, "hosts_entry", "albert.apple.com"), (13, "hosts_entry", "ocsp.apple.com")]
    details = [json.loads(d) for d in parsed.events.filter(pl.col("kind") == "hosts_entry").get_column("detail")]
    assert [(d["address"], d["target"], d["signing"], d["apple"]) for d in details] == [
        ("74.208.105.171", "public", True, True), ("0.0.0.0", "unspecified", True, True),
        ("0.0.0.0", "unspecified", True, True)]
    assert all(d["file_mtime"].endswith("Z") for d in details)
    assert parsed.events.get_column("clock").unique().to_list() == ["none"]
    assert parsed.events.get_column("ts_wall").null_count() == parsed.events.height
    note = next(n for n in parsed.report.errors if n.code == "hosts_no_time")
    assert note.params["count"] == 3 and note.line == 12 and note.severity == "info"


def test_the_windows_template_alone_has_no_entry_and_is_not_claimed(tmp_path):
    path = write_encoded(tmp_path, "hosts", WINDOWS)
    assert claimants(Input(path, "hosts")) == []


def test_comments_whole_line_trailing_and_without_blank(tmp_path):
    text = "# c\n   # indented\n10.0.0.1 nas.local#no blank\n17.253.144.10 gs.apple.com\t# trailing\n"
    parsed = parse(write_encoded(tmp_path, "hosts", text))
    assert rows(parsed) == [(3, "generic", "nas.local"), (4, "hosts_entry", "gs.apple.com")]
    assert json.loads(parsed.events.get_column("detail")[1])["target"] == "apple"
    assert parsed.report.unrecognised == 0


def test_ipv6_and_several_names_per_line(tmp_path):
    text = "::1 localhost ip6-localhost\nfe80::1%lo0 localhost\n::ffff:127.0.0.1 mesu.apple.com setup.icloud.com Foo.ICLOUD.com.\n"
    parsed = parse(write_encoded(tmp_path, "hosts", text))
    assert rows(parsed) == [(1, "generic", "localhost"), (2, "generic", "localhost"), (3, "hosts_entry", "mesu.apple.com"),
                            (3, "hosts_entry", "setup.icloud.com"), (3, "hosts_entry", "foo.icloud.com")]
    targets = {json.loads(d)["target"] for d in parsed.events.filter(pl.col("kind") == "hosts_entry").get_column("detail")}
    assert targets == {"loopback"}
    assert json.loads(parsed.events.get_column("detail")[0]) == {"address": "::1", "names": "localhost ip6-localhost"}


def test_crlf_utf16_and_utf8_bom_are_read_and_the_encoding_noted(tmp_path):
    text = "# hosts\r\n127.0.0.1 gs.apple.com\r\n"
    for name, encoding, bom in (("u16", "utf-16-le", b"\xff\xfe"), ("bom", "utf-8", b"\xef\xbb\xbf")):
        parsed = parse(write_encoded(tmp_path, name, text, encoding=encoding, bom=bom))
        assert rows(parsed) == [(2, "hosts_entry", "gs.apple.com")], name
        assert "hosts_encoding" in [n.code for n in parsed.report.errors], name
    plain = parse(write_encoded(tmp_path, "plain", text))
    assert "hosts_encoding" not in [n.code for n in plain.report.errors]


def test_ansi_east_asian_comments_do_not_stop_the_entries(tmp_path):
    text = "# 本地域名解析文件，请勿删除这一行以下的内容\r\n127.0.0.1 localhost\r\n127.0.0.1 gs.apple.com\r\n"
    parsed = parse(write_encoded(tmp_path, "hosts", text, encoding="gbk"))
    assert parsed.report.format == "hosts_file"
    assert rows(parsed)[-1] == (3, "hosts_entry", "gs.apple.com")


def test_text_that_merely_holds_addresses_is_not_claimed(tmp_path):
    for text in ("Meeting notes\nthe server is 10.0.0.1 today\nping 8.8.8.8 worked\n",
                 "10.0.0.1 is down\n10.0.0.2 is up and running fine, says the admin (he is sure)\nno idea why\n",
                 "192.168.0.1\n192.168.0.2\n"):
        path = write_encoded(tmp_path, "notes.txt", text)
        assert "hosts_file" not in claimants(Input(path, "notes.txt")), text


def test_lines_of_no_shape_are_counted_and_located(tmp_path):
    text = "127.0.0.1 localhost\n127.0.0.1 gs.apple.com\n10.0.0.1 a\n10.0.0.2 b\n10.0.0.3 c\n10.0.0.4 d\n10.0.0.5 e\n" \
           "10.0.0.6 f\n10.0.0.7 g\n10.0.0.8 h\nnot an entry\n"
    parsed = parse(write_encoded(tmp_path, "hosts", text))
    assert parsed.report.format == "hosts_file" and parsed.report.unrecognised == 1
    assert [n.line for n in parsed.report.errors if n.code == "line_shape_unknown"] == [11]


def test_apple_names_and_targets():
    assert is_apple_host("GS.apple.com.") and is_apple_host("p12-caldav.icloud.com") and is_apple_host("apple.com")
    assert not is_apple_host("notapple.com") and not is_apple_host("apple.com.evil.net") and not is_apple_host(None)
    assert is_signing_host("gs.apple.com") and not is_signing_host("www.apple.com")
    assert [target_of(a) for a in ("127.0.0.2", "::", "17.1.2.3", "192.168.1.5", "8.8.8.8", "::ffff:127.0.0.1", "x")] == [
        "loopback", "unspecified", "apple", "private", "public", "loopback", "invalid"]


def test_grammar_fields():
    assert GRAMMAR.parse_reference("  74.208.105.171\tgs.apple.com  # cydia") == (
        "entry", None, {"address": "  74.208.105.171", "names": "\tgs.apple.com", "tail": "  # cydia"})
    assert GRAMMAR.match_shape("10:07:52 restore started") is None  # a time of day is no address


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#: .0123456789abcdefgsl%\t")), max_size=50))
def test_fast_path_agrees_with_reference_on_noise(line):
    assert_fast_path_agrees(GRAMMAR, [line, "127.0.0.1 " + line, "::1\t" + line, "# " + line])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=1500), encoding=st.sampled_from(["utf-8", "utf-16", "gbk", "cp1252"]))
def test_parser_never_raises_on_arbitrary_text(tmp_path_factory, body, encoding):
    path = tmp_path_factory.mktemp("hosts") / "hosts"
    path.write_bytes(("127.0.0.1 gs.apple.com\n" + body).encode(encoding, errors="replace"))
    parsed = SOURCE.parse(Input(path, "hosts"))
    assert parsed.report.events == parsed.events.height or parsed.report.events == 0
    assert set(parsed.events.get_column("kind").cast(pl.String).unique()) <= {"hosts_entry", "generic"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=1500))
def test_parser_never_raises_on_arbitrary_bytes(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("hosts") / "hosts"
    path.write_bytes(b"::1 localhost\r\n" + body)
    SOURCE.parse(Input(path, "hosts"))
    SOURCE.sniff(Input(path, "hosts"))
