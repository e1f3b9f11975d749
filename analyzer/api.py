"""The library behind the CLI: ``analyze(paths)`` does everything ``analyze PATH...`` does.

:func:`analyze` does two things. It checks every argument (and the zip limits
taken from the environment) before any file is read, normalising ``tz``, and
raises :class:`~analyzer.arguments.ArgumentError` (a ValueError) naming the
one it refuses. Then it runs :func:`analyzer.pipeline.run` (discover → expand
archives → parse → clock → diagnose → merge) with the executor the arguments
choose (:func:`analyzer.parallel.run`), and wraps the result in an
:class:`Analysis`. Reports render an Analysis and compute nothing new; the
fleet summary is computed from it on first use.
"""

from __future__ import annotations

import datetime as dt

import functools
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from . import parallel, pipeline
from .archives import Limits, env_limits
from .arguments import (AT_FORMS, DATE_FORMS, EXECUTORS, LAYOUTS, SYMPTOMS, TZ_FORMS, WINDOW_FORMS, ArgumentError,
                        one_of)
from .clock import parse_zone
from .correlate import TRANSITION_MATCH_S
from .diagnose import Incident
from .model import FileReport
from .spill import ORDER_KEYS, Tables
from .symptom import DEFAULT_WINDOW_S, Symptom, parse_at, parse_window
from .version import __version__

__all__ = ["Analysis", "ArgumentError", "analyze"]


