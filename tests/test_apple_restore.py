"""Targeted checks of the apple_restore source: attempts, clocks, transitions, codes, identifiers, encodings."""

from __future__ import annotations

import codecs
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from analyzer.ingest import parse_file
from analyzer.sources import Input
from analyzer.sources.apple_restore import SOURCE
from analyzer.sources._apple_classify import ecid_expr

from conftest import SAMPLES

ECID = 0x1534A90C85802E


def parse_text(tmp_path: Path, text: str, name: str = "restore.log", encoding: str = "utf-8", bom: bytes = b""):
    path = tmp_path / name
    path.write_bytes(bom + text.encode(encoding))
    return parse_file(path)


def row(events: pl.DataFrame, line: int) -> dict:
    got = events.filter(pl.col("line") == line).to_dicts()
    assert len(got) == 1, f"no event for line {line}"
    return got[0]


def header(date: str = "2024-06-30", time: str = "23:58:10.500") -> str:
    return (f"{date} {time} [900:1f0]: restore library built May  2 2024 at 10:11:12\n"
            f"{date} {time} [900:1f0]: iTunes: iTunes 12.13.2.3\n"
            f"{date} {time} [900:1f0]: iTunes: Using MobileRestore state machine\n")


# -- the samples ----------------------------------------------------------------------------------
def test_4013_sample_offset_rollover_unexpected_drop_and_code():
    parsed = parse_file(SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log")
    ev, rep = parsed.events, parsed.report
    assert rep.format == "apple_restore" and rep.unrecognised == 0 and rep.records == 88
    assert rep.clock["bracket_minus_header_hours"] == 9
    assert rep.clock["bracket_fraction"] == "milliseconds"
    # the header is local 14:47, the brackets UTC 23:47 on the same date, then past midnight the next day
    assert row(ev, 1)["ts_wall"] == datetime(2025, 2, 14, 14, 47, 5, 213000)
    assert row(ev, 6)["ts_wall"] == datetime(2025, 2, 14, 23, 47, 5, 231000)
    before, after = ev.filter(pl.col("ts_raw").is_in(["23:59:58.0971", "00:00:03.0288"])).get_column("ts_wall").to_list()
    assert [before, after] == [datetime(2025, 2, 14, 23, 59, 58, 971000), datetime(2025, 2, 15, 0, 0, 3, 288000)]
    assert ev.get_column("clock").unique().sort().to_list() == ["local", "bracket"]
    # planned mode changes are expected, the mid-restore drop is not
    discon = ev.filter(pl.col("kind") == "device_disconnect").select("subject", "expected").rows()
    assert discon == [("BootedOS mode device", True), ("Recovery mode device", True), ("RestoreOS mode device", False)]
    connects = ev.filter(pl.col("kind") == "device_connect").select("device_mode", "expected").rows()
    assert connects == [("recovery", True), ("restore", True), ("recovery", False), ("recovery", False)]
    wrong_mode = ev.filter(pl.col("message").str.starts_with("Unexpected device state"))
    assert wrong_mode.get_column("subject").to_list() == ["returned in Recovery, expected RestoreOS"]
    # one row per 997 occurrence, so a rule can count them
    io = ev.filter(pl.col("kind") == "usb_io_error")
    assert io.get_column("error_code").to_list() == [None, 997] * 4
    assert io.get_column("subject").to_list()[:2] == ["WaitForSingleObject failed", "AMDeviceIoControl"]
    result = ev.filter(pl.col("kind") == "result").to_dicts()
    assert len(result) == 1 and result[0]["error_code"] == 4013 and result[0]["attempt"] == 1
    assert json.loads(result[0]["detail"])["codes"] == [4013]
    ident = ev.filter(pl.col("kind") == "device_identity").to_dicts()
    assert [(r["ecid"], r["serial"], r["chip_id"], r["board_id"]) for r in ident] == [(0x1A2B3C4D5E6F07, "F2LXK7Q9JC68", "0x8020", "0x8")]
    progress = ev.filter(pl.col("kind") == "progress")
    assert progress.filter(pl.col("device_mode") == "restore").get_column("subject").unique().sort().to_list() == [
        "Creating filesystem", "Creating partition map", "Restoring image", "Wiping storage device"]
    assert progress.filter(pl.col("device_mode") == "recovery").get_column("subject").to_list() == ["host step 4", "host step 31"]


def test_3194_sample_hand_picked_build_and_negative_offset():
    parsed = parse_file(SAMPLES / "restore_3194_unsigned" / "iTunes_restore.log")
    ev, rep = parsed.events, parsed.report
    assert rep.clock["bracket_minus_header_hours"] == -3
    # header 01:22 local on the 18th is 22:22 UTC on the 17th
    assert row(ev, 5)["ts_wall"] == datetime(2016, 9, 17, 22, 22, 40, 127000)
    start = json.loads(ev.filter(pl.col("kind") == "session_start").item(0, "detail"))
    assert start["hand_picked_ipsw"] is True and start["payload_build"] == "13G34" and start["behavior"] == "Erase"
    assert start["itunes_version"] == "12.5.1.21"
    tss = ev.filter(pl.col("kind") == "tss_error").select("subject", "error_code").rows()
    assert tss[:2] == [("status 94", 94), ("cached server error 3194", 3194)]
    preflight = ev.filter(pl.col("subject") == "preflight").to_dicts()
    assert preflight[0]["kind"] == "tss_request" and preflight[0]["error_code"] == 404
    assert ev.filter(pl.col("kind") == "result").item(0, "error_code") == 3194


def test_old_format_success_transitions_are_expected():
    ev = parse_file(SAMPLES / "restore_success" / "iPhoneUpdater.log").events
    moves = ev.filter(pl.col("kind").is_in(["device_connect", "device_disconnect"]))
    assert moves.get_column("expected").to_list() == [True, True, True, True]
    arrival = moves.filter(pl.col("kind") == "device_connect").to_dicts()[0]
    assert (arrival["usb_vid"], arrival["usb_pid"], arrival["device_mode"]) == ("05AC", "1281", "recovery")
    stall = ev.filter(pl.col("kind") == "usb_io_error").to_dicts()
    assert [(s["error_code"], json.loads(s["detail"])["usbd_status"]) for s in stall] == [(31, "c0000004")]
    result = ev.filter(pl.col("kind") == "result").to_dicts()
    assert result[0]["error_code"] == 0 and json.loads(result[0]["detail"])["outcome"] == "succeeded"
    assert ev.get_column("clock").unique().to_list() == ["local"]
    # the blank continuation line (16) is read, not an event, not unrecognised
    assert 16 not in ev.get_column("line").to_list()


def test_mac_sample_two_attempts_timeout_and_device_clock():
    parsed = parse_file(SAMPLES / "restore_mac_two_attempts" / "AMPDevicesAgent_restore.log")
    ev, rep = parsed.events, parsed.report
    assert rep.clock["bracket_minus_header_hours"] == 0 and rep.clock["bracket_fraction"] == "1/10000 s"
    assert row(ev, 5)["ts_wall"] == datetime(2025, 5, 3, 9, 12, 44, 381700)
    assert ev.filter(pl.col("kind") == "session_start").get_column("attempt").to_list() == [1, 2]
    results = ev.filter(pl.col("kind") == "result").select("attempt", "error_code").rows()
    assert results == [(1, 4042), (2, 0)]
    faults = ev.filter((pl.col("attempt") == 1) & (pl.col("expected") == False)).get_column("subject").to_list()  # noqa: E712
    assert faults == ["transition timer fired", "disappeared during transition"]
    assert ev.filter((pl.col("attempt") == 2) & (pl.col("expected") == False)).height == 0  # noqa: E712
    device = ev.filter(pl.col("clock") == "utc").to_dicts()
    assert [(d["provider"], d["subject"], d["ts_wall"]) for d in device][0] == ("device", "enable_usb", datetime(2025, 5, 3, 7, 31, 26, 118700))
    assert set(ev.filter(pl.col("attempt") == 1).get_column("line").to_list()) == set(range(1, 37))


# -- attempts, offsets, rollover --------------------------------------------------------------------
def test_attempts_split_on_a_new_header_after_restore_activity(tmp_path):
    body = "[06:58:11.0100] <Restore Device 0x1>: operation 13 progress 5\n[06:58:12.0100] Restore completed, status:4005\n"
    text = header("2024-06-30", "23:58:10.500") + body + "\n" + header("2024-07-01", "00:10:00.000") + \
        "[07:10:00.0200] <Restore Device 0x2>: operation 13 progress 5\n[07:20:00.0200] Restore completed, status:0\n"
    ev = parse_text(tmp_path, text).events
    assert ev.get_column("attempt").to_list() == [1] * 5 + [2] * 5
    assert ev.filter(pl.col("kind") == "result").select("attempt", "error_code").rows() == [(1, 4005), (2, 0)]


def test_repeated_header_lines_do_not_split(tmp_path):
    text = header() + "[06:58:11.0100] requested restore behavior: Erase\n[06:58:11.0200] requested restore behavior: Erase\n" \
        "[06:58:12.0100] <Restore Device 0x1>: operation 13 progress 5\n[06:58:13.0100] requested restore behavior: Erase\n"
    assert parse_text(tmp_path, text).events.get_column("attempt").unique().to_list() == [1]


@pytest.mark.parametrize("hours", [-13, -8, -3, 0, 5, 8, 10])
def test_offset_detected_in_whole_hours(tmp_path, hours):
    base = datetime(2024, 3, 9, 21, 30, 0)
    bracket = base.timestamp() + hours * 3600 + 0.25
    b = datetime.fromtimestamp(bracket)
    text = header("2024-03-09", "21:30:00.000") + f"[{b:%H:%M:%S}.0{b.microsecond // 1000:03d}] Changing state from 'Idle' to 'Restoring'\n"
    parsed = parse_text(tmp_path, text)
    assert parsed.report.clock["bracket_minus_header_hours"] == hours
    assert parsed.events.filter(pl.col("clock") == "bracket").item(0, "ts_wall") == b


def test_rollover_backwards_offset_gives_the_previous_day(tmp_path):
    # header just after local midnight, brackets 5 h behind: the previous day, then across midnight again
    text = header("2024-01-01", "00:30:00.000") + "[19:30:00.0100] a\n[23:59:59.0990] b\n[00:00:00.0010] c\n[00:00:01.0000] d\n"
    ev = parse_text(tmp_path, text).events.filter(pl.col("clock") == "bracket")
    assert ev.get_column("ts_wall").to_list() == [datetime(2023, 12, 31, 19, 30, 0, 100000), datetime(2023, 12, 31, 23, 59, 59, 990000),
                                                 datetime(2024, 1, 1, 0, 0, 0, 10000), datetime(2024, 1, 1, 0, 0, 1)]


def test_bracket_lines_without_a_header_are_kept_in_order_on_the_placeholder_day(tmp_path):
    text = ("[23:59:58.0100] Changing state from 'Idle' to 'Restoring'\n[00:00:01.0100] Device info:\n"
            "[00:00:01.0200] ECID: 0x1\n")
    parsed = parse_text(tmp_path, text)
    ev, rep = parsed.events, parsed.report
    assert ev.get_column("ts_wall").to_list() == [datetime(1900, 1, 1, 23, 59, 58, 100000), datetime(1900, 1, 2, 0, 0, 1, 100000),
                                                 datetime(1900, 1, 2, 0, 0, 1, 200000)]
    assert ev.get_column("ts_raw").to_list() == ["23:59:58.0100", "00:00:01.0100", "00:00:01.0200"]
    assert rep.clock["date_unknown"] is True and rep.clock["bracket_zone_unknown"] is True
    assert rep.clock["bracket_fraction"] == "milliseconds" and "bracket_minus_header_hours" not in rep.clock
    notes = [n for n in rep.errors if n.code == "date_unknown_no_header"]
    assert [n.line for n in notes] == [1] and "UTC (Windows) or local time (Mac)" in notes[0].message


def test_bracket_lines_before_the_first_header_are_dated_back_from_it(tmp_path):
    # a pasted tail of one attempt, then a whole attempt: brackets 9 h behind the header (UTC, header in Tokyo)
    text = ("[23:58:00.0100] Restore completed, status:4013\n[00:10:00.0100] AMPDevicesAgent: Restore error 4013\n"
            + header("2024-07-01", "09:20:00.000") + "[00:20:01.0100] Changing state from 'Idle' to 'Restoring'\n")
    parsed = parse_text(tmp_path, text)
    brackets = parsed.events.filter(pl.col("clock") == "bracket").get_column("ts_wall").to_list()
    assert brackets == [datetime(2024, 6, 30, 23, 58, 0, 100000), datetime(2024, 7, 1, 0, 10, 0, 100000),
                        datetime(2024, 7, 1, 0, 20, 1, 100000)]
    assert "date_unknown" not in parsed.report.clock and parsed.report.clock["bracket_minus_header_hours"] == -9


# -- transitions ----------------------------------------------------------------------------------------
def test_disconnect_outside_transition_and_wrong_mode_are_faults(tmp_path):
    text = header() + "\n".join([
        "[06:58:11.0100] <Restore Device 0x1>: operation 13 progress 40",
        "[06:58:12.0100] RestoreOS mode device disconnected",
        "[06:58:12.0200] Changing state from 'Restoring' to 'Transitioning'",
        "[06:58:12.0300] Creating a timer for 10 minutes",
        "[06:58:30.0100] Recovery mode device connected with ECID: 0x1534A90C85802E",
        "[06:58:30.0200] Unexpected device state 'Recovery' expected 'RestoreOS'",
    ]) + "\n"
    ev = parse_text(tmp_path, text).events.filter(pl.col("expected").is_not_null())
    assert ev.select("kind", "expected").rows() == [("device_disconnect", False), ("device_connect", False), ("device_connect", False)]
    assert ev.item(1, "ecid") == ECID


def test_announced_mode_change_is_expected_and_first_connect_is_neutral(tmp_path):
    text = header() + "\n".join([
        "[06:58:10.0100] Recovery mode device connected with ECID: 0x1534A90C85802E",
        "[06:58:11.0100] Entering recovery mode",
        "[06:58:12.0100] BootedOS mode device disconnected",
        "[06:58:12.0200] Changing state from 'Restoring' to 'Transitioning'",
        "[06:58:30.0100] Recovery mode device connected with ECID: 0x1534A90C85802E",
        "[06:58:30.0200] Transitioning device returned, continuing restore.",
        "[06:58:31.0100] <Recovery Mode Device 0x5>: operation 4 progress -1",
        "[06:59:00.0100] Recovery mode device disconnected",
    ]) + "\n"
    ev = parse_text(tmp_path, text).events.filter(pl.col("kind").is_in(["device_connect", "device_disconnect"]))
    assert ev.get_column("expected").to_list() == [None, True, True, False]


# -- result codes ------------------------------------------------------------------------------------------
def test_the_code_the_user_saw_wins_even_when_it_is_the_minus_one_wrapper(tmp_path):
    text = header() + "\n".join([
        "[06:58:11.0100] <Restore Device>: Restore failed (result = 11)",
        "[06:58:11.0200] AMRestorePerformRestoreModeRestoreWithError failed with error: 11",
        "[06:58:11.0300] Restore completed, status:-1",
        "[06:58:11.0300] Failure Description:",
        "[06:58:11.0400] Depth:0 Code:-1 Error:The operation couldn't be completed.",
        "[06:58:11.0500] AMPDevicesAgent: Restore error -1",
    ]) + "\n"
    result = parse_text(tmp_path, text).events.filter(pl.col("kind") == "result").to_dicts()
    assert len(result) == 1 and result[0]["error_code"] == -1
    detail = json.loads(result[0]["detail"])
    assert detail["codes"] == [-1, 11] and detail["inner_codes"] == [11, 11] and detail["outcome"] == "failed"


def test_user_facing_code_wins_and_depths_are_rows_of_their_own(tmp_path):
    text = header() + "\n".join([
        "[06:58:11.0300] Restore completed, status:4013",
        "[06:58:11.0400] Depth:0 Code:4013 Error:The device was disconnected.",
        "[06:58:11.0400] Depth:1 Code:4005 Error:Gave up waiting for device to transition from RestoreOS state to BootedOS State.",
        "[06:58:11.0500] AMPDevicesAgent: Restore error 4013",
    ]) + "\n"
    ev = parse_text(tmp_path, text).events
    result = ev.filter(pl.col("kind") == "result").to_dicts()[0]
    assert result["error_code"] == 4013 and result["message"].startswith("Restore completed")
    assert [d["code"] for d in json.loads(result["detail"])["underlying_codes"]] == [4013, 4005]
    assert ev.filter(pl.col("subject") == "Depth:1").item(0, "error_code") == 4005


# -- identifiers ----------------------------------------------------------------------------------------------
def test_ecid_encodings_normalise_to_one_integer(tmp_path):
    text = header() + "\n".join([
        "[06:58:10.0100] ECID: 0x1534A90C85802E",
        "[06:58:11.0100] Muxed device disconnected with ECID: 0x1534a90c85802e",
    ]) + "\n" + "2024-06-30 23:59:00.000 [900:1f0]: WinAMRestore::OnInterfaceArrival: \\\\?\\usb#vid_05ac&pid_1281#sdom:01_cpid:8027_cprv:11_cpfm:03_scep:01_bdid:0e_ecid:001534a90c85802e_ibfl:3c_srnm:[f2lxk7q9jc68]#mux1\n"
    ev = parse_text(tmp_path, text).events
    assert set(ev.get_column("ecid").drop_nulls().to_list()) == {ECID}
    assert ev.get_column("ecid").drop_nulls().len() == 3
    arrival = ev.filter(pl.col("message").str.contains("OnInterfaceArrival")).to_dicts()[0]
    assert (arrival["chip_id"], arrival["board_id"], arrival["serial"], arrival["usb_pid"]) == ("0x8027", "0xE", "F2LXK7Q9JC68", "1281")


def test_ecid_expr_on_each_encoding():
    s = pl.Series(["0x1534A90C85802E", "001534a90c85802e", str(ECID), "5968875175116846", "0X1534a90c85802e", "zz"])
    assert pl.select(ecid_expr(pl.lit(s))).to_series().to_list() == [ECID, ECID, ECID, 5968875175116846, ECID, None]


def test_tss_unreachable_lines(tmp_path):
    text = header() + "\n".join([
        "[06:58:11.0100] amai: AMAuthInstallHttpMessageSendSync: no response header",
        "[06:58:11.0200] amai: tss_submit_job: SendHttpRequest failed -1",
        "[06:58:11.0300] amai: AMAuthInstallRequestSendSync: failed tss submission: Server not reachable",
    ]) + "\n"
    ev = parse_text(tmp_path, text).events.filter(pl.col("kind") == "tss_error")
    assert ev.select("subject", "error_code").rows() == [("no response header", None), ("SendHttpRequest failed", -1),
                                                         ("Server not reachable", None)]


def test_radio_errors_are_baseband_not_usb(tmp_path):
    text = header() + "\n".join([
        "[06:58:11.0100] <Recovery Mode Device 00455520>: radio-error = 512",
        "[06:58:11.0200] <Recovery Mode Device 00455520>: radio-error-string = 'Communication failure'",
        "[06:58:11.0300] command device request for 'getenv radio-error' failed: 2008",
        "[06:58:11.0400] fatal recovery mode radio error",
    ]) + "\n"
    ev = parse_text(tmp_path, text).events.filter(pl.col("line") > 3)
    assert ev.select("kind", "error_code").rows() == [("baseband_error", 512), ("baseband_error", None),
                                                      ("usb_io_error", 2008), ("baseband_error", None)]


# -- bad and odd input ---------------------------------------------------------------------------------------------
def test_unrecognised_lines_are_counted_with_located_notes(tmp_path):
    text = header() + "this is not a restore line\n\n[06:58:11.0100] ok\nneither is this\n"
    parsed = parse_text(tmp_path, text)
    assert parsed.report.records == 7 and parsed.report.unrecognised == 2
    notes = [n for n in parsed.report.errors if n.line is not None]
    assert [n.line for n in notes] == [4, 7] and "no line shape of apple_restore" in notes[0].message
    assert parsed.events.height == 4


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-le", b""), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-8", codecs.BOM_UTF8)])
def test_utf16_and_crlf_give_the_same_rows(tmp_path, encoding, bom):
    text = (SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log").read_text(encoding="utf-8")
    plain = parse_text(tmp_path, text.replace("\r\n", "\n"), "plain.log").events.drop("file", "host")
    other = parse_text(tmp_path, text, "other.log", encoding=encoding, bom=bom).events.drop("file", "host")
    assert other.equals(plain)


def test_sniff_claims_apple_logs_only(tmp_path):
    def sniff(text: str) -> bool:
        path = tmp_path / "x.txt"
        path.write_text(text, encoding="utf-8")
        return SOURCE.sniff(Input(path, "x.txt"))
    assert sniff(header())
    assert sniff("[10:00:00.0100] Restore completed, status:4042\n")  # a pasted one-line tail
    assert sniff("00:34:15.021: Recovery mode device connected with ECID: 0x1\n00:34:15.022: a\n00:34:15.023: b\n")
    assert not sniff("Found device in Recovery mode\nECID: 2089276808695\n")  # idevicerestore: apple_device_restore
    assert not sniff("#Version: 1.5\n#Software: Microsoft Windows Firewall\n2019-05-07 16:12:01 ALLOW TCP 10.0.0.2 17.0.0.1 50000 443 0 - - - - - - - SEND\n")
    assert not sniff(">>>  [Device Install (Hardware initiated) - USB\\VID_05AC&PID_12A8\\abc]\n>>>  Section start 2019/05/07 16:12:01.880\n")
    assert not sniff("Event[0]:\n  Log Name: System\n  Source: Service Control Manager\n  Date: 2019-05-07T16:12:01.880\n")
    assert not sniff("[10:00:00.0100] hello\n[10:00:00.0200] world\n[10:00:00.0300] again\n")


def test_disagreeing_header_blocks_are_reported(tmp_path):
    text = header("2024-03-09", "21:30:00.000") + "[05:30:01.0100] <Restore Device 0x1>: operation 13 progress 5\n" \
        "[05:30:02.0100] Restore completed, status:0\n" + header("2024-03-11", "21:30:00.000") + \
        "[04:30:01.0100] <Restore Device 0x1>: operation 13 progress 5\n"
    parsed = parse_text(tmp_path, text)
    assert parsed.report.clock["bracket_minus_header_hours"] == 8 and parsed.report.clock["other_offsets_seen"] == [7]
    assert any("disagree" in n.message for n in parsed.report.errors)


def test_restore_progress_uses_up_an_earlier_announcement(tmp_path):
    text = header() + "\n".join([
        "[06:58:11.0100] bootstrapping restore with iBEC",
        "[06:58:20.0100] <Restore Device 0x1>: operation 13 progress 10",
        "[06:58:21.0100] <Restore Device 0x1>: operation 13 progress 11",
        "[06:58:22.0100] RestoreOS mode device disconnected",
    ]) + "\n"
    ev = parse_text(tmp_path, text).events.filter(pl.col("kind") == "device_disconnect")
    assert ev.get_column("expected").to_list() == [False]


def test_old_mac_update_sample():
    ev = parse_file(SAMPLES / "restore_old_format_mac" / "iPhoneUpdater 1.log").events
    start = json.loads(ev.filter(pl.col("kind") == "session_start").item(0, "detail"))
    assert (start["behavior"], start["current_build"], start["payload_build"]) == ("Update", "8L1", "9A334")
    assert ev.get_column("provider").unique().to_list() == ["iTunes"]
    stall = ev.filter(pl.col("kind") == "usb_io_error").to_dicts()
    assert [(s["error_code"], s["subject"]) for s in stall] == [(0xE000404F, "DeviceRequest")]
    assert ev.filter(pl.col("kind") == "result").item(0, "error_code") == 0


# -- what people paste: tails without their header, heads without their end, repair-tool logs -------------------
def test_pasted_tail_sample_attempt_result_and_unknown_date():
    parsed = parse_file(SAMPLES / "restore_pasted_tail" / "AMPDevicesAgent_tail.log")
    ev, rep = parsed.events, parsed.report
    assert (rep.format, rep.records, rep.unrecognised, ev.height) == ("apple_restore", 31, 0, 31)
    assert rep.clock == {"bracket_fraction": "1/10000 s", "date_unknown": True, "bracket_zone_unknown": True}
    assert [(n.code, n.line) for n in rep.errors] == [("date_unknown_no_header", 1)]
    assert ev.get_column("attempt").unique().to_list() == [1]
    result = ev.filter(pl.col("kind") == "result").to_dicts()
    assert [(r["line"], r["error_code"], r["ts_raw"]) for r in result] == [(27, 4042, "00:04:06.9172")]
    assert json.loads(result[0]["detail"])["codes"] == [4042]
    # the timer fired after midnight: one day later on the placeholder day, so the order is kept
    assert row(ev, 23)["ts_wall"] == datetime(1900, 1, 2, 0, 4, 6, 916100) and row(ev, 1)["ts_wall"] == datetime(1900, 1, 1, 23, 53, 58, 220700)
    assert ev.get_column("ts_wall").is_sorted()
    faults = ev.filter(pl.col("expected") == False).get_column("subject").to_list()  # noqa: E712
    assert faults == ["transition timer fired", "disappeared during transition"]
    assert ev.filter(pl.col("kind") == "device_identity").select("ecid", "chip_id", "board_id", "serial").rows() == [
        (0x2A19C04E7B5D3E, "0x8103", "0x6", "DMPW4K2TQ1GC")]


def test_a_one_line_tail_is_still_a_result(tmp_path):
    parsed = parse_text(tmp_path, "[00:04:06.0172] Restore completed, status: 4042\n")
    ev = parsed.events
    assert parsed.report.format == "apple_restore"
    assert ev.select("attempt", "kind", "error_code").rows() == [(1, "result", 4042)]
    assert parsed.report.clock["date_unknown"] is True


def test_a_head_without_its_end_keeps_every_row_in_its_unfinished_attempt(tmp_path):
    text = header() + "\n".join([
        "[06:58:11.0100] Changing state from 'Idle' to 'Restoring'", "[06:58:12.0100] requested restore behavior: Erase",
        "[06:58:13.0100] <Restore Device 0x1>: operation 13 progress 5", "[06:58:14.0100] <Restore Device 0x1>: operation 13 progress 6",
    ]) + "\n"
    parsed = parse_text(tmp_path, text)
    ev = parsed.events
    assert ev.height == parsed.report.records == 7 and parsed.report.unrecognised == 0
    assert ev.get_column("attempt").to_list() == [1] * 7
    assert ev.filter(pl.col("kind") == "result").height == 0
    assert ev.get_column("ts_wall").null_count() == 0 and "date_unknown" not in parsed.report.clock


def test_repair_tool_lines_notes_and_wrapped_lines():
    parsed = parse_file(SAMPLES / "thirdparty_itunesflash" / "3uTools_iTunesFlash.log")
    ev, rep = parsed.events, parsed.report
    assert (rep.format, rep.records, rep.unrecognised, ev.height) == ("apple_restore", 66, 0, 66)
    assert rep.clock == {"date_unknown": True} and [(n.code, n.line) for n in rep.errors] == [("date_unknown", 1)]
    # the tool's own notes (one more space after the time) vs the MobileDevice lines it re-emits
    assert (row(ev, 1)["provider"], row(ev, 1)["message"]) == ("3uTools", "Start flashing, firmware: iPhone12,1_17.6.1_21G93_Restore.ipsw")
    assert (row(ev, 3)["provider"], row(ev, 3)["kind"]) == ("MobileDevice", "session_start")
    assert (row(ev, 3)["clock"], row(ev, 3)["ts_raw"], row(ev, 3)["ts_wall"]) == ("local", "00:34:02.870", datetime(1900, 1, 1, 0, 34, 2, 870000))
    # the same classification as a restore log: expected transitions, the drop in RestoreOS, 4013
    assert ev.filter(pl.col("expected").is_not_null()).select("line", "expected").rows() == [
        (24, True), (30, True), (38, True), (44, True), (53, False), (59, False), (60, False)]
    assert ev.filter(pl.col("kind") == "result").select("line", "error_code").rows() == [(61, 4013)]
    assert row(ev, 48)["subject"] == "install_kernel_cache" and row(ev, 49)["subject"] == "Installing kernelcache"
    wrapped = row(ev, 66)
    assert (wrapped["kind"], wrapped["clock"], wrapped["ts_wall"], wrapped["provider"], wrapped["message"]) == (
        "generic", "none", None, "3uTools", "flash again.")
    assert ev.get_column("attempt").unique().to_list() == [1]


def test_host_checkpoint_lines_with_or_without_a_name(tmp_path):
    text = header() + "[06:44:02.0316] Completed checkpoint id: 0x635\n[06:44:02.0317] Started checkpoint id: 0x628 (install_kernel_cache)\n"
    ev = parse_text(tmp_path, text).events.filter(pl.col("line") > 3)
    assert ev.select("kind", "subject").rows() == [("phase", "0x635"), ("phase", "install_kernel_cache")]
    assert [json.loads(d)["id"] for d in ev.get_column("detail")] == ["0x635", "0x628"]


def test_a_pasted_tail_is_an_incident_with_its_code_and_no_placeholder_date():
    from analyzer import analyze
    incidents = analyze([SAMPLES / "restore_pasted_tail"]).incidents
    assert [i.error_code for i in incidents] == [4042]
    # the placeholder day must never reach a report: unplaced (no time) or placed by another clue
    assert all(t is None or t.year != 1900 for i in incidents for t in (i.started_at, i.failed_at))


# -- read a chunk of lines at a time ----------------------------------------------------------------
def _restore_samples() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and SOURCE.sniff(Input(path=p, display=str(p))))


def test_reading_in_chunks_gives_the_rows_of_one_read(monkeypatch):
    """Big logs go through the grammar a chunk of lines at a time: chunks of 7 lines (so every
    attempt, header block and failure description straddles a boundary) must give the same rows,
    counts and notes as one read of the whole file."""
    import analyzer.sources._apple_lines as module
    samples = _restore_samples()
    assert len(samples) >= 10
    whole = {p: parse_file(p) for p in samples}
    monkeypatch.setattr(module, "CHUNK_LINES", 7)
    for path in samples:
        chunked = parse_file(path)
        assert chunked.events.equals(whole[path].events), path
        assert (chunked.report.records, chunked.report.unrecognised) == (whole[path].report.records,
                                                                        whole[path].report.unrecognised), path
        assert [n.code for n in chunked.report.errors] == [n.code for n in whole[path].report.errors], path
