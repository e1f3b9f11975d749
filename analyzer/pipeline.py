"""One run from paths to results, top to bottom: the stages and the order they run in.

::

    discover         discover.discover: paths → files, each with the PC (host) it belongs to;
                     a path that does not exist becomes a file report
    plan             one HostJob per host, in order of first appearance
    per host, run by the executor it is given (analyzer.parallel), in any order, anywhere:
      expand         archives.extract: a .zip's members into a private temporary folder
      parse          ingest.parse_all: every file sniffed and read by its source
      clock          clock.normalise: every event on UTC, each file's decision in its report
      diagnose       diagnose.diagnose: attempts, and a verdict per failed attempt (and per
                     reported symptom, placed on the PC's clock by analyzer.symptom)
    merge            the hosts' results back in one canonical order

Nothing in a host's run depends on another host (zones are learnt per host,
evidence windows join on the host), so the executor may run hosts in any
order, in any process, on any machine that sees the same paths; :func:`merge`
restores the order, so ``--jobs 1``, ``--jobs N`` and Ray give the same
document. The fleet summary is computed from the merged result when a report
asks for it (:attr:`analyzer.api.Analysis.fleet`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import signal
import time

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import polars as pl

from . import parts, stopping
from .backups import backup_history, history_order
from .compressed import compression, decompress
from .archives import Limits, env_limits, extract, is_archive, private_dir, remove_dir, sweep_dead
from .clock import normalise
from .correlate import attempts as attempts_table
from .cpus import SMALL_JOB_BYTES
from .diagnose import Incident, diagnose
from .discover import Located, discover
from .faults import describe
from .fleet import host_facts
from .frames import in_order
from .ingest import parse_all
from .sources import Segments
from .spill import PartedEvents, SpilledEvents, Tables, release, rows as _rows, run_folder, spilled
from .model import FileReport, Note, conform
from .symptom import Symptom, placement, reported_attempt
from .triage import pc_files

#: Environment variables that size polars' thread pool: an executor sets them in each worker to
#: that worker's share of the CPUs, so N workers do not each start a thread per CPU.
THREAD_ENV = ("POLARS_MAX_THREADS",)

#: The canonical event order (within a host and across the merged fleet).
EVENT_ORDER = ["host", "ts_utc", "file", "line", "record"]


@dataclass(frozen=True)
class HostJob:
    """One PC's inputs: files (or archives) as (path, display) pairs, plus the run options.

    ``limits`` bounds what an archive may unpack (:func:`analyzer.api.analyze` passes the
    limits it checked); None reads them from the environment where the job runs.
    """

    host: str
    files: tuple[tuple[str, str], ...]
    tz: str | None = None
    #: Use ``tz`` even for a file whose own clock proves another offset (``--tz-force``).
    tz_force: bool = False
    limits: Limits | None = None
    #: The day of the restore, for logs that give times of day only (``--date``).
    date: dt.date | None = None
    #: What the user reports failed, and when (``--symptom``/``--at``): one reported incident.
    symptom: Symptom | None = None
    #: The run's folder for a big event table going back to the run from a worker process
    #: (:mod:`analyzer.spill`); None keeps every table in the result's pickle.
    spill: str | None = None
    #: Analyse the PC in parts, its rows in ``spill`` (:mod:`analyzer.parts`): its evidence is big.
    parts: bool = False


@dataclass
class HostResult:
    """One PC's file reports, events (in the canonical order), incidents and attempts."""

    host: str
    files: list[FileReport] = field(default_factory=list)
    events: pl.DataFrame | None = None
    incidents: list[Incident] = field(default_factory=list)
    attempts: pl.DataFrame | None = None
    #: What the reports need of the PC's rows without reading them (:func:`analyzer.fleet.host_facts`)
    #: and its backups (:func:`analyzer.backups.backup_history`), so a spilled table can stay a file.
    facts: dict | None = None
    backups: pl.DataFrame | None = None
    #: Where a pickled copy puts a big event table (:mod:`analyzer.spill`; the job's ``spill``).
    spill: str | None = None

    def __getstate__(self) -> dict:
        # pickled only to cross a process boundary: a big table goes as a file, the pickle names it
        # (and the file stays one until the run's rows are asked for: analyzer.spill.Tables)
        return {**self.__dict__, "events": spilled(self.events, self.spill)}


