"""A PC's big event table comes back from a worker process as a file in the run's private folder
(analyzer.spill), not inside the pickle: the same rows, a small pickle, no file left behind."""

from __future__ import annotations

import datetime as dt
import pickle
import tempfile
from pathlib import Path

import polars as pl
import pytest

from analyzer import analyze
from analyzer.model import conform
from analyzer.pipeline import HostResult
from analyzer.report.csv_out import to_csv
from analyzer.report.json_doc import document
from analyzer.report.timesketch import to_jsonl
from analyzer.spill import (PREFIX, SPILL_ROWS, PartedEvents, SpilledEvents, Tables, loaded, read_part, release,
                            run_folder, spilled, spilled_part)


def _table(rows: int) -> pl.DataFrame:
    return conform(pl.DataFrame({"host": ["pc"] * rows, "line": list(range(rows)),
                                 "message": [f"line {i} \u65e5\u672c" for i in range(rows)]}))


def test_a_big_table_crosses_as_a_file_and_comes_back_whole(tmp_path):
    events = _table(SPILL_ROWS + 5)
    result = HostResult(host="pc", events=events, spill=str(tmp_path))
    data = pickle.dumps(result)
    assert len(data) < 100_000  # the pickle names the file; the rows are not in it
    (written,) = list(tmp_path.iterdir())  # (rows without a time: one stretch, the last)
    back = pickle.loads(data)
    assert isinstance(back.events, PartedEvents) and back.events.rows == events.height and back.host == "pc"
    assert [len(b) for b in back.events.buckets] == [0, 1] and back.events.cuts == ()
    assert written.exists()  # still a file: the run reads it when rows are asked for
    assert loaded(back.events).equals(events)
    assert not written.exists()  # read once, removed
    assert result.events is events  # the worker's own result is left as it was


def test_small_tables_and_results_without_a_folder_stay_in_the_pickle(tmp_path):
    small = HostResult(host="pc", events=_table(10), spill=str(tmp_path))
    assert pickle.loads(pickle.dumps(small)).events.equals(small.events)  # a table, not a file
    big = HostResult(host="pc", events=_table(SPILL_ROWS), spill=None)
    assert len(pickle.dumps(big)) > 1_000_000
    assert list(tmp_path.iterdir()) == []
    assert spilled(None, str(tmp_path)) is None


def test_an_unwritable_folder_keeps_the_table_in_the_pickle(tmp_path):
    events = _table(SPILL_ROWS)
    gone = tmp_path / "missing"  # (a folder that does not exist: writing raises OSError)
    assert spilled(events, str(gone)) is events


