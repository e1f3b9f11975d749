"""One job's failure kept to that job: what :mod:`analyzer.parallel` runs around each job so that a
PC whose analysis dies (an exception, MemoryError, a time limit, a worker process that vanishes)
becomes that PC's failure with its reason, and every other PC's result is kept.

In the job's own process, :func:`guarded` turns an exception into a :class:`Failed` value (a
value travels back from a pool worker or Ray like any result) and bounds the job's time with
``SIGALRM`` when a limit is set: the alarm raises :class:`TimeLimit` at the next Python
instruction, so the job unwinds through its ``finally`` blocks (its unpacked archives are
removed) like any exception. A worker that dies outright (a native abort, the kernel's OOM
killer) cannot report anything: :mod:`analyzer.parallel` sees its pool break and finds the job
by running the suspects alone.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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


def guarded(fn: Callable[[Any], Any], job: Any, time_limit: float | None = None) -> Any:
    """``fn(job)``, or :class:`Failed` when it raises (KeyboardInterrupt and SystemExit go on:
    they stop the run, not the job) or outlasts ``time_limit`` seconds."""
    alarm = bool(time_limit) and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    previous = None
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
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
