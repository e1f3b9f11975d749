"""A PC with big evidence is analysed in parts (analyzer.parts): its rows on disk, only what the
diagnosis reads in memory. Its documents and rows must be those of the PC analysed whole."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings, strategies as st
from rich.console import Console

import analyzer.diagnose as diagnosing
from analyzer import allocator, analyze, evidence_size, leftovers, parts, regions, spill
from analyzer.frames import compact, inside
from analyzer.redact import redact
from analyzer.report.csv_out import to_csv
from analyzer.report import many
from analyzer.report.html import render_html
from analyzer.report.json_doc import dumps
from analyzer.report.parquet_out import events_frame, write_parquet
from analyzer.report.terminal import render
from analyzer.model import conform
from analyzer.pipeline import _in_order
from analyzer.spill import PartedEvents, Tables, merged
from analyzer.sources import _apple_segments, apple_restore

from conftest import SAMPLES


def _in_parts(monkeypatch, group_bytes: int = 1) -> None:
    """Every PC analysed in parts, of one file each (group_bytes 1) unless told, a restore log big
    enough to be read in segments (over 4 MB) of a part per attempt, read 8 lines at a time, and
    each failed attempt's window read on its own."""
    monkeypatch.setenv(allocator.PARTS_ENV, "0")
    monkeypatch.setattr(parts, "GROUP_BYTES", group_bytes)
    monkeypatch.setattr(_apple_segments, "SEGMENT_ROWS", 1)
    monkeypatch.setattr(apple_restore, "CHUNK_LINES", 8)
    monkeypatch.setattr(diagnosing, "WINDOW_BATCH", 1)  # (each failed attempt's window read on its own)


def _whole(monkeypatch) -> None:
    monkeypatch.setenv(allocator.PARTS_ENV, str(1 << 50))


def _parted(analysis) -> list[PartedEvents]:
    held = analysis.__dict__["_events"]
    assert isinstance(held, Tables), "the rows should still be files"
    return [p for _, p in held.parts if isinstance(p, PartedEvents)]


def _both(monkeypatch, paths, **options):
    _whole(monkeypatch)
    whole = analyze(paths, **options)
    _in_parts(monkeypatch)
    in_parts = analyze(paths, **options)
    return whole, in_parts


def _outcomes(monkeypatch) -> list:
    """The outcomes of the PCs analysed in parts from now on (parts.analyze's, as they are made)."""
    held = []
    analyse = parts.analyze

    def keeping(*args, **kwargs):
        got = analyse(*args, **kwargs)
        held.append(got[1])
        return got
    monkeypatch.setattr(parts, "analyze", keeping)
    return held


def test_every_sample_pc_gives_the_same_document_and_rows_in_parts(monkeypatch):
    # (small stretches of time, so that a PC's rows are written and read back in many)
    monkeypatch.setattr(parts, "BUCKET_ROWS", 4)
    monkeypatch.setattr(parts, "SAMPLE", 1)
    whole, in_parts = _both(monkeypatch, [str(SAMPLES)])
    held = _parted(in_parts)
    assert len(held) == len(whole.hosts) == 66
    assert max(len(p.buckets) for p in held) >= 10 and max(len(b) for p in held for b in p.buckets) >= 2
    assert in_parts.event_count == whole.event_count == sum(p.rows for p in held)
    assert dumps(in_parts) == dumps(whole)
    pieces = list(in_parts.event_frames())
    assert len(pieces) > 2 * len(held)  # each PC merged from its parts a few rows at a time
    assert pl.concat(pieces).equals(whole.events)
    assert to_csv(in_parts) == to_csv(whole)
    assert in_parts.events.equals(whole.events)


def _terminal(analysis, details: bool) -> str:
    out = io.StringIO()
    render(analysis, Console(file=out, width=160, color_system=None), details=details)
    return out.getvalue()


@pytest.mark.parametrize("sample", ["pc_a1_usb_surprise_removal", "pc_d4_tss_firewall", "pc_g7_low_disk",
                                    "pc_x24_backup_old_snapshot_trap", "linux_idevicerestore_hosts_block"])
