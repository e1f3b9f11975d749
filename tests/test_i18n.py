"""Every user-facing string comes from the catalogue of the chosen language.

The catalogues carry the same keys and placeholders; with ``--lang ja`` no English sentence is
left in the terminal report or the HTML page (identifiers, paths and log text excepted: those
are the evidence, shown as written)."""

from __future__ import annotations

import json
import re
import string
from html.parser import HTMLParser
from io import StringIO

import pytest
from rich.console import Console

from analyzer import analyze
from analyzer.report.html import render_html
from analyzer.report.i18n import LANGS, Catalogue
from analyzer.report.terminal import render
from analyzer.rules import default_rules

from conftest import SAMPLES


def _flatten(node, prefix="") -> dict[str, str]:
    out = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    en, ja = (_flatten(Catalogue(lang).messages) for lang in ("en", "ja"))
    assert set(en) == set(ja)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(ja[key]), key
        assert ja[key].strip(), key


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        Catalogue("fr")


@pytest.mark.parametrize("rule", default_rules(), ids=lambda r: r.id)
def test_every_rule_title_reads_in_every_language(rule):
    for lang in LANGS:
        assert Catalogue(lang).rule_title(rule.id) == rule.title[lang]


#: An English sentence: six or more words of Latin letters in a row (identifiers have underscores,
#: paths slashes or dots, so they do not count as words).
ENGLISH = re.compile(r"(?:(?<![\w./\\-])[A-Za-z][a-z'’]*,?(?![\w./\\-])[ ]+){5,}[A-Za-z][a-z'’]*")
#: A line that quotes evidence: it carries a time stamp or a file location.
EVIDENCE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\b\d{1,2}:\d{2}:\d{2}\b|[\w.-]+\.(?:log|txt|xml|evtx|csv)\b")


def english_lines(lines) -> list[str]:
    return [line for line in lines if ENGLISH.search(line) and not EVIDENCE.search(line)]


def test_the_english_detector_finds_english_and_spares_evidence():
    assert english_lines(["only the error code points here; no log evidence for it"])
    assert not english_lines(["  2025-02-15T00:03:21.882Z  iTunes_restore.log:74  RestoreOS mode device was disconnected now"])
    assert not english_lines(["エラー番号だけが示す候補で、ログに根拠はありません", "usb_connection (0.75)"])


@pytest.mark.parametrize("bundle", ["restore_4013_usb_drop", "pc_b2_amds_crash", "pc_k11_decoy_disconnect",
                                    "pc_c3_recovery_driver_jst"])
def test_japanese_terminal_verdicts_have_no_english_sentence(bundle):
    analysis = analyze([SAMPLES / bundle], layout="host")
    out = StringIO()
    render(analysis, Console(file=out, width=200, color_system=None), lang="ja")
    text = out.getvalue()
    assert "判定" in text
    panels = re.findall(r"╭.*?╰", text, flags=re.S)
    assert panels
    leftovers = english_lines(line.strip("│ ") for panel in panels for line in panel.splitlines())
    assert leftovers == []
    out = StringIO()
    render(analysis, Console(file=out, width=200, color_system=None), lang="en")
    assert english_lines(out.getvalue().splitlines()), "the detector must see the English report's sentences"


class _Text(HTMLParser):
    """The page's visible text outside log text (``msg`` cells) and chart tooltips."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.lines: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "wbr", "meta", "link", "input", "polygon", "circle", "rect", "line", "path"):
            return
        classes = dict(attrs).get("class") or ""
        skip = tag in ("title", "style") or "msg" in classes.split()
        self.stack.append((tag, skip or bool(self.stack and self.stack[-1][1])))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if data.strip() and not (self.stack and self.stack[-1][1]):
            self.lines.append(data.strip())


@pytest.mark.parametrize("bundle", ["restore_4013_usb_drop", "pc_e5_usbmux_blocked", "pc_k11_decoy_disconnect"])
def test_japanese_html_has_no_english_sentence(bundle):
    analysis = analyze([SAMPLES / bundle], layout="host")
    parser, english = _Text(), _Text()
    parser.feed(render_html(analysis, lang="ja"))
    english.feed(render_html(analysis, lang="en"))
    assert "判定" in " ".join(parser.lines)
    assert english_lines(parser.lines) == []
    assert english_lines(english.lines), "the detector must see the English page's sentences"


def test_sentences_beside_the_reports_follow_lang(tmp_path):
    """The Timesketch verdict events, the note about events left out of Timesketch and the CLI's
    "nothing could be read" line are worded from the catalogue too (English as it always was)."""
    from typer.testing import CliRunner

    from analyzer.cli import ExitCode, app
    from analyzer.report.outputs import Outputs, write_all
    from analyzer.report.timesketch import to_jsonl

    from _report_data import synthetic_analysis

    analysis = synthetic_analysis()
    (inc,) = analysis.incidents
    verdicts = {lang: [json.loads(line)["message"] for line in to_jsonl(analysis, lang)[0].splitlines()
                       if '"analyzer:verdict"' in line] for lang in LANGS}
    assert verdicts["en"] == [f"{inc.host}: restore error {inc.error_code} -> {inc.cause} (confidence {inc.confidence:.2f})"]
    assert "復元エラー" in verdicts["ja"][0] and inc.cause in verdicts["ja"][0]
    sketch = tmp_path / "sketch.jsonl"
    notes = {lang: write_all(analysis, Outputs(timesketch=sketch), lang=lang) for lang in LANGS}
    assert notes["en"] == [f"--timesketch {sketch}: 1 event(s) without a UTC time left out (Timesketch needs one)"]
    assert english_lines([n.replace(str(sketch), "") for n in notes["ja"]]) == [] and "1 件" in notes["ja"][0]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    result = CliRunner().invoke(app, [str(tmp_path / "in"), "--lang", "ja"])
    assert result.exit_code == ExitCode.NO_INPUT
    assert result.stderr.splitlines()[-1] == "analyze: 復元ログや Windows のログとして読み込めた入力がありません"
