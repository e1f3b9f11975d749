"""The terminal report a person reads: the verdict in words first, never a bare id in it; an
undetermined verdict never reads as sure; nothing read never reads as "no failed restore"; a fleet
report that is short and ends with its answer; input text shown, never obeyed."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from analyzer import analyze
from analyzer.cli import app
from analyzer.report.i18n import Catalogue
from analyzer.report.json_doc import incident_dict
from analyzer.report.verdict_words import BANDS, band, event_words, reasons, verdict_panel
from analyzer.rules import CAUSE_IDS, rule_by_id

from conftest import SAMPLES

runner = CliRunner()
IDS = sorted(set(CAUSE_IDS) | set(rule_by_id()), key=len, reverse=True)


def _text(renderable, width: int = 120) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(renderable)
    return out.getvalue()


def _body(panel_text: str) -> str:
    """The panel without its title line (the title names the PC, whose folder name may hold anything)."""
    return "\n".join(panel_text.splitlines()[1:])


@pytest.fixture(scope="module")
def samples():
    return analyze([SAMPLES])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_verdict_line_names_the_cause_in_words_and_no_id_appears_in_the_verdict(samples, lang):
    cat = Catalogue(lang)
    assert samples.incidents
    for incident in samples.incidents:
        body = _body(_text(verdict_panel(incident_dict(incident, cat), cat)))
        first = body.splitlines()[0]
        if incident.cause == "undetermined":
            assert cat["words.cause_undetermined"].split(" — ")[0] in first
        else:
            assert f"{cat['words.most_likely']}: {cat.cause(incident.cause)}" in " ".join(
                line.strip("│ ") for line in body.splitlines()[:2]), incident.host
        for ident in IDS:
            assert not re.search(rf"(?<![\w.-]){re.escape(ident)}(?![\w.-])", body), (incident.host, ident)


def test_confidence_is_a_word_beside_its_number_and_undetermined_is_never_sure(samples):
    cat = Catalogue("en")
    assert [band(c, cat) for c in (0.95, 0.75, 0.5, 0.1)] == ["very likely", "fairly sure", "possible, not certain",
                                                              "a weak lead"]
    assert [floor for floor, _ in BANDS] == sorted((floor for floor, _ in BANDS), reverse=True)
    undetermined = [i for i in samples.incidents if i.cause == "undetermined"]
    assert undetermined
    for incident in undetermined:
        first = _body(_text(verdict_panel(incident_dict(incident, cat), cat))).splitlines()[0]
        assert not any(band(c, cat) in first for c in (0.95, 0.75, 0.5))
        assert f"{incident.confidence:.2f}" not in first


def test_the_evidence_is_two_to_four_lines_in_words_with_source_and_line(samples):
    cat = Catalogue("en")
    for incident in samples.incidents:
        if incident.cause == "undetermined" or not incident.rules:
            continue
        lines = reasons(incident_dict(incident, cat), cat)
        assert 1 <= len(lines) <= 4, incident.host
        assert all(re.search(r" — \S+(:\d+| #\d+)", line) for line in lines), lines
    a1 = next(i for i in samples.incidents if i.host == "pc_a1_usb_surprise_removal")
    assert reasons(incident_dict(a1, cat), cat) == [
        "The device dropped off USB outside a mode transition — iTunes_restore.log:63",
        "Windows saw the Apple device surprise-removed at a moment no mode change explains — "
        "DriverFrameworks-UserMode_Operational.xml:16",
        "The restore ended with error 4013 — iTunes_restore.log:73"]


def test_windows_rows_are_told_in_words():
    cat = Catalogue("en")
    row = {"kind": "device_disconnect", "format": "windows_evtx", "attempt": None, "error_code": 23, "subject": "USB"}
    assert event_words(row, cat) == "Windows saw the Apple device removed without warning"
    stopped = {"kind": "service_state", "format": "windows_event_xml", "attempt": None, "error_code": 1,
               "subject": "Apple Mobile Device Service"}
    assert event_words(stopped, cat) == "Apple Mobile Device Service stopped"
    assert event_words({**stopped, "format": "apple_restore", "attempt": 1}, cat) is None
    assert event_words(stopped, Catalogue("ja")) == "Apple Mobile Device Service が停止"


def test_single_pc_prints_the_verdict_before_anything_else_and_detail_only_on_request():
    out = runner.invoke(app, [str(SAMPLES / "pc_a1_usb_surprise_removal")], env={"COLUMNS": "120"}).stdout
    first = next(line for line in out.splitlines() if "cause" in line.lower())
    assert "USB connection (cable, port or hub) — fairly sure (0.75)" in first
    assert out.index("Most likely cause") < out.index("Files read")
    assert "Timeline:" not in out and "Clocks" not in out
    detailed = runner.invoke(app, [str(SAMPLES / "pc_a1_usb_surprise_removal"), "--details"],
                             env={"COLUMNS": "120"}).stdout
    assert detailed.index("Most likely cause") < detailed.index("Timeline:")
    assert "removed without warning" in detailed  # the Windows rows in words, not "…UserMode 2100"


def _nothing_cases(tmp: Path) -> dict[str, list[str]]:
    (tmp / "empty").mkdir()
    (tmp / "binary").mkdir()
    (tmp / "binary" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    (tmp / "unrelated").mkdir()
    (tmp / "unrelated" / "notes.txt").write_text("called the customer back at 3pm\n", encoding="utf-8")
    (tmp / "unrelated" / "todo.md").write_text("# todo\n- buy cables\n", encoding="utf-8")
    windows = tmp / "windows_only"
    shutil.copytree(SAMPLES / "win_amds_crash", windows)
    return {"missing": [str(tmp / "no_such_folder")], "empty": [str(tmp / "empty")],
            "binary": [str(tmp / "binary")], "unrelated": [str(tmp / "unrelated")],
            "windows_only": [str(windows)]}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_nothing_read_never_says_no_failed_restore_and_says_what_to_collect(tmp_path, lang):
    cat = Catalogue(lang)
    for case, args in _nothing_cases(tmp_path).items():
        out = runner.invoke(app, [*args, "--lang", lang], env={"COLUMNS": "200"}).stdout
        assert cat["terminal.no_incident"] not in out and "No failed" not in out, case
        assert cat["words.nothing_title"] in out and cat["words.collect_restore_log"][:20] in out, case
        assert cat.text("words.given", n=len(list(Path(args[0]).glob("*"))) if Path(args[0]).is_dir() else 1,
                        names="")[:8] in out, case
    windows = runner.invoke(app, [str(tmp_path / "windows_only")], env={"COLUMNS": "200"}).stdout
    if lang == "en":
        assert "Apple Mobile Device Service crashed" in windows


def test_a_restore_log_with_only_successes_says_so():
    out = runner.invoke(app, [str(SAMPLES / "restore_success")], env={"COLUMNS": "120"}).stdout
    assert "No failed restore, update or backup found: the logs read hold 1 attempt(s): 1 succeeded." in out


def test_the_default_fleet_report_is_short_has_one_line_per_pc_and_ends_with_its_answer():
    pcs = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())
    out = runner.invoke(app, [str(SAMPLES)], env={"COLUMNS": "160"}).stdout
    lines = out.splitlines()
    assert len(lines) <= 4 * len(pcs)
    assert "Verdict —" not in out and "Timeline:" not in out and "Files read" not in out
    table = out[:out.index("Causes")]
    assert all(f"│ {pc}" in table for pc in pcs)
    summary = out[out.rindex("Summary"):]
    assert re.search(rf"^{len(pcs)} PCs: \d+ with a failed restore, update or backup", summary.splitlines()[1])
    assert "Most common causes: USB connection (cable, port or hub) on" in " ".join(summary.split())


def test_host_gives_one_pcs_full_report_before_the_fleet_summary():
    out = runner.invoke(app, [str(SAMPLES), "--host", "pc_a1_usb_surprise_removal"], env={"COLUMNS": "160"}).stdout
    assert out.index("Most likely cause: USB connection") < out.index("Timeline:") < out.index("Summary")
    assert out.count("Verdict —") == 1


def test_version_and_help_speak_to_a_person():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and re.fullmatch(r"analyze \d+\.\d+\.\d+\n", result.stdout)
    help_text = runner.invoke(app, ["--help"], prog_name="analyze", env={"COLUMNS": "100"}).stdout
    assert "Usage: analyze [OPTIONS] PATH..." in help_text
    assert not re.search(r"<list\[|\{paths\}|<str>|<path>", help_text)


@pytest.mark.parametrize("width", [80, 100])
def test_a_narrow_timeline_gives_the_event_most_of_the_line(width):
    """Below 120 columns the kind and source go under the event: the event column keeps most of the
    width, so a log line's words are not broken mid-token."""
    out = io.StringIO()
    from analyzer.report.terminal import render
    render(analyze([SAMPLES / "restore_4013_usb_drop"]), Console(file=out, width=width), details=True)
    text = out.getvalue()
    header = next(line for line in text.splitlines() if line.startswith("┃ UTC"))
    cells = header.strip("┃").split("┃")
    assert len(cells) == 2 and len(cells[1]) >= width - 20
    assert "Changing state from 'Idle' to 'Restoring'" in text  # one line, unbroken


def test_a_fleet_line_says_when_a_verdict_rests_on_the_restore_log_alone(tmp_path):
    """Issue 16's per-PC coverage in the fleet view: a PC that handed over only its restore log."""
    for name in ("pc1", "pc2"):
        (tmp_path / name).mkdir()
        shutil.copy(SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log", tmp_path / name)
    shutil.copytree(SAMPLES / "pc_a1_usb_surprise_removal", tmp_path / "pc3")
    out = io.StringIO()
    from analyzer.report.terminal import render
    render(analyze([tmp_path]), Console(file=out, width=200))
    lines = {line.split("│")[1].strip(): line for line in out.getvalue().splitlines() if line.startswith("│ pc")}
    assert "restore log alone, no event logs" in lines["pc1"]  # a log alone does not say which OS it came from
    assert "restore log alone" not in lines["pc3"]  # it handed over its event logs too
