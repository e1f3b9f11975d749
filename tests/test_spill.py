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
from analyzer.report.json_doc import document
from analyzer.spill import PREFIX, SPILL_ROWS, SpilledEvents, loaded, run_folder, release, spilled


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
    assert back.events.equals(events) and back.host == "pc"
    assert not written.exists()  # read once, removed
    assert result.events is events  # the worker's own result is left as it was


def test_small_tables_and_results_without_a_folder_stay_in_the_pickle(tmp_path):
    small = HostResult(host="pc", events=_table(10), spill=str(tmp_path))
    assert pickle.loads(pickle.dumps(small)).events.equals(small.events)
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


def test_two_big_pcs_in_worker_processes_give_the_in_process_document(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_restore import generate

    for name, seed in (("pc-a", 3), ("pc-b", 5)):
        (tmp_path / name).mkdir()
        generate(tmp_path / name / "iPhone Restore.log", SPILL_ROWS + 10_000, seed=seed)
    before = {p.name for p in Path(tempfile.gettempdir()).glob(PREFIX + "*")}
    here = analyze([tmp_path], tz="UTC")
    pooled = analyze([tmp_path], tz="UTC", jobs=2)
    assert here.events.height > 2 * SPILL_ROWS
    assert pooled.events.equals(here.events)
    assert document(pooled) == document(here)
    assert {p.name for p in Path(tempfile.gettempdir()).glob(PREFIX + "*")} == before