def test_the_reports_that_show_rows_read_only_those_rows_from_the_parts_and_show_the_same(monkeypatch, tmp_path,
                                                                                            sample):
    whole, in_parts = _both(monkeypatch, [str(SAMPLES / sample)])
    _parted(in_parts)

    def whole_table(self):  # a report that showed rows by reading every row would fail here
        raise AssertionError("every row read")
    monkeypatch.setattr(Tables, "load", whole_table)
    assert render_html(in_parts) == render_html(whole)
    assert _terminal(in_parts, details=True) == _terminal(whole, details=True)
    assert _terminal(in_parts, details=False) == _terminal(whole, details=False)
    assert dumps(in_parts) == dumps(whole)
    write_parquet(in_parts, tmp_path / "pq")  # (events.parquet through a streaming sink, a piece at a time)
    assert pl.read_parquet(tmp_path / "pq" / "events.parquet").equals(events_frame(whole))


#: PCs whose rows name devices, owners, serials and computers in every way the redaction knows.
_NAMED = ["pc_a1_usb_surprise_removal", "pc_c3_recovery_driver_jst", "pc_q17_backup_damaged",
          "pc_t20_backup_device_locked", "mac_backup_device_locked", "pc_aa27_icloud_tls_inspection"]


def test_a_redacted_run_in_parts_is_the_redacted_run_whole_and_reads_a_file_at_a_time(monkeypatch, tmp_path):
    monkeypatch.setattr(parts, "BUCKET_ROWS", 16)  # (each PC in a few stretches: a file each is redacted)
    monkeypatch.setattr(parts, "SAMPLE", 1)
    whole, in_parts = _both(monkeypatch, [str(SAMPLES / name) for name in _NAMED])
    whole, in_parts = redact(whole, key=b"test-key"), redact(in_parts, key=b"test-key")
    monkeypatch.setattr(Tables, "load", lambda self: (_ for _ in ()).throw(AssertionError("every row read")))
    assert len(_parted(in_parts)) == len(_NAMED) and max(len(b) for p in _parted(in_parts) for b in p.buckets) > 1
    assert dumps(in_parts) == dumps(whole)
    assert to_csv(in_parts) == to_csv(whole)
    assert _terminal(in_parts, details=True) == _terminal(whole, details=True)
    assert render_html(in_parts) == render_html(whole)
    write_parquet(in_parts, tmp_path / "pq")
    assert pl.read_parquet(tmp_path / "pq" / "events.parquet").equals(events_frame(whole))


def test_a_big_pc_with_nothing_readable_is_reported_as_a_small_one(monkeypatch, tmp_path):
    (tmp_path / "notes.txt").write_text("nothing a source knows\n" * 20, encoding="utf-8")
    (tmp_path / "empty.log").write_bytes(b"")
    whole, in_parts = _both(monkeypatch, [str(tmp_path)])
    assert in_parts.event_count == 0 and in_parts.incidents == []
    assert [f.not_read for f in in_parts.files] == [f.not_read for f in whole.files] and len(whole.files) == 2
    assert dumps(in_parts) == dumps(whole)
    whole, in_parts = _both(monkeypatch, [str(tmp_path)], symptom="icloud")  # a reported incident all the same
    assert len(in_parts.incidents) == 1 and in_parts.incidents[0].reported
    assert dumps(in_parts) == dumps(whole)


@pytest.mark.parametrize("folder", ["windows", "apple", "windows-text"])
def test_the_real_corpus_gives_the_same_document_in_parts(monkeypatch, corpus, folder):
    whole, in_parts = _both(monkeypatch, [str(corpus / folder)])
    (held,) = _parted(in_parts)
    assert max(len(b) for b in held.buckets) > 1  # files of several parts in a stretch
    assert dumps(in_parts) == dumps(whole)
    assert in_parts.events.equals(whole.events)


def test_a_reported_incident_is_placed_and_decided_the_same_in_parts(monkeypatch):
    options = dict(symptom="icloud", at="2026-04-08 15:20", tz="+02:00")
    whole, in_parts = _both(monkeypatch, [str(SAMPLES / "pc_af32_icloud_tls_exports_en")], **options)
    (incident,) = in_parts.incidents
    assert incident.cause == "security_software" and "tls_inspection_unknown_ca" in incident.rules
    assert dumps(in_parts) == dumps(whole)
    without_time = dict(symptom="icloud")  # placed at the end of the PC's evidence span
    whole, in_parts = _both(monkeypatch, [str(SAMPLES / "pc_af32_icloud_tls_exports_en")], **without_time)
    assert in_parts.incidents[0].reported_time["at"] == whole.incidents[0].reported_time["at"] is not None
    assert dumps(in_parts) == dumps(whole)


