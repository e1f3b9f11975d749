"""Reported incidents (``--symptom``/``--at``/``--window``) and the operation of every incident."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from typer.testing import CliRunner

from analyzer.api import analyze
from analyzer.arguments import ArgumentError
from analyzer.cli import ExitCode, app
from analyzer.report.parquet_out import incidents_frame
from analyzer.report.timesketch import to_jsonl
from analyzer.symptom import parse_at, parse_window

from conftest import SAMPLES

LOW_DISK = SAMPLES / "pc_g7_low_disk"  # restore log in +01:00 (header vs brackets), disk full 10:14-10:15Z


def _reported(analysis):
    (incident,) = [i for i in analysis.incidents if i.reported]
    return incident


@pytest.mark.parametrize("text, expected", [
    ("2026-03-14 09:30", dt.datetime(2026, 3, 14, 9, 30)),
    ("2026-03-14T09:30:15", dt.datetime(2026, 3, 14, 9, 30, 15)),
    ("2026-03-14T00:30Z", dt.datetime(2026, 3, 14, 0, 30, tzinfo=dt.timezone.utc)),
    ("2026-03-14 09:30+09:00", dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))),
])
def test_at_accepts_a_day_and_a_time_with_or_without_a_zone(text, expected):
    assert parse_at(text) == expected


@pytest.mark.parametrize("text", ["2026-03-14", "09:30", "yesterday", "2026-13-40 09:30", ""])
def test_at_refuses_anything_else(text):
    with pytest.raises(ValueError):
        parse_at(text)


@pytest.mark.parametrize("value, seconds", [("10m", 600), ("90s", 90), ("1h", 3600), ("15", 900), (5, 300),
                                            ("2.5m", 150)])
def test_window_forms(value, seconds):
    assert parse_window(value) == seconds


@pytest.mark.parametrize("value", ["0", "-5m", "10x", "8d", "", True])
def test_window_refuses_other_forms(value):
    with pytest.raises(ValueError):
        parse_window(value)


def test_at_and_window_need_a_symptom_and_bad_values_name_the_accepted_forms():
    with pytest.raises(ArgumentError, match="at needs symptom"):
        analyze([LOW_DISK], at="2025-12-02 11:15")
    with pytest.raises(ArgumentError, match="one of restore, update, backup, icloud"):
        analyze([LOW_DISK], symptom="sync")
    with pytest.raises(ArgumentError, match="like 2026-03-14 09:30"):
        analyze([LOW_DISK], symptom="icloud", at="11:15")
    with pytest.raises(ArgumentError, match="10m, 90s or 1h"):
        analyze([LOW_DISK], symptom="icloud", at="2025-12-02 11:15", window="forever")


def test_the_cli_turns_a_bad_at_into_a_usage_error_with_the_accepted_forms():
    result = CliRunner().invoke(app, [str(LOW_DISK), "--symptom", "icloud", "--at", "noon"])
    assert result.exit_code == ExitCode.USAGE
    assert "--at must be a day and a time" in result.stderr and "2026-03-14 09:30" in result.stderr


def test_a_local_at_is_read_in_the_zone_learnt_from_the_pcs_logs():
    incident = _reported(analyze([LOW_DISK], symptom="icloud", at="2025-12-02 11:15"))
    place = incident.reported_time
    assert place["placed"] == "learnt" and place["zone"] == "+01:00"
    assert place["zone_from"].endswith("iTunes_restore.log")
    assert place["at"] == dt.datetime(2025, 12, 2, 10, 15, tzinfo=dt.timezone.utc)
    assert place["start"] == place["at"] - dt.timedelta(minutes=10)
    assert incident.operation == "icloud" and incident.file is None and incident.failed_at == place["at"]


def test_tz_beats_the_learnt_zone_and_a_written_zone_beats_both():
    by_tz = _reported(analyze([LOW_DISK], symptom="icloud", at="2025-12-02 19:15", tz="Asia/Tokyo"))
    assert by_tz.reported_time["placed"] == "tz_option"
    assert by_tz.failed_at == dt.datetime(2025, 12, 2, 10, 15, tzinfo=dt.timezone.utc)
    written = _reported(analyze([LOW_DISK], symptom="icloud", at="2025-12-02T10:15:00Z", tz="Asia/Tokyo"))
    assert written.reported_time["placed"] == "written_zone" and written.failed_at == by_tz.failed_at


def test_without_at_the_whole_evidence_span_is_the_window_and_the_report_says_so():
    analysis = analyze([LOW_DISK], symptom="backup")
    incident = _reported(analysis)
    times = analysis.events.get_column("ts_utc").drop_nulls()
    assert incident.reported_time["placed"] == "evidence_span"
    assert (incident.reported_time["start"], incident.reported_time["end"]) == (times.min(), times.max())
    result = CliRunner().invoke(app, [str(LOW_DISK), "--symptom", "backup", "--format", "json"])
    (doc_inc,) = [i for i in json.loads(result.stdout)["incidents"] if i["reported"]]
    assert doc_inc["reported_time"]["text"].startswith("no time given: the whole evidence")


def test_a_rule_explains_only_the_operations_it_names():
    """The disk was full at 10:14-10:15Z: that explains a backup at 10:15, not an iCloud error."""
    backup = _reported(analyze([LOW_DISK], symptom="backup", at="2025-12-02T10:15:00Z", window="5m"))
    icloud = _reported(analyze([LOW_DISK], symptom="icloud", at="2025-12-02T10:15:00Z", window="5m"))
    assert backup.cause == "host_storage" and "low_disk_space" in backup.rules
    assert icloud.cause == "undetermined" and "low_disk_space" not in icloud.rules


def test_a_window_that_misses_the_evidence_gives_no_verdict():
    incident = _reported(analyze([LOW_DISK], symptom="backup", at="2025-12-02T12:00:00Z", window="5m"))
    assert incident.cause == "undetermined" and incident.rules == []


def test_a_reported_incident_round_trips_through_json_parquet_and_timesketch():
    analysis = analyze([LOW_DISK], symptom="icloud", at="2025-12-02T10:15:00Z")
    result = CliRunner().invoke(app, [str(LOW_DISK), "--symptom", "icloud", "--at", "2025-12-02T10:15:00Z",
                                      "--format", "json"])
    doc = json.loads(result.stdout)
    (inc,) = [i for i in doc["incidents"] if i["reported"]]
    assert (inc["operation"], inc["file"], inc["what"]) == ("icloud", None, "reported iCloud failure")
    assert inc["reported_time"]["at"] == "2025-12-02T10:15:00.000Z" and inc["reported_time"]["window_s"] == 600
    assert [a["reported"] for a in doc["attempts"]] == [False, True]
    frame = incidents_frame(analysis).filter(pl.col("reported"))
    assert frame.select("operation", "reported_placed", "reported_window_s").row(0) == ("icloud", "written_zone", 600)
    assert frame.get_column("reported_at")[0] == dt.datetime(2025, 12, 2, 10, 15, tzinfo=dt.timezone.utc)
    text, _ = to_jsonl(analysis)
    verdicts = [json.loads(line) for line in text.splitlines() if '"analyzer:verdict"' in line]
    reported = [v for v in verdicts if v["reported"]]
    assert [v["timestamp_desc"] for v in reported] == ["Reported Failure Verdict"]
    assert reported[0]["operation"] == "icloud" and reported[0]["datetime"] == "2025-12-02T10:15:00.000000Z"


def test_every_logged_attempt_has_an_operation_and_an_update_session_says_update():
    restore = analyze([SAMPLES / "restore_4013_usb_drop"])
    assert restore.attempts.get_column("operation").to_list() == ["restore"]
    update = analyze([SAMPLES / "pc_h8_old_itunes"])
    assert set(update.attempts.get_column("operation").to_list()) == {"update"}
    assert {i.operation for i in update.incidents} == {"update"}


def test_japanese_reports_word_the_reported_incident_in_japanese():
    result = CliRunner().invoke(app, [str(LOW_DISK), "--symptom", "icloud", "--at", "2025-12-02 11:15",
                                      "--lang", "ja"])
    assert "報告されたiCloudの失敗" in result.stdout
    assert "PC の現地時刻として +01:00 で解釈" in result.stdout


def test_the_fleet_counts_incidents_per_operation_and_clusters_network_failures_across_pcs(tmp_path):
    import shutil

    fleet = tmp_path / "fleet"
    for bundle in ("pc_aa27_icloud_tls_inspection", "pc_y25_3194_hosts_redirect", "pc_t20_backup_device_locked"):
        shutil.copytree(SAMPLES / bundle, fleet / bundle)
    summary = analyze([fleet], symptom="icloud", at="2026-02-17T13:42:00Z", window="30m").fleet
    assert summary["operations"] == {"backup": 1, "icloud": 3, "restore": 1}
    (cluster,) = [c for c in summary["network_clusters"] if c["window"] == "hour"]
    assert cluster["hosts"] == ["pc_aa27_icloud_tls_inspection", "pc_y25_3194_hosts_redirect"]
    assert cluster["causes"] == {"hosts_file_redirect": 1, "security_software": 1}
