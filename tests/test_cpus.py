"""A small PC runs on one CPU, a big one on all of them; only in processes analyzer owns.

(:mod:`analyzer.cpus`: a small PC's analysis is about twice as fast kept on one core.) The
affinity is read back from the processes themselves; where the platform cannot set it, or the
machine has one CPU, there is nothing to check.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analyzer import cpus
from analyzer.parallel import run
from analyzer.pipeline import HostJob, small_job

needs_two = pytest.mark.skipif(not cpus.supported() or len(os.sched_getaffinity(0)) < 2,
                               reason="needs CPU affinity (Linux) and at least two CPUs")


def _affinity(job) -> tuple[int, ...]:
    return tuple(sorted(os.sched_getaffinity(0)))


def _small(job) -> bool:
    return job == "small"


def _cannot_tell(job) -> bool:
    raise OSError("the job's size cannot be read")


def test_small_job_is_measured_by_its_input_bytes(tmp_path: Path):
    little, big = tmp_path / "a.log", tmp_path / "b.log"
    little.write_bytes(b"x" * 1000)
    with big.open("wb") as fh:  # sparse: the size is what counts
        fh.truncate(cpus.SMALL_JOB_BYTES)
    assert small_job(HostJob(host="pc", files=((str(little), "a.log"),)))
    assert not small_job(HostJob(host="pc", files=((str(little), "a.log"), (str(big), "b.log"))))
    assert small_job(HostJob(host="pc", files=((str(tmp_path / "gone.log"), "gone.log"),)))


@needs_two
def test_fit_confines_every_thread_and_gives_them_back():
    script = textwrap.dedent("""
        import os, threading, time
        from analyzer import cpus
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait); worker.start()  # a thread that exists before
        def all_threads():
            return {tuple(sorted(os.sched_getaffinity(int(t)))) for t in os.listdir("/proc/self/task")}
        everything = tuple(sorted(os.sched_getaffinity(0)))
        cpus.take_slot(1)
        cpus.fit(True)
        print(all_threads() == {(everything[1],)})
        cpus.fit(False)
        print(all_threads() == {everything})
        cpus.fit(True); cpus.release()
        print(all_threads() == {everything})
        stop.set(); worker.join()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True", "True"], out.stderr


@needs_two
def test_pool_workers_run_small_jobs_on_one_cpu_and_big_ones_on_all():
    everything = tuple(sorted(os.sched_getaffinity(0)))
    jobs = ["small", "big", "small", "big", "small", "small"]
    out = run(jobs, workers=2, fn=_affinity, progress=False, small=_small)
    for job, seen in zip(jobs, out):
        assert (len(seen) == 1 and seen[0] in everything) if job == "small" else seen == everything
    assert tuple(sorted(os.sched_getaffinity(0))) == everything  # this process is left alone


@needs_two
def test_the_library_leaves_its_callers_process_alone():
    everything = tuple(sorted(os.sched_getaffinity(0)))
    out = run(["small", "small"], workers=1, fn=_affinity, progress=False, small=_small)
    assert out == [everything, everything]
    out = run(["small"], workers=1, fn=_affinity, progress=False, small=_small, contain=True,
              on_failure=lambda job, reason: None)
    assert len(out[0]) == 1  # the CLI's own process (contain): confined while the job runs...
    assert tuple(sorted(os.sched_getaffinity(0))) == everything  # ...and given every CPU back


def test_a_job_whose_size_cannot_be_told_still_runs():
    assert run(["a", "b"], workers=2, fn=str.upper, progress=False, small=_cannot_tell) == ["A", "B"]
    assert run(["a"], workers=1, fn=str.upper, progress=False, small=_cannot_tell, contain=True,
               on_failure=lambda job, reason: None) == ["A"]
