"""Each device's backup history (analyzer.backups) and how a backup incident is worded."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from analyzer.api import analyze
from analyzer.cli import app

from conftest import SAMPLES

UTC = dt.timezone.utc


def test_the_trap_pc_shows_last_years_failure_this_years_success_and_todays_failure_in_order():
    history = analyze([SAMPLES / "pc_x24_backup_old_snapshot_trap"]).backups
    rows = history.select("udid", "started_at", "outcome", "error_code").rows()
    folder_rows = [r for r in rows if r[0] == "00008030-000A61C23E88402E"]
    assert [(r[1], r[2]) for r in folder_rows] == [
        (dt.datetime(2024, 11, 3, 10, 15, tzinfo=UTC), "failed"),
        (dt.datetime(2025, 10, 28, 19, 40, 21, tzinfo=UTC), "succeeded")]
    assert [(r[2], r[3]) for r in rows if r[0] is None] == [("failed", 105)]  # the tool's run names no device


def test_an_encrypted_backup_is_shown_as_encrypted_with_its_device_and_size():
    (row,) = analyze([SAMPLES / "pc_w23_backup_encrypted"]).backups.to_dicts()
    assert (row["device_name"], row["encrypted"], row["outcome"], row["size_bytes"]) == \
        ("Mika's iPhone", True, "succeeded", 3190)


def test_a_pc_without_backups_has_an_empty_history_and_no_backups_table():
    analysis = analyze([SAMPLES / "restore_success"])
    assert analysis.backups.height == 0
    result = CliRunner().invoke(app, [str(SAMPLES / "restore_success")])
    assert "Backups of each device" not in result.stdout


def test_the_history_is_in_the_json_document_terminal_and_html(tmp_path):
    bundle = SAMPLES / "pc_w23_backup_encrypted"
    doc = json.loads(CliRunner().invoke(app, [str(bundle), "--format", "json"]).stdout)
    (row,) = doc["backups"]
    assert row["started_at"] == "2025-11-19T07:58:12.000Z" and row["udid"] == "00008120-001A2B3C4D5E601E"
    terminal = CliRunner().invoke(app, [str(bundle), "--html", str(tmp_path / "r.html")]).stdout
    assert "Backups of each device" in terminal and "3 kB" in terminal
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<h2 id="backups">' in page and "00008120-001A2B3C4D5E601E" in page


def test_a_backup_incident_reads_its_code_in_mbErrorDomains_table_not_the_restore_codes():
    doc = json.loads(CliRunner().invoke(app, [str(SAMPLES / "pc_t20_backup_device_locked"), "--format", "json"]).stdout)
    (incident,) = doc["incidents"]
    assert (incident["operation"], incident["error_code"], incident["code_grade"]) == ("backup", 208, "L")
    assert incident["code_meaning"].startswith("The device is locked")
    assert "backup attempt 1" in incident["what"]
