"""Which CPUs a PC's analysis runs on: one for a small PC, all of them for a big one.

Why: polars hands each call to its thread pool and waits for it. A small PC's analysis is
thousands of short calls, and when the process may use every core, each call wakes a pool thread
on another, idle core (a cross-CPU wake-up, costly on the virtual machines this runs on) and pays
for it again on the way back. Measured on a 2-core machine, the 66 sample PCs took 12.5 s of which
3 s system time, and 6.9 s with the process kept on one core; a 100k-line restore log 1.48 s
against 1.30 s. A big input is the other way round: its calls are long, split over both cores
and two chunks run at once (400k lines: 2.73 s on both cores, 3.11 s on one), so a job of at
least :data:`SMALL_JOB_BYTES` keeps every CPU.

Only processes analyzer owns are confined: its pool workers, each on its own CPU (worker ``i`` on
the ``i``-th CPU it may use, round robin), and the ``analyze`` command's own process. A program
that calls the library keeps its CPUs. Where the platform cannot set affinity (macOS, Windows),
nothing changes.
"""

from __future__ import annotations

import contextlib
import os

#: A job whose inputs are smaller than this runs on one CPU (see the module docstring; the
#: crossover measured on restore logs lies between 8 and 33 MB).
SMALL_JOB_BYTES = 16 << 20

_allowed: tuple[int, ...] | None = None  # the CPUs this process could use when first asked
_slot = 0  # which of them is this process's own


def supported() -> bool:
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def allowed() -> tuple[int, ...]:
    """The CPUs this process could use before analyzer confined it (read once)."""
    global _allowed
    if _allowed is None:
        _allowed = tuple(sorted(os.sched_getaffinity(0))) if supported() else ()
    return _allowed


def take_slot(slot: int) -> None:
    """Make this process the ``slot``-th worker: its one CPU is the ``slot``-th it may use (round robin)."""
    global _slot
    allowed()
    _slot = slot


def fit(small: bool) -> None:
    """Run on this process's own CPU if ``small``, else on every CPU it may use."""
    cpus = allowed()
    if len(cpus) < 2:
        return
    _set({cpus[_slot % len(cpus)]} if small else set(cpus))


def release() -> None:
    """Every CPU again (the state before :func:`fit`)."""
    fit(False)


def _set(cpus: set[int]) -> None:
    """The affinity of every thread of this process (a thread's own setting is per thread on
    Linux, and polars' pool threads exist once the first query has run)."""
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for thread in threads:
        with contextlib.suppress(OSError):  # a thread that has just ended
            os.sched_setaffinity(thread, cpus)
