"""Properties of the apple_restore source: never raises, date logic round-trips, fast path == Lark reference."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from grammar_agreement import assert_fast_path_agrees
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import grammars
from analyzer.ingest import parse_file
from analyzer.sources import Input
from analyzer.sources._apple_classify import classify
from analyzer.sources._apple_time import OFFSET_WINDOW, resolve
from analyzer.sources.apple_restore import SOURCE

from conftest import CORPUS, SAMPLES

GRAMMAR = grammars.load("apple_restore")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- never raises ---------------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(tmp_path: Path, data: bytes):
    path = tmp_path / "blob.log"
    path.write_bytes(data)
    parse_file(path)
    parsed = SOURCE.parse(Input(path, "blob.log"))  # the parser itself, even on what the sniffer would refuse
    assert not [n for n in parsed.report.errors if "could not finish" in n.message]


@SETTINGS
@given(text=st.text(max_size=3000))
def test_arbitrary_text_never_raises(tmp_path: Path, text: str):
    path = tmp_path / "text.log"
    path.write_text(text, encoding="utf-8", errors="replace")
    parsed = SOURCE.parse(Input(path, "text.log"))
    assert not [n for n in parsed.report.errors if "could not finish" in n.message]
    assert parsed.report.records >= parsed.events.height


@SETTINGS
@given(lines=st.lists(st.sampled_from([
    "2024-01-02 03:04:05.006 [1:a]: iTunes: Using MobileRestore state machine", "[23:59:59.0999] x", "[00:00:00.0000] y",
    "[99:99:99.9999] z", "Restore completed, status:", "[01:02:03.1234-GMT]{1>2} CHECKPOINT", "", "\x00\x01", "ECID: 0x",
    "<Restore Device>: operation 99999999999999999999 progress 1", "[10:00:00.0100] Depth:9 Code:-1 Error:x",
    "[10:00:00.0100] Changing state from 'Transitioning' to 'Disappeared'", "[10:00:00.0100] ECID: 0xFFFFFFFFFFFFFFFFFFFF"]),
    max_size=40))
def test_hostile_line_mixes_never_raise(tmp_path: Path, lines: list[str]):
    path = tmp_path / "mix.log"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    parsed = SOURCE.parse(Input(path, "mix.log"))
    assert not [n for n in parsed.report.errors if "could not finish" in n.message]


# -- header/bracket date logic ----------------------------------------------------------------------------
def _bracket(t: datetime) -> str:
    return f"[{t:%H:%M:%S}.0{t.microsecond // 1000:03d}] Changing state from 'Restoring' to 'Transitioning'"


headers = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
steps = st.lists(st.integers(min_value=1, max_value=6 * 3600 * 1000), min_size=1, max_size=25)


def _log(head: datetime, hours: int, first_ms: int, deltas: list[int]) -> tuple[str, list[datetime]]:
    t = head + timedelta(hours=hours, milliseconds=first_ms)
    truth = []
    for d in [0, *deltas]:
        t += timedelta(milliseconds=d)
        truth.append(t)
    text = f"{head:%Y-%m-%d %H:%M:%S}.{head.microsecond // 1000:03d} [4242:1a2b]: iTunes: Using MobileRestore state machine\n"
    return text + "\n".join(_bracket(x) for x in truth) + "\n", truth


@SETTINGS
@given(head=headers, hours=st.integers(min_value=-12, max_value=14), first_ms=st.integers(0, 5000), deltas=steps)
def test_given_offset_round_trips_across_midnights(head, hours, first_ms, deltas):
    text, truth = _log(head, hours, first_ms, deltas)
    frame = GRAMMAR.extract(pl.Series(text.splitlines()))
    rows = classify(frame.filter(pl.col("shape").is_not_null()))
    out = resolve(rows, 1000, {}, hours=hours)
    assert out.filter(pl.col("clock") == "bracket").get_column("ts_wall").to_list() == truth
    assert out.filter(pl.col("clock") == "local").get_column("ts_wall").to_list() == [head]


@SETTINGS
@given(head=headers, hours=st.integers(*OFFSET_WINDOW), first_ms=st.integers(0, 10 * 60 * 1000), deltas=steps)
def test_detected_offset_round_trips_through_the_source(tmp_path: Path, head, hours, first_ms, deltas):
    text, truth = _log(head, hours, first_ms, deltas)
    path = tmp_path / "r.log"
    path.write_text(text, encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.report.clock["bracket_minus_header_hours"] == hours
    assert parsed.events.filter(pl.col("clock") == "bracket").get_column("ts_wall").to_list() == truth


# -- fast path agrees with the Lark reference parse -------------------------------------------------------
def _agree(lines: list[str]) -> None:
    assert_fast_path_agrees(GRAMMAR, lines, empty_message_ok=True)


SAMPLE_LINES = sorted({line for p in [*SAMPLES.glob("restore_*/*"), *SAMPLES.glob("thirdparty_*/*")]
                       for line in p.read_text(encoding="utf-8").splitlines()})


@pytest.mark.parametrize("chunk", range(0, len(SAMPLE_LINES), 40))
def test_fast_path_matches_reference_on_sample_lines(chunk):
    _agree(SAMPLE_LINES[chunk:chunk + 40])


def test_fast_path_matches_reference_on_the_real_excerpts(corpus):
    for name in ("02_itunes-win-2011_usb-ioctl-timeouts-error997.log", "04_itunes-mac-2011_tss-gs-apple-com-server-not-reachable.log",
                 "11_itunes-win-2014_mobilerestore-state-machine-bracket-timestamps.log",
                 "13_macos-2020_AMPDevicesAgent-restore-log-device-info.log"):
        _agree((CORPUS / "apple" / name).read_text(encoding="utf-8").splitlines())


words = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\x85"), max_size=40)
hexes = st.integers(0, 2**56).map(lambda n: f"{n:X}")
nums = st.integers(-5, 5000).map(str)
TEMPLATES = [
    "<Restore Device 0x{h}>: operation {n} progress {n}", "<Recovery Mode Device {h}>: operation {n} progress -1",
    "<DFU Device>: DFU succeeded", "<Restore Device>: Restore failed (result = {n})", "Restore completed, status:{n}",
    "Depth:{n} Code:{n} Error:{w}", "AMPDevicesAgent: Restore error {n}", "Finished {w} Restore Phase: Successful",
    "amai: tss_submit_job: error from server={n} ({w})", "cached server error text: ({n}) {w}",
    "amai: AMAuthInstallRequestSendSync: failed tss submission: {w}", "USBControlTransfer: error {n}, usbd status {h}",
    "AMDeviceIoControl: failed, error {n}, usbd status {h}", "command device request for '{w}' failed: {n}",
    "DeviceRequest failed: 0x{h}", "{w} mode device disconnected", "Recovery mode device connected with ECID: 0x{h}",
    "Changing state from '{w}' to '{w}'", "Unexpected device state '{w}' expected '{w}'", "ECID: 0x{h}", "ECID: {n}",
    "Serial Number: {w}", "Chip ID: 0x{h}", "iTunes: Software payload version: {w} (option key)", "iTunes: iTunes {n}.{n}",
    "radio-error = {n}", "{w}: radio-error-string = '{w}'", "CHECKPOINT END: MAIN:[0x{h}] {w}",
    "device {h} (udid: {w}) connected in Recovery mode", "Entering recovery mode, device {h}", "{w}",
    "Started checkpoint id: 0x{h} ({w})", "Completed checkpoint id: 0x{h}", "Restore completed, status: {n}",
]
PREFIXES = ["2024-02-03 04:05:06.789 [12:ab]: ", "2024-02-03 04:05:06.000 AMPDevicesAgent[474:603]: ", "[04:05:06.0789] ",
            "[04:05:06.7890-GMT]{5>6} ", "00:34:15.021: ", "00:34:15.021:  ", "00:34:15.021:   ", "    ", "\t",
            "ERROR: ", "irecv_event_cb: ", "INFO: ", ""]


@st.composite
def lines(draw):
    template = draw(st.sampled_from(TEMPLATES))
    parts = iter(draw(st.lists(st.one_of(words, hexes, nums), min_size=8, max_size=8)))
    body = template.replace("{h}", "\0").replace("{n}", "\0").replace("{w}", "\0")
    message = "".join(next(parts) if ch == "\0" else ch for ch in body)
    return draw(st.sampled_from(PREFIXES)) + message.replace("\n", " ")


@settings(max_examples=150, deadline=None)
@given(batch=st.lists(lines(), min_size=1, max_size=20))
def test_fast_path_matches_reference_on_generated_lines(batch):
    _agree(batch)
