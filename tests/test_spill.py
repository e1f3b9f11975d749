"""A PC's big event table comes back from a worker process as a file in the run's private folder
(analyzer.spill), not inside the pickle: the same rows, a small pickle, no file left behind."""

from __future__ import annotations

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
from analyzer.spill import PREFIX, SPILL_ROWS, SpilledEvents, Tables, loaded, run_folder, release, spilled


def _table(rows: int) -> pl.DataFrame:
    return conform(pl.DataFrame({"host": ["pc"] * rows, "line": list(range(rows)),
                                 "message": [f"line {i} \u65e5\u672c" for i in range(rows)]}))


def test_a_big_table_crosses_as_a_file_and_comes_back_whole(tmp_path):
    events = _table(SPILL_ROWS + 5)
    result = HostResult(host="pc", events=events, spill=str(tmp_path))
    data = pickle.dumps(result)
    assert len(data) < 100_000  # the pickle names the file; the rows are not in it
    (written,) = list(tmp_path.iterdir())
    back = pickle.loads(data)
    assert isinstance(back.events, SpilledEvents) and back.events.rows == events.height and back.host == "pc"
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


def test_a_file_that_comes_back_short_is_refused(tmp_path):
    events = _table(SPILL_ROWS)
    got = spilled(events, str(tmp_path))
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
    assert pooled.events.equals(here.events)  # read when asked for
    assert not isinstance(pooled.__dict__["_events"], Tables)
    assert list(scratch.iterdir()) == []


def test_what_the_pcs_compute_beside_their_rows_equals_what_the_rows_give():
    import dataclasses

    from conftest import SAMPLES

    run = analyze([SAMPLES])
    assert run.facts is not None and run.host_backups is not None and run.host_backups.height
    plain = dataclasses.replace(run, facts=None, host_backups=None)
    assert plain.fleet == run.fleet
    assert plain.backups.equals(run.backups)
    assert plain.fleet["shared_factors"] and any(h["computers"] for h in plain.fleet["hosts"])
