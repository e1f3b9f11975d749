"""A --tz that disagrees with the offset a log proves is reported, and the proven offset used unless
--tz-force: pc_d4_tss_firewall's restore log proves -04:00 (its header against its UTC brackets);
--tz Asia/Tokyo would shift it 13 hours and tie it to firewall drops from another part of the day."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analyzer import analyze
from analyzer.cli import app

from conftest import SAMPLES

PC = SAMPLES / "pc_d4_tss_firewall"


def _restore_log(analysis):
    return next(f for f in analysis.files if f.path.endswith("iTunes_restore.log"))


def test_a_disagreeing_tz_is_reported_and_the_proven_offset_used():
    plain, tokyo = analyze([PC]), analyze([PC], tz="Asia/Tokyo")
    assert [(i.started_at, i.failed_at) for i in tokyo.incidents] == [(i.started_at, i.failed_at)
                                                                       for i in plain.incidents]
    assert [i.cause for i in tokyo.incidents] == [i.cause for i in plain.incidents]
    log = _restore_log(tokyo)
    assert log.clock["local_zone"] == "-04:00" and log.clock["local_zone_method"] == "restore_header"
    assert log.clock["tz_refused"] == "Asia/Tokyo"
    (note,) = [n for n in log.errors if n.code == "tz_disagrees"]
    assert note.params == {"given": "Asia/Tokyo", "given_offset": "+09:00", "proven": "-04:00"}
    assert log.complete  # a warning, not something skipped


def test_tz_force_uses_the_given_zone_and_says_it_overrode_the_proof():
    plain, forced = analyze([PC]), analyze([PC], tz="Asia/Tokyo", tz_force=True)
    # the header (local) moves 13 hours earlier while the UTC brackets stay: a 13-hour attempt
    shift = plain.incidents[0].started_at - forced.incidents[0].started_at
    assert shift.total_seconds() == 13 * 3600 and forced.incidents[0].failed_at == plain.incidents[0].failed_at
    log = _restore_log(forced)
    assert log.clock["local_zone"] == "Asia/Tokyo" and log.clock["local_zone_method"] == "tz_option"
    assert [n.code for n in log.errors if n.code.startswith("tz_")] == ["tz_forced"]


def test_an_agreeing_tz_is_taken_without_a_note():
    agreeing = analyze([PC], tz="America/New_York")  # -04:00 in September
    log = _restore_log(agreeing)
    assert log.clock["local_zone"] == "America/New_York" and log.clock["local_zone_method"] == "tz_option"
    assert not [n for n in log.errors if n.code.startswith("tz_")]


def test_the_cli_says_so_on_stderr_and_in_the_json():
    result = CliRunner().invoke(app, [str(PC), "--tz", "Asia/Tokyo", "--format", "json"])
    assert "but this file's own clock proves UTC-04:00" in result.stderr and "--tz-force" in result.stderr
    doc = json.loads(result.stdout)
    log = next(f for f in doc["files"] if f["path"].endswith("iTunes_restore.log"))
    assert [e["code"] for e in log["errors"]] == ["tz_disagrees"]
