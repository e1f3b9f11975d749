"""Per-host analysis as a pure function, and the executors that run it over a fleet.

A fleet is analysed host by host: :func:`analyze_host` takes one PC's inputs
(paths and how to show them, the time zone and the language) and returns that
PC's file reports, events, attempts and incidents. Nothing in it depends on
another host (clock zones are learnt per host, evidence windows join on the
host), so hosts can run in any order, in any process, on any machine that sees
the same paths; :func:`merge` puts the results back in one canonical order, so
``--jobs 1``, ``--jobs N`` and Ray give the same document.

Executors:

* ``local`` with ``jobs == 1``: in this process;
* ``local`` with ``jobs > 1``: a **spawn** process pool (a forked child inherits
  polars' thread pool locks and can deadlock once polars has run), at most
  ``2 × jobs`` hosts in flight so memory follows the work in flight, not the
  fleet size; each worker's polars gets ``cpus // jobs`` threads;
* ``ray``: the same function as a Ray task (``pip install 'analyzer[ray]'``);
  ``ray.init()`` starts a local Ray unless an address is given. On a cluster
  every node needs analyzer installed and the input paths readable.

A progress bar goes to stderr only when stderr is a terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

class ExecutorUnavailable(RuntimeError):
    """The requested executor cannot run here (e.g. Ray is not installed)."""


#: Hosts in flight per worker (submitted but not yet collected).
IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class HostJob:
    """One PC's inputs: files (or archives) as (path, display) pairs, plus the run options."""

    host: str
    files: tuple[tuple[str, str], ...]
    tz: str | None = None
    lang: str = "en"


@dataclass
class HostResult:
    host: str
    files: list = field(default_factory=list)        # list[FileReport]
    events: Any = None                               # pl.DataFrame
    incidents: list = field(default_factory=list)    # list[Incident]
    attempts: Any = None                             # pl.DataFrame


def _archive_report(display: str, host: str, size: int, notes: list, fatal: str | None, members: int):
    from .model import FileReport, Note

    errors = list(notes)
    if fatal:
        errors.insert(0, Note(display, fatal))
    elif not members and not notes:
        errors.append(Note(display, "archive holds no files", severity="warning"))
    not_read = "unreadable" if fatal else ("empty" if not members else None)
    return FileReport(path=display, format=None if fatal or not members else "zip", size=size, host=host,
                      errors=errors, skipped=len(notes) + (1 if fatal else 0), not_read=not_read)


def analyze_host(job: HostJob) -> HostResult:
    """Read, correlate and diagnose one PC. Pure: the result depends only on ``job`` and the files."""
    import polars as pl

    from .archives import env_limits, extract, is_archive, private_dir, remove_dir
    from .clock import normalise
    from .diagnose import diagnose
    from .ingest import Located, parse_all
    from .model import conform

    tmp: Path | None = None
    reports = []
    frames = []
    # all the host's files go through one parse_all (so that a source that can, evtx, shares
    # fixed costs between files); ``slots`` keeps the report order: an archive's own report,
    # if any, before its members'
    slots: list = []
    try:
        for index, (path_text, display) in enumerate(job.files):
            path = Path(path_text)
            if is_archive(path):
                tmp = tmp or private_dir()
                dest = tmp / str(index)
                dest.mkdir()
                out = extract(path, dest, display, env_limits())
                try:
                    size = path.stat().st_size
                except OSError:
                    size = 0
                if out.fatal or out.notes or not out.members:
                    slots.append(_archive_report(display, job.host, size, out.notes, out.fatal, len(out.members)))
                items = [(m.path, m.display) for m in out.members]
            else:
                items = [(path, display)]
            slots.extend(Located(item_path, item_display, job.host) for item_path, item_display in items)
        results = iter(parse_all([slot for slot in slots if isinstance(slot, Located)]))
        for slot in slots:
            if not isinstance(slot, Located):
                reports.append(slot)
                continue
            parsed = next(results)
            reports.append(parsed.report)
            if parsed.events.height:
                frames.append(parsed.events)
    finally:
        if tmp is not None:
            remove_dir(tmp)
    events = pl.concat(frames, how="vertical") if frames else conform(None)
    events = normalise(events, reports, tz=job.tz)
    if events.height:
        events = events.sort(["host", "ts_utc", "file", "line", "record"], nulls_last=True, maintain_order=True)
    incidents, attempts = diagnose(events)
    return HostResult(host=job.host, files=reports, events=events, incidents=incidents, attempts=attempts)


