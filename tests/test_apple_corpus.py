"""The real Apple-side excerpts of ../shared/corpus/apple/ (read in place, never copied): each is
recognised with a pinned format and record count, at least 95 % of its lines match a line shape of
that format, and the values that matter are pinned (codes, ECIDs as one integer, times)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from analyzer.ingest import parse_file

APPLE = {
    "02_itunes-win-2011_usb-ioctl-timeouts-error997.log": ("apple_restore", 14),
    "04_itunes-mac-2011_tss-gs-apple-com-server-not-reachable.log": ("apple_restore", 12),
    "11_itunes-win-2014_mobilerestore-state-machine-bracket-timestamps.log": ("apple_restore", 12),
    "13_macos-2020_AMPDevicesAgent-restore-log-device-info.log": ("apple_restore", 17),
    "17_restored-device-log_asr-checksum-fail-1100_cable.log": ("apple_device_restore", 23),
    "18_idevicerestore_device-disconnected-failed-to-enter-restore-mode.log": ("apple_device_restore", 7),
}


@pytest.fixture
def apple(corpus) -> Path:
    return corpus / "apple"


def read(apple: Path, name: str):
    return parse_file(apple / name, display=name, host="corpus")


def by_line(events: pl.DataFrame) -> dict[int, dict]:
    return {row["line"]: row for row in events.to_dicts()}


@pytest.mark.parametrize("name", sorted(APPLE))
def test_each_file_is_recognised_with_its_format_and_nearly_every_line(apple, name):
    parsed = read(apple, name)
    fmt, records = APPLE[name]
    assert (parsed.report.format, parsed.report.records) == (fmt, records)
    assert parsed.report.unrecognised <= 0.05 * records
    assert parsed.report.unrecognised == 0  # today: every line of every one
    assert parsed.events.height == records


def test_02_windows_2011_old_format_997_timeouts(apple):
    ev = read(apple, "02_itunes-win-2011_usb-ioctl-timeouts-error997.log").events
    rows = by_line(ev)
    assert rows[1]["kind"] == "session_start" and rows[1]["ts_wall"] == datetime(2011, 6, 14, 19, 42, 59, 983000)
    start = json.loads(rows[1]["detail"])
    assert (start["itunes_version"], start["payload_build"], start["behavior"]) == ("10.3.1.55", "8C148", "Erase")
    io = ev.filter(pl.col("kind") == "usb_io_error")
    assert io.select("line", "error_code").rows() == [(11, None), (12, 997), (13, None), (14, 997)]
    assert ev.get_column("clock").unique().to_list() == ["local"]


def test_04_mac_2011_signing_server_not_reachable(apple):
    ev = read(apple, "04_itunes-mac-2011_tss-gs-apple-com-server-not-reachable.log").events
    tss = ev.filter(pl.col("kind") == "tss_error").select("line", "subject", "error_code").rows()
    assert tss == [(9, "no response header", None), (10, "SendHttpRequest failed", -1), (11, "Server not reachable", None)]
    start = json.loads(ev.filter(pl.col("kind") == "session_start").item(0, "detail"))
    assert start["hand_picked_ipsw"] is True and start["payload_build"] == "8F190" and start["process"] == "iTunes"


def test_11_windows_2014_brackets_five_hours_after_the_header(apple):
    parsed = read(apple, "11_itunes-win-2014_mobilerestore-state-machine-bracket-timestamps.log")
    rep, rows = parsed.report, by_line(parsed.events)
    assert rep.clock["bracket_minus_header_hours"] == 5 and rep.clock["bracket_fraction"] == "milliseconds"
    assert rows[4]["ts_wall"] == datetime(2014, 2, 14, 15, 52, 53, 669000)
    assert (rows[5]["ts_raw"], rows[5]["ts_wall"], rows[5]["clock"]) == ("20:53:19.0551", datetime(2014, 2, 14, 20, 53, 19, 551000), "bracket")
    assert rows[5]["subject"] == "Idle->Restoring"
    assert "date_unknown" not in rep.clock


def test_13_mac_2020_device_info_block(apple):
    parsed = read(apple, "13_macos-2020_AMPDevicesAgent-restore-log-device-info.log")
    rep, ev = parsed.report, parsed.events
    assert rep.clock["bracket_minus_header_hours"] == 0 and rep.clock["bracket_fraction"] == "1/10000 s"
    ident = ev.filter(pl.col("kind") == "device_identity").to_dicts()
    assert [(r["line"], r["ecid"], r["serial"], r["chip_id"], r["board_id"]) for r in ident] == [
        (10, 0x808623AE8002E, "DLXXK0XWKD8C", "0x8027", "0xE")]
    assert by_line(ev)[6]["ts_wall"] == datetime(2020, 6, 22, 15, 32, 33, 241400)


def test_17_device_log_alone_asr_checksum_1100(apple):
    parsed = read(apple, "17_restored-device-log_asr-checksum-fail-1100_cable.log")
    rep, ev = parsed.report, parsed.events
    rows = by_line(ev)
    failure = rows[19]
    assert (failure["kind"], failure["error_code"], failure["subject"], failure["clock"]) == ("phase", 1100, "asr_and_invert_image", "utc")
    assert (failure["ts_raw"], failure["ts_wall"]) == ("04:20:47.0521-GMT", datetime(1900, 1, 1, 4, 20, 47, 52100))
    assert "CHECKPOINT FAILURE" in failure["message"]  # what rules/device_restore_failure.toml matches
    assert rep.clock == {"date_unknown": True}
    assert [(n.code, n.line) for n in rep.errors] == [("date_unknown", 19)]
    # the image stream from the host broke off: USB-side evidence, not a device fault
    assert (rows[10]["kind"], rows[10]["subject"]) == ("usb_io_error", "ASR could not restore: Inappropriate ioctl for device")
    assert (rows[6]["kind"], rows[9]["kind"], rows[14]["kind"], rows[14]["error_code"]) == ("phase", "phase", "phase", 1100)
    result = ev.filter(pl.col("kind") == "result").to_dicts()
    assert [(r["line"], r["error_code"], r["attempt"]) for r in result] == [(21, 1100, 1)]
    assert json.loads(result[0]["detail"]) == {"codes": [1100], "outcome": "failed", "step_codes": [1100]}
    assert ev.get_column("provider").unique().to_list() == ["device"]


def test_18_idevicerestore_device_never_came_back_in_restore_mode(apple):
    parsed = read(apple, "18_idevicerestore_device-disconnected-failed-to-enter-restore-mode.log")
    rep, ev = parsed.report, parsed.events
    moves = ev.filter(pl.col("kind") == "device_disconnect")
    # 000915ac3a06802e is hex (libirecovery's 16 digits): one integer
    assert moves.select("line", "ecid", "udid", "expected").rows() == [
        (2, 0x000915AC3A06802E, "00008027-000915AC3A06802E", True), (6, 0x000915AC3A06802E, "00008027-000915AC3A06802E", True)]
    assert by_line(ev)[1]["subject"] == "waiting for device to disconnect"  # the pasted ">DEBUG:" line
    result = ev.filter(pl.col("kind") == "result").to_dicts()
    assert [(r["line"], r["error_code"]) for r in result] == [(7, None)]
    assert ev.get_column("clock").unique().to_list() == ["none"] and ev.get_column("attempt").unique().to_list() == [1]
    assert [(n.code, n.line) for n in rep.errors] == [("no_timestamps", 1), ("result_code_unknown", 7)]
    assert rep.clock == {}
