"""Review outputs (CSV, Parquet, Timesketch JSONL, HTML): values read back, hostile log text stays inert."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from analyzer.cli import ExitCode, app
from analyzer.report.csv_out import to_csv
from analyzer.report.html import render_html
from analyzer.report.i18n import Catalogue
from analyzer.report.parquet_out import write_parquet
from analyzer.report.safe import shown
from analyzer.report.timesketch import to_jsonl

from _report_data import FORMULA, HOSTILE, RESTORE_LOG, SCRIPT, synthetic_analysis
import shutil

from conftest import SAMPLES

runner = CliRunner()
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def analysis():
    return synthetic_analysis()


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def restore_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pc1"
    folder.mkdir()
    (folder / "iTunes_restore.log").write_text(RESTORE_LOG, encoding="utf-8")
    return folder


# -- CSV ------------------------------------------------------------------------------------
def test_csv_has_one_row_per_event_with_timeline_columns_first(analysis):
    rows = csv_rows(to_csv(analysis))
    assert len(rows) == analysis.events.height
    assert list(rows[0])[:11] == ["host", "ts_utc", "kind", "file", "line", "record", "attempt", "error_code",
                                  "expected", "subject", "message"]
    timed = [r for r in rows if r["ts_utc"]]
    assert all(ISO_Z.match(r["ts_utc"]) for r in timed) and len(timed) == len(rows) - 1
    failure = next(r for r in rows if r["kind"] == "result")
    assert (failure["ts_utc"], failure["error_code"], failure["line"]) == ("2026-03-14T09:12:00.000Z", "4013", "10")
    drop = next(r for r in rows if r["kind"] == "device_disconnect" and r["line"] == "7")
    assert drop["expected"] == "false" and drop["record"] == ""


def test_csv_neutralises_formula_cells_but_not_numbers(analysis):
    rows = csv_rows(to_csv(analysis))
    by_message = {r["message"]: r for r in rows}
    for text in HOSTILE:
        assert "'" + text in by_message, text
        assert text not in by_message
    assert by_message["'" + FORMULA]["kind"] == "generic"
    assert by_message["'+cmd|' /C calc'!A0"]["error_code"] == "-1"  # a number stays a number
    assert "Low disk space on C:" in by_message  # ordinary text untouched
    for r in rows:
        for value in r.values():
            assert not re.match(r"[=+@\t\r]", value), value
            assert not value.startswith("-") or re.fullmatch(r"-\d+", value), value


def test_cli_csv_on_stdout_and_file_neutralise_a_formula_log_line(restore_dir: Path, tmp_path: Path):
    out = tmp_path / "timeline.csv"
    result = run(restore_dir, "--format", "csv", "--csv", out)
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data[3:].decode("utf-8") == result.stdout
    rows = csv_rows(result.stdout)
    cells = [v for r in rows for v in r.values()]
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert {r["host"] for r in rows} == {"pc1"}
    assert any(r["kind"] == "result" and r["error_code"] == "4013" for r in rows)


# -- Parquet --------------------------------------------------------------------------------
def test_parquet_reads_back_with_the_same_values(analysis, tmp_path: Path):
    written = write_parquet(analysis, tmp_path / "out")
    assert sorted(p.name for p in written) == ["backups.parquet", "events.parquet", "incidents.parquet"]
    events = pl.read_parquet(tmp_path / "out" / "events.parquet")
    assert events.height == analysis.events.height
    assert events.schema["kind"] == pl.String and events.schema["ts_utc"] == pl.Datetime("us", "UTC")
    assert events.get_column("kind").to_list() == analysis.events.get_column("kind").cast(pl.String).to_list()
    assert events.get_column("message").to_list() == analysis.events.get_column("message").to_list()
    failure = events.filter(pl.col("kind") == "result").row(0, named=True)
    assert failure["error_code"] == 4013 and failure["ts_utc"] == dt.datetime(2026, 3, 14, 9, 12, tzinfo=dt.timezone.utc)

    incidents = pl.read_parquet(tmp_path / "out" / "incidents.parquet")
    (row,) = incidents.to_dicts()
    (inc,) = analysis.incidents
    assert (row["host"], row["attempt"], row["error_code"], row["cause"]) == ("pc1", 1, 4013, "usb_connection")
    assert row["confidence"] == inc.confidence and row["rules"] == inc.rules and row["remedy"] == Catalogue("en").remedy(inc.cause)
    assert [(e["line"], e["kind"], e["rule"]) for e in row["evidence"]] == \
        [(e.get("line"), e["kind"], e.get("rule")) for e in inc.evidence]
    assert row["evidence"][-1]["ts"] == dt.datetime(2026, 3, 14, 9, 12, tzinfo=dt.timezone.utc)
    assert [a["id"] for a in row["alternatives"]] == [a["id"] for a in inc.alternatives]
    assert json.loads(row["evidence_json"]) == inc.evidence
    assert json.loads(row["alternatives_json"]) == [{**a, "why_not": Catalogue("en").reason(a["reason"])}
                                                    for a in inc.alternatives]
    assert row["failed_at"] == inc.failed_at


def test_parquet_of_a_run_without_incidents_still_has_the_columns(tmp_path: Path):
    if not (SAMPLES / "win_driver_install_failure").is_dir():
        pytest.skip("samples/win_driver_install_failure not present")
    result = run(SAMPLES / "win_driver_install_failure", "--format", "json", "--parquet", tmp_path / "pq")
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.stderr
    incidents = pl.read_parquet(tmp_path / "pq" / "incidents.parquet")
    assert incidents.height == 0 and {"cause", "evidence", "alternatives", "evidence_json"} <= set(incidents.columns)
    events = pl.read_parquet(tmp_path / "pq" / "events.parquet")
    assert events.height == json.loads(result.stdout)["summary"]["events"]


# -- Timesketch -----------------------------------------------------------------------------
def test_timesketch_lines_parse_and_carry_the_required_keys(analysis):
    text, dropped = to_jsonl(analysis)
    every = [json.loads(line) for line in text.splitlines()]
    objs = [o for o in every if o["timestamp_desc"] != "Restore Failure Verdict"]
    verdicts = [o for o in every if o["timestamp_desc"] == "Restore Failure Verdict"]
    assert dropped == 1 and len(objs) == analysis.events.height - 1
    assert [(v["cause"], v["error_code"], v["tag"]) for v in verdicts] == [
        (i.cause, i.error_code, ["analyzer_verdict"]) for i in analysis.incidents]
    for o in objs:
        assert {"message", "datetime", "timestamp_desc", "timestamp", "host", "kind", "file"} <= set(o)
        assert ISO_Z.match(o["datetime"])
        parsed = dt.datetime.fromisoformat(o["datetime"])
        assert o["timestamp"] == int(parsed.timestamp() * 1_000_000)
        assert "line" in o or "record" in o
    failure = next(o for o in objs if o["kind"] == "result")
    assert failure["timestamp_desc"] == "Restore Log Line" and failure["error_code"] == 4013
    assert failure["message"] == f"Depth:0 Code:4013 Error:{SCRIPT}" and failure["tag"] == ["analyzer_evidence", "failure"]
    fw = next(o for o in objs if o["kind"] == "firewall_block")
    assert fw["timestamp_desc"] == "Firewall Log Entry" and fw["data_type"] == "analyzer:windows_firewall"
    evtx = next(o for o in objs if o.get("record") == 43)
    assert evtx["timestamp_desc"] == "Event Logged" and evtx["subject"] == "Apple Mobile Device USB Driver"
    assert evtx["tag"] == ["analyzer_evidence"]  # a failure of Apple's driver, cited by apple_driver_failure
    assert "tag" not in next(o for o in objs if o.get("record") == 45)  # low disk 200 s before: not cited


# -- HTML -----------------------------------------------------------------------------------
def test_html_escapes_log_text_and_asks_for_nothing_from_the_network(analysis):
    page = render_html(analysis)
    assert SCRIPT not in page and "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page
    assert not re.search(r"""(?:src|href|action)\s*=\s*(?!["']?#)""", page), "only in-page links are allowed"
    assert "url(" not in page and "@import" not in page


def test_html_shows_timeline_verdict_evidence_remedy_and_coverage(analysis):
    page = render_html(analysis)
    (inc,) = analysis.incidents
    assert page.count('class="timeline"') == 1 and page.count('class="failure-marker"') == 1
    assert "USB connection (cable, port or hub)" in page and f"{inc.confidence:.2f}" in page
    assert "restore.log:7" in page and "unexpected_disconnect" in page
    remedy = Catalogue("en").remedy(inc.cause)
    assert remedy and all(f"<li>{html.escape(step)}</li>" in page for step in remedy)
    coverage = page[page.index('id="coverage"'):]
    for name, status in (("restore.log", "read"), ("System.evtx", "partly skipped"), ("notes.txt", "not recognised")):
        assert re.search(rf">{re.escape(name)}</td>.*?status-\w+\">{status}<", coverage), name
    assert "bad chunk &lt;script&gt;" in coverage
    for lane in ("USB / device", "Driver / service", "Network / signing", "Disk"):
        assert f">{lane}</text>" in page
    assert "×40" in page  # 40 firewall drops in one burst


def test_html_labels_follow_lang(analysis):
    page = render_html(analysis, lang="ja")
    assert '<html lang="ja">' in page and "判定" in page and "読み込み状況" in page


def test_html_of_the_4013_sample_matches_the_json_document(tmp_path: Path):
    bundle = SAMPLES / "restore_4013_usb_drop"
    if not bundle.is_dir():
        pytest.skip("samples/restore_4013_usb_drop not present")
    out = tmp_path / "report.html"
    result = run(bundle, "--format", "json", "--html", out)
    doc = json.loads(result.stdout)
    page = out.read_text(encoding="utf-8")
    (inc,) = doc["incidents"]
    assert f"({inc['cause']['id']})" in page and f"error {inc['error_code']}" in page
    assert page.count('class="timeline"') == len(doc["attempts"])
    assert page.count('class="failure-marker"') == sum(a["outcome"] == "failed" for a in doc["attempts"])
    for f in doc["files"]:
        assert f">{html.escape(f['path'])}</td>" in page.replace("<wbr>", "")


# -- CLI: several outputs in one run, inputs untouched, bad paths ---------------------------
def test_all_outputs_in_one_run_beside_json_on_stdout(restore_dir: Path, tmp_path: Path):
    before = tree_digest(restore_dir)
    out = tmp_path / "out"
    out.mkdir()
    result = run(restore_dir, "--format", "json", "--csv", out / "t.csv", "--parquet", out / "pq",
                 "--timesketch", out / "t.jsonl", "--html", out / "r.html")
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL), result.stderr
    doc = json.loads(result.stdout)
    assert tree_digest(restore_dir) == before
    assert len(csv_rows((out / "t.csv").read_text(encoding="utf-8"))) == doc["summary"]["events"]
    assert pl.read_parquet(out / "pq" / "events.parquet").height == doc["summary"]["events"]
    assert all(json.loads(line)["datetime"] for line in (out / "t.jsonl").read_text(encoding="utf-8").splitlines())
    page = (out / "r.html").read_text(encoding="utf-8")
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not list(out.glob(".*.tmp")), "no temporary files left behind"


