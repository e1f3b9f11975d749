"""Fault isolation per PC (issue 18): a PC whose analysis dies (its worker exits, MemoryError, a
time limit) is that PC's failure with the reason, in every output; every other PC's result is
kept; the run exits 3 (partial), never 1. The fault is injected with the test hook
``ANALYZER_TEST_FAULT=<host>:<exit|memory|hang|native-hang>`` read where a host is analysed
(analyzer/pipeline.py), so pool workers honour it too."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from analyzer.api import analyze
from analyzer.arguments import ArgumentError
from analyzer.faults import Failed, guarded
from analyzer.parallel import run
from analyzer.pipeline import TEST_FAULT_ENV, HostJob
from analyzer.report.json_doc import document
from fleet_helpers import SPECS, write_fleet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    return write_fleet(tmp_path_factory.mktemp("faults"), SPECS, as_zip=("pcE",))


@pytest.fixture(scope="module")
def healthy(fleet):
    return document(analyze([fleet], tz="UTC", jobs=1))


def _others(doc: dict, dead: str) -> list:
    return [i for i in doc["incidents"] if i.get("host") != dead]


def _dead_files(doc: dict, host: str) -> list[dict]:
    return [f for f in doc["files"] if f["host"] == host]


def _cli(fleet: Path, out: Path, fault: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", str(fleet), "--tz", "UTC", "--format", "json",
         "--csv", str(out / "t.csv"), "--html", str(out / "r.html"), "--timesketch", str(out / "s.jsonl"),
         "--parquet", str(out / "pq"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), TEST_FAULT_ENV: fault, **(env or {})})


def test_a_killed_pool_worker_costs_only_its_pc_in_every_output(fleet, healthy, tmp_path):
    proc = _cli(fleet, tmp_path, "pcC:exit", "--jobs", "2")
    assert proc.returncode == 3, proc.stderr
    assert "internal error" not in proc.stderr
    doc = json.loads(proc.stdout)
    dead = _dead_files(doc, "pcC")
    assert dead and all(f["status"] == "parser_failed" for f in dead)
    note = dead[0]["errors"][0]
    assert note["code"] == "host_failed" and note["params"]["host"] == "pcC"
    assert note["params"]["reason"] == "its worker process ended abruptly (exit status 134)"
    # every other PC's verdicts are there, as in a healthy run
    assert _others(doc, "pcC") == _others(healthy, "pcC") and len(_others(doc, "pcC")) >= 3
    assert {f["host"] for f in doc["files"] if f["status"] == "read"} == {"pcA", "pcB", "pcD", "pcE", "pcF"}
    hosts_with_incidents = {i["host"] for i in _others(doc, "pcC")}
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert hosts_with_incidents <= {r["host"] for r in rows} and "pcC" not in {r["host"] for r in rows}
    incidents = pl.read_parquet(tmp_path / "pq" / "incidents.parquet")
    assert set(incidents["host"]) == hosts_with_incidents
    sketch = (tmp_path / "s.jsonl").read_text(encoding="utf-8")
    assert all(f'"{h}"' in sketch for h in hosts_with_incidents)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "pcC" in html and all(h in html for h in hosts_with_incidents)
    assert "its worker process ended abruptly" in html
    assert "pcC" in proc.stderr and "ended abruptly" in proc.stderr


def test_a_native_crash_under_one_job_costs_only_its_pc(fleet, healthy, tmp_path):
    """``--jobs 1`` runs the PCs in one worker process: a native abort ends that worker, not the run."""
    proc = _cli(fleet, tmp_path, "pcB:exit", "--jobs", "1")
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert _dead_files(doc, "pcB")[0]["errors"][0]["params"]["reason"] == \
        "its worker process ended abruptly (exit status 134)"
    assert _others(doc, "pcB") == _others(healthy, "pcB") and len(_others(doc, "pcB")) >= 3


def test_the_library_keeps_one_job_in_process_for_a_script_without_a_main_guard(fleet, healthy, tmp_path):
    """A worker pool re-imports the calling script; a plain script (no ``if __name__ ==
    "__main__":``) must still work with ``jobs=1``, so the library runs PCs in its own process
    unless asked to contain crashes (the CLI asks)."""
    script = tmp_path / "plain.py"
    script.write_text("import sys\nfrom analyzer.api import analyze\n"
                      f"a = analyze([{str(fleet)!r}], tz='UTC')\n"
                      "print(len(a.incidents), a.partial)\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and "RuntimeError" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout.split() == [str(len(healthy["incidents"])), str(healthy["summary"]["partial"])]


def test_a_native_call_past_the_time_limit_ends_its_worker_not_the_run(fleet, healthy, tmp_path):
    """The alarm cannot interrupt native code (here: SIGALRM blocked); the worker's watchdog ends
    the worker once the limit and its grace have passed, and the reason says so. (The limit is
    long enough for the healthy PCs on a loaded machine: it applies to every PC.)"""
    proc = _cli(fleet, tmp_path, "pcF:native-hang", "--jobs", "1", env={"ANALYZER_HOST_TIMEOUT": "4"})
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert _dead_files(doc, "pcF")[0]["errors"][0]["params"]["reason"] == \
        "its worker process ended abruptly (stopped at its time limit: a native call did not return)"
    assert _others(doc, "pcF") == _others(healthy, "pcF")


def test_a_dead_ray_worker_costs_only_its_pc(fleet, healthy, monkeypatch):
    if importlib.util.find_spec("ray") is None:
        message = "Ray is not installed (optional extra: pip install 'analyzer[ray]')"
        if os.environ.get("ANALYZER_REQUIRE_RAY") == "1":
            pytest.fail(message + "; ANALYZER_REQUIRE_RAY=1 makes this an error")
        pytest.skip(message)
    monkeypatch.setenv(TEST_FAULT_ENV, "pcC:exit")  # Ray's workers inherit the driver's environment
    doc = document(analyze([fleet], tz="UTC", executor="ray", jobs=2))
    dead = _dead_files(doc, "pcC")
    assert dead and dead[0]["errors"][0]["code"] == "host_failed"
    assert dead[0]["errors"][0]["params"]["reason"]
    assert _others(doc, "pcC") == _others(healthy, "pcC") and doc["summary"]["partial"]


def test_memory_error_in_process_is_that_pcs_failure(fleet, healthy, monkeypatch):
    monkeypatch.setenv(TEST_FAULT_ENV, "pcA:memory")
    doc = document(analyze([fleet], tz="UTC", jobs=1))
    dead = _dead_files(doc, "pcA")
    assert [f["errors"][0]["params"]["reason"] for f in dead] == ["MemoryError: test fault"] * len(dead)
    assert _others(doc, "pcA") == _others(healthy, "pcA")
    assert doc["summary"]["partial"]


def test_a_pc_past_its_time_limit_is_that_pcs_failure(fleet, healthy, monkeypatch):
    monkeypatch.setenv(TEST_FAULT_ENV, "pcD:hang")
    doc = document(analyze([fleet], tz="UTC", jobs=1, host_timeout=1.5))
    dead = _dead_files(doc, "pcD")
    assert dead and dead[0]["errors"][0]["params"]["reason"] == "TimeLimit: time limit of 1.5 s exceeded"
    assert _others(doc, "pcD") == _others(healthy, "pcD")


def test_the_time_limit_holds_in_a_pool_worker_and_comes_from_the_environment(fleet, tmp_path):
    proc = _cli(fleet, tmp_path, "pcB:hang", "--jobs", "2", env={"ANALYZER_HOST_TIMEOUT": "2"})
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert _dead_files(doc, "pcB")[0]["errors"][0]["params"]["reason"] == "TimeLimit: time limit of 2 s exceeded"


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_a_bad_time_limit_is_refused_before_any_work(fleet, monkeypatch, value):
    monkeypatch.setenv("ANALYZER_HOST_TIMEOUT", value)
    with pytest.raises(ArgumentError, match="ANALYZER_HOST_TIMEOUT"):
        analyze([fleet], tz="UTC")


def _boom_on_odd(job: HostJob) -> str:
    if int(job.host[1:]) % 2:
        raise RuntimeError(f"boom {job.host}")
    return job.host


def _exit_on_3(job: HostJob) -> str:
    if job.host == "h3":
        os._exit(7)
    return job.host


def test_run_turns_failures_into_on_failure_results_in_job_order():
    jobs = [HostJob(host=f"h{i}", files=()) for i in range(5)]
    out = run(jobs, fn=_boom_on_odd, on_failure=lambda job, why: f"{job.host} failed: {why}", progress=False)
    assert out == ["h0", "h1 failed: RuntimeError: boom h1", "h2", "h3 failed: RuntimeError: boom h3", "h4"]
    with pytest.raises(RuntimeError):  # without on_failure the first failure ends the run, as before
        run(jobs, fn=_boom_on_odd, progress=False)


def test_a_pool_that_breaks_is_rebuilt_and_only_the_culprit_fails():
    jobs = [HostJob(host=f"h{i}", files=()) for i in range(8)]
    out = run(jobs, fn=_exit_on_3, workers=2, on_failure=lambda job, why: (job.host, why), progress=False)
    assert out == ["h0", "h1", "h2", ("h3", "its worker process ended abruptly (exit status 7)"), "h4", "h5", "h6", "h7"]


def test_guarded_lets_a_stop_through():
    def stop(job):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        guarded(stop, None)
    assert guarded(lambda job: 1 / 0, None) == Failed("ZeroDivisionError: division by zero")