def test_a_failed_restore_is_diagnosed_from_windows_read_back_from_the_parts(monkeypatch):
    _in_parts(monkeypatch)
    result = analyze([str(SAMPLES / "pc_a1_usb_surprise_removal")])
    (held,) = _parted(result)
    assert {len(b) for b in held.buckets} == {0, 2}  # the restore log's rows and the event log's, one part each
    (incident,) = result.incidents
    assert incident.cause == "usb_connection"
    # the Windows removal is not a kind kept wherever it is: it was read back from its part by time
    windows_side = [(e["file"].rsplit("/", 1)[-1], e.get("rule")) for e in incident.evidence if e["kind"] == "device_disconnect"]
    assert ("DriverFrameworks-UserMode_Operational.xml", "windows_saw_apple_surprise_removal") in windows_side


def test_a_pc_below_the_threshold_is_analysed_whole(monkeypatch):
    monkeypatch.delenv(allocator.PARTS_ENV, raising=False)
    result = analyze([str(SAMPLES / "pc_a1_usb_surprise_removal")])
    assert isinstance(result.__dict__["_events"], pl.DataFrame)
    assert parts.threshold() == allocator.PARTS_BYTES
    for bad in ("", "lots", "-5"):
        monkeypatch.setenv(allocator.PARTS_ENV, bad)
        assert parts.threshold() == (0 if bad == "-5" else allocator.PARTS_BYTES)


def test_rows_that_cannot_go_to_disk_are_analysed_in_memory_with_a_note(monkeypatch):
    whole = analyze([str(SAMPLES / "pc_a1_usb_surprise_removal")])
    _in_parts(monkeypatch)

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(parts, "spilled_part", full)
    result = analyze([str(SAMPLES / "pc_a1_usb_surprise_removal")])
    assert isinstance(result.__dict__["_events"], pl.DataFrame)
    notes = [n for f in result.files for n in f.errors if n.code == "parts_unwritable"]
    assert len(notes) == 1 and "No space left" in notes[0].params["error"]
    assert [i.as_dict() for i in result.incidents] == [i.as_dict() for i in whole.incidents]
    assert result.events.equals(whole.events)


def test_a_temporary_folder_that_cannot_hold_the_parts_leaves_the_pc_in_memory(monkeypatch):
    whole = analyze([str(SAMPLES / "pc_a1_usb_surprise_removal")])
    _in_parts(monkeypatch)

    def no_room(prefix):
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr(leftovers, "held_dir", no_room)
    result = analyze([str(SAMPLES / "pc_a1_usb_surprise_removal")])
    assert isinstance(result.__dict__["_events"], pl.DataFrame)
    assert dumps(result) == dumps(whole)


# -- the pieces ---------------------------------------------------------------------------------------
def test_groups_keep_files_whole_in_order_and_a_backup_folders_payload_together():
    slots = ["a", "p1", "b", "c", "p2", "d", "e"]
    size = {"a": 5, "b": 5, "c": 5, "d": 5, "e": 30}.get
    root = {"p1": "backup", "p2": "backup"}.get
    got = parts.groups(slots, lambda s: size(s) or 99, root, limit=10)
    assert got == [["a", "p1", "b", "p2"], ["c", "d"], ["e"]]
    assert parts.groups([], size, root) == [[]]


_TIMES = st.lists(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 1, 2)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(_TIMES, st.integers(0, 5), st.lists(st.tuples(st.integers(0, 86_400), st.integers(0, 3_600)), max_size=6))
def test_inside_a_window_by_binary_search_is_the_plain_test(times, nulls, spans):
    utc = pl.Datetime("us", "UTC")
    series = pl.Series("t", sorted(times) + [None] * nulls, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
    day = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    windows = pl.DataFrame([(day + dt.timedelta(seconds=a), day + dt.timedelta(seconds=a + b)) for a, b in spans],
                           schema={"window_start": utc, "window_end": utc}, orient="row")
    expected = [t is not None and any(s <= t <= e for s, e in windows.iter_rows()) for t in series.to_list()]
    assert inside(series, windows).to_list() == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 20)), st.integers(0, 3)), max_size=25), min_size=1,
                max_size=4), st.lists(st.integers(0, 21), max_size=5))
