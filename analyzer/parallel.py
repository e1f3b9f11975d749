"""Executors: run one function over a list of jobs, here, in a process pool or on Ray.

The caller hands over the function and the jobs (:mod:`analyzer.pipeline`
gives one job per PC); this module knows nothing about what they are, only
that each job can run anywhere, in any order. Results come back in job order
whatever the completion order, so every executor gives the same answer.

* ``local`` with ``workers == 1``: in this process; with ``contain`` (the CLI) and more than one
  job, in a one-worker pool, so that a native crash costs one job and not the run;
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
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .arguments import EXECUTORS
from .faults import EXIT_TIME_LIMIT, Failed, describe, guarded


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


def _worker_init(threads: int, thread_env: tuple[str, ...], slots=None) -> None:
    # runs in a fresh spawned interpreter before the job's code (and its thread pools) is imported
    for name in thread_env:
        os.environ.setdefault(name, str(max(1, threads)))
    if slots is not None:  # this worker's own CPU for small jobs (analyzer.cpus)
        from . import cpus

        with slots.get_lock():
            cpus.take_slot(slots.value)
            slots.value += 1


def _fitted(fn: Callable, small: Callable[[Any], bool], job: Any) -> Any:
    """``fn(job)`` on the CPUs that suit the job's size (:func:`analyzer.cpus.fit`). Only a speed
    choice: if sizing the job fails, the job runs where it is (its own faults are ``fn``'s to report)."""
    from . import cpus

    try:
        cpus.fit(small(job))
    except Exception:  # noqa: BLE001 - never a reason to lose the job
        pass
    return fn(job)


def _run_serial(jobs: list, fn: Callable, tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
    for i, job in enumerate(jobs):
        yield i, fn(job)
        tick()


def _run_serial_fitted(jobs: list, fn: Callable, small: Callable[[Any], bool],
                       tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
    """:func:`_run_serial` with each job on the CPUs that suit its size, every CPU again after."""
    from . import cpus

    try:
        yield from _run_serial(jobs, functools.partial(_fitted, fn, small), tick)
    finally:
        cpus.release()


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


class _Round:
    """How a pool round ended: ``broken`` says why the pool broke (None if it did not); then
    ``in_flight`` are the jobs submitted and not finished, ``unsent`` those never submitted."""

    def __init__(self) -> None:
        self.broken: str | None = None
        self.in_flight: list[int] = []
        self.unsent: list[int] = []


def _run_pool(jobs: list, fn: Callable, workers: int, thread_env: tuple[str, ...],
              tick: Callable[[], None], isolate: bool = False) -> Iterator[tuple[int, Any]]:
    """The jobs in a spawn pool. Without ``isolate`` a worker that dies ends the run
    (BrokenProcessPool). With it, a broken pool costs only the job that broke it: the jobs that
    were in flight are each run alone in a one-worker pool (the one whose pool breaks again is
    the culprit and gets :class:`analyzer.faults.Failed`), and the jobs not yet started go on in
    a fresh pool of ``workers``."""
    from concurrent.futures.process import BrokenProcessPool

    todo: list[int] = list(range(len(jobs)))
    suspects: list[int] = []
    while todo or suspects:
        if suspects:
            batch = [suspects.pop(0)]
        else:
            batch, todo = todo, []
        state = _Round()
        for index, result in _pool_round(jobs, batch, fn, min(workers, len(batch)), thread_env, state):
            yield index, result
            tick()
        if state.broken is None:
            continue
        if not isolate:
            raise BrokenProcessPool(state.broken)
        if len(batch) == 1:
            yield batch[0], Failed(state.broken)
            tick()
        else:
            suspects.extend(state.in_flight)
            todo = state.unsent + todo


def _pool_round(jobs: list, batch: list[int], fn: Callable, workers: int, thread_env: tuple[str, ...],
                state: _Round) -> Iterator[tuple[int, Any]]:
    """(job index, result) for the jobs of ``batch`` as they finish, at most ``2 × workers`` in
    flight; a broken pool ends the round with ``state`` saying what was lost. If the run itself
    is stopped (Ctrl-C, SIGTERM), the workers are stopped too, so that they clean up now."""
    import collections
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = multiprocessing.get_context("spawn")
    limit = max(1, workers * IN_FLIGHT_PER_WORKER)
    queue, pending, procs = collections.deque(batch), {}, {}
    slots = ctx.Value("i", 0)  # each worker takes the next, for its own CPU (analyzer.cpus)
    with _spawnable_main(), ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                                initargs=(threads, thread_env, slots)) as pool:
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    fut = pool.submit(fn, jobs[queue[0]])  # (a broken pool raises here: the job stays queued)
                    pending[fut] = queue.popleft()
                    procs.update(getattr(pool, "_processes", None) or {})
                for fut in wait(pending, return_when=FIRST_COMPLETED)[0]:
                    fut.result()  # raises BrokenProcessPool before the job leaves pending
                    yield pending.pop(fut), fut.result()
        except BrokenProcessPool:
            for fut in [f for f in pending if f.done() and not f.cancelled() and f.exception() is None]:
                yield pending.pop(fut), fut.result()
            state.broken = _death(procs.values())
            state.in_flight, state.unsent = sorted(pending.values()), list(queue)
        except BaseException:
            for proc in list(procs.values()):
                with contextlib.suppress(Exception):
                    proc.terminate()  # SIGTERM: each worker's job unwinds and removes its temporaries
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _death(procs) -> str:
    """Why a pool broke, from its workers' exit statuses: one line for a note."""
    import signal

    import time

    procs = list(procs)
    deadline = time.monotonic() + 5
    # a dead worker not yet reaped has no exit status yet, and the pool's own thread may be reaping
    # it at this moment: wait a little for every status (on a loaded machine this takes a while)
    while any(p.exitcode is None for p in procs) and time.monotonic() < deadline:
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.join(timeout=0.1)
    codes = sorted({p.exitcode for p in procs if p.exitcode not in (None, 0)})
    how = []
    for code in codes:
        if code == EXIT_TIME_LIMIT:
            how.append("stopped at its time limit: a native call did not return")
            continue
        name = signal.Signals(-code).name if code < 0 and -code in signal.valid_signals() else None
        how.append(f"killed by {name}" if name else f"exit status {code}")
    return "its worker process ended abruptly" + (f" ({', '.join(how)})" if how else "")


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
             tick: Callable[[], None], isolate: bool = False) -> Iterator[tuple[int, Any]]:
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
        # (Ray takes functions, not partials: a partial's function is sent with its arguments)
        base = fn.func if isinstance(fn, functools.partial) else fn
        args, kwargs = (fn.args, fn.keywords) if isinstance(fn, functools.partial) else ((), {})
        remote = ray.remote(num_cpus=1, max_retries=1)(base)
        limit = max(1, workers * IN_FLIGHT_PER_WORKER)
        finished = _bounded(jobs, limit, lambda job: remote.remote(*args, job, **kwargs),
                            lambda pending: ray.wait(list(pending), num_returns=1)[0])
        for index, ref in finished:
            try:
                result = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - a task whose worker died (Ray raises it here)
                if not isolate:
                    raise
                result = Failed(describe(exc))
            yield index, result
            tick()
    finally:
        if started:
            ray.shutdown()


def run(jobs: list, *, fn: Callable[[Any], Any], workers: int = 1, executor: str = "local",
        address: str | None = None, progress: bool | None = None, label: str = "jobs",
        thread_env: tuple[str, ...] = (), on_failure: Callable[[Any, str], Any] | None = None,
        time_limit: float | None = None, contain: bool = False,
        small: Callable[[Any], bool] | None = None) -> list:
    """Run ``fn`` over every job; results come back in job order whatever the completion order.

    ``fn`` and the jobs must be picklable for the pool and Ray (``fn`` a module-level function).
    ``label`` names the jobs on the progress bar; ``thread_env`` names environment variables
    that size ``fn``'s thread pools, set in each worker to its share of the CPUs.

    With ``on_failure``, a job that fails (raises, outlasts ``time_limit`` seconds, or whose pool
    worker or Ray worker dies) has ``on_failure(job, reason)`` as its result and the other jobs'
    results are kept (:mod:`analyzer.faults`); without it, the first failure ends the run. With
    ``contain`` as well, several jobs run in worker processes also for ``workers`` 1 (a one-worker
    pool), where a native crash or a native call past the time limit ends only the worker; a
    single job runs here, where nothing could survive its crash anyway. (A pool re-imports the
    caller's script in each worker: a script without ``if __name__ == "__main__":`` cannot start
    one, so the library leaves ``contain`` off by default and the CLI turns it on.)

    ``small`` says which jobs run on one CPU (:mod:`analyzer.cpus`: a small job is faster there): in
    pool workers, each on its own CPU, and with ``contain`` also in this process (the CLI's own);
    the other jobs use every CPU.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: use {' or '.join(EXECUTORS)}")
    results: list = [None] * len(jobs)
    bar = _progress(len(jobs), progress, label)
    task = bar.add_task(label, total=len(jobs)) if bar else None

    def tick() -> None:
        if bar is not None:
            bar.advance(task)

    isolate = on_failure is not None
    pooled = executor == "ray" or (len(jobs) > 1 and (workers > 1 or (isolate and contain)))
    task = functools.partial(guarded, fn, time_limit=time_limit, hard=pooled) if isolate else fn
    if executor == "ray":
        stream = _run_ray(jobs, task, workers, address, thread_env, tick, isolate)
    elif pooled:
        fitted = functools.partial(_fitted, task, small) if small is not None else task
        stream = _run_pool(jobs, fitted, min(workers, len(jobs)), thread_env, tick, isolate)
    elif small is not None and contain:
        stream = _run_serial_fitted(jobs, task, small, tick)
    else:
        stream = _run_serial(jobs, task, tick)
    if bar is not None:
        bar.start()
    try:
        for index, result in stream:
            results[index] = on_failure(jobs[index], result.reason) if isinstance(result, Failed) else result
    finally:
        if bar is not None:
            bar.stop()
    return results
