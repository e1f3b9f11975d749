"""With ``--lang ja`` every note about the input reads in Japanese, wherever it is shown.

One run over inputs that produce many kinds of notes (a missing path, an empty file, text and
binary files nothing recognises, a setupapi log with lines of no known shape, damaged ``.evtx``
files from the real corpus, zips with bad members, text exports with stray lines, a local-time
log whose zone has to be assumed): the Files table of the terminal report, the HTML coverage
table, the JSON ``errors[].message`` and the CLI's notes on stderr carry no English sentence,
apart from parameters shown as written (an exception's text, a parser's name). The same check
finds English sentences in the ``--lang en`` run, so it can fail."""

from __future__ import annotations

import html
import json
import re
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import ExitCode, app
from analyzer.notes import is_part

from conftest import SAMPLES, require_corpus
from test_i18n import english_lines

runner = CliRunner()

#: Damaged files of the real corpus (its SOURCES.md): a bad chunk header, a record of data size 0.
DAMAGED_EVTX = ("evtxrs_broken_bad_chunk_magic.evtx", "evtxrs_broken_zero_data_size_event.evtx")


def _zip_with_bad_members(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("logs/readme.txt", "kept for the engineer who picks this up tomorrow morning\n")
        zf.writestr(zipfile.ZipInfo("../outside.log"), "x")
        link = zipfile.ZipInfo("link.log")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr(zipfile.ZipInfo("crc.log"), b"A" * 64)  # stored: its bytes are changed below
    raw = bytearray(path.read_bytes())
    at = raw.find(b"A" * 64)
    raw[at] = ord("B")  # the member's CRC no longer matches
    path.write_bytes(bytes(raw))


def _inputs(tmp_path: Path) -> list[Path]:
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "empty.log").write_bytes(b"")
    (pc / "todo.txt").write_text("call the customer back after the restore has finished\n", encoding="utf-8")
    (pc / "photo.bin").write_bytes(b"\x89\x00\x01\xfe" + bytes(range(256)) * 8)
    setupapi = (SAMPLES / "win_driver_install_failure" / "setupapi.dev.log").read_text(encoding="utf-8")
    lines = setupapi.splitlines()
    lines[3:3] = ["@@ this line has no shape that the grammar knows about @@"]
    alone = tmp_path / "pc2"  # a local-time log with nothing to learn its zone from
    alone.mkdir()
    (alone / "setupapi.dev.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    listing = (SAMPLES / "win_exports_en" / "System_Format-List.txt").read_text(encoding="utf-16")
    (pc / "System_Format-List.txt").write_text(listing + "a stray line with no property name in it\n",
                                               encoding="utf-16")
    wevtutil = (SAMPLES / "win_exports_en" / "System_wevtutil.txt").read_text(encoding="utf-8-sig")
    wevtutil = wevtutil.replace("  Event ID: 7045", "this header line lost its label somewhere\n  Event ID: x7045", 1)
    (pc / "System_wevtutil.txt").write_text(wevtutil, encoding="utf-8")
    _zip_with_bad_members(pc / "bundle.zip")
    (pc / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    windows = require_corpus() / "windows"
    return [pc, alone, tmp_path / "gone.log", *(windows / name for name in DAMAGED_EVTX)]


def _shown(params: dict) -> list[str]:
    """Every parameter as it can appear in a note's wording (parts are worded, so only their values)."""
    out = []
    for value in params.values():
        if is_part(value):
            out.extend(_shown(value["params"]))
        elif isinstance(value, str):
            out.extend([repr(value), value])
        elif value is not None:
            out.append(str(value))
    return out


def _strip(lines, doc: dict) -> list[str]:
    """``lines`` without what a note shows as written: its file (the location) and its parameters."""
    quoted = {f["path"] for f in doc["files"]}
    for f in doc["files"]:
        for e in f["errors"]:
            quoted.add(e["file"])
            quoted.update(_shown(e["params"]))
    quoted = sorted((q for q in quoted if q), key=len, reverse=True)
    out = []
    for line in lines:
        for q in quoted:
            line = line.replace(q, " ")
        out.append(line)
    return out


def _files_table_notes(text: str) -> list[str]:
    """The notes column of every row of the terminal's Files table (the last cell)."""
    start = re.search(r"^(Files read|読み込んだファイル)", text, flags=re.M).start()
    table = text[start:text.index("└", start)]
    return [line.split("│")[-2].strip() for line in table.splitlines() if line.startswith("│")]


def _coverage_notes(page: str) -> list[str]:
    """The notes cell of every row of the HTML coverage table, one note per line."""
    coverage = page[page.index('id="coverage"'):]
    coverage = coverage[:coverage.index("</table>")]
    cells = re.findall(r"<td>([^<]*(?:<br>[^<]*)*)</td></tr>", coverage)
    return [html.unescape(piece) for cell in cells for piece in cell.split("<br>") if piece]


def _run(inputs: list[Path], lang: str, tmp_path: Path) -> dict[str, list[str]]:
    """The note texts of every surface for one language, located and quoted parts stripped."""
    page = tmp_path / f"report-{lang}.html"
    shown = runner.invoke(app, [*map(str, inputs), "--layout", "host", "--lang", lang, "--html", str(page), "--details"],
                          env={"COLUMNS": "400"})
    as_json = runner.invoke(app, [*map(str, inputs), "--layout", "host", "--lang", lang, "--format", "json"],
                            env={"COLUMNS": "400"})  # stderr lines are not wrapped either
    assert shown.exit_code == as_json.exit_code == ExitCode.PARTIAL, shown.stderr
    doc = json.loads(as_json.stdout)
    stderr = [line.removeprefix("analyze: note: ") for line in as_json.stderr.splitlines()]
    assert stderr == [line.removeprefix("analyze: note: ") for line in shown.stderr.splitlines()]
    return {
        "json": _strip((e["message"] for f in doc["files"] for e in f["errors"]), doc),
        "terminal": _strip(_files_table_notes(shown.stdout), doc),
        "html": _strip(_coverage_notes(page.read_text(encoding="utf-8")), doc),
        "stderr": _strip(stderr, doc),
        "codes": sorted({e["code"] for f in doc["files"] for e in f["errors"]}),
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, list[str]]]:
    tmp_path = tmp_path_factory.mktemp("notes_lang")
    inputs = _inputs(tmp_path)
    try:
        return {lang: _run(inputs, lang, tmp_path) for lang in ("en", "ja")}
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_the_inputs_produce_many_kinds_of_notes(runs):
    expected = {"not_found", "empty_file", "unrecognised_text", "unrecognised_binary", "line_shape_unknown",
                "evtx_chunk_unreadable", "evtx_record_unreadable", "unsafe_member_name", "symlink_refused",
                "member_unreadable", "archive_unreadable", "not_format_list", "console_width_rejoined",
                "header_line_not_label", "record_skipped_event_id_not_number", "zone_assumed"}
    assert expected <= set(runs["ja"]["codes"]) and runs["ja"]["codes"] == runs["en"]["codes"]


@pytest.mark.parametrize("surface", ["json", "terminal", "html", "stderr"])
def test_no_note_is_an_english_sentence_in_japanese(runs, surface):
    japanese = runs["ja"][surface]
    assert japanese and english_lines(japanese) == []
    assert english_lines(runs["en"][surface]), "the check must see the English notes' sentences"


def test_json_errors_carry_code_params_and_the_message_in_the_runs_language(tmp_path):
    from analyzer import analyze
    from analyzer.model import Note
    from analyzer.report.i18n import Catalogue
    from analyzer.report.json_doc import document

    (tmp_path / "empty.log").write_bytes(b"")
    analysis = analyze([tmp_path], layout="host")
    for lang, message in (("en", "empty file"), ("ja", "空のファイル")):
        (f,) = document(analysis, lang)["files"]
        assert f["errors"] == [{"file": str(tmp_path / "empty.log"), "code": "empty_file", "params": {},
                                "message": message, "severity": "warning"}]
    note = Note("System.evtx", "evtx_record_unreadable", {"gap": {"code": "no_record_around", "params": {}},
                                                          "error": "boom"}, record=7)
    assert Catalogue("en").note_location(note) == note.location() == "System.evtx record 7"
    assert Catalogue("ja").note_location(note) == "System.evtx レコード 7"
    assert Catalogue("ja").note(note) == "読み込めないレコードをスキップしました（前後に読み込めたレコードがありません）: boom"