def test_a_pc_in_stretches_of_time_read_back_in_order_is_the_pc_sorted(tmp_path_factory, parts_rows, cut_at):
    folder = str(tmp_path_factory.mktemp("parts"))
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    frames = [_in_order(conform(pl.DataFrame(
        {"host": ["pc"] * len(rows), "file": [f"f{k}"] * len(rows), "line": [line for _, line in rows],
         "ts_utc": [None if s is None else base + dt.timedelta(seconds=s) for s, _ in rows],
         "message": [f"{k}-{i}" for i in range(len(rows))]},
        schema={"host": pl.String, "file": pl.String, "line": pl.Int64, "ts_utc": pl.Datetime("us", "UTC"),
                "message": pl.String})))
        for k, rows in enumerate(parts_rows)]
    cuts = sorted({base + dt.timedelta(seconds=s) for s in cut_at})
    # (the rows kept in memory: here those of even lines, and each stretch must say which they are)
    files = [parts._stretches(f, cuts, folder, f.get_column("line") % 2 == 0) for f in frames]
    for stretch in (st for f in files for st in f if st is not None):
        assert stretch.kept.to_list() == (spill.read_part(stretch.file).get_column("line") % 2 == 0).to_list()
    buckets = tuple(tuple(f[j].file for f in files if f[j] is not None) for j in range(len(cuts) + 2))
    parted = PartedEvents(buckets, tuple(cuts), sum(f.height for f in frames))
    pieces = list(merged(parted, _in_order))
    whole = _in_order(pl.concat(frames))
    assert (pl.concat(pieces) if pieces else whole.head(0)).equals(whole)
    bounds = [None, *cuts, None]
    for j, bucket in enumerate(buckets):  # each stretch within its cuts; the last, the rows without a time
        times = [t for f in bucket for t in spill.read_part(f).get_column("ts_utc").to_list()]
        if j == len(cuts) + 1:
            assert all(t is None for t in times)
        else:
            assert all(t is not None and (bounds[j] is None or t >= bounds[j]) and (bounds[j + 1] is None or t < bounds[j + 1])
                       for t in times)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30))
def test_compacting_keeps_every_text_and_null(texts):
    frame = pl.DataFrame({"s": texts, "n": list(range(len(texts)))}, schema={"s": pl.String, "n": pl.Int64})
    kept = frame.filter(pl.col("n") % 2 == 0)
    assert compact(kept).equals(kept)
    assert compact(kept).schema == kept.schema


def test_compacted_rows_hold_nothing_of_the_frame_they_were_kept_from():
    """A filter that keeps one run of rows slices every column rather than copying it: two rows kept
    of each of 20 frames of a million rows held all of them (about 320 MB of numbers and times)."""
    code = (
        "import datetime as dt, polars as pl\n"
        "from analyzer.frames import compact\n"
        "def rss():\n"
        "    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * 4096 >> 20\n"
        "held, base = [], rss()\n"
        "for i in range(20):\n"
        "    n = 1_000_000\n"
        "    frame = pl.DataFrame({'line': pl.int_range(0, n, eager=True), 'ts': pl.datetime_range(\n"
        "        dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 1) + dt.timedelta(seconds=n - 1), '1s', eager=True),\n"
        "        'kind': pl.Series(['a', 'b'] * (n // 2)).cast(pl.Enum(['a', 'b']))}).with_columns(one=pl.lit(7))\n"
        "    held.append(compact(frame.filter(pl.col('line').is_between(5, 6))))\n"
        "    del frame\n"
        "print(rss() - base, sum(f.height for f in held))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"})
    grown, rows = map(int, done.stdout.split())
    assert rows == 40 and grown < 64, done.stdout + done.stderr


