"""The command line: JSON document fields, named exit codes, stdout for data and stderr for talk."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import ExitCode, app
from analyzer.report.console import PIPE_WIDTH, stdout_console
from analyzer.report.i18n import Catalogue
from analyzer.diagnose import REASONS
from analyzer.rules import CAUSE_IDS

from conftest import ROOT, SAMPLES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def doc_of(*args: str) -> tuple[dict, object]:
    result = run(*args, "--format", "json")
    return json.loads(result.stdout), result


def test_json_document_has_the_documented_fields():
    doc, result = doc_of(SAMPLES / "restore_4013_usb_drop")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert doc["version"] == "1.2"
    assert set(doc) >= {"version", "files", "incidents", "attempts", "summary", "hosts"}
    for f in doc["files"]:
        assert set(f) >= {"path", "format", "records", "skipped", "errors"}
    (incident,) = doc["incidents"]
    assert set(incident) >= {"host", "error_code", "failed_at", "cause", "alternatives", "evidence", "remedy",
                             "operation", "reported", "what"}
    assert incident["operation"] == "restore" and incident["reported"] is False
    assert incident["error_code"] == 4013
    assert incident["cause"]["id"] in CAUSE_IDS and 0 <= incident["cause"]["confidence"] <= 1
    assert incident["failed_at"].endswith("Z")
    for alt in incident["alternatives"]:
        assert set(alt) == {"id", "confidence", "why_not", "reason"} and alt["id"] in CAUSE_IDS
        assert alt["reason"]["code"] in REASONS and alt["why_not"]
    for e in incident["evidence"]:
        assert set(e) >= {"file", "ts", "kind", "text"} and ("line" in e or "record" in e)


def test_successful_restore_exits_ok_with_no_incident():
    doc, result = doc_of(SAMPLES / "restore_success")
    assert result.exit_code == ExitCode.OK
    assert doc["incidents"] == [] and [a["outcome"] for a in doc["attempts"]] == ["succeeded"]


def test_unrecognised_file_is_listed_and_exit_is_partial(tmp_path: Path):
    bundle = tmp_path / "pc"
    shutil.copytree(SAMPLES / "restore_success", bundle)
    (bundle / "notes.txt").write_text("called the customer back at 3pm\n", encoding="utf-8")
    doc, result = doc_of(bundle)
    assert result.exit_code == ExitCode.PARTIAL
    unrecognised = [f for f in doc["files"] if f["format"] is None]
    assert [Path(f["path"]).name for f in unrecognised] == ["notes.txt"]
    assert unrecognised[0]["errors"][0]["message"].startswith("not a recognised log format")
    assert "notes.txt" in result.stderr


def test_nothing_recognised_exits_no_input(tmp_path: Path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    result = run(tmp_path)
    assert result.exit_code == ExitCode.NO_INPUT
    assert "no input could be read" in result.stderr


@pytest.mark.parametrize("args", [["--tz", "Mars/Olympus"], ["--format", "yaml"], []])
def test_usage_errors_exit_2(args):
    target = [str(SAMPLES / "restore_success")] if args else []
    assert run(*args, *target).exit_code == ExitCode.USAGE


def test_fail_on_incident_is_opt_in():
    assert run(SAMPLES / "restore_4013_usb_drop").exit_code == ExitCode.OK
    assert run(SAMPLES / "restore_4013_usb_drop", "--fail-on-incident").exit_code == ExitCode.INCIDENT


def test_terminal_report_shows_the_verdict_first_and_the_timeline_with_details_without_ansi_when_piped():
    out = run(SAMPLES / "restore_4013_usb_drop").stdout
    assert "\x1b[" not in out
    assert out.index("Verdict") < out.index("Files read")
    assert "Most likely cause: USB connection (cable, port or hub) — fairly sure (0.75)" in out
    assert "usb_connection" not in out and "Timeline:" not in out and "--details" in out
    detailed = run(SAMPLES / "restore_4013_usb_drop", "--details").stdout
    assert detailed.index("Verdict") < detailed.index("Files read") < detailed.index("Timeline")
    assert "UNEXPECTED" in detailed


def test_piped_report_is_wide_and_names_files_inside_the_pcs_folder():
    folder = SAMPLES / "win_exports_ja"
    out = runner.invoke(app, [str(folder)], env={"COLUMNS": ""}).stdout
    lines = out.splitlines()
    assert max(map(len, lines)) == PIPE_WIDTH  # not folded to 80 columns in a file or a pipe
    assert f"Files read: {folder}" in out
    doc, _ = doc_of(folder)
    for f in doc["files"]:
        name = Path(f["path"]).name
        row = next(line for line in lines if f"│ {name} " in line)  # the bare name, whole, on one line
        cells = [c.strip() for c in row.split("│")]
        assert cells[2:6] == [f["format"], str(f["records"]), str(f["events"]), str(f["skipped"])]


def test_an_80_column_report_keeps_every_table_whole_and_names_every_verdict_in_words():
    out = runner.invoke(app, [str(SAMPLES), "--details"], env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert max(map(len, lines)) == 80
    table_rows = [line for line in lines if line and line[0] in "┏┃┡│└"]
    assert table_rows and all(line.rstrip()[-1] in "┓┃┩│┘" for line in table_rows)  # no table cut at the edge
    doc, _ = doc_of(SAMPLES)
    table = out[out.rindex("Fleet:"):out.rindex("Causes")].splitlines()
    verdicts = " ".join(line.split("│")[2].strip() for line in table if line.startswith("│"))
    words = Catalogue("en")
    for host in doc["fleet"]["hosts"]:
        if host["verdict"] not in ("undetermined", "ok", "no_outcome", "no_restore_log", "no_input"):
            # the cause in words, wrapped between words, never its bare id
            assert words.cause(host["verdict"]) in verdicts and host["verdict"] not in verdicts
    counts = next(f for f in doc["files"] if f["records"] and f["format"])
    assert f"{counts['records']} / {counts['events']} / {counts['skipped']} / {counts['unrecognised']}" in out


def test_stdout_console_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert stdout_console().width == 100
    monkeypatch.delenv("COLUMNS")
    assert stdout_console().width == PIPE_WIDTH  # pytest captures stdout: not a terminal
    monkeypatch.setenv("COLUMNS", "wide")
    assert stdout_console().width == PIPE_WIDTH


def test_japanese_remedies():
    doc, _ = doc_of(SAMPLES / "restore_4013_usb_drop", "--lang", "ja")
    assert "ケーブル" in doc["incidents"][0]["remedy"][0]


def test_console_script_help_lists_exit_codes():
    exe = shutil.which("analyze")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "analyzer", "--help"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0
    assert "Exit codes" in proc.stdout and "partial input" in proc.stdout


def test_windows_corpus_lists_every_file_and_shows_the_iphone_on_the_timeline(windows_corpus):
    files = sorted(p.name for p in windows_corpus.iterdir() if p.is_file())
    doc, result = doc_of(windows_corpus)
    assert result.exit_code == ExitCode.PARTIAL  # SOURCES.md is not a log; two evtx files have damaged chunks
    listed = {Path(f["path"]).name: f for f in doc["files"]}
    assert sorted(listed) == files
    assert [n for n, f in listed.items() if f["format"] is None] == ["SOURCES.md"]
    assert all(f["records"] > 0 for n, f in listed.items() if n != "SOURCES.md")
    assert listed["iphone-pc_DriverFrameworks-UserMode_Operational.evtx"]["records"] == 1593
    # 2 chunks the parser cannot read; of the records carved from them, 82 do not render
    assert listed["evtxrs_broken_bad_chunk_magic.evtx"]["skipped"] == 2 + 82
    assert listed["evtxrs_broken_bad_chunk_magic.evtx"]["records"] == 270 + 81

    out = runner.invoke(app, [str(windows_corpus), "--details"], env={"COLUMNS": "200"}).stdout
    section = out[out.index("Apple device activity"):]
    for stamp, kind in [("2023-01-14 18:18:52.410", "device_connect"), ("2023-01-14 19:23:00.736", "device_disconnect"),
                        ("2023-01-15 19:29:49.410", "device_connect"), ("2023-01-15 20:01:14.956", "device_disconnect")]:
        row = next(line for line in section.splitlines() if stamp in line)
        assert kind in row
    assert section.count("removed without warning") == 4


def test_terminal_report_states_each_files_clock_and_skew():
    out = runner.invoke(app, [str(SAMPLES / "pc_c3_recovery_driver_jst"), "--details"], env={"COLUMNS": "220"}).stdout
    section = out[out.index("Clocks"):]
    setup = next(line for line in section.splitlines() if "setupapi.dev.log" in line)
    assert "+09:00" in setup and "aligned 5 events" in setup and "System_wevtutil.xml -1.151" in setup
    restore = next(line for line in section.splitlines() if "iTunes_restore.log" in line)
    assert "brackets UTC" in restore and "header vs its UTC bracket clock" in restore


def test_samples_folder_is_a_fleet_of_one_pc_per_subfolder(tmp_path: Path):
    doc, _ = doc_of(SAMPLES)
    bundles = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())
    assert doc["hosts"] == bundles
    # a README or notes file beside the PCs is listed, and does not turn the fleet into one PC
    fleet = tmp_path / "fleet"
    for name in ("restore_success", "restore_4013_usb_drop"):
        shutil.copytree(SAMPLES / name, fleet / name)
    (fleet / "README.txt").write_text("ticket 4471: two PCs from the Osaka office\n", encoding="utf-8")
    doc, result = doc_of(fleet)
    assert doc["hosts"] == ["fleet", "restore_4013_usb_drop", "restore_success"]
    assert [f["format"] for f in doc["files"] if f["path"].endswith("README.txt")] == [None]
    assert result.exit_code == ExitCode.PARTIAL


def test_a_bad_zip_limit_in_the_environment_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("ANALYZER_ZIP_MAX_BYTES", "2GB")
    result = run(SAMPLES / "restore_success")
    assert result.exit_code == ExitCode.USAGE
    assert "ANALYZER_ZIP_MAX_BYTES must be a whole number of bytes above 0, got '2GB'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args, env, message", [
    (["--tz", "Mars/Olympus"], {}, "--tz must be an IANA zone name like Asia/Tokyo, UTC, or an offset of at most 14 "
                                   "hours like +09:00 or -0530, got 'Mars/Olympus'"),
    ([], {"ANALYZER_ZIP_MAX_BYTES": "2GB"}, "ANALYZER_ZIP_MAX_BYTES must be a whole number of bytes above 0, got '2GB'"),
    ([], {"ANALYZER_ZIP_MAX_RATIO": "nan"}, "ANALYZER_ZIP_MAX_RATIO must be a number above 0, got 'nan'"),
    (["--executor", "nope"], {}, "--executor must be one of local, ray, got 'nope'"),
    (["--jobs", "0"], {}, "--jobs must be a whole number, 1 or more, got 0"),
    (["--layout", "x"], {}, "--layout must be one of auto, host, fleet, got 'x'"),
    (["--lang", "xx"], {}, "--lang must be one of en, ja, got 'xx'"),
    (["--ray-address", "ray://head:10001"], {}, "--ray-address needs --executor ray"),
    (["--ray-address", "ray://head:10001", "--executor", "local"], {}, "--ray-address needs --executor ray"),
])
def test_a_refused_option_is_exit_2_with_one_line_before_any_file_is_read(monkeypatch, args, env, message):
    import analyzer.pipeline

    def refuse(*a, **k):
        raise AssertionError("discover() ran before the options were checked")

    monkeypatch.setattr(analyzer.pipeline, "discover", refuse)
    result = runner.invoke(app, [str(SAMPLES / "restore_success"), *args], env={"COLUMNS": "60", **env})
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr == f"analyze: error: {message}\n"  # one line, even on a narrow terminal
    assert result.stdout == ""


def _imports_in(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.add(base)
            found.update(base + ("." if node.module else "") + alias.name for alias in node.names)
    return found


def test_the_cli_leaves_clock_and_archives_to_the_library():
    names = _imports_in(ROOT / "analyzer" / "cli.py")
    assert names & {".api", ".arguments"} == {".api", ".arguments"}  # the scan does see cli.py's imports
    assert not {n for n in names if n.split(".")[-1] in ("clock", "archives") or "pipeline" in n}, names


def test_help_loads_neither_polars_nor_rich_tables_nor_the_library():
    code = ("import sys\nfrom analyzer.cli import main\nsys.argv = ['analyze', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('MODULES', ' '.join(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "Exit codes" in proc.stdout
    loaded = set(proc.stdout.split("MODULES", 1)[1].split())
    assert "analyzer.cli" in loaded
    unwanted = {"polars", "rich.table", "analyzer.api", "analyzer.pipeline", "analyzer.clock", "analyzer.archives"}
    assert not loaded & unwanted, sorted(loaded & unwanted)
