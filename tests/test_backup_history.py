"""Each device's backup history (analyzer.backups) and how a backup incident is worded."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from analyzer.api import analyze
from analyzer.cli import app

from conftest import SAMPLES

UTC = dt.timezone.utc


def test_the_trap_pc_shows_last_years_failure_superseded_this_years_success_and_todays_failure_in_order():
    analysis = analyze([SAMPLES / "pc_x24_backup_old_snapshot_trap"])
    rows = analysis.backups.select("udid", "started_at", "outcome", "error_code", "udid_from", "superseded_by").rows()
    success = dt.datetime(2025, 10, 28, 19, 40, 21, tzinfo=UTC)
    assert rows == [
        ("00008030-000A61C23E88402E", dt.datetime(2024, 11, 3, 10, 15, tzinfo=UTC), "failed", None, "own", success),
        ("00008030-000A61C23E88402E", success, "succeeded", None, "own", None),
        # the tool names no device; the folder it names holds the backups of one device only
        ("00008030-000A61C23E88402E", dt.datetime(2025, 11, 20, 12, 0, 18, tzinfo=UTC), "failed", 105, "folder_named", None)]
    # the superseded snapshot is history, not an incident: the trap rests on the later finished backup
    assert [(i.file.rsplit("/", 1)[-1], i.cause) for i in analysis.incidents] == [("idevicebackup2_transcript.txt", "host_storage")]


def test_a_run_whose_folder_holds_no_backup_of_this_pc_stays_untied():
    rows = analyze([SAMPLES / "pc_t20_backup_device_locked"]).backups.select("udid", "outcome", "udid_from").rows()
    assert rows == [("00008110-0009B1D43E2A801E", "succeeded", "own"), (None, "failed", "untied")]  # D:\iPhoneBackup


def test_a_run_is_tied_to_the_only_device_whose_folder_it_wrote(tmp_path):
    import shutil
    pc = tmp_path / "pc"
    shutil.copytree(SAMPLES / "pc_t20_backup_device_locked", pc)
    transcript = pc / "idevicebackup2_transcript.txt"
    # the same run, at the minute the folder's Status.plist was written (2025-09-30 21:15:02 UTC)
    transcript.write_bytes(transcript.read_bytes().replace(b"Start time: 20251116180240", b"Start time: 20250930211500"))
    rows = analyze([pc], tz="UTC").backups.select("udid", "udid_from").rows()
    assert (("00008110-0009B1D43E2A801E", "folder_written") in rows), rows


def test_the_disk_full_verdict_says_free_space_against_the_needed_size():
    doc = json.loads(CliRunner().invoke(app, [str(SAMPLES / "pc_p16_backup_disk_full"), "--format", "json"]).stdout)
    spaces = {i["file"].rsplit("/", 1)[-1]: i["space"] for i in doc["incidents"]}
    # one backup, logged by the tool on the PC and by the device: one incident, the tool's
    assert set(spaces) == {"idevicebackup2_transcript.txt"}
    for space in spaces.values():  # the device's own preflight: told 409 MB free, 6.87 GB to send
        assert (space["free_bytes"], space["needed_bytes"], space["margin_bytes"], space["fits"]) == \
            (409_337_856, 6_874_325_312, 128 * 1024 * 1024, False)
        assert space["text"].startswith("Backup drive: free 409.34 MB") and "(+128 MiB margin)" in space["text"]
    terminal = CliRunner().invoke(app, [str(SAMPLES / "pc_p16_backup_disk_full")]).stdout
    assert "needed 6.87 GB (6,874,325,312 bytes)" in terminal
    ja = CliRunner().invoke(app, [str(SAMPLES / "pc_p16_backup_disk_full"), "--lang", "ja"]).stdout
    assert "空き容量: 409.34 MB" in ja


def test_the_html_verdict_says_free_space_against_the_needed_size(tmp_path):
    CliRunner().invoke(app, [str(SAMPLES / "pc_p16_backup_disk_full"), "--html", str(tmp_path / "r.html")])
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count("Backup drive: free 409.34 MB (409,337,856 bytes)") == 1  # one incident for the one backup


def test_the_history_notes_superseded_and_untied_backups_in_terminal_and_html(tmp_path):
    terminal = CliRunner(env={"COLUMNS": "240"}).invoke(
        app, [str(SAMPLES / "pc_x24_backup_old_snapshot_trap"), "--html", str(tmp_path / "r.html")]).stdout
    assert "superseded by the finished backup of 2025-10-28 19:40 UTC" in terminal
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "superseded by the finished backup of 2025-10-28 19:40 UTC" in page
    assert "the only device in the folder the tool names" in page


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


def test_a_backup_seen_from_both_ends_is_one_incident_with_both_sides_cited():
    """The tool's run on the PC and the device's BackupAgent2 run overlap: the device's run is no
    incident of its own, and its preflight (the free space it was told) still speaks in the tool's."""
    from analyzer.api import analyze
    from analyzer.backups import device_side_copies

    analysis = analyze([SAMPLES / "pc_p16_backup_disk_full"])
    copies = device_side_copies(analysis.events, analysis.attempts)
    assert [(f.rsplit("/", 1)[-1], a) for f, a in copies.select("file", "attempt").iter_rows()] == [
        ("idevicesyslog_transcript.txt", 1)]
    (incident,) = analysis.incidents
    assert incident.file.endswith("idevicebackup2_transcript.txt") and incident.cause == "host_storage"
    assert incident.space["free_from"]["file"].endswith("idevicesyslog_transcript.txt")  # the device's preflight


def test_parquet_holds_the_backup_history_and_the_space_check(tmp_path):
    import polars as pl

    from analyzer.api import analyze
    from analyzer.report.parquet_out import write_parquet

    analysis = analyze([SAMPLES / "pc_p16_backup_disk_full"])
    names = {p.name for p in write_parquet(analysis, tmp_path)}
    assert {"events.parquet", "incidents.parquet", "backups.parquet"} <= names
    incidents = pl.read_parquet(tmp_path / "incidents.parquet")
    assert incidents.select("free_bytes", "needed_bytes").rows() == [(409_337_856, 6_874_325_312)]
    assert incidents.get_column("space_text")[0].startswith("Backup drive: free 409.34 MB")
    backups = pl.read_parquet(tmp_path / "backups.parquet")
    assert backups.select("outcome", "udid_from").rows() == [("succeeded", "own"), ("failed", "folder_named"),
                                                              ("failed", "untied")]