def test_output_onto_an_input_file_is_refused_and_the_input_kept(restore_dir: Path):
    log = restore_dir / "iTunes_restore.log"
    before = log.read_bytes()
    for option in ("--csv", "--html", "--timesketch"):
        result = run(restore_dir, option, log)
        assert result.exit_code == ExitCode.USAGE
        assert "refusing to overwrite evidence" in result.stderr and option in result.stderr
        assert log.read_bytes() == before


@pytest.mark.parametrize("option,target", [
    ("--html", "missing/dir/r.html"), ("--csv", "."), ("--timesketch", "missing/t.jsonl"),
    ("--parquet", "a_file.txt"), ("--parquet", "missing/deeper/pq"),
])
def test_unwritable_output_exits_usage_before_analysis(restore_dir: Path, tmp_path: Path, option, target):
    (tmp_path / "a_file.txt").write_text("x", encoding="utf-8")
    result = run(restore_dir, "--format", "json", option, tmp_path / target)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("analyze: error: " + option) and result.stdout == ""


# -- properties: any log text stays inert --------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from analyzer.api import Analysis  # noqa: E402
from analyzer.model import conform  # noqa: E402

log_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def one_event(message: str, subject: str) -> Analysis:
    events = conform([{"host": "pc1", "file": "restore.log", "line": 1, "attempt": 1, "kind": "result",
                       "error_code": 4013, "format": "apple_restore", "message": message, "subject": subject,
                       "ts_utc": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}])
    from analyzer.diagnose import diagnose
    incidents, attempts = diagnose(events)
    return Analysis(files=[], events=events, incidents=incidents, attempts=attempts, hosts=["pc1"])


