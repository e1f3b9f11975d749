"""A failed attempt's window read from parts keeps, of a gated kind's rows, only each rule's first
matches in an incident (analyzer.diagnose.FirstHits): the same verdicts and evidence as every row,
in memory bounded by the rules rather than by the attempt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import analyzer.diagnose as diagnosing
from analyzer import allocator, analyze, parts
from analyzer.correlate import attempts
from analyzer.diagnose import MAX_EVIDENCE_PER_RULE, FirstHits
from analyzer.history import history
from analyzer.report.json_doc import dumps
from analyzer.rules import default_rules
from analyzer.sources import _apple_segments, apple_restore
from analyzer.window_need import window_need

from conftest import SAMPLES

#: The 4013 sample's attempt, and where its USB errors begin (the device drops at 00:03:21).
SAMPLE = SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log"
BEFORE = "[00:01:52.0036] <Restore Device 000002A7B3C01E40>: operation 13 progress 40"
ERRORS = 60_000


def _usb_storm(folder: Path) -> Path:
    """The sample's log with ERRORS more ``error 997`` lines before its own, 0.5 ms apart (00:01:52 to
    00:02:22): a USB link failing for half a minute, over 4 MB, so read in segments."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    at = lines.index(BEFORE) + 1
    start = dt.datetime(2000, 1, 1, 0, 1, 52, 3700)
    storm = [f"[{(start + dt.timedelta(microseconds=500 * i)).strftime('%H:%M:%S.%f')[:13]}] "
             "AMDeviceIoControl: failed, error 997, usbd status 00000000" for i in range(ERRORS)]
    folder.mkdir()
    (folder / "iPhone Restore.log").write_text("\n".join(lines[:at] + storm + lines[at:]) + "\n", encoding="utf-8")
    return folder


def _usb_rows(windows: list[pl.DataFrame]) -> list[int]:
    return [w.filter(pl.col("kind").cast(pl.String) == "usb_io_error").height for w in windows]


def test_a_storm_of_usb_errors_gives_the_same_verdict_on_a_few_of_them(monkeypatch, tmp_path):
    pc = _usb_storm(tmp_path / "storm-pc")
    diagnosed: list[pl.DataFrame] = []
    window = diagnosing.evidence_window
    diagnosing_rows = diagnosing._diagnosed

    def seen(events, failed, past, rules, need, formats):
        diagnosed.append(window(events, failed, need))
        return diagnosing_rows(events, failed, past, rules, need, formats)
    monkeypatch.setattr(diagnosing, "_diagnosed", seen)
    monkeypatch.setenv(allocator.PARTS_ENV, str(1 << 50))
    whole = analyze([str(pc)])
    monkeypatch.setenv(allocator.PARTS_ENV, "0")
    monkeypatch.setattr(parts, "BUCKET_ROWS", 2_000)  # (about 30 stretches of time)
    monkeypatch.setattr(_apple_segments, "SEGMENT_ROWS", 5_000)
    monkeypatch.setattr(apple_restore, "CHUNK_LINES", 4096)
    in_parts = analyze([str(pc)])
    assert dumps(in_parts) == dumps(whole)
    (incident,) = whole.incidents
    assert incident.cause == "usb_connection" and "usb_io_errors_repeated" in incident.rules
    # the evidence cited is the storm's first lines, whichever way the rows were held
    cited = [e for e in incident.evidence if e.get("rule") == "usb_io_errors_repeated"]
    assert len(cited) == MAX_EVIDENCE_PER_RULE and cited[0]["line"] == SAMPLE.read_text().splitlines().index(BEFORE) + 2
    whole_rows, parts_rows = _usb_rows(diagnosed)
    assert whole_rows > ERRORS
    assert parts_rows <= len(default_rules()) * MAX_EVIDENCE_PER_RULE


def _copies(row: pl.DataFrame, seconds: list[float], code: int | None = None) -> pl.DataFrame:
    """``row`` (one event) once per offset in ``seconds``, each its own line, moved by that offset."""
    return pl.concat([row.with_columns(pl.col("ts_utc") + dt.timedelta(seconds=s), pl.col("line") + 1000 + i,
                                       *([pl.lit(code, dtype=pl.Int64).alias("error_code")] if code is not None else []))
                      for i, s in enumerate(seconds)], how="vertical")


def test_first_hits_carries_what_it_kept_from_one_stretch_to_the_next():
    """Fed stretch after stretch, a rule's budget in an incident is spent once: the second stretch's
    matches of a spent rule are dropped; a gated row no rule matches is dropped; rows of kinds no
    rule gates are all kept."""
    events = analyze([str(SAMPLE.parent)]).events
    table = attempts(events)
    failed = table.filter(pl.col("outcome") == "failed")
    rules = default_rules()
    first = FirstHits(failed, history(events, table), rules, window_need(rules))
    usb = events.filter((pl.col("kind").cast(pl.String) == "usb_io_error") & (pl.col("error_code") == 997)).head(1)
    one = first(_copies(usb, [0.001 * i for i in range(10)]))
    assert one.to_list() == [True] * MAX_EVIDENCE_PER_RULE + [False] * (10 - MAX_EVIDENCE_PER_RULE)
    assert not first(_copies(usb, [1 + 0.001 * i for i in range(10)])).any()  # cited all it can
    assert not first(_copies(usb, [0.5], code=12345)).any()  # (no rule matches this code)
    progress = events.filter(pl.col("kind").cast(pl.String) == "progress").head(3)
    assert first(progress).all()  # (not a gated kind)