class Result(NamedTuple):
    """A whole run, merged: what :class:`analyzer.api.Analysis` holds. ``events`` is the table, or
    the PCs' tables still files (:class:`analyzer.spill.Tables`); ``facts`` and ``backups`` what the
    PCs computed beside their tables (None where a PC could not)."""

    files: list[FileReport]
    events: pl.DataFrame | Tables
    incidents: list[Incident]
    attempts: pl.DataFrame
    hosts: list[str]
    facts: dict | None = None
    backups: pl.DataFrame | None = None


class Execute(Protocol):
    """An executor: runs ``fn`` over every job and returns the results in job order
    (:func:`analyzer.parallel.run` with its settings bound)."""

    def __call__(self, jobs: list[HostJob], *, fn: Callable[[HostJob], HostResult],
                 on_failure: Callable[[HostJob, str], HostResult]) -> list[HostResult]: ...


def run(paths: list[Path], *, tz: str | None, layout: str, limits: Limits | None,
        execute: Execute, date: dt.date | None = None, symptom: Symptom | None = None,
        tz_force: bool = False, spill: bool = False) -> Result:
    """The whole pipeline over ``paths``. Arguments are taken as valid (``tz`` normalised):
    :func:`analyzer.api.analyze` checks them before calling this. ``spill``: PCs may be analysed
    in worker processes on this machine, so their big tables can come back as files
    (:mod:`analyzer.spill`)."""
    located, missing = discover(paths, layout=layout)
    jobs = plan(located, tz=tz, limits=limits, date=date, symptom=symptom, tz_force=tz_force)
    big = [parts.big([Path(path) for path, _ in job.files]) for job in jobs]
    folder = run_folder(optional=True) if spill and (len(jobs) > 1 or any(big)) else None
    try:
        if folder is not None:
            jobs = [dataclasses.replace(job, spill=str(folder), parts=b) for job, b in zip(jobs, big)]
        results = execute(jobs, fn=analyze_host, on_failure=host_failed)
    except BaseException:
        release(folder)
        raise
    files, events, incidents, attempts = merge(results, missing, folder)
    return Result(files, events, incidents, attempts, hosts=sorted({loc.host for loc in located}),
                  facts=_facts(results), backups=_backups(results))


def small_job(job: HostJob) -> bool:
    """Whether a PC's inputs are small enough to be analysed faster on one CPU (:mod:`analyzer.cpus`)."""
    return sum(_size(Path(path)) for path, _ in job.files) < SMALL_JOB_BYTES


def plan(located: Iterable[Located], tz: str | None = None, limits: Limits | None = None,
         date: dt.date | None = None, symptom: Symptom | None = None, tz_force: bool = False) -> list[HostJob]:
    """Group discovered files into one job per host, in order of first appearance."""
    by_host: dict[str, list[tuple[str, str]]] = {}
    for loc in located:
        by_host.setdefault(loc.host, []).append((str(loc.path), loc.display))
    return [HostJob(host=h, files=tuple(files), tz=tz, tz_force=tz_force, limits=limits, date=date, symptom=symptom)
            for h, files in by_host.items()]


# -- one host ------------------------------------------------------------------------------------
#: Tests only: ``host:exit`` ends the process analysing ``host`` on the spot (as a native abort
#: does), ``host:memory`` raises MemoryError there, ``host:hang`` never finishes (a time limit's
#: case). Read where the host is analysed, so a pool worker or Ray task honours it too.
TEST_FAULT_ENV = "ANALYZER_TEST_FAULT"


def _test_fault(host: str) -> None:
    target, _, kind = os.environ.get(TEST_FAULT_ENV, "").rpartition(":")
    if not target or target != host:
        return
    if kind == "exit":
        os._exit(134)
    if kind == "memory":
        raise MemoryError("test fault")
    if kind == "hang":
        while True:
            time.sleep(0.05)
    if kind == "native-hang":  # as a native call that never returns: the alarm cannot interrupt it
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            time.sleep(0.05)