@dataclass
class Analysis:
    """A run's result. ``events`` is the PCs' rows as one table; a run whose PCs came back from
    worker processes keeps their big tables as files until something reads ``events``
    (:class:`analyzer.spill.Tables`), and ``facts`` and ``host_backups`` (what those PCs computed
    beside their tables) let the JSON document and the fleet report do without them."""

    files: list[FileReport]
    events: pl.DataFrame
    incidents: list[Incident]
    attempts: pl.DataFrame
    hosts: list[str] = field(default_factory=list)
    version: str = __version__
    #: The fleet summary's facts of every PC (:func:`analyzer.fleet.host_facts`); None: from ``events``.
    facts: dict | None = None
    #: Every PC's backup history (:func:`analyzer.backups.backup_history`); None: from ``events``.
    host_backups: pl.DataFrame | None = None

    @property
    def event_count(self) -> int:
        """How many rows ``events`` holds, without reading tables still on disk."""
        held = self.__dict__["_events"]
        return held.rows if isinstance(held, Tables) else held.height

    def event_frames(self) -> Iterator[pl.DataFrame]:
        """``events`` as consecutive tables (one per PC while their tables are still files, else the
        one table): for an output that writes every row in pieces, without holding every PC's."""
        held = self.__dict__["_events"]
        if isinstance(held, Tables):
            yield from held.frames()
        else:
            yield held

    def rows_where(self, predicate: pl.Expr, host: str | None = None) -> pl.DataFrame:
        """The rows of ``events`` (of ``host``, if given) where ``predicate`` holds, without reading
        every PC's rows at once while their tables are still files
        (:meth:`analyzer.spill.Tables.rows_where`), nor every PC's for one PC's."""
        held = self.__dict__["_events"]
        if isinstance(held, Tables):
            return held.rows_where(predicate, host)
        return (held if host is None else _rows_of(held, self.__dict__, host)).filter(predicate)

    def timeline_pieces(self, attempts: pl.DataFrame, kinds: Iterable[str] | None = None,
                        columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
        """The rows the timelines of ``attempts`` (rows of :attr:`attempts`) may show, in pieces for a
        report to fold into what it shows (:mod:`analyzer.report.shown_rows`): ``events`` itself when
        it is one table, else the rows of each file the attempts' windows reach, one file at a time
        (:meth:`analyzer.spill.Tables.near_pieces`: only ``kinds``, progress and the attempts'
        connects and disconnects, in ``columns``)."""
        held = self.__dict__["_events"]
        if not isinstance(held, Tables):
            yield held if columns is None else held.select(list(dict.fromkeys([*ORDER_KEYS, *columns])))
            return
        yield from held.near_pieces(attempts, kinds, columns, margin=dt.timedelta(seconds=TRANSITION_MATCH_S))

    @property
    def recognised(self) -> list[FileReport]:
        return [f for f in self.files if f.format is not None]

    @property
    def partial(self) -> bool:
        """True when some input was not read in full (unrecognised, skipped or unreadable)."""
        return any(not f.complete for f in self.files)

    @functools.cached_property
    def backups(self) -> pl.DataFrame:
        """Each device's backup history (:func:`analyzer.backups.backup_history`), computed once
        (or as the PCs computed it, ``host_backups``)."""
        from .backups import backup_history

        if self.host_backups is not None:
            return self.host_backups
        return backup_history(self.events, self.attempts)

    @functools.cached_property
    def fleet(self) -> dict:
        """The fleet summary (:func:`analyzer.fleet.summary`), computed once however many outputs use it."""
        from .fleet import summary

        return summary(self)


def _read_events(self: Analysis) -> pl.DataFrame:
    held = self.__dict__["_events"]
    if isinstance(held, Tables):  # the PCs' tables still files: read them now, once
        held = self.__dict__["_events"] = held.load()
    return held


def _hold_events(self: Analysis, value: pl.DataFrame | Tables) -> None:
    self.__dict__["_events"] = value
    self.__dict__.pop("_host_runs", None)


def _rows_of(events: pl.DataFrame, held: dict, host: str) -> pl.DataFrame:
    """``host``'s rows of the one event table: a slice, where the table holds them in one run (it is
    in the run's order, by PC first); the runs are found once and kept in ``held``. Filtering the
    whole table for each PC a report showed cost a fleet of 500 PCs' ``--details`` 37 s."""
    runs = held.get("_host_runs")
    if runs is None:
        found = events.select(pl.col("host").rle()).unnest("host")
        ends = found.get_column("len").cum_sum().to_list()
        runs = {}
        for name, start, end in zip(found.get_column("value").to_list(), [0, *ends[:-1]], ends):
            runs[name] = None if name in runs else (start, end - start)  # (None: in several runs)
        held["_host_runs"] = runs
    where = runs.get(host, (0, 0))
    return events.filter(pl.col("host") == host) if where is None else events.slice(*where)


# ``events`` read through a property (set by the dataclass's __init__, read by everyone as a table)
Analysis.events = property(_read_events, _hold_events, doc="The PCs' rows as one event table.")


def analyze(paths: list[Path | str], *, tz: str | None = None, date: str | dt.date | None = None, layout: str = "auto",
            jobs: int = 1, executor: str = "local", ray_address: str | None = None,
            progress: bool | None = None, symptom: str | None = None, at: str | dt.datetime | None = None,
            window: str | int | None = None, host_timeout: float | None = None,
            tz_force: bool = False, contain_crashes: bool = False) -> Analysis:
    """Read, correlate and diagnose the logs under ``paths``.

    Arguments are checked first, before any file is read; a bad one raises
    :class:`~analyzer.arguments.ArgumentError` (a ValueError) naming it and what
    it accepts: ``tz`` (IANA name, UTC or an offset like ``+09:30``/``-0530``; a file whose own clock
    proves another offset keeps it, with a note, unless ``tz_force``), ``date``
    (``YYYY-MM-DD``: the day of a log that gives times of day only),
    ``layout``, ``executor`` (local or ray), ``jobs`` (1 or more),
    ``ray_address`` (only with ``executor="ray"``), and the environment's zip
    limits (``ANALYZER_ZIP_MAX_BYTES``, ``ANALYZER_ZIP_MAX_RATIO``).

    ``symptom`` (restore, update, backup or icloud) opens a *reported* incident on every PC, for a
    failure that left no failure line (an iCloud error in Settings): at ``at`` (a datetime, or text
    like ``2026-03-14 09:30``: the PC's local time unless it carries a zone), ± ``window`` (``10m``,
    ``90s``, ``1h`` or minutes; 10 minutes by default); without ``at``, over the PC's whole evidence.
    ``at`` and ``window`` need ``symptom``.

    Each PC (host) is then analysed on its own by :func:`analyzer.pipeline.analyze_host`:
    ``jobs`` > 1 runs hosts in a spawn process pool, ``executor="ray"`` as Ray tasks
    (``ray_address`` for a cluster); the result is the same whichever runs it.
    A missing Ray raises :class:`~analyzer.parallel.ExecutorUnavailable`.

    A PC whose analysis dies (an exception, MemoryError, its pool or Ray worker killed) or runs
    longer than ``host_timeout`` seconds (default: ``$ANALYZER_HOST_TIMEOUT``, else no limit) is
    reported as that PC's failure: its files are listed as not read, with the reason, and the
    other PCs' results are kept (:mod:`analyzer.faults`). A native crash (an abort in a compiled
    library) can only be survived in another process: ``contain_crashes`` analyses several PCs in a
    worker process also with ``jobs=1``, as ``analyze`` on the command line does. Like ``jobs`` > 1,
    it needs the calling script to guard its top level with ``if __name__ == "__main__":``.
    """
    zone, limits = _checked(tz=tz, layout=layout, jobs=jobs, executor=executor, ray_address=ray_address)
    day = _checked_date(date)
    reported = _checked_symptom(symptom, at, window)
    limit = _checked_host_timeout(host_timeout)
    execute = functools.partial(parallel.run, workers=jobs, executor=executor, address=ray_address,
                                progress=progress, label="hosts", thread_env=pipeline.THREAD_ENV,
                                time_limit=limit, contain=contain_crashes, small=pipeline.small_job)
    result = pipeline.run([Path(p) for p in paths], tz=zone, date=day, layout=layout, limits=limits,
                          execute=execute, symptom=reported, tz_force=tz_force, spill=executor == "local")
    return Analysis(files=result.files, events=result.events, incidents=result.incidents,
                    attempts=result.attempts, hosts=result.hosts, facts=result.facts, host_backups=result.backups)


def _checked_symptom(symptom: str | None, at: str | dt.datetime | None,
                     window: str | int | None) -> Symptom | None:
    """The reported symptom, once ``symptom``, ``at`` and ``window`` are accepted."""
    if symptom is None:
        for name, value in (("at", at), ("window", window)):
            if value is not None:
                raise ArgumentError(name, value, needs=("symptom", "|".join(SYMPTOMS)))
        return None
    if symptom not in SYMPTOMS:
        raise ArgumentError("symptom", symptom, one_of(SYMPTOMS))
    when = at
    if isinstance(at, str):
        try:
            when = parse_at(at)
        except ValueError:
            raise ArgumentError("at", at, AT_FORMS) from None
    elif at is not None and not isinstance(at, dt.datetime):
        raise ArgumentError("at", at, AT_FORMS)
    seconds = DEFAULT_WINDOW_S
    if window is not None:
        try:
            seconds = parse_window(window)
        except (ValueError, TypeError):
            raise ArgumentError("window", window, WINDOW_FORMS) from None
    return Symptom(symptom, when, seconds)


def _checked_date(date: str | dt.date | None) -> dt.date | None:
    """``date`` as a day (it places logs that give times of day only: a pasted restore-log tail)."""
    if date is None or (isinstance(date, dt.date) and not isinstance(date, dt.datetime)):
        return date
    try:
        return dt.date.fromisoformat(date) if isinstance(date, str) and len(date) == 10 else None
    except ValueError:
        pass
    raise ArgumentError("date", date, DATE_FORMS)


HOST_TIMEOUT_ENV = "ANALYZER_HOST_TIMEOUT"


def _checked_host_timeout(value: float | None) -> float | None:
    """The per-PC time limit in seconds (None: none): ``value``, else the environment's."""
    name = "host_timeout"
    if value is None:
        text = os.environ.get(HOST_TIMEOUT_ENV, "").strip()
        if not text:
            return None
        name, value = HOST_TIMEOUT_ENV, text
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise ArgumentError(name, value, "a number of seconds above 0")
    return seconds


def _checked(*, tz: str | None, layout: str, jobs: int, executor: str,
             ray_address: str | None) -> tuple[str | None, Limits]:
    """The normalised zone and the zip limits, once every argument has been accepted."""
    for name, value, choices in (("layout", layout, LAYOUTS), ("executor", executor, EXECUTORS)):
        if value not in choices:
            raise ArgumentError(name, value, one_of(choices))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ArgumentError("jobs", jobs, "a whole number, 1 or more")
    if ray_address and executor != "ray":
        raise ArgumentError("ray_address", ray_address, needs=("executor", "ray"))
    zone = None
    if tz is not None:
        try:
            zone = parse_zone(tz) if isinstance(tz, str) else None
        except ValueError:
            pass
        if zone is None:
            raise ArgumentError("tz", tz, TZ_FORMS)
    return zone, env_limits()
