"""Mac console (mac_syslog) and unified log (mac_unified_log): line shapes, the date decisions made
over a whole file, Apple messages read as in restore logs, and the real Console excerpt."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl
import pytest

from analyzer import analyze
from analyzer.ingest import parse_file
from analyzer.sources import Input, claimants

from conftest import SAMPLES

CONSOLE_31 = "31_macos-console-2016_itunes-muxed-device-disconnected-bootedos.log"
UDID_31 = "9a86d929e12afd57eb327ba220b13536a4ce8269"


def parse(tmp_path: Path, text: str, name: str = "console.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path, display=name, host="mac")


def rows(parsed) -> list[dict]:
    return parsed.events.to_dicts()


def codes(parsed) -> list[str]:
    return [n.code for n in parsed.report.errors]


# -- the real Console excerpt (corpus) ----------------------------------------------------------------------
def test_real_console_excerpt_is_read_in_full(corpus):
    parsed = parse_file(corpus / "apple" / CONSOLE_31)
    report = parsed.report
    assert (report.format, report.records, report.unrecognised) == ("mac_syslog", 10, 0)
    assert (report.records - report.unrecognised) / report.records >= 0.95
    assert report.clock == {"date_order": "MDY", "date_order_method": "clock_convention"}
    assert codes(parsed) == ["date_order_guessed"]
    ev = parsed.events
    assert ev.get_column("ts_wall").to_list()[0] == dt.datetime(2016, 10, 2, 8, 35, 55, 972000)
    assert ev.get_column("ts_raw").to_list()[0] == "10/02/16 8:35:55.972 AM"


def test_real_console_excerpt_means_what_a_restore_log_means(corpus):
    ev = parse_file(corpus / "apple" / CONSOLE_31).events
    by_line = {r["line"]: r for r in ev.to_dicts()}
    assert by_line[1]["kind"] == "device_connect" and by_line[1]["subject"] == "muxed device connected"
    assert by_line[3]["kind"] == "generic" and by_line[3]["subject"] == "muxed device disconnected"
    drop = by_line[5]  # tid:4217 - BootedOS mode device disconnected
    assert (drop["kind"], drop["device_mode"], drop["expected"], drop["provider"]) == ("device_disconnect", "normal", False, "iTunes")
    assert json.loads(drop["detail"]) == {"thread": "4217"}
    assert drop["ts_wall"] == dt.datetime(2016, 10, 2, 8, 35, 56, 84000)
    failed = [r for r in by_line.values() if r["subject"] == "AMDeviceStartSession: kAMDDeviceDisconnectedError"]
    assert [(r["line"], r["provider"], r["udid"]) for r in failed] == [(9, "ath", UDID_31), (10, "AppleMobileBackup", UDID_31)]
    assert ev.filter(pl.col("kind") == "device_disconnect").height == 1


# -- slashed dates: the order is decided over the file --------------------------------------------------------
def test_a_day_above_12_makes_the_whole_file_day_first(tmp_path):
    parsed = parse(tmp_path, "02/03/16 09:12:33.120 iTunes[80]: one\n14/03/16 18:00:01.000 iTunes[80]: two\n")
    assert parsed.report.clock == {"date_order": "DMY", "date_order_method": "field_over_12"}
    assert parsed.events.get_column("ts_wall").to_list() == [dt.datetime(2016, 3, 2, 9, 12, 33, 120000),
                                                             dt.datetime(2016, 3, 14, 18, 0, 1)]
    assert codes(parsed) == []


def test_dates_that_only_move_by_a_day_one_way_settle_the_order(tmp_path):
    text = "03/09/16 11:58:01.000 PM iTunes[80]: a\n03/10/16 12:01:02.500 AM iTunes[80]: b\n"
    parsed = parse(tmp_path, text)
    assert parsed.report.clock == {"date_order": "MDY", "date_order_method": "date_steps"}
    assert parsed.events.get_column("ts_wall").to_list() == [dt.datetime(2016, 3, 9, 23, 58, 1),
                                                             dt.datetime(2016, 3, 10, 0, 1, 2, 500000)]


def test_a_24_hour_clock_with_one_ambiguous_date_is_read_day_first_and_noted(tmp_path):
    parsed = parse(tmp_path, "05/06/2016 09:12:33.120 AppleMobileBackup[568]: x\n")
    assert parsed.report.clock == {"date_order": "DMY", "date_order_method": "clock_convention"}
    assert parsed.events.get_column("ts_wall").to_list() == [dt.datetime(2016, 6, 5, 9, 12, 33, 120000)]
    note = parsed.report.errors[0]
    assert (note.code, note.params, note.line) == ("date_order_guessed", {"example": "05/06/2016", "order": "DMY"}, 1)


def test_contradicting_dates_are_counted_and_the_majority_wins(tmp_path):
    text = "".join(f"{d} 10:00:00.000 iTunes[80]: x\n" for d in ("13/01/16", "14/01/16", "01/13/16"))
    parsed = parse(tmp_path, text)
    assert parsed.report.clock["date_order"] == "DMY"
    note = next(n for n in parsed.report.errors if n.code == "date_order_conflict")
    assert note.params == {"count": 1, "order": "DMY"}
    assert parsed.events.get_column("ts_wall").to_list()[2] is None  # month 13 does not exist


def test_year_first_console_lines_and_noon_midnight(tmp_path):
    text = ("2016/03/09 12:00:00.000 AppleMobileBackup[568]: x\n"
            "03/09/16 12:00:00.000 AM iTunes[1]: midnight\n03/09/16 12:00:00.000 PM iTunes[1]: noon\n")
    walls = parse(tmp_path, text).events.get_column("ts_wall").to_list()
    assert walls == [dt.datetime(2016, 3, 9, 12), dt.datetime(2016, 3, 9, 0), dt.datetime(2016, 3, 9, 12)]


# -- BSD syslog lines: the year ----------------------------------------------------------------------------
def test_system_log_takes_its_year_from_the_boot_line(tmp_path):
    text = ("Dec 31 23:59:58 mac bootlog[0]: BOOT_TIME 1483228798 0\n"
            "Dec 31 23:59:59 mac iTunes[1]: a\nJan  1 00:00:01 mac iTunes[1]: b\n")
    parsed = parse(tmp_path, text)
    assert parsed.report.clock == {"year_method": "in_file"}
    assert [w.year for w in parsed.events.get_column("ts_wall").to_list()] == [2016, 2016, 2017]
    assert parsed.events.get_column("ts_raw").to_list()[2] == "Jan  1 00:00:01"


def test_without_a_year_in_the_file_the_modification_time_gives_it_and_says_so(tmp_path):
    path = tmp_path / "system.log"
    path.write_text("Nov 30 10:00:00 mac iTunes[1]: a\nDec  2 10:00:00 mac iTunes[1]: b\n", encoding="utf-8")
    when = dt.datetime(2019, 1, 15, 12, 0).timestamp()
    os.utime(path, (when, when))
    parsed = parse_file(path, display="system.log")
    assert parsed.report.clock == {"year_method": "file_time"}
    assert [w.year for w in parsed.events.get_column("ts_wall").to_list()] == [2018, 2018]
    assert [(n.code, n.params) for n in parsed.report.errors] == [("year_from_file_time", {"year": 2018})]


def test_relay_prefixes_are_unwrapped_one_inside_the_other(tmp_path):
    text = ("Oct  2 08:35:55 mac kernel[0]: 000328.735875 HS02@14200000: AppleUSBHostPort::terminateDevice: "
            "destroying 0x05ac/1281/0000 (Apple Mobile Device (Recovery Mode)): connect change interrupt\n"
            "2016/10/02 08:35:56.000 AppleMobileBackup[568]: 568:2955|SocketStreamHandler.c:_SocketLogCallback| "
            "ERROR: SocketSend (data): error 32: Broken pipe\n")
    path = tmp_path / "mixed.log"
    path.write_text(text, encoding="utf-8")
    from analyzer.sources.mac_syslog import SOURCE
    ev = rows(SOURCE.parse(Input(path, "mixed.log")))
    assert (ev[0]["kind"], ev[0]["usb_vid"], ev[0]["usb_pid"], ev[0]["device_mode"]) == ("device_disconnect", "05AC", "1281", "recovery")
    assert json.loads(ev[0]["detail"])["reason"] == "connect change interrupt"
    assert (ev[1]["kind"], ev[1]["error_code"], ev[1]["subject"]) == ("usb_io_error", 32, "SocketSend: Broken pipe")
    assert json.loads(ev[1]["detail"])["where"] == "SocketStreamHandler.c:_SocketLogCallback"


# -- the unified log -------------------------------------------------------------------------------------------
UNIFIED = SAMPLES / "mac_finder_restore_4013" / "log_show.txt"


def test_unified_log_keeps_wall_times_and_reports_the_written_offset():
    parsed = parse_file(UNIFIED, display="log_show.txt")
    assert (parsed.report.format, parsed.report.records, parsed.report.unrecognised) == ("mac_unified_log", 64, 0)
    assert parsed.report.clock == {"utc_offset": "-08:00"}
    first = parsed.events.filter(pl.col("line") == 4).row(0, named=True)
    assert (first["ts_wall"], first["ts_raw"], first["clock"]) == (
        dt.datetime(2026, 2, 26, 14, 2, 10, 114522), "2026-02-26 14:02:10.114522-0800", "local")


def test_the_written_offset_puts_the_file_on_utc_ahead_of_tz():
    result = analyze([UNIFIED], tz="Asia/Tokyo", layout="host")
    first = result.events.filter(pl.col("line") == 4).get_column("ts_utc").to_list()[0]
    assert first == dt.datetime(2026, 2, 26, 22, 2, 10, 114522, tzinfo=dt.timezone.utc)
    clock = result.files[0].clock
    assert (clock["local_zone"], clock["local_zone_method"]) == ("-08:00", "written_offset")


def test_a_restore_relayed_by_the_unified_log_is_an_attempt_with_its_transitions():
    ev = parse_file(UNIFIED).events
    agent = ev.filter(pl.col("provider") == "AMPDevicesAgent")
    assert set(agent.get_column("attempt").to_list()) == {1}
    assert ev.filter(pl.col("provider") == "kernel").get_column("attempt").null_count() == 6
    result = ev.filter(pl.col("kind") == "result").row(0, named=True)
    assert (result["line"], result["error_code"]) == (57, 4013)
    moves = ev.filter(pl.col("kind").is_in(["device_connect", "device_disconnect"]) & pl.col("attempt").is_not_null())
    # announced transitions are expected; the drop in the middle of the restore and what follows it are not
    assert moves.select("line", "kind", "device_mode", "expected").rows() == [
        (22, "device_disconnect", "normal", True), (29, "device_connect", "recovery", True),
        (37, "device_disconnect", "recovery", True), (41, "device_connect", "restore", True),
        (49, "device_disconnect", "restore", False), (55, "device_connect", "recovery", False),
        (56, "device_connect", "recovery", False)]
    kernel = ev.filter((pl.col("provider") == "kernel") & (pl.col("kind") == "device_disconnect"))
    assert kernel.select("usb_pid", "device_mode").rows() == [("12A8", "normal"), ("1281", "recovery"), ("12A8", "normal")]


def test_compact_and_syslog_styles_and_two_offsets(tmp_path):
    text = ("Timestamp               Ty Process[PID:TID]\n"
            "2026-03-08 01:59:59.120 Df AMPDevicesAgent[603:2f1a] (MobileDevice) BootedOS mode device disconnected\n")
    compact = parse(tmp_path, text, "compact.txt")
    assert compact.report.format == "mac_unified_log" and compact.report.clock == {}
    assert compact.events.filter(pl.col("line") == 2).select("clock", "kind", "level").row(0) == ("local", "device_disconnect", 4)
    text = ("2026-03-08 01:59:59.000000-0800 localhost AMPDevicesAgent[603]: a\n"
            "2026-03-08 03:00:01.000000-0700 localhost AMPDevicesAgent[603]: b\n"
            "2026-03-08 03:00:02.000000-0700 localhost AMPDevicesAgent[603]: c\n")
    dst = parse(tmp_path, text, "dst.txt")
    assert dst.report.clock == {"utc_offset": "-07:00", "utc_offsets": {"-07:00": 2, "-08:00": 1}}
    assert [(n.code, n.params) for n in dst.report.errors] == [("utc_offsets_differ", {"offsets": "-07:00, -08:00", "used": "-07:00"})]


# -- sniffing ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("10/02/16 8:35:55.972 AM iTunes[926]: x\n10/02/16 8:35:55.974 AM iTunes[926]: y\n", ["mac_syslog"]),
    ("Oct  2 08:35:55 MacBook-Pro iTunes[926]: x\nOct  2 08:35:56 MacBook-Pro syslogd[44]: y\n", ["mac_syslog"]),
    ("Oct  2 08:35:55 pc sshd[926]: x\nOct  2 08:35:56 pc sshd[44]: y\n", []),  # not Apple, not a Mac
    ("2026-02-26 14:02:10.114522-0800 localhost AMPDevicesAgent[603]: x\n" * 2, ["mac_unified_log"]),
    ("[14:02:10.1145] Changing state from 'Restoring' to 'Transitioning'\n" * 3 + "[14:02:10.1145] AMPDevicesAgent\n", ["apple_restore"]),
])
def test_one_source_claims_each_shape(tmp_path, text, expected):
    path = tmp_path / "x.log"
    path.write_text(text, encoding="utf-8")
    assert claimants(Input(path, "x.log")) == expected