def test_a_big_table_with_times_crosses_in_stretches_of_its_time(tmp_path):
    """Cut about every SPILL_ROWS rows at a time that starts a stretch (ties stay together), the
    rows without a time last: the same rows back, and a report reads only the stretches it needs."""
    rows = 3 * SPILL_ROWS + 7
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    times = [base + dt.timedelta(seconds=i // 3) for i in range(rows - 100)] + [None] * 100  # (ties of three)
    events = _table(rows).with_columns(pl.Series("ts_utc", times, dtype=pl.Datetime("us", "UTC")))
    got = spilled(events, str(tmp_path))
    assert isinstance(got, PartedEvents) and got.rows == rows and len(got.cuts) == 2  # (149,907 rows with a time)
    sizes = [sum(f.rows for f in b) for b in got.buckets]
    assert sum(sizes) == rows and sizes[-1] == 100 and all(abs(n - SPILL_ROWS) <= 3 for n in sizes[:2])
    for j, bucket in enumerate(got.buckets[:-1]):  # each stretch within its cuts
        stamps = read_part(bucket[0]).get_column("ts_utc")
        assert (j == 0 or stamps.min() >= got.cuts[j - 1]) and (j == len(got.cuts) or stamps.max() < got.cuts[j])
    tables = Tables([("pc", got)], None, lambda frame: frame)
    window = pl.DataFrame({"host": ["pc"], "window_start": [got.cuts[1]], "window_end": [got.cuts[1]]})
    assert [f.height for _, f in tables.each_frame(window)] == [sizes[2], 100]  # its stretch, and no time
    assert loaded(got).equals(events)


def test_a_file_that_comes_back_short_is_refused(tmp_path):
    events = _table(SPILL_ROWS)
    got = spilled_part(events, str(tmp_path))
    assert isinstance(got, SpilledEvents)
    with pytest.raises(ValueError, match="spilled rows"):
        loaded(got._replace(rows=got.rows + 1))
    assert not Path(got.path).exists()


def test_the_run_folder_is_private_and_goes_away():
    folder = run_folder()
    assert folder.name.startswith(PREFIX) and (folder.stat().st_mode & 0o777) == 0o700
    (folder / "left.arrow").write_bytes(b"x")
    release(folder)
    assert not folder.exists()


def test_tables_are_read_once_in_the_run_s_order_and_their_folder_goes():
    folder = run_folder()
    first, second = _table(SPILL_ROWS), _table(7).with_columns(pl.lit("pd").alias("host"))
    parts = [("pz", spilled(first, str(folder))), ("pd", second)]
    seen = []
    tables = Tables(parts, folder, lambda frame: seen.append(frame.height) or frame)
    assert tables.rows == SPILL_ROWS + 7 and folder.exists()
    # one PC at a time, by host, the files left in place
    assert [f.height for f in tables.frames()] == [7, SPILL_ROWS] and len(list(folder.glob("*.arrow"))) == 1
    seen.clear()  # (a PC in stretches is put in order a stretch at a time as it is read)
    table = tables.load()  # each PC's rows put in order, the PCs by host
    assert seen == [7, SPILL_ROWS] and table.equals(pl.concat([second, first]))
    assert not folder.exists()
    # a run whose rows nobody read leaves nothing behind either
    folder = run_folder()
    unread = Tables([("pz", spilled(first, str(folder)))], folder, lambda frame: frame)
    del unread
    import gc

    gc.collect()
    assert not folder.exists()


def test_two_big_pcs_in_worker_processes_give_the_in_process_document(tmp_path, monkeypatch):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_restore import generate

    pcs = tmp_path / "pcs"
    for name, seed in (("pc-a", 3), ("pc-b", 5)):
        (pcs / name).mkdir(parents=True)
        generate(pcs / name / "iPhone Restore.log", SPILL_ROWS + 10_000, seed=seed)
    scratch = tmp_path / "tmp"  # (the run's folder goes here: other runs on the machine use the real one)
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    here = analyze([pcs], tz="UTC")
    pooled = analyze([pcs], tz="UTC", jobs=2)
    assert here.events.height > 2 * SPILL_ROWS
    # the document and the fleet summary come from what the PCs computed: the rows stay files
    assert document(pooled) == document(here)
    assert isinstance(pooled.__dict__["_events"], Tables) and pooled.event_count == here.events.height
    assert pooled.backups.equals(here.backups) and pooled.fleet == here.fleet
    # the outputs that write every row read one PC at a time, and write what the table gives
    assert to_csv(pooled) == to_csv(here) and to_jsonl(pooled) == to_jsonl(here)
    assert isinstance(pooled.__dict__["_events"], Tables)
    # the timelines read from the stretches (two PCs, each log named alike) show what the rows show
    detailed = _details(pooled)
    assert isinstance(pooled.__dict__["_events"], Tables)
    here.events  # (read now: the reports then take the table itself)
    assert detailed == _details(here) and detailed.count("progress") >= 2
    assert pooled.events.equals(here.events)  # read when asked for
    assert not isinstance(pooled.__dict__["_events"], Tables)
    assert list(scratch.iterdir()) == []


def _details(analysis) -> str:
    import io

    from rich.console import Console

    from analyzer.report.terminal import render

    out = io.StringIO()
    render(analysis, Console(file=out, width=160, color_system=None), details=True)
    return out.getvalue()


def test_what_the_pcs_compute_beside_their_rows_equals_what_the_rows_give():
    import dataclasses

    from conftest import SAMPLES

    run = analyze([SAMPLES])
    assert run.facts is not None and run.host_backups is not None and run.host_backups.height
    plain = dataclasses.replace(run, facts=None, host_backups=None)
    assert plain.fleet == run.fleet
    assert plain.backups.equals(run.backups)
    assert plain.fleet["shared_factors"] and any(h["computers"] for h in plain.fleet["hosts"])
