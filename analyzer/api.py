"""The library behind the CLI: ``analyze(paths)`` does everything ``analyze PATH...`` does.

Stages stay apart: ingest (sources) → clock (one UTC time base) → diagnose
(rules) → reports (render only). The :class:`Analysis` holds every stage's
output so any report, or a notebook, can use it without recomputing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from . import __version__
from .clock import normalise
from .diagnose import Incident, diagnose
from .ingest import discover, parse_all
from .model import FileReport, conform


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


def analyze(paths: list[Path | str], *, tz: str | None = None, layout: str = "auto", lang: str = "en") -> Analysis:
    """Read, correlate and diagnose the logs under ``paths``."""
    located, missing = discover([Path(p) for p in paths], layout=layout)
    parsed = parse_all(located)
    reports = missing + [p.report for p in parsed]
    frames = [p.events for p in parsed if p.events.height]
    events = pl.concat(frames, how="vertical") if frames else conform(None)
    events = normalise(events, reports, tz=tz)
    if events.height:
        events = events.sort(["host", "ts_utc", "file", "line", "record"], nulls_last=True)
    incidents, attempts = diagnose(events, lang=lang)
    hosts = sorted({loc.host for loc in located})
    return Analysis(files=reports, events=events, incidents=incidents, attempts=attempts, hosts=hosts)