def plan(located: Iterable, tz: str | None = None, lang: str = "en") -> list[HostJob]:
    """Group discovered files (``ingest.Located``) into one job per host, in order of first appearance."""
    by_host: dict[str, list[tuple[str, str]]] = {}
    for loc in located:
        by_host.setdefault(loc.host, []).append((str(loc.path), loc.display))
    return [HostJob(host=h, files=tuple(files), tz=tz, lang=lang) for h, files in by_host.items()]


def merge(results: list[HostResult], missing: list) -> tuple[list, Any, list, Any]:
    """Put per-host results back together in the canonical order (independent of completion order)."""
    import polars as pl

    from .model import conform

    files = list(missing)
    for r in results:
        files.extend(r.files)
    frames = [r.events for r in results if r.events is not None and r.events.height]
    events = pl.concat(frames, how="vertical") if frames else conform(None)
    if events.height:
        events = events.sort(["host", "ts_utc", "file", "line", "record"], nulls_last=True, maintain_order=True)
    incidents = sorted((i for r in results for i in r.incidents), key=lambda i: (i.host or "", i.file or "", i.attempt or 0))
    tables = [r.attempts for r in results if r.attempts is not None and r.attempts.height]
    if tables:
        attempts = pl.concat(tables, how="vertical").sort("host", "file", "attempt", maintain_order=True)
    else:
        from .diagnose import attempts as attempts_table

        attempts = attempts_table(conform(None))
    return files, events, incidents, attempts


# -- executors ----------------------------------------------------------------------------------
def _progress(total: int, enabled: bool | None):
    """A rich progress bar on stderr (only on a terminal), or None."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total <= 1:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("hosts"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)


def _worker_init(threads: int) -> None:
    # runs in a fresh spawned interpreter before anything imported polars there
    os.environ.setdefault("POLARS_MAX_THREADS", str(max(1, threads)))


def _run_serial(jobs: list[HostJob], fn: Callable, tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
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


def _run_pool(jobs: list[HostJob], fn: Callable, workers: int, tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = multiprocessing.get_context("spawn")
    limit = max(1, workers * IN_FLIGHT_PER_WORKER)
    with _spawnable_main(), ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                                initargs=(threads,)) as pool:
        finished = _bounded(jobs, limit, lambda job: pool.submit(fn, job),
                            lambda pending: wait(pending, return_when=FIRST_COMPLETED)[0])
        for index, fut in finished:
            yield index, fut.result()
            tick()


def _bounded(jobs: list, limit: int, submit: Callable[[Any], Any],
             wait_some: Callable[[dict], Any]) -> Iterator[tuple[int, Any]]:
    """Keep at most ``limit`` jobs in flight; yield (job index, handle) as handles finish.

    Bounding what is submitted is what bounds memory: a fleet of thousands of
    PCs never has more than ``limit`` hosts' logs loaded at once.
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


def _run_ray(jobs: list[HostJob], fn: Callable, workers: int, address: str | None,
             tick: Callable[[], None]) -> Iterator[tuple[int, Any]]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ExecutorUnavailable("--executor ray needs Ray: pip install 'analyzer[ray]'") from exc
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "include_dashboard": False, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        else:
            # a local Ray: make this checkout importable in its workers, whether installed or not
            root = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": path, "POLARS_MAX_THREADS": "1"}}
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


def run(jobs: list[HostJob], *, workers: int = 1, executor: str = "local", address: str | None = None,
        progress: bool | None = None, fn: Callable = analyze_host) -> list:
    """Run ``fn`` over every job; results come back in job order whatever the completion order."""
    if executor not in ("local", "ray"):
        raise ValueError(f"unknown executor {executor!r}: use local or ray")
    results: list = [None] * len(jobs)
    bar = _progress(len(jobs), progress)
    task = bar.add_task("hosts", total=len(jobs)) if bar else None

    def tick() -> None:
        if bar is not None:
            bar.advance(task)

    if executor == "ray":
        stream = _run_ray(jobs, fn, workers, address, tick)
    elif workers > 1 and len(jobs) > 1:
        stream = _run_pool(jobs, fn, min(workers, len(jobs)), tick)
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