def host_failed(job: HostJob, reason: str) -> HostResult:
    """A PC whose analysis died (:mod:`analyzer.faults`): each of its files reported as not read,
    with the reason, so the run is partial and the other PCs' results stand."""
    sweep_dead()  # a worker that died outright left what it unpacked
    files = [FileReport(path=display, format=None, size=_size(Path(path)), host=job.host, skipped=1,
                        not_read="parser_failed", errors=[Note(display, "host_failed", {"host": job.host, "reason": reason})])
             for path, display in job.files]
    return HostResult(host=job.host, files=files, events=conform(None), attempts=None)


def analyze_host(job: HostJob) -> HostResult:
    """Read, correlate and diagnose one PC. Pure: the result depends only on ``job`` and the files."""
    _test_fault(job.host)
    # stopped (SIGTERM/SIGHUP) while it runs, in this process or a pool worker: unwind, so that
    # the unpacked archives are removed
    with stopping.during(), _Scratch() as scratch:
        slots = _expand(job, scratch)
        unwritable = None
        if job.parts and job.spill:
            try:
                return _analyze_in_parts(job, slots)
            except OSError as exc:  # the folder is full or gone: the rows stay in memory, as for a small PC
                unwritable = exc
        reports, frames = _parse(slots)
    if unwritable is not None and reports:
        reports[0].errors.append(Note(reports[0].path, "parts_unwritable", {"error": describe(unwritable)}))
    return _analyze_whole(job, frames, reports)


def _analyze_whole(job: HostJob, frames: list[pl.DataFrame], reports: list[FileReport]) -> HostResult:
    """The PC's rows (``frames``, emptied here), held as one table: on the UTC clock, in order, diagnosed."""
    events = pl.concat(frames, how="vertical") if frames else conform(None)
    frames.clear()  # the PC's events are then held by ``events`` alone, which is sorted in place
    events = normalise(events, reports, tz=job.tz, date=job.date, tz_force=job.tz_force)
    _sort_in_place(events)
    reported = None
    if job.symptom is not None:
        place = placement(job.symptom, job.host, events, reports, job.tz)
        reported = [{**reported_attempt(job.symptom, job.host, place), "placement": place}]
    incidents, attempts = diagnose(events, reported=reported)
    # what the reports need of the rows, computed here when the table may stay a file (analyzer.spill)
    facts, backups = (host_facts(events), backup_history(events, attempts)) if job.spill else (None, None)
    return HostResult(host=job.host, files=reports, events=events, incidents=incidents, attempts=attempts,
                      facts=facts, backups=backups, spill=job.spill)


def _analyze_in_parts(job: HostJob, slots: list[Located | FileReport]) -> HostResult:
    """:func:`analyze_host` for a PC with big evidence: its rows in parts on disk (:mod:`analyzer.parts`)."""
    parse = functools.partial(_parse, segments=True)  # (a big restore log's rows a segment at a time)
    reports, outcome = parts.analyze(slots, parse, job.spill, tz=job.tz, date=job.date, tz_force=job.tz_force,
                                     order=_sort_in_place)
    if outcome is None:  # no file gave rows
        return _analyze_whole(job, [], reports)
    reported = None
    if job.symptom is not None:
        place = placement(job.symptom, job.host, outcome.span, reports, job.tz)
        reported = [{**reported_attempt(job.symptom, job.host, place), "placement": place}]
    incidents, attempts = diagnose(outcome.table, reported=reported, formats={job.host: outcome.formats},
                                   windows=lambda failed, need, first: parts.windows(outcome, failed, _sort_in_place, need, first))
    facts, backups = parts.facts(outcome, attempts)
    return HostResult(host=job.host, files=reports, events=outcome.events, incidents=incidents, attempts=attempts,
                      facts=facts, backups=backups, spill=job.spill)


