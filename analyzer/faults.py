"""One job's failure kept to that job: what :mod:`analyzer.parallel` runs around each job so that a
PC whose analysis dies (an exception, MemoryError, a time limit, a worker process that vanishes)
becomes that PC's failure with its reason, and every other PC's result is kept.

In the job's own process, :func:`guarded` turns an exception into a :class:`Failed` value (a
value travels back from a pool worker or Ray like any result) and bounds the job's time with
``SIGALRM`` when a limit is set: the alarm raises :class:`TimeLimit` at the next Python
instruction, so the job unwinds through its ``finally`` blocks (its unpacked archives are
removed) like any exception. A native call that does not return holds the alarm off; in a worker
process (``hard``) a watchdog thread then ends the worker with :data:`EXIT_TIME_LIMIT` once the
limit and a grace period have passed. A worker that dies outright (a native abort, the kernel's
OOM killer, the watchdog) cannot report anything: :mod:`analyzer.parallel` sees its pool break
and finds the job by running the suspects alone; what the worker left in the temporary folder is
swept by the next run (:mod:`analyzer.leftovers`).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


#: The exit status of a worker its watchdog ended (as ``timeout(1)`` exits).
EXIT_TIME_LIMIT = 124


def grace(seconds: float) -> float:
    """How long past its limit a job may stay in native code before its worker is ended: long
    enough for a big but finite native call (a sort, a parse) to return and unwind cleanly."""
    return 2.0 + 0.25 * seconds


@dataclass(frozen=True)
class Failed:
    """A job that did not finish: why, in one line for a note."""

    reason: str


class TimeLimit(Exception):
    """The job ran past its time limit (raised by the alarm in the job's thread)."""

    def __init__(self, seconds: float):
        super().__init__(f"time limit of {seconds:g} s exceeded")


def describe(exc: BaseException) -> str:
    """An exception as one short line: its type, and its message when it has one."""
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def guarded(fn: Callable[[Any], Any], job: Any, time_limit: float | None = None, hard: bool = False) -> Any:
    """``fn(job)``, or :class:`Failed` when it raises (KeyboardInterrupt and SystemExit go on:
    they stop the run, not the job) or outlasts ``time_limit`` seconds. ``hard`` (only in a
    process that holds nothing but this job: a pool or Ray worker) adds the watchdog."""
    alarm = bool(time_limit) and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    previous = None
    watchdog = None
    if time_limit and hard:
        watchdog = threading.Timer(time_limit + grace(time_limit), os._exit, args=(EXIT_TIME_LIMIT,))
        watchdog.daemon = True
        watchdog.start()
    if alarm:
        def expire(signum: int, frame: object) -> None:
            raise TimeLimit(time_limit)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        return fn(job)
    except Exception as exc:  # noqa: BLE001 - MemoryError, a bug, the time limit: this job's failure only
        return Failed(describe(exc))
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
