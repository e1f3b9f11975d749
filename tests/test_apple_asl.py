"""ASL text logs of Apple Mobile Device Support helpers (apple_asl): prefix, banners, local time, and
Apple's messages read as in restore logs."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from analyzer.ingest import parse_file
from analyzer.sources import Input, claimants

from conftest import SAMPLES

SAMPLE = SAMPLES / "win_asl_helper" / "asl.163102_01Dec26.log"


def test_sample_is_read_in_full_with_local_times():
    parsed = parse_file(SAMPLE, display=SAMPLE.name)
    report = parsed.report
    assert (report.format, report.records, report.unrecognised, report.encoding) == ("apple_asl", 11, 0, "utf-8")
    ev = parsed.events
    dated = ev.filter(pl.col("clock") == "local")
    assert dated.height == 7 and ev.filter(pl.col("clock") == "none").get_column("line").to_list() == [1, 2, 10, 11]
    first = dated.row(0, named=True)
    assert (first["ts_wall"], first["ts_raw"], first["provider"]) == (dt.datetime(2026, 12, 1, 16, 31, 2),
                                                                     "Tue Dec 01 16:31:02 2026", "AppleMobileDeviceHelper.exe")
    assert (first["subject"], json.loads(first["detail"])) == ("parent iTunes.exe", {
        "parent": "iTunes.exe", "parent_pid": 9316, "component": "YSLoader AppleMobileDeviceHelper.exe", "pid": 5120})


def test_apple_messages_in_the_helper_log_mean_what_they_mean_in_restore_logs():
    ev = parse_file(SAMPLE).events
    moves = ev.filter(pl.col("kind").is_in(["device_connect", "device_disconnect"]))
    assert moves.select("line", "kind", "device_mode", "ecid", "expected").rows() == [
        (7, "device_connect", "normal", 0x4E1B27A90C3D2E, None), (8, "device_disconnect", "normal", None, False)]


def test_sniffing_wants_the_asl_prefix(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("====\nAppleMobileDeviceHelper.exe begins\n", encoding="utf-8")
    assert claimants(Input(path, "a.log")) == []
    path.write_text("[1 @ Thu Dec 01 16:31:02 2011] [YSLoader X.exe] hello\n", encoding="utf-8")
    assert claimants(Input(path, "a.log")) == ["apple_asl"]