class _Scratch:
    """A private temporary folder for unpacked archive members: made on first use, removed on exit."""

    def __init__(self) -> None:
        self.root: Path | None = None

    def folder(self, name: str) -> Path:
        self.root = self.root or private_dir()
        path = self.root / name
        path.mkdir()
        return path

    def __enter__(self) -> _Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.root is not None:
            remove_dir(self.root)


def _expand(job: HostJob, scratch: _Scratch) -> list[Located | FileReport]:
    """The host's files to parse, archives replaced by their members. An archive that is refused,
    has refusals or holds nothing gets a report of its own, placed before its members'."""
    slots: list[Located | FileReport] = []
    for index, (path_text, display) in enumerate(job.files):
        path = Path(path_text)
        if not is_archive(path):
            slots.extend(_plain_or_expanded(path, display, job, scratch, index))
            continue
        dest = scratch.folder(str(index))
        out = extract(path, dest, display, job.limits or env_limits())
        if out.fatal or out.notes or not out.members:
            slots.append(_archive_report(display, job.host, _size(path), out.notes, out.fatal, len(out.members)))
        for k, m in enumerate(_pc_members(out.members, dest)):  # a rotated .gz inside a zip too
            slots.extend(_plain_or_expanded(m.path, m.display, job, scratch, f"{index}-{k}"))
    return slots


def _plain_or_expanded(path: Path, display: str, job: HostJob, scratch: _Scratch, index: int | str) -> list:
    """The file itself, or, when it is a compressed log (gzip, bzip2, xz: :mod:`analyzer.compressed`),
    what it expands to, with a report of its own when the stream was damaged or refused."""
    if compression(path) is None:
        return [Located(path, display, job.host)]
    member, notes = decompress(path, scratch.folder(f"{index}z"), display, job.limits or env_limits())
    out: list = []
    if notes or member is None:
        out.append(FileReport(path=display, format=None if member is None else compression(path), size=_size(path),
                              host=job.host, errors=notes, skipped=len(notes),
                              not_read="unreadable" if member is None else None))
    if member is not None:
        out.append(Located(member.path, member.display, job.host))
    return out


def _pc_members(members: list, dest: Path) -> list:
    """An archive that holds a whole PC (an ``analyze collect`` bundle, a zipped triage copy) is read
    like that PC's folder: the location table's places only (:mod:`analyzer.triage`), not its manifest."""
    keep = pc_files(dest) if members else None
    if keep is None:
        return members
    wanted = {p.resolve() for p in keep}
    return [m for m in members if Path(m.path).resolve() in wanted]


def _parse(slots: list[Located | FileReport], segments: bool = False) -> tuple[list[FileReport], list]:
    """Every file report in slot order, and the non-empty event frames (``segments``: a restore log's as
    :class:`Segments`). All the host's files go through one parse_all, so evtx shares fixed costs."""
    results = iter(parse_all([slot for slot in slots if isinstance(slot, Located)], segments=segments))
    reports: list[FileReport] = []
    frames: list[pl.DataFrame] = []
    for slot in slots:
        if not isinstance(slot, Located):
            reports.append(slot)
            continue
        for parsed in next(results):  # one part, or one per log region of the file
            reports.append(parsed.report)
            if isinstance(parsed.events, Segments) or parsed.events.height:
                frames.append(parsed.events)
    return reports, frames


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _archive_report(display: str, host: str, size: int, notes: list[Note], fatal: Note | None,
                    members: int) -> FileReport:
    errors = list(notes)
    if fatal:
        errors.insert(0, fatal)
    elif not members and not notes:
        errors.append(Note(display, "archive_empty", severity="warning"))
    not_read = "unreadable" if fatal else ("empty" if not members else None)
    return FileReport(path=display, format=None if fatal or not members else "zip", size=size, host=host,
                      errors=errors, skipped=len(notes) + (1 if fatal else 0), not_read=not_read)


