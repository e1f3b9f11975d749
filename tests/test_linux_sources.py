"""Linux bench logs (linux_usbmuxd, linux_kernel_usb): usbmuxd, libusb and kernel lines, which device
each line is about, what has no wall time, and the real libusb excerpt."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl
import pytest

from analyzer.ingest import parse_file
from analyzer.sources import Input, claimants

from conftest import SAMPLES

LIBUSB_22 = "22_usbmuxd-linux_libusb-status-71-during-restore.log"
BENCH = SAMPLES / "linux_bench_libusb_errors"


def parse(tmp_path: Path, text: str, name: str = "bench.log"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path, display=name, host="bench")


def line(parsed, number: int) -> dict:
    return parsed.events.filter(pl.col("line") == number).row(0, named=True)


# -- the real libusb excerpt (corpus) -------------------------------------------------------------------
def test_real_libusb_excerpt_is_read_in_full(corpus):
    parsed = parse_file(corpus / "apple" / LIBUSB_22)
    report = parsed.report
    assert (report.format, report.records, report.unrecognised, report.events) == ("linux_usbmuxd", 7, 0, 7)
    assert (report.records - report.unrecognised) / report.records >= 0.95
    assert [(n.code, n.params) for n in report.errors] == [("times_relative_only", {"count": 7})]
    assert parsed.events.get_column("clock").cast(pl.String).unique().to_list() == ["none"]
    assert parsed.events.get_column("ts_wall").null_count() == 7


def test_real_libusb_excerpt_status_71_is_a_usb_io_error(corpus):
    parsed = parse_file(corpus / "apple" / LIBUSB_22)
    errors = parsed.events.filter(pl.col("kind") == "usb_io_error")
    assert errors.select("line", "error_code", "ts_raw", "subject", "usb_vid", "provider").rows() == [
        (6, -71, "88.990129", "urb status -71 (EPROTO)", "05AC", "libusb")]
    assert json.loads(errors.get_column("detail")[0]) == {"function": "reap_for_handle", "urb_type": 3, "transferred": 0,
                                                          "code_space": "errno", "thread": "0000cff5"}
    completion = line(parsed, 7)
    assert (completion["kind"], completion["error_code"], completion["level"]) == ("generic", -71, 5)


# -- the bench sample -------------------------------------------------------------------------------------
def test_journal_takes_its_year_from_its_banner_and_usbmuxd_milliseconds():
    parsed = parse_file(BENCH / "journal.txt")
    assert (parsed.report.format, parsed.report.records, parsed.report.unrecognised) == ("linux_kernel_usb", 37, 0)
    assert parsed.report.clock == {"year_method": "journal_end"}
    connected = line(parsed, 10)
    assert (connected["ts_wall"], connected["ts_raw"]) == (dt.datetime(2026, 12, 3, 10, 14, 2, 712000),
                                                          "Dec 03 10:14:02 [10:14:02.712]")
    assert (connected["kind"], connected["provider"], connected["computer"], connected["level"]) == ("device_connect", "usbmuxd", "bench-07", 4)


def test_a_kernel_arrival_carries_the_descriptor_lines_of_its_port():
    parsed = parse_file(BENCH / "journal.txt")
    arrivals = parsed.events.filter((pl.col("provider") == "kernel") & (pl.col("kind") == "device_connect"))
    assert arrivals.select("line", "usb_pid", "device_mode", "udid", "serial", "chip_id").rows() == [
        (3, "12A8", "normal", "00008030-001C35E23A80802E", None, "0x8030"),
        (14, "1281", "recovery", None, "F2LZK7QXN72J", "0x8030"),
        (21, "12A8", "normal", "00008030-001C35E23A80802E", None, "0x8030"),
        (33, None, None, None, None, None)]  # descriptor read failed: nothing to tie
    assert set(arrivals.get_column("ecid").drop_nulls().to_list()) == {0x001C35E23A80802E}
    removals = parsed.events.filter((pl.col("provider") == "kernel") & (pl.col("kind") == "device_disconnect"))
    assert removals.select("line", "usb_pid", "device_mode").rows() == [(13, "12A8", "normal"), (20, "1281", "recovery"),
                                                                         (32, "12A8", "normal")]


def test_kernel_errors_carry_the_errno():
    parsed = parse_file(BENCH / "dmesg.txt")
    errors = parsed.events.filter(pl.col("kind") == "usb_io_error")
    assert errors.select("line", "error_code", "subject").rows() == [
        (8, None, "usb 1-4 reset"), (9, -71, "device descriptor read/64 (EPROTO)"),
        (10, -71, "USBDEVFS_CONTROL from usbmuxd (EPROTO)"), (13, -71, "device descriptor read/64 (EPROTO)"),
        (14, -71, "device not accepting address 23 (EPROTO)"), (15, None, "cannot enable port"),
        (16, None, "unable to enumerate USB device")]
    assert json.loads(line(parsed, 16)["detail"]) == {"port": "1-4"}  # "usb usb1-port4" is port 1-4
    assert parsed.events.get_column("ts_wall").null_count() == 16 and line(parsed, 1)["ts_raw"] == "8712.340567"


def test_dmesg_t_is_local_wall_time_with_its_year():
    parsed = parse_file(BENCH / "dmesg-T.txt")
    first = line(parsed, 1)
    assert (first["ts_wall"], first["clock"], first["ts_raw"]) == (dt.datetime(2026, 12, 3, 10, 41, 16), "local",
                                                                   "Thu Dec  3 10:41:16 2026")


def test_usbmuxd_ties_a_location_to_its_bus_address_and_udid():
    parsed = parse_file(BENCH / "usbmuxd-fvv.log")
    assert (parsed.report.format, parsed.report.records, parsed.report.unrecognised) == ("linux_usbmuxd", 29, 0)
    assert sorted((n.code, n.params["count"]) for n in parsed.report.errors) == [("times_relative_only", 9),
                                                                                  ("times_without_date", 17)]
    moves = parsed.events.filter(pl.col("kind").is_in(["device_connect", "device_disconnect"]))
    assert moves.select("line", "kind", "subject", "usb_pid", "udid").rows() == [
        (15, "device_connect", "usbmux device 1", "12A8", "00008030-001C35E23A80802E"),
        (25, "device_disconnect", "usb 1-24 RX aborted due to disconnect", "12A8", "00008030-001C35E23A80802E"),
        (26, "device_disconnect", "usbmux device 1", "12A8", "00008030-001C35E23A80802E")]
    statuses = parsed.events.filter(pl.col("subject").str.starts_with("urb status"))
    assert statuses.select("error_code", "kind").rows() == [(-71, "usb_io_error"), (-32, "usb_io_error"),
                                                           (-108, "usb_io_error"), (-2, "generic")]
    assert line(parsed, 1)["kind"] == "service_state" and line(parsed, 1)["error_code"] == 4
    assert (line(parsed, 22)["kind"], line(parsed, 22)["level"]) == ("usb_io_error", 2)  # usbmuxd's [1] is an error


def test_a_journal_with_kernel_and_usbmuxd_lines_reads_both(tmp_path):
    text = ("Dec 03 10:14:02 b kernel: usb 1-4: new high-speed USB device number 17 using xhci_hcd\n"
            "Dec 03 10:14:02 b usbmuxd[22]: [3] Connected to v2.0 device 4 on location 0x10011 with serial number "
            "6ca03dc3d04adf645721e6b4c8a1f02d9e3b7c51\n"
            "[ 12.000001] [00001e4b] libusb: debug [reap_for_handle] urb type=3 status=-110 transferred=0\n"
            "Dec 03 10:14:09 b usbmuxd[22]: [1] Could not get serial number for device 1-17: LIBUSB_ERROR_PIPE\n")
    path = tmp_path / "j.txt"
    path.write_text(text, encoding="utf-8")
    when = dt.datetime(2027, 1, 2, 9, 0).timestamp()
    os.utime(path, (when, when))
    parsed = parse_file(path, display="j.txt")
    assert parsed.report.format == "linux_kernel_usb" and parsed.report.unrecognised == 0
    assert parsed.report.clock == {"year_method": "file_time"}
    assert [n.code for n in parsed.report.errors] == ["year_from_file_time", "times_relative_only"]
    assert line(parsed, 1)["ts_wall"] == dt.datetime(2026, 12, 3, 10, 14, 2)
    assert (line(parsed, 2)["udid"], line(parsed, 2)["ecid"]) == ("6ca03dc3d04adf645721e6b4c8a1f02d9e3b7c51", None)
    assert (line(parsed, 3)["error_code"], line(parsed, 3)["subject"]) == (-110, "urb status -110 (ETIMEDOUT)")
    failed = line(parsed, 4)
    assert (failed["kind"], failed["error_code"], failed["level"]) == ("usb_io_error", -9, 2)


def test_short_iso_journal_lines_give_the_files_offset(tmp_path):
    parsed = parse(tmp_path, "2026-12-05T10:00:00+0900 b kernel: usb 1-1: USB disconnect, device number 5\n"
                             "2026-12-05T10:00:01.250000+09:00 b usbmuxd[9]: [3] Removed device 2 on location 0x10005\n")
    assert parsed.report.clock == {"year_method": "written", "utc_offset": "+09:00"}
    assert parsed.events.get_column("ts_wall").to_list() == [dt.datetime(2026, 12, 5, 10), dt.datetime(2026, 12, 5, 10, 0, 1, 250000)]


@pytest.mark.parametrize("text, expected", [
    ("[13:38:54.026][3] usbmuxd v1.1.1 starting up\n[13:38:54.027][4] Creating socket\n", ["linux_usbmuxd"]),
    ("[ 1.000000] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n" * 2, ["linux_kernel_usb"]),
    ("[88.990129] [0000cff5] libusb: debug [reap_for_handle] urb type=3 status=-71 transferred=0\n" * 2, ["linux_usbmuxd"]),
    ("usbmuxd[1234]: [3] Removed device 1 on location 0x3000b\n", ["linux_usbmuxd"]),
    ("[Thu Dec  3 10:41:16 2026] usb 1-4: reset high-speed USB device number 24 using xhci_hcd\n" * 2, ["linux_kernel_usb"]),
    ("Dec 03 10:14:02 b kernel: x\nDec 03 10:14:02 b usbmuxd[2]: [3] y\n", ["linux_kernel_usb"]),
])
def test_one_linux_source_claims_each_shape(tmp_path, text, expected):
    path = tmp_path / "x.log"
    path.write_text(text, encoding="utf-8")
    assert claimants(Input(path, "x.log")) == expected
