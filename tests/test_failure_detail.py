"""The code the user saw and the failure description behind it.

The incident's number is the one in the dialog (``… Restore error N`` / ``Restore completed,
status: N``); the deeper codes of Apple's failure description are ``failure_detail`` rows of their
own. No corpus file has an end block (they are the starts of logs), so the shapes here are the
reference's verified end block (apple-restore-logs.md §2) and real single lines quoted in public
issues (a Finder ``Depth:0 Code:4028 Error:Personalization failed``, xsscx/srd#22).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.ingest import parse_file
from analyzer.kinds import KIND_INFO

from conftest import require_corpus

HEADER = ("2025-03-02 10:15:00.000 AMPDevicesAgent[512:6a1f]: restore library built Jan 14 2025 at 18:02:11\n"
          "2025-03-02 10:15:00.000 AMPDevicesAgent[512:6a1f]: iTunes: Apple Mobile Device version: 1763.100.3\n"
          "2025-03-02 10:15:00.000 AMPDevicesAgent[512:6a1f]: iTunes: Using MobileRestore state machine\n")


def events(tmp_path: Path, body: list[str], header: str = HEADER) -> pl.DataFrame:
    path = tmp_path / "restore.log"
    path.write_text(header + "\n".join(body) + "\n", encoding="utf-8")
    return parse_file(path).events


def details(ev: pl.DataFrame, kind: str) -> list[tuple[int, int | None, dict]]:
    rows = ev.filter(pl.col("kind") == kind).sort("line")
    return [(r["line"], r["error_code"], json.loads(r["detail"] or "{}")) for r in rows.to_dicts()]


def test_the_kind_is_declared_on_the_restore_lane_and_shown():
    info = KIND_INFO["failure_detail"]
    assert info.lane == "restore" and info.timeline and not info.phase


def test_an_end_block_gives_the_dialog_code_and_one_row_per_depth(tmp_path):
    ev = events(tmp_path, [
        "[10:25:41.1200] Restore completed, status:4013",
        "[10:25:41.1201] Elapsed time (in seconds): 641",
        "[10:25:41.1201] Failure Description:",
        "[10:25:41.1202] Depth:0 Code:4013 Error:The device was disconnected during the restore.",
        "[10:25:41.1202] Depth:1 Code:112 Error:There is not enough space on the disk.",
        "[10:25:41.1203] AMPDevicesAgent: Restore error 4013",
    ])
    (line, code, result), = details(ev, "result")
    assert (line, code) == (4, 4013)
    assert result["underlying_codes"] == [
        {"depth": 0, "code": 4013, "text": "The device was disconnected during the restore.", "line": 7},
        {"depth": 1, "code": 112, "text": "There is not enough space on the disk.", "line": 8}]
    assert result["status"] == 4013 and result["agent_error"] == 4013 and result["codes"] == [112, 4013]
    assert details(ev, "failure_detail") == [
        (7, 4013, {"depth": 0, "code": 4013, "text": "The device was disconnected during the restore."}),
        (8, 112, {"depth": 1, "code": 112, "text": "There is not enough space on the disk."})]


def test_the_agent_line_is_what_the_dialog_said_when_it_disagrees_with_the_status(tmp_path):
    ev = events(tmp_path, ["[10:25:41.1200] Restore completed, status:4014",
                           "[10:25:41.1201] Depth:0 Code:4014 Error:x",
                           "[10:25:41.1203] AMPDevicesAgent: Restore error 4005"])
    assert [code for _, code, _ in details(ev, "result")] == [4005]


def test_a_real_finder_depth_line_and_the_error_domain_of_apples_dialog_text(tmp_path):
    ev = events(tmp_path, [
        "[09:12:05.0788] Depth:0 Code:4028 Error:Personalization failed",
        "[09:12:05.0789] Depth:1 Code:4042 Error:Gave up waiting for device to transition from Port DFU state to DFU "
        "state. [com.apple.MobileDevice.MobileRestore – 0xFCA (4042)]",
        "[09:12:05.0790] Depth:2 Code:-1 Error:Error Domain=AMRestoreErrorDomain Code=-1 \"failed\"",
    ])
    got = details(ev, "failure_detail")
    assert [(line, code) for line, code, _ in got] == [(5, 4042), (6, -1)]
    assert [d.get("domain") for _, _, d in got] == ["com.apple.MobileDevice.MobileRestore", "AMRestoreErrorDomain"]
    # no status and no agent line: the top of the failure description is the code, on a row of its own
    (line, code, result), = details(ev, "result")
    assert (line, code) == (4, 4028) and [u["depth"] for u in result["underlying_codes"]] == [0, 1, 2]


def test_a_failure_description_without_status_keeps_every_depth_and_anchors_on_its_heading(tmp_path):
    ev = events(tmp_path, ["[10:25:41.1201] Failure Description:",
                           "[10:25:41.1202] Depth:0 Code:3194 Error:This device isn't eligible for the requested build.",
                           "[10:25:41.1202] Depth:1 Code:94 Error:x"])
    assert [line for line, _, _ in details(ev, "failure_detail")] == [5, 6]
    assert [(line, code) for line, code, _ in details(ev, "result")] == [(4, 3194)]


def test_without_an_end_block_the_last_failure_line_is_the_code(tmp_path):
    ev = events(tmp_path, ["[10:25:41.1200] <Restore Device 0x7f01>: Restore failed (result = 6)",
                           "[10:25:41.1300] AMRestorePerformRestoreModeRestoreWithError failed with error: 1015"])
    assert [code for _, code, _ in details(ev, "result")] == [1015]
    assert details(ev, "failure_detail") == []


@settings(max_examples=40, deadline=None)
@given(status=st.integers(-1, 5000), agent=st.one_of(st.none(), st.integers(-1, 5000)),
       deeper=st.lists(st.integers(-1, 5000), min_size=1, max_size=4))
def test_a_deeper_code_never_replaces_the_one_the_user_saw(tmp_path_factory, status, agent, deeper):
    body = [f"[10:25:41.1200] Restore completed, status:{status}", "[10:25:41.1201] Failure Description:"]
    body += [f"[10:25:41.1202] Depth:{d} Code:{c} Error:text {d}" for d, c in enumerate(deeper)]
    body += [f"[10:25:41.1203] AMPDevicesAgent: Restore error {agent}"] if agent is not None else []
    ev = events(tmp_path_factory.mktemp("fd"), body)
    (_, code, result), = details(ev, "result")
    assert code == (agent if agent is not None else status)
    assert [u["code"] for u in result["underlying_codes"]] == deeper
    assert [c for _, c, _ in details(ev, "failure_detail")] == deeper


def test_no_real_apple_log_in_the_corpus_has_an_end_block():
    """Pinned so the day a real end block arrives in the corpus, these tests get real material."""
    corpus = require_corpus() / "apple"
    files = sorted(corpus.glob("*.log"))
    assert len(files) == 8
    kinds = {p.name: set(parse_file(p).events.get_column("kind").cast(pl.String).to_list()) for p in files}
    assert not any("failure_detail" in k for k in kinds.values())  # no Depth: lines anywhere
    # results come only from the device's own log and idevicerestore's output, which have no end block
    assert sorted(name for name, k in kinds.items() if "result" in k) == [
        "17_restored-device-log_asr-checksum-fail-1100_cable.log",
        "18_idevicerestore_device-disconnected-failed-to-enter-restore-mode.log"]
    assert "phase" in kinds["17_restored-device-log_asr-checksum-fail-1100_cable.log"]