def _in_order(events: pl.DataFrame) -> pl.DataFrame:
    """The events in EVENT_ORDER. The order is found on the key columns alone, and a frame that is
    already in it (one log, or a PC whose files do not overlap in time) is returned as it is:
    reordering gathers every column, a second copy of the PC's events."""
    if in_order(events, EVENT_ORDER):
        return events
    out = events.clone()  # (shares the columns)
    _reorder(out)
    return out


def _sort_in_place(events: pl.DataFrame) -> None:
    """Put ``events`` in EVENT_ORDER by replacing its columns one at a time, so that a frame nobody
    else holds is never held twice: each old column is let go as its reordered copy comes in (on
    an 800k-line log a whole-frame gather cost 145 MB more). A column that holds one value (or
    none: a restore log's rows leave a dozen empty) is the same in any order and is left as it is."""
    if not in_order(events, EVENT_ORDER):
        _reorder(events)


def _reorder(events: pl.DataFrame) -> None:
    """:func:`_sort_in_place` on a frame known to be out of order."""
    same = dict(zip(events.columns, events.select(pl.all().eq_missing(pl.all().first()).all()).row(0)))
    keys = [key for key in EVENT_ORDER if not same[key]]  # (a sort encodes its keys' rows first)
    order = events.select(pl.arg_sort_by(keys, nulls_last=True, maintain_order=True)).to_series()
    for index, (name, one) in enumerate(same.items()):
        if not one:
            column = events.get_column(name)
            if column.dtype in (pl.String, pl.Binary) and column.n_chunks() > 1:
                # a text column of several pieces (a PC's files) is gathered by copying every text;
                # made one piece first (which only joins the pieces' views), it is gathered without
                # (540 event logs: 123 MB less at the run's peak)
                column = column.rechunk()
            events.replace_column(index, column.gather(order))


# -- all hosts -----------------------------------------------------------------------------------
def merge(results: list[HostResult], missing: list[FileReport], folder: Path | None = None
          ) -> tuple[list[FileReport], pl.DataFrame | Tables, list[Incident], pl.DataFrame]:
    """Put per-host results back together in the canonical order (independent of completion order).
    Tables that came back as files (:mod:`analyzer.spill`, in ``folder``) stay files, with the
    others, until rows are asked for; without any, ``folder`` is removed and the table is one."""
    files = list(missing)
    for r in results:
        files.extend(r.files)
    parts = [(r.host, r.events) for r in results if r.events is not None and _rows(r.events)]
    if any(isinstance(p, (SpilledEvents, PartedEvents)) for _, p in parts):
        events: pl.DataFrame | Tables = Tables(parts, folder, _in_order)
    else:
        release(folder)
        events = _in_order(pl.concat([p for _, p in parts], how="vertical") if parts else conform(None))
    incidents = sorted((i for r in results for i in r.incidents),
                       key=lambda i: (i.host or "", i.reported, i.file or "", i.attempt or 0))
    tables = [r.attempts for r in results if r.attempts is not None and r.attempts.height]
    if tables:
        attempts = pl.concat(tables, how="vertical").sort("host", "file", "attempt", nulls_last=True, maintain_order=True)
    else:
        attempts = attempts_table(conform(None))
    return files, events, incidents, attempts


def _beside(results: list[HostResult], name: str) -> list | None:
    """What every PC computed beside its table (``facts`` or ``backups``), or None if a PC with
    rows did not (a PC whose analysis failed has no rows, and so none to miss)."""
    out = []
    for r in results:
        value = getattr(r, name)
        if value is None:
            if r.events is not None and _rows(r.events):
                return None
            continue
        out.append(value)
    return out


def _facts(results: list[HostResult]) -> dict | None:
    """The PCs' facts (:func:`analyzer.fleet.host_facts`, keyed by host) as one."""
    facts = _beside(results, "facts")
    if facts is None:
        return None
    return {key: {host: v for f in facts for host, v in f[key].items()} for key in ("computers", "factors")}


def _backups(results: list[HostResult]) -> pl.DataFrame | None:
    """The PCs' backup histories as one, in backup_history's order."""
    tables = _beside(results, "backups")
    if tables is None:
        return None
    return history_order(pl.concat(tables, how="vertical") if tables else None)
