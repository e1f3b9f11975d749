"""Properties of the Mac, Linux and ASL sources: their parsers never raise on arbitrary text or bytes,
their grammars' fast path agrees with Lark on every sample line and on generated ones, and a grammar's
markers read a relayed message as they read it in their own format (grammars.extract_messages)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import grammars
from analyzer.sources import Input, registry

from conftest import SAMPLES
from grammar_agreement import assert_fast_path_agrees

NAMES = ("mac_syslog", "mac_unified_log", "linux_usbmuxd", "linux_kernel_usb", "apple_asl")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PREFIXES = ["", "10/02/16 8:35:55.972 AM iTunes[926]: ", "Oct  2 08:35:55 mac iTunes[9]: ", "[ 12.345678] usb 1-1: ",
            "Dec 05 10:00:00 h kernel: usb 1-1: ", "Dec 05 10:00:00 h usbmuxd[2]: [3] ", "[13:38:54.026][3] ",
            "[88.990129] [0000cff5] libusb: debug [reap_for_handle] ", "2026-02-26 14:02:10.114522-0800 0x2f1a  Default  0x0  6  0  AMPDevicesAgent: ",
            "[5120 @ Tue Dec 01 16:31:02 2026] [YSLoader AppleMobileDeviceHelper.exe] ", "2016/10/02 08:35:55.972 AppleMobileBackup[568]: "]
WORDS = ["tid:12 - ", "(MobileDevice) ", "[com.apple.x:y] ", "BootedOS mode device disconnected", "Restore completed, status:4013",
         "Connected to v2.0 device 1 on location 0x10018 with serial number 00008030-001C35E23A80802E", "Removed device 1 on location 0x3000b",
         "urb type=3 status=-71 transferred=0", "New USB device found, idVendor=05ac, idProduct=1281", "SerialNumber: ECID:00FF",
         "error -71", "BOOT_TIME 99999999999999999999 0", "Entered:_AMMuxedDeviceDisconnected, mux-device:80", "\t", "", "0x", "]: ", " --"]


def _unfinished(parsed) -> list[str]:
    return [n.message for n in parsed.report.errors if n.code == "reading_unfinished"]


@SETTINGS
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=3000))
def test_parsers_never_raise_on_arbitrary_bytes(tmp_path: Path, name, data):
    path = tmp_path / "blob.log"
    path.write_bytes(data)
    parsed = registry()[name].parse(Input(path, "blob.log"))  # the parser itself, even on what its sniffer refuses
    assert _unfinished(parsed) == []
    assert parsed.report.records >= parsed.events.height


@SETTINGS
@given(name=st.sampled_from(NAMES), lines=st.lists(st.tuples(st.sampled_from(PREFIXES), st.lists(st.sampled_from(WORDS), max_size=4),
                                                              st.text(max_size=30)), max_size=30))
def test_parsers_never_raise_on_hostile_line_mixes(tmp_path: Path, name, lines):
    path = tmp_path / "mix.log"
    path.write_text("\n".join(p + "".join(w) + t for p, w, t in lines), encoding="utf-8", errors="replace")
    parsed = registry()[name].parse(Input(path, "mix.log"))
    assert _unfinished(parsed) == []
    assert parsed.report.unrecognised <= parsed.report.records


@SETTINGS
@given(name=st.sampled_from(NAMES), text=st.text(max_size=2000))
def test_parsers_never_raise_on_arbitrary_text(tmp_path: Path, name, text):
    path = tmp_path / "text.log"
    path.write_text(text, encoding="utf-8", errors="replace")
    assert _unfinished(registry()[name].parse(Input(path, "text.log"))) == []


def _sample_lines(name: str) -> list[str]:
    lines = []
    for path in sorted(p for p in SAMPLES.rglob("*") if p.is_file()):
        if registry()[name].sniff(Input(path, path.name)):
            lines += path.read_text(encoding="utf-8").splitlines()
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_fast_path_agrees_with_lark_on_the_sample_lines(name):
    lines = _sample_lines(name)
    assert lines, f"no sample of {name}"
    assert_fast_path_agrees(grammars.load(name), lines)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(NAMES), prefix=st.sampled_from(PREFIXES), words=st.lists(st.sampled_from(WORDS), max_size=3),
       tail=st.text(alphabet=st.sampled_from(list("[]():-/ 0123456789abcdefxAMP")), max_size=20))
def test_fast_path_agrees_with_lark_on_generated_lines(name, prefix, words, tail):
    assert_fast_path_agrees(grammars.load(name), [prefix + "".join(words) + tail], empty_message_ok=True)


def test_mac_messages_are_read_the_same_wherever_they_are_written():
    """mac_unified_log reads its messages with mac_syslog's markers: the message of a Console line and
    the same message after a unified-log prefix get the same marker and fields."""
    mac = grammars.load("mac_syslog")
    console = mac.extract(pl.Series(["10/02/16 8:35:55.972 AM iTunes[926]: Entered:_AMMuxedDeviceDisconnected, mux-device:80"]))
    relayed = mac.extract_messages(pl.Series(["Entered:_AMMuxedDeviceDisconnected, mux-device:80"]), "relayed")
    assert console.select("marker", "md_func", "mux_device").row(0) == relayed.select("marker", "md_func", "mux_device").row(0)
    assert relayed.select("line", "shape", "d1", "message").row(0) == (1, "relayed", None, "Entered:_AMMuxedDeviceDisconnected, mux-device:80")


def test_extract_messages_gives_the_columns_extract_gives():
    apple = grammars.load("apple_restore")
    lines = pl.Series(["[10:00:00.0100] Restore completed, status:4013"])
    read = apple.extract_messages(pl.Series(["Restore completed, status:4013", None, ""]), "relayed")
    assert set(apple.extract(lines).columns) == set(read.columns)
    assert read.select("line", "marker", "status").rows() == [(1, "restore_completed", "4013"), (2, None, None), (3, None, None)]


@pytest.mark.parametrize("name", NAMES)
def test_every_sample_is_read_to_the_end(name):
    """A golden file records rows, not notes: a parser that gave up would leave a short golden file. (A
    line may give several rows: a Mac backup's first line its session_start, an error chain its
    failure_detail rows; every line gives at least one.)"""
    for path in sorted(p for p in SAMPLES.rglob("*") if p.is_file()):
        source = registry()[name]
        if source.sniff(Input(path, path.name)):
            parsed = source.parse(Input(path, path.name))
            assert _unfinished(parsed) == [] and parsed.events.get_column("line").n_unique() == parsed.report.records, path
