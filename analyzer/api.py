"""The library behind the CLI: ``analyze(paths)`` does everything ``analyze PATH...`` does.

:func:`analyze` runs :func:`analyzer.pipeline.run` (discover → expand
archives → parse → clock → diagnose → merge) with the executor the arguments
choose (:func:`analyzer.parallel.run`), and wraps the result in an
:class:`Analysis`. Reports render an Analysis and compute nothing new; the
fleet summary is computed from it on first use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from . import parallel, pipeline
from .diagnose import Incident
from .model import FileReport
from .version import __version__

__all__ = ["Analysis", "analyze"]


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

    Each PC (host) is analysed on its own by :func:`analyzer.pipeline.analyze_host`:
    ``jobs`` > 1 runs hosts in a spawn process pool, ``executor="ray"`` as Ray tasks
    (``ray_address`` for a cluster); the result is the same whichever runs it.
    A missing Ray raises :class:`~analyzer.parallel.ExecutorUnavailable`.
    """
    execute = functools.partial(parallel.run, workers=max(1, jobs), executor=executor, address=ray_address,
                                progress=progress, label="hosts", thread_env=pipeline.THREAD_ENV)
    result = pipeline.run([Path(p) for p in paths], tz=tz, layout=layout, lang=lang, limits=None,
                          execute=execute)
    return Analysis(files=result.files, events=result.events, incidents=result.incidents,
                    attempts=result.attempts, hosts=result.hosts)