@settings(max_examples=60, deadline=None)
@given(log_text, log_text)
def test_any_csv_cell_reads_back_as_the_text_or_the_quoted_text(message, subject):
    (row,) = csv_rows(to_csv(one_event(message, subject)))
    for original in (message, subject):
        cell = row["message" if original is message else "subject"]
        if original[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert cell == "'" + original
        else:
            assert cell == original.replace("\r\n", "\n").replace("\r", "\n") or cell == original


@settings(max_examples=60, deadline=None)
@given(log_text)
def test_any_log_text_is_escaped_in_the_html(message):
    page = render_html(one_event(f"<zq>{message}</zq>", "<zi>x</zi>"))
    assert "<zq>" not in page and "<zi>" not in page and "<script" not in page.lower()
    assert html.escape(shown(f"<zq>{message}</zq>")) in page  # control characters shown as their escapes


def test_fleet_summary_is_in_every_file_output(tmp_path):
    """A fleet of PCs: the per-PC verdicts reach HTML, Parquet, CSV and Timesketch alike."""
    import json as _json

    import polars as _pl
    from typer.testing import CliRunner

    from analyzer.cli import app

    fleet = tmp_path / "fleet"
    for name in ("restore_4013_usb_drop", "restore_3194_unsigned", "restore_success"):
        shutil.copytree(SAMPLES / name, fleet / name)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(app, [str(fleet), "--html", str(out / "r.html"), "--parquet", str(out / "pq"),
                                      "--csv", str(out / "t.csv"), "--timesketch", str(out / "ts.jsonl")])
    assert result.exit_code == 0, result.stderr
    hosts = _pl.read_parquet(out / "pq" / "fleet_hosts.parquet").sort("host")
    assert hosts.select("host", "verdict").rows() == [("restore_3194_unsigned", "unsigned_firmware"),
                                                      ("restore_4013_usb_drop", "usb_connection"),
                                                      ("restore_success", "ok")]
    csv_hosts = _pl.read_csv(out / "t.fleet_hosts.csv").sort("host")
    assert csv_hosts.get_column("verdict").to_list()[:2] == ["unsigned_firmware", "usb_connection"]
    html = (out / "r.html").read_text(encoding="utf-8")
    assert 'id="fleet"' in html and "Verdict per PC" in html and "restore_3194_unsigned" in html
    verdicts = [o for o in map(_json.loads, (out / "ts.jsonl").read_text(encoding="utf-8").splitlines())
                if o["timestamp_desc"] == "Restore Failure Verdict"]
    assert sorted((v["host"], v["cause"], v["error_code"]) for v in verdicts) == [
        ("restore_3194_unsigned", "unsigned_firmware", 3194), ("restore_4013_usb_drop", "usb_connection", 4013)]
