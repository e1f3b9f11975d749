"""Pasted logs: a margin on every line (quote, list mark, indent, relay prefix, line-number gutter,
table pipe) is found, removed line for line before sniffing and parsing, and reported; nothing of
the log is lost and line numbers keep pointing into the file as it was given."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.ingest import parse_file
from analyzer.paste import Margin, detect, strip

from conftest import SAMPLES, require_corpus

RESTORE = SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log"
SETUPAPI = SAMPLES / "win_driver_install_failure" / "setupapi.dev.log"


def wrap(text: str, before, after: str = "") -> str:
    lines = text.splitlines()
    return "\n".join(before(i, line) + line + after for i, line in enumerate(lines, 1)) + "\n"


MARGINS = {
    "mail quote": lambda i, line: "> ",
    "pastebin list": lambda i, line: "- ",
    "document indent": lambda i, line: "    ",
    "tab indent": lambda i, line: "\t",
    "relay prefix": lambda i, line: "AppleDriverTool:debug [syslog] ",
    "line-number gutter": lambda i, line: f"{i:>4} | ",
    "table row": lambda i, line: "| ",
}


def events_of(path) -> pl.DataFrame:
    return parse_file(path).events.drop("file")


@pytest.mark.parametrize("name", MARGINS)
@pytest.mark.parametrize("log", [RESTORE, SETUPAPI], ids=["restore", "setupapi"])
def test_a_pasted_log_reads_like_the_log_and_says_what_was_removed(tmp_path, name, log):
    original = log.read_text(encoding="utf-8")
    suffix = " |" if name == "table row" else ""
    pasted = tmp_path / "ticket.txt"
    pasted.write_text(wrap(original, MARGINS[name], suffix), encoding="utf-8")
    want, got = parse_file(log), parse_file(pasted)
    assert got.report.format == want.report.format
    assert (got.report.records, got.report.unrecognised) == (want.report.records, want.report.unrecognised)
    # lossless: the same events at the same line numbers, each line being the margin + the log's line
    assert got.events.drop("file").equals(want.events.drop("file"))
    given_lines = pasted.read_text(encoding="utf-8").splitlines()
    log_lines = original.splitlines()
    for number in got.events.get_column("line").drop_nulls().unique().to_list():
        line = given_lines[number - 1]
        assert line.startswith(MARGINS[name](number, "")) and line.endswith(suffix)
        assert line[len(MARGINS[name](number, "")):len(line) - len(suffix)] == log_lines[number - 1]
    (note,) = [n for n in got.report.errors if n.code == "margin_removed"]
    assert note.severity == "info" and got.report.margin is not None
    assert got.report.margin["gutter"] == (name == "line-number gutter")


def test_a_mail_intro_without_the_quote_mark_is_read_as_it_is_and_located(tmp_path):
    pasted = tmp_path / "mail.txt"
    body = wrap(RESTORE.read_text(encoding="utf-8"), lambda i, line: "> ")
    pasted.write_text("On Fri, 14 Feb 2025, Kenji wrote:\n" + body, encoding="utf-8")
    parsed = parse_file(pasted)
    assert parsed.report.format == "apple_restore" and parsed.report.margin["prefix"] == "> "
    (lacking,) = [n for n in parsed.report.errors if n.code == "margin_lacking"]
    assert lacking.params == {"count": 1} and lacking.line == 1
    assert parsed.report.unrecognised == 1  # the intro line itself, counted and located
    want = parse_file(RESTORE).events
    assert parsed.events.get_column("line").to_list() == [n + 1 for n in want.get_column("line").to_list()]


def test_a_log_whose_lines_share_their_own_start_keeps_it():
    """A restore log's lines all begin with the same date: that is the log, not a margin."""
    parsed = parse_file(RESTORE)
    assert parsed.report.margin is None and not any(n.code == "margin_removed" for n in parsed.report.errors)


def test_setupapi_section_marks_are_not_a_quote(tmp_path):
    """``>>>`` opens setupapi sections: a file of section headers alone keeps them."""
    text = (">>>  [Device Install (Hardware initiated) - USB\\VID_05AC&PID_12A8\\00008101000A3D5C0E9B001E]\n"
            ">>>  Section start 2025/02/14 23:51:04.311\n")
    path = tmp_path / "setupapi.dev.log"
    path.write_text(text, encoding="utf-8")
    assert detect(text) is not None  # the marks look like a quote ...
    parsed = parse_file(path)
    assert parsed.report.format == "windows_setupapi" and parsed.report.margin is None  # ... but stay


def test_the_indented_firewall_log_of_the_documentation_is_read_whole():
    """Microsoft's documentation shows pfirewall.log indented by four spaces (corpus)."""
    parsed = parse_file(require_corpus() / "windows-text" / "04_pfirewall_azure_stack_edge_docs_sample.txt")
    assert parsed.report.format == "windows_firewall" and parsed.report.margin == Margin(prefix="    ").describe()
    assert (parsed.report.records, parsed.report.unrecognised, parsed.report.events) == (19, 0, 14)
    first = parsed.events.sort("line").row(0, named=True)
    assert (first["line"], first["ts_raw"], first["kind"]) == (6, "2019-11-06 12:35:19", "firewall_block")


@pytest.mark.parametrize("text, margin", [
    ("> a b\n> c d\n>\n> e f\n", Margin(prefix="> ")),
    ("   1: a\n   2: b\n   3: c\n", Margin(gutter=True)),
    ("a | |\nb | |\nc | |\n", Margin(suffix=True)),
    ("tool:info x\ntool:info y\n", Margin(prefix="tool:info ", decorative=False)),
    ("alpha\nbeta\n", None),
    ("  indented\nnot indented\n", None),
])
def test_margins_found_in_small_texts(text, margin):
    assert detect(text) == margin


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_detecting_and_removing_a_margin_never_raises_and_keeps_every_line(text):
    margin = detect(text)
    if margin is not None:
        out, lacking = strip(text, margin)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        assert out.count("\n") == len(lines) - 1
        assert all(1 <= n <= len(lines) for n in lacking)