def test_a_bench_log_in_parts_holds_few_of_its_rows_and_gives_the_same_document(monkeypatch, tmp_path):
    """A repair bench's restore log (here the 4013 sample's attempt eight times over, each with
    10,000 progress lines: 5 MB, so it is not searched for pasted regions but read in segments): in
    parts, each attempt is a segment and a part of its own, and memory holds the rows read wherever
    they are (results, headers, identities, connects, each attempt's ends and last stage rows), not
    the progress lines, which are read back only inside the failed windows, one window at a time."""
    lines = (SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log").read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(lines) if "operation 12 progress" in ln)
    attempt = lines[:at] + [lines[at]] * 10_000 + lines[at + 1:]
    pc = tmp_path / "bench-pc"
    pc.mkdir()
    (pc / "iPhone Restore.log").write_text("\n".join(attempt * 8) + "\n", encoding="utf-8")
    assert (pc / "iPhone Restore.log").stat().st_size > regions.MAX_BYTES
    held = _outcomes(monkeypatch)
    _whole(monkeypatch)
    whole = analyze([str(pc)])
    _in_parts(monkeypatch)
    monkeypatch.setattr(apple_restore, "CHUNK_LINES", 4096)
    in_parts = analyze([str(pc)])
    assert dumps(in_parts) == dumps(whole)
    assert len(whole.incidents) == 8 and whole.event_count > 8 * 10_000
    (outcome,) = held
    assert len(outcome.events.files) >= 8  # (a part per attempt, each in stretches)
    assert outcome.table.height < whole.event_count / 500
    # the timelines of the shown attempts only (three of eight here), read a piece at a time: the
    # terminal once, the HTML twice (each window's first rows and span, then its marks), both as whole
    monkeypatch.setattr(many, "MAX_SHOWN", 3)
    read = []
    near = Tables.near_pieces

    def counting(self, *args, **kwargs):
        read.append(0)
        for piece in near(self, *args, **kwargs):
            read[-1] += piece.height
            yield piece
    monkeypatch.setattr(Tables, "near_pieces", counting)
    assert _terminal(in_parts, details=True) == _terminal(whole, details=True)
    assert render_html(in_parts) == render_html(whole)
    # (each read: the three windows' 10,000 progress lines and their other rows, not the eight's)
    assert len(read) == 3 and all(30_000 < n < 30_600 for n in read), read
    assert in_parts.events.equals(whole.events)


def _long_attempt_pc(pc: Path, sample: str, name: str, marker: str, noise: str) -> Path:
    """A PC folder of ``sample``'s log (its one attempt) with 75,000 ``noise`` lines after the line
    holding ``marker``: over 4 MB, so it is read in segments, not searched for pasted regions."""
    lines = (SAMPLES / sample).read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(lines) if marker in ln) + 1
    pc.mkdir()
    (pc / name).write_text("\n".join(lines[:at] + [noise] * 75_000 + lines[at:]) + "\n", encoding="utf-8")
    assert (pc / name).stat().st_size > regions.MAX_BYTES
    return pc


def _whole_and_cut(monkeypatch, pc: Path) -> tuple:
    """``pc`` analysed whole, then in parts of segments of 5,000 rows read 4,096 lines at a time."""
    _whole(monkeypatch)
    whole = analyze([str(pc)])
    _in_parts(monkeypatch)
    monkeypatch.setattr(_apple_segments, "SEGMENT_ROWS", 5_000)
    monkeypatch.setattr(apple_restore, "CHUNK_LINES", 4096)
    return whole, analyze([str(pc)])


