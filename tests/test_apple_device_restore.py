"""Targeted checks of the apple_device_restore source: the device's own restore log and
idevicerestore's output — clocks, runs, results and their codes, identities, sniffing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from analyzer import grammars
from analyzer.ingest import parse_file
from analyzer.sources import Input, claimants
from analyzer.sources.apple_device_restore import SOURCE

from conftest import SAMPLES

ECID = 0x196D2C4A0B803A


def parse_text(tmp_path: Path, text: str, name: str = "device.log"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path)


def rows(events: pl.DataFrame) -> dict[int, dict]:
    return {r["line"]: r for r in events.to_dicts()}


# -- the samples ------------------------------------------------------------------------------------------------
def test_device_log_sample_link_lost_then_checkpoint_failure():
    parsed = parse_file(SAMPLES / "device_restored_log" / "restored_external.log")
    ev, rep = parsed.events, parsed.report
    assert (rep.format, rep.records, rep.unrecognised) == ("apple_device_restore", 57, 0)
    assert rep.clock == {"date_unknown": True}
    at = rows(ev)
    assert (at[1]["ts_wall"], at[53]["ts_wall"]) == (datetime(1900, 1, 1, 8, 41, 7, 31200), datetime(1900, 1, 1, 8, 44, 2, 771800))
    assert at[26]["provider"] == "restored_external" and at[26]["ts_wall"] == datetime(1900, 1, 1, 8, 41, 12)  # SYSLOG: line
    usb = ev.filter(pl.col("kind") == "usb_io_error").select("line", "error_code").rows()
    assert usb == [(39, None), (40, -1), (42, None), (43, -1), (45, None)]
    assert (at[25]["kind"], at[25]["error_code"]) == ("generic", 61)  # handleConnectResult ... 61: benign early
    assert ev.filter(pl.col("kind") == "result").select("line", "error_code", "attempt").rows() == [(55, 1100, 1)]
    # routine nvram restore-step updates stay out of the timeline; a failed step's record does not
    assert (at[2]["kind"], at[54]["kind"], at[54]["error_code"]) == ("generic", "phase", 1100)
    assert ev.filter(pl.col("kind") == "progress").get_column("subject").unique().to_list() == ["ASR restore"]


def test_idevicerestore_console_sample_one_run_status_code_wins():
    parsed = parse_file(SAMPLES / "idevicerestore_linux" / "idevicerestore_output.txt")
    ev, rep = parsed.events, parsed.report
    assert (rep.format, rep.records, rep.unrecognised, rep.clock) == ("apple_device_restore", 64, 0, {})
    assert ev.get_column("clock").unique().to_list() == ["none"] and ev.get_column("attempt").unique().to_list() == [1]
    assert [n.code for n in rep.errors] == ["no_timestamps"]
    start = ev.filter(pl.col("kind") == "session_start").to_dicts()
    assert [r["line"] for r in start] == [1]
    assert json.loads(start[0]["detail"]) == {"behavior": "Erase", "payload_build": "21G93", "product_version": "17.6.1",
                                              "tool": "idevicerestore", "tool_version": "1.0.0-207-g6c1a2e9",
                                              "variant": "Customer Erase Install (IPSW)"}
    ident = ev.filter(pl.col("kind") == "device_identity").select("line", "ecid", "serial", "chip_id", "board_id").rows()
    assert ident == [(4, ECID, None, None, None), (21, None, "F4GXQ2M8N70D", None, None), (40, ECID, None, "0x8101", "0xC")]
    assert set(ev.get_column("ecid").drop_nulls().to_list()) == {ECID}
    moves = ev.filter(pl.col("kind").is_in(["device_connect", "device_disconnect"]))
    assert moves.select("line", "expected", "device_mode").rows() == [
        (2, None, "recovery"), (25, True, None), (27, True, "recovery"), (34, True, None), (35, True, "restore")]
    # the device's status (6, Disk Failure) is the code; checkpoint 1627 failed with the same code
    result = ev.filter(pl.col("kind") == "result").to_dicts()
    assert [(r["line"], r["error_code"]) for r in result] == [(63, 6)]
    assert json.loads(result[0]["detail"]) == {"codes": [6], "outcome": "failed", "status": 6, "step_codes": [6]}
    assert rows(ev)[60]["kind"] == "phase" and rows(ev)[49]["kind"] == "progress"


def test_idevicerestore_windows_log_file_local_times_and_usb_path():
    parsed = parse_file(SAMPLES / "idevicerestore_windows_log" / "idevicerestore.log")
    ev, rep = parsed.events, parsed.report
    assert (rep.format, rep.records, rep.unrecognised) == ("apple_device_restore", 32, 0)
    at = rows(ev)
    assert (at[1]["clock"], at[1]["ts_raw"], at[1]["ts_wall"]) == ("local", "10:15:40.902", datetime(1900, 1, 1, 10, 15, 40, 902000))
    arrival = at[2]  # libirecovery's own line has no logger prefix
    assert (arrival["kind"], arrival["usb_pid"], arrival["device_mode"], arrival["chip_id"], arrival["serial"]) == (
        "device_connect", "1281", "recovery", "0x8030", "G6TZ81KQN72M")
    assert arrival["ecid"] == at[5]["ecid"] == 0x0004A61E2D9C802E and arrival["clock"] == "none"
    result = ev.filter(pl.col("kind") == "result").to_dicts()
    assert [(r["line"], r["error_code"], r["subject"]) for r in result] == [(31, None, "restore failed")]
    assert [(n.code, n.line) for n in rep.errors] == [("date_unknown", 1), ("result_code_unknown", 31)]


# -- clocks -------------------------------------------------------------------------------------------------------
def test_a_unified_log_line_gives_the_gmt_lines_their_date(tmp_path):
    text = "\n".join([
        "[23:59:58.5000-GMT]{5>9} CHECKPOINT BEGIN: MAIN:[0x0400] umask",
        "2024-03-30 23:59:59.250000+0000 restored_external[6:1a2] restore-step-ids = {0x11030400:1}",
        "[00:00:01.0100-GMT]{5>9} CHECKPOINT END: MAIN:[0x0400] umask",
        "SYSLOG: Mar 31 00:00:02 localhost restored_external[6] <Notice>: waiting for host",
        "2024-03-31 09:00:03.000000+0900 restored_external[6:1a2] unable to read message size: -1",
    ]) + "\n"
    parsed = parse_text(tmp_path, text)
    ev = parsed.events
    assert ev.get_column("ts_wall").to_list() == [
        datetime(2024, 3, 30, 23, 59, 58, 500000), datetime(2024, 3, 30, 23, 59, 59, 250000), datetime(2024, 3, 31, 0, 0, 1, 10000),
        datetime(2024, 3, 31, 0, 0, 2), datetime(2024, 3, 31, 0, 0, 3)]
    assert ev.get_column("clock").unique().to_list() == ["utc"] and "date_unknown" not in parsed.report.clock
    assert rows(ev)[5]["kind"] == "usb_io_error" and rows(ev)[2]["provider"] == "restored_external"


def test_without_a_date_gmt_lines_keep_their_order_across_midnight(tmp_path):
    text = ("[23:59:59.9000-GMT]{5>9} CHECKPOINT BEGIN: MAIN:[0x040E] enable_usb\nrestore-step-uptime = 3\n"
            "[00:00:02.1000-GMT]{5>9} CHECKPOINT END: MAIN:[0x040E] enable_usb\n")
    parsed = parse_text(tmp_path, text)
    timed = parsed.events.filter(pl.col("clock") == "utc").get_column("ts_wall").to_list()
    assert timed == [datetime(1900, 1, 1, 23, 59, 59, 900000), datetime(1900, 1, 2, 0, 0, 2, 100000)]
    assert parsed.report.clock == {"date_unknown": True}


# -- runs and results ------------------------------------------------------------------------------------------
def test_two_runs_in_one_paste_and_a_successful_one(tmp_path):
    text = "\n".join([
        "irecv_event_cb: device 00196d2c4a0b803a (udid: N/A) connected in Recovery mode",
        "Found device in Recovery mode", "Waiting for device to enter restore mode...",
        "ERROR: Device failed to enter restore mode.",
        "Found device in Recovery mode", "Checkpoint 1627 complete with code 0", "Got status message",
        "Status: Restore Finished", "DONE",
    ]) + "\n"
    ev = parse_text(tmp_path, text, "console.txt").events
    assert ev.get_column("attempt").to_list() == [1, 1, 1, 1, 2, 2, 2, 2, 2]
    assert ev.filter(pl.col("kind") == "result").select("line", "attempt", "error_code").rows() == [(4, 1, None), (9, 2, 0)]


def test_a_banner_after_activity_starts_a_run_and_status_beats_a_step_code(tmp_path):
    text = "\n".join([
        "idevicerestore 1.0.0 (libirecovery 1.2.1, libtatsu 1.0.3)", "Found device in DFU mode",
        "Checkpoint FAILURE id: 0x65B result=1100: [0]D(failed to restore APFS image)",
        "Checkpoint completed id: 0x65B (asr_and_invert_image) result=1100", "Got status message", "Status: Fail",
        "ERROR: Unable to restore device", "RESTORE FAILED",
        "idevicerestore 1.0.0 (libirecovery 1.2.1, libtatsu 1.0.3)", "Found device in Recovery mode",
        "Unhandled status message (53)", "RESTORE FAILED",
    ]) + "\n"
    ev = parse_text(tmp_path, text, "console.txt").events
    assert ev.get_column("attempt").to_list() == [1] * 8 + [2] * 4
    assert ev.filter(pl.col("kind") == "result").select("line", "error_code").rows() == [(7, 14), (12, 53)]
    at = rows(ev)
    assert (at[3]["kind"], at[3]["error_code"], at[4]["subject"]) == ("phase", 1100, "asr_and_invert_image")
    assert ev.filter(pl.col("kind") == "session_start").get_column("line").to_list() == [1, 9]


# -- sniffing ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,mine", [
    ("Found device in Recovery mode\nECID: 2089276808695\n", True),
    ("[12:00:01.1234-GMT]{5>6} CHECKPOINT BEGIN: MAIN:[0x040E] enable_usb\nrestore-step-ids = {0x1103040E:10}\n", True),
    ("ASR STATUS: start\t2.3\nASR RESTORE PROGRESS: 10%\n", True),
    ("10:15:41.120    <Info> Found device in Recovery mode\n", True),
    ("> DEBUG: x\nirecv_event_cb: device 000915ac3a06802e (udid: N/A) disconnected\n", True),
    ("2024-06-30 23:58:10.500 [900:1f0]: iTunes: Using MobileRestore state machine\n"
     "[12:00:01.1234-GMT]{5>6} CHECKPOINT BEGIN: MAIN:[0x040E] enable_usb\nrestore-step-ids = {}\n", False),
    ("[12:00:01.0100] Restore completed, status:4013\n[12:00:01.1234-GMT]{5>6} CHECKPOINT FAILURE:(FAILURE:1) x:[0x1] y\n", False),
    ("ASR: hello\nnothing else here\n", False),
    ("Error: something\nStatus: fine\n", False),
])
def test_sniff(tmp_path, text, mine):
    path = tmp_path / "x.txt"
    path.write_text(text, encoding="utf-8")
    assert SOURCE.sniff(Input(path, "x.txt")) is mine
    if mine:
        assert claimants(Input(path, "x.txt")) == ["apple_device_restore"]


def test_relayed_device_lines_read_alike_in_both_grammars():
    """checkpoint, recv_closed and mux_refused are written the same in both grammars."""
    lines = ["[08:44:02.7718-GMT]{5>9} CHECKPOINT FAILURE:(FAILURE:1100) (null):[0x065B] asr_and_invert_image [0]D(x)",
             "[08:44:02.7718-GMT]{5>9} recv(9, 4) failed: connection closed",
             "[08:44:02.7718-GMT]{5>9} AppleUSBDeviceMux::handleConnectResult new session to port 12345 failed: 61",
             "[08:41:07.0391-GMT]{5>9} CHECKPOINT BEGIN: MAIN:[0x040E] enable_usb"]
    host, device = grammars.load("apple_restore"), grammars.load("apple_device_restore")
    for line in lines:
        assert host.parse_reference(line) == device.parse_reference(line), line
