"""Per-host analysis in parallel: --jobs N (spawn pool) and Ray give the same document as --jobs 1."""

from __future__ import annotations

import concurrent.futures
import importlib.util
import multiprocessing
import os

import pytest

from analyzer.api import analyze
from analyzer.parallel import run
from analyzer.pipeline import HostJob
from analyzer.report.json_doc import document
from fleet_helpers import SPECS, write_fleet


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = write_fleet(tmp_path_factory.mktemp("par"), SPECS, as_zip=("pcB", "pcE"))
    (root / "broken.zip").write_bytes(b"PK\x03\x04 not a zip")
    (root / "pcF" / "unknown.txt").write_text("hello\n")
    return root


@pytest.fixture(scope="module")
def serial_doc(fleet):
    return document(analyze([fleet], tz="UTC", jobs=1))


def test_jobs_2_gives_the_same_document_as_jobs_1(fleet, serial_doc):
    assert serial_doc["fleet"]["host_count"] == 7 and len(serial_doc["incidents"]) == 5
    parallel = document(analyze([fleet], tz="UTC", jobs=2))
    assert parallel == serial_doc


def test_jobs_1_twice_is_deterministic(fleet, serial_doc):
    assert document(analyze([fleet], tz="UTC", jobs=1)) == serial_doc


def _whoami(job: HostJob) -> tuple[str, int]:
    return job.host, os.getpid()


def test_pool_uses_spawn_and_returns_results_in_job_order(monkeypatch):
    contexts = []
    real = multiprocessing.get_context

    def spy(method=None):
        contexts.append(method)
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", spy)
    jobs = [HostJob(host=f"h{i}", files=()) for i in range(6)]
    out = run(jobs, workers=2, fn=_whoami, progress=False)
    assert contexts == ["spawn"]
    assert [h for h, _ in out] == [f"h{i}" for i in range(6)]
    assert all(pid != os.getpid() for _, pid in out)


class _Tracked(concurrent.futures.Future):
    def __init__(self, book):
        super().__init__()
        self.book = book

    def result(self, timeout=None):
        self.book["collected"] += 1
        return super().result(timeout)


class _FakePool:
    """Runs submissions at once and records how many were outstanding (submitted, not collected)."""

    book = {"submitted": 0, "collected": 0, "max_outstanding": 0}

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        b = self.book
        b["submitted"] += 1
        b["max_outstanding"] = max(b["max_outstanding"], b["submitted"] - b["collected"])
        fut = _Tracked(b)
        fut.set_result(fn(*args))
        return fut


def test_work_in_flight_is_bounded_by_twice_the_workers(monkeypatch):
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _FakePool)
    _FakePool.book.update(submitted=0, collected=0, max_outstanding=0)
    jobs = [HostJob(host=f"h{i}", files=()) for i in range(50)]
    out = run(jobs, workers=3, fn=_whoami, progress=False)
    assert [h for h, _ in out] == [f"h{i}" for i in range(50)]
    assert _FakePool.book["submitted"] == 50
    assert _FakePool.book["max_outstanding"] == 6


def test_ray_executor_gives_the_same_document(fleet, serial_doc):
    if importlib.util.find_spec("ray") is None:
        message = "Ray is not installed (optional extra: pip install 'analyzer[ray]')"
        if os.environ.get("ANALYZER_REQUIRE_RAY") == "1":
            pytest.fail(message + "; ANALYZER_REQUIRE_RAY=1 makes this an error")
        pytest.skip(message)
    assert document(analyze([fleet], tz="UTC", executor="ray", jobs=2)) == serial_doc


def test_unknown_executor_is_refused():
    with pytest.raises(ValueError):
        run([], fn=_whoami, executor="dask")


def test_cli_reports_a_missing_ray_as_a_usage_error(fleet, monkeypatch):
    import sys

    from typer.testing import CliRunner

    from analyzer.cli import app

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    result = CliRunner().invoke(app, [str(fleet), "--executor", "ray", "--format", "json"])
    assert result.exit_code == 2
    assert "pip install 'analyzer[ray]'" in result.stderr
    result = CliRunner().invoke(app, [str(fleet), "--ray-address", "ray://x:10001"])
    assert result.exit_code == 2 and "--ray-address needs --executor ray" in result.stderr


def test_cli_jobs_2_prints_the_same_json_as_jobs_1(fleet):
    from typer.testing import CliRunner

    from analyzer.cli import app

    runner = CliRunner()
    one = runner.invoke(app, [str(fleet), "--format", "json", "--tz", "UTC", "--jobs", "1"])
    two = runner.invoke(app, [str(fleet), "--format", "json", "--tz", "UTC", "--jobs", "2"])
    assert one.exit_code == two.exit_code == 3  # broken.zip and unknown.txt make the input partial
    assert one.stdout == two.stdout