def test_a_restore_log_of_one_long_attempt_is_read_in_parts_as_whole(monkeypatch, tmp_path):
    """One attempt of 75,000 lines (4.4 MB: read in segments), cut inside it into parts of 5,000
    rows: the same document, rows, terminal --details and HTML as the log read whole; memory holds
    a few of its rows, and its window takes no line that no rule can match."""
    pc = _long_attempt_pc(tmp_path / "one-attempt-pc", "restore_4013_usb_drop/iTunes_restore.log",
                          "iPhone Restore.log", "operation 13 progress 34",
                          "[23:59:58.0975] Found known device, nudging state machine.")
    held, windows = _outcomes(monkeypatch), []
    window = diagnosing.evidence_window

    def seen(*args, **kwargs):
        got = window(*args, **kwargs)
        windows.append(got.height)
        return got
    monkeypatch.setattr(diagnosing, "evidence_window", seen)
    whole, in_parts = _whole_and_cut(monkeypatch, pc)
    assert dumps(in_parts) == dumps(whole)
    assert [i.error_code for i in whole.incidents] == [4013] and whole.event_count > 75_000
    (outcome,) = held
    assert len(outcome.events.files) >= 10  # (a part per segment, each in stretches)
    assert outcome.table.height < 100
    # (the diagnosis's window without the noise; in parts, of the kinds rules gate, only the rows that
    # are a rule's first matches: diagnose.FirstHits, which builds windows of its own before it)
    assert windows[-1] <= windows[0] < 100
    assert _terminal(in_parts, details=True) == _terminal(whole, details=True)
    assert render_html(in_parts) == render_html(whole)
    assert in_parts.events.equals(whole.events)


def test_a_pcs_evidence_is_weighed_by_what_a_whole_read_of_it_holds(tmp_path, monkeypatch):
    """A restore log's bytes count whole, a .evtx file's a sixth (read whole, its records take a
    tenth of what a text log's lines do), a compressed log or an archive what it expands to; a FIFO,
    a folder or a missing file weigh nothing."""
    line = b"2025-02-14 14:47:05.213 [7412:1d3c]: x\n"
    text = tmp_path / "iPhone Restore.log"
    text.write_bytes(line * 1000)
    evtx = tmp_path / "System.evtx"
    evtx.write_bytes(evidence_size.EVTX_MAGIC + b"\0" * 59_992)
    gz = tmp_path / "iPhone Restore.log.gz"
    gz.write_bytes(gzip.compress(line * 100_000))
    bz = tmp_path / "iPhone Restore.log.bz2"
    bz.write_bytes(bz2.compress(line * 1000))
    packed = tmp_path / "logs.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/iPhone Restore.log", line * 50_000)
        archive.writestr("b/System.evtx", b"\0" * 1000)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    weigh = evidence_size.evidence_bytes
    assert weigh([text]) == text.stat().st_size == len(line) * 1000
    assert weigh([evtx]) == 60_000 // evidence_size.EVTX_SHARE == 10_000
    assert weigh([gz]) == len(line) * 100_000 > 20 * gz.stat().st_size
    assert weigh([bz]) == bz.stat().st_size * evidence_size.PACKED_TIMES
    assert weigh([packed]) == len(line) * 50_000 + 1000
    assert weigh([text, evtx, fifo, tmp_path, tmp_path / "gone"]) == len(line) * 1000 + 10_000
    assert allocator.PARTS_BYTES == 64 << 20
    monkeypatch.setenv(allocator.PARTS_ENV, str(len(line) * 100_000))
    assert parts.big([gz]) and not parts.big([text, evtx])


def test_a_repair_tools_undated_log_is_read_in_parts_holding_few_of_its_rows(monkeypatch, tmp_path):
    """3uTools' log has no date: its rows have no time on the UTC clock, so no stretch of time finds
    them. In parts memory holds only the rows the diagnosis reads wherever they are and each
    attempt's first and last; its failed attempt's own rows are read back by its key. The same
    document, rows and reports as the log read whole."""
    pc = _long_attempt_pc(tmp_path / "repair-bench", "thirdparty_itunesflash/3uTools_iTunesFlash.log",
                          "3uTools_iTunesFlash.log", "operation 13 progress 0",
                          "00:35:02.446: Found known device, nudging state machine.")
    held = _outcomes(monkeypatch)
    whole, in_parts = _whole_and_cut(monkeypatch, pc)
    assert dumps(in_parts) == dumps(whole)
    assert [i.error_code for i in whole.incidents] == [4013]
    assert whole.events.get_column("ts_utc").null_count() == whole.event_count > 75_000
    (outcome,) = held
    assert len(outcome.events.files) >= 10 and outcome.table.height < 100
    assert _terminal(in_parts, details=True) == _terminal(whole, details=True)
    assert render_html(in_parts) == render_html(whole)
    assert in_parts.events.equals(whole.events)
