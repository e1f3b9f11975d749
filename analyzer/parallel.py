"""Executors: run one function over a list of jobs, here, in a process pool or on Ray.

The caller hands over the function and the jobs (:mod:`analyzer.pipeline`
gives one job per PC); this module knows nothing about what they are, only
that each job can run anywhere, in any order. Results come back in job order
whatever the completion order, so every executor gives the same answer.

* ``local`` with ``workers == 1``: in this process;
* ``local`` with ``workers > 1``: a **spawn** process pool (a forked child
  inherits the parent's thread-pool locks and can deadlock once a threaded
  library has run), at most ``2 × workers`` jobs in flight so memory follows
  the work in flight, not the number of jobs; the caller's ``thread_env``
  variables are set in each worker to its share of the CPUs
  (``cpus // workers``);
* ``ray``: the same function as a Ray task (``pip install 'analyzer[ray]'``);
  ``ray.init()`` starts a local Ray unless an address is given. On a cluster
  every node needs analyzer installed and the jobs' inputs reachable.

A progress bar goes to stderr only when stderr is a terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .arguments import EXECUTORS


class ExecutorUnavailable(RuntimeError):
    """The requested executor cannot run here (e.g. Ray is not installed)."""


#: Jobs in flight per worker (submitted but not yet collected).
IN_FLIGHT_PER_WORKER = 2


def _progress(total: int, enabled: bool | None, label: str):
    """A rich progress bar on stderr (only on a terminal), or None."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total <= 1:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)


def _worker_init(threads: int, thread_env: tuple[str, ...]) -> None:
    # runs in a fresh spawned interpreter before the job's code (and its thread pools) is imported
    for name in thread_env:
        os.environ.setdefault(name, str(max(1, threads)))


def _run_serial(jobs: list, fn: Callable, tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
    for i, job in enumerate(jobs):
        yield i, fn(job)
        tick()


@contextlib.contextmanager
def _spawnable_main() -> Iterator[None]:
    """Spawned workers re-run ``__main__`` from its file; when it has none on disk (``python - <<EOF``,
    ``python -c``), hide the bogus name while the pool lives so the workers start clean."""
    main = sys.modules.get("__main__")
    name = getattr(main, "__file__", None)
    if main is None or name is None or Path(name).is_file():
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = name


def _run_pool(jobs: list, fn: Callable, workers: int, thread_env: tuple[str, ...],
              tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = multiprocessing.get_context("spawn")
    limit = max(1, workers * IN_FLIGHT_PER_WORKER)
    with _spawnable_main(), ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                                initargs=(threads, thread_env)) as pool:
        finished = _bounded(jobs, limit, lambda job: pool.submit(fn, job),
                            lambda pending: wait(pending, return_when=FIRST_COMPLETED)[0])
        for index, fut in finished:
            yield index, fut.result()
            tick()


def _bounded(jobs: list, limit: int, submit: Callable[[Any], Any],
             wait_some: Callable[[dict], Any]) -> Iterator[tuple[int, Any]]:
    """Keep at most ``limit`` jobs in flight; yield (job index, handle) as handles finish.

    Bounding what is submitted is what bounds memory: thousands of jobs never
    have more than ``limit`` jobs' inputs loaded at once.
    """
    pending: dict = {}
    queue = iter(enumerate(jobs))
    exhausted = False
    while True:
        while not exhausted and len(pending) < limit:
            nxt = next(queue, None)
            if nxt is None:
                exhausted = True
                break
            pending[submit(nxt[1])] = nxt[0]
        if not pending:
            return
        for handle in wait_some(pending):
            yield pending.pop(handle), handle


def _run_ray(jobs: list, fn: Callable, workers: int, address: str | None, thread_env: tuple[str, ...],
             tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ExecutorUnavailable("executor 'ray' needs Ray: pip install 'analyzer[ray]'") from exc
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "include_dashboard": False, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        else:
            # a local Ray: make this checkout importable in its workers, whether installed or not
            root = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            env = {"PYTHONPATH": path, **{name: "1" for name in thread_env}}  # one CPU per task
            kwargs["runtime_env"] = {"env_vars": env}
            if workers > 1:
                kwargs["num_cpus"] = workers
        ray.init(**kwargs)
        started = True
    try:
        if workers <= 1:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(num_cpus=1, max_retries=1)(fn)
        limit = max(1, workers * IN_FLIGHT_PER_WORKER)
        finished = _bounded(jobs, limit, remote.remote, lambda pending: ray.wait(list(pending), num_returns=1)[0])
        for index, ref in finished:
            yield index, ray.get(ref)
            tick()
    finally:
        if started:
            ray.shutdown()


def run(jobs: list, *, fn: Callable[[Any], Any], workers: int = 1, executor: str = "local",
        address: str | None = None, progress: bool | None = None, label: str = "jobs",
        thread_env: tuple[str, ...] = ()) -> list:
    """Run ``fn`` over every job; results come back in job order whatever the completion order.

    ``fn`` and the jobs must be picklable for the pool and Ray (``fn`` a module-level function).
    ``label`` names the jobs on the progress bar; ``thread_env`` names environment variables
    that size ``fn``'s thread pools, set in each worker to its share of the CPUs.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: use {' or '.join(EXECUTORS)}")
    results: list = [None] * len(jobs)
    bar = _progress(len(jobs), progress, label)
    task = bar.add_task(label, total=len(jobs)) if bar else None

    def tick() -> None:
        if bar is not None:
            bar.advance(task)

    if executor == "ray":
        stream = _run_ray(jobs, fn, workers, address, thread_env, tick)
    elif workers > 1 and len(jobs) > 1:
        stream = _run_pool(jobs, fn, min(workers, len(jobs)), thread_env, tick)
    else:
        stream = _run_serial(jobs, fn, tick)
    if bar is not None:
        bar.start()
    try:
        for index, result in stream:
            results[index] = result
    finally:
        if bar is not None:
            bar.stop()
    return results
