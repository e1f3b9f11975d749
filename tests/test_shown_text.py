"""Input text is shown, never obeyed: control characters (ESC, BEL, backspace) and bidi overrides from a
log line or a file name appear as their escapes in the terminal report (with or without colour) and
the HTML page, rich markup in them is printed as written, and the JSON document keeps them as JSON
escapes them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from rich.console import Console
from typer.testing import CliRunner

from analyzer import analyze
from analyzer import walk
from analyzer.cli import app
from analyzer.report.html import render_html
from analyzer.report.safe import UNSAFE, shown
from analyzer.report.terminal import render

from conftest import SAMPLES

HOSTILE_LINE = "The device was disconnected \x1b]0;pwned\x07 [bold]x[/bold] \u202eevil\bover"
HOSTILE_NAME = "x[link=file:evil]y\x1b[31m\u202egol.log"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    pc = tmp_path_factory.mktemp("hostile") / "pc"
    pc.mkdir()
    log = (SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log").read_text(encoding="utf-8")
    assert "The device was disconnected during the restore." in log
    (pc / HOSTILE_NAME).write_text(log.replace("The device was disconnected during the restore.", HOSTILE_LINE),
                                   encoding="utf-8", newline="")
    (pc / "notes\x07.txt").write_text("hello [bold]world[/bold]\n", encoding="utf-8")
    return pc


def _assert_shown(text: str) -> None:
    for raw in ("\x1b]0;pwned", "\x07", "\u202e", "y\x1b[31m", "\x08"):
        assert raw not in text, repr(raw)
    assert "\\x1b]0;pwned\\x07 [bold]x[/bold] \\u202eevil\\x08over" in text
    assert "x[link=file:evil]y\\x1b[31m\\u202egol.log" in text
    assert "notes\\x07.txt" in text


@pytest.mark.parametrize("colour", [False, True])
def test_terminal_shows_control_characters_and_markup_as_written(hostile, colour):
    out = io.StringIO()
    console = Console(file=out, width=400, force_terminal=colour, color_system="truecolor" if colour else None)
    render(analyze([hostile]), console, details=True)
    _assert_shown(out.getvalue())


def test_html_shows_control_characters_as_escapes(hostile):
    page = render_html(analyze([hostile]))
    _assert_shown(page)


def test_json_keeps_the_text_as_written_and_stderr_shows_it(hostile):
    result = CliRunner().invoke(app, [str(hostile), "--format", "json"])
    assert "\x1b" not in result.stdout and "\\u001b]0;pwned\\u0007" in result.stdout  # JSON's own escapes
    doc = json.loads(result.stdout)
    # the walk shows a name holding control characters escaped in every output, JSON included
    # (analyzer.walk.shown); the log's own text keeps them, JSON-escaped
    assert any(walk.shown(HOSTILE_NAME) in f["path"] for f in doc["files"])
    assert "\x07" not in result.stderr and "notes\\x07.txt" in result.stderr


@settings(deadline=None)
@given(st.text())
def test_shown_leaves_no_unsafe_character_and_changes_nothing_else(text):
    out = shown(text)
    assert not UNSAFE.search(out)
    if not UNSAFE.search(text):
        assert out == text
