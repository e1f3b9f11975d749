"""Properties of the apple_device_restore source: never raises, and the fast path agrees with Lark."""

from __future__ import annotations

from pathlib import Path

from grammar_agreement import assert_fast_path_agrees
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import grammars
from analyzer.sources import Input
from analyzer.sources.apple_device_restore import SOURCE

from conftest import CORPUS, SAMPLES

GRAMMAR = grammars.load("apple_device_restore")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parse(path: Path):
    parsed = SOURCE.parse(Input(path, path.name))
    assert not [n for n in parsed.report.errors if n.code == "reading_unfinished"]
    assert parsed.report.records >= parsed.events.height
    return parsed


@SETTINGS
@given(data=st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(tmp_path: Path, data: bytes):
    path = tmp_path / "blob.log"
    path.write_bytes(data)
    _parse(path)


@SETTINGS
@given(text=st.text(max_size=3000))
def test_arbitrary_text_never_raises(tmp_path: Path, text: str):
    path = tmp_path / "text.log"
    path.write_text(text, encoding="utf-8", errors="replace")
    _parse(path)


@SETTINGS
@given(lines=st.lists(st.sampled_from([
    "[99:99:99.9999-GMT]{1>2} CHECKPOINT FAILURE:(FAILURE:99999999999999999999) x:[0x1] y", "restore-step-codes = {0x1:{0:}}",
    "SYSLOG: Feb 30 25:61:61 h p[1] <X>: ", "2024-13-45 99:99:99.999999+9999 p[1:2] x", "99:99:99.999   <Info> x",
    "Status: Fail", "ERROR: Unable to restore device", "Found device in WTF mode", "ECID: 99999999999999999999999",
    "BoardID: 99999999999999999999", "ChipID: 0", "Checkpoint 18446744069414585938 complete with code 53", "DONE",
    "idevicerestore 1", "", "\x00", "RESTORE FAILED", "irecv_event_cb: device ffffffffffffffff (udid: N/A) disconnected"]),
    max_size=40))
def test_hostile_line_mixes_never_raise(tmp_path: Path, lines: list[str]):
    path = tmp_path / "mix.log"
    path.write_text("\n".join(lines), encoding="utf-8")
    _parse(path)


# -- fast path agrees with the Lark reference parse ---------------------------------------------------------------
def _agree(lines: list[str]) -> None:
    assert_fast_path_agrees(GRAMMAR, lines, empty_message_ok=True)


SAMPLE_LINES = sorted({line for name in ("device_restored_log", "idevicerestore_linux", "idevicerestore_windows_log")
                       for p in (SAMPLES / name).iterdir() for line in p.read_text(encoding="utf-8").splitlines()})


@pytest.mark.parametrize("chunk", range(0, len(SAMPLE_LINES), 40))
def test_fast_path_matches_reference_on_sample_lines(chunk):
    _agree(SAMPLE_LINES[chunk:chunk + 40])


def test_fast_path_matches_reference_on_the_real_excerpts(corpus):
    for name in ("17_restored-device-log_asr-checksum-fail-1100_cable.log",
                 "18_idevicerestore_device-disconnected-failed-to-enter-restore-mode.log"):
        _agree((CORPUS / "apple" / name).read_text(encoding="utf-8").splitlines())


words = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\x85"), max_size=40)
hexes = st.integers(0, 2**64 - 1).map(lambda n: f"{n:x}")
nums = st.integers(-5, 5000).map(str)
TEMPLATES = [
    "CHECKPOINT FAILURE:(FAILURE:{n}) {w}:[0x{h}] {w}", "CHECKPOINT {w}: {w}", "restore-step-{w} = {w}",
    "executing /usr/sbin/nvram restore-step-codes={w}", "ASR RESTORE PROGRESS: {n}%", "ASR STATUS: {w}\t{w}",
    "ASR: Could not restore - {w}", "{w} : failed to restore {w}, error = {n}", "recv({n}, {n}) failed: connection closed",
    "unable to read message size: {n}", "waiting for host to trigger start of restore [timeout of {n} seconds]",
    "idevicerestore {n}.{w}", "Found device in {w} mode", "ECID: {n}", "Found ECID {h}", "found device with ECID {h}",
    "Identified device as {w}, {w}", "INFO: device serial number is {w}", "BoardID: {n}", "ChipID: {w}",
    "irecv_event_cb: device {h} (udid: {w}) connected in {w} mode", "idevice_event_cb: device {h} (udid: {w}) {w}",
    "_irecv_event_handler: found new: {w}, location: {n}", "> DEBUG: Waiting for device to {w}...",
    "Status: {w}", "Unhandled status message ({n})", "Checkpoint {n} complete with code {n}",
    "Checkpoint {w}   id: 0x{h} ({w}) result={n}", "Checkpoint FAILURE id: 0x{h} result={n}: {w}",
    "ERROR: Unable to restore device", "ERROR: Device failed to enter restore mode.", "ERROR: {w}",
    "Device {h} has successfully entered restore mode", "IPSW Product Build: {w} Major: {n}", "Variant: {w}",
    "{w} ({n})", "{w}",
]
PREFIXES = ["[04:05:06.7890-GMT]{5>6} ", "SYSLOG: Apr  4 15:14:56 localhost restored_external[6] <Notice>: ",
            "2022-10-20 04:20:47.123456+0000 restored_external[27:1a2] ", "10:15:41.120    <Info> ", "10:15:41.120   <Error> ",
            ">", "> ", ""]


@st.composite
def lines(draw):
    template = draw(st.sampled_from(TEMPLATES))
    parts = iter(draw(st.lists(st.one_of(words, hexes, nums), min_size=8, max_size=8)))
    body = template.replace("{h}", "\0").replace("{n}", "\0").replace("{w}", "\0")
    message = "".join(next(parts) if ch == "\0" else ch for ch in body)
    return draw(st.sampled_from(PREFIXES)) + message.replace("\n", " ").replace("\r", " ")


@settings(max_examples=150, deadline=None)
@given(batch=st.lists(lines(), min_size=1, max_size=20))
def test_fast_path_matches_reference_on_generated_lines(batch):
    _agree(batch)
