"""The library behind the CLI: ``analyze(paths)`` does everything ``analyze PATH...`` does.

Stages stay apart: ingest (sources) → clock (one UTC time base) → diagnose
(rules) → reports (render only). The :class:`Analysis` holds every stage's
output so any report, or a notebook, can use it without recomputing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .version import __version__
from .diagnose import Incident
from .ingest import discover
from .model import FileReport


@dataclass
class Analysis:
    files: list[FileReport]
    events: pl.DataFrame
    incidents: list[Incident]
    attempts: pl.DataFrame
    hosts: list[str] = field(default_factory=list)
    version: str = __version__

    @property
    def recognised(self) -> list[FileReport]:
        return [f for f in self.files if f.format is not None]

    @property
    def partial(self) -> bool:
        """True when some input was not read in full (unrecognised, skipped or unreadable)."""
        return any(not f.complete for f in self.files)

    @functools.cached_property
    def fleet(self) -> dict:
        """The fleet summary (:func:`analyzer.fleet.summary`), computed once however many outputs use it."""
        from .fleet import summary

        return summary(self)


def analyze(paths: list[Path | str], *, tz: str | None = None, layout: str = "auto", lang: str = "en",
            jobs: int = 1, executor: str = "local", ray_address: str | None = None,
            progress: bool | None = None) -> Analysis:
    """Read, correlate and diagnose the logs under ``paths``.

    Each PC (host) is analysed on its own by :func:`analyzer.parallel.analyze_host`:
    ``jobs`` > 1 runs hosts in a spawn process pool, ``executor="ray"`` as Ray tasks
    (``ray_address`` for a cluster); the result is the same whichever runs it.
    """
    from .parallel import merge, plan, run

    located, missing = discover([Path(p) for p in paths], layout=layout)
    results = run(plan(located, tz=tz, lang=lang), workers=max(1, jobs), executor=executor,
                  address=ray_address, progress=progress)
    reports, events, incidents, attempts = merge(results, missing)
    hosts = sorted({loc.host for loc in located})
    return Analysis(files=reports, events=events, incidents=incidents, attempts=attempts, hosts=hosts)
