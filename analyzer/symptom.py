"""An incident the user reports rather than a log line: ``--symptom icloud --at "2026-03-14 09:30"``.

iCloud errors happen in Settings or in iCloud for Windows and a backup can die without a
"failed" line on the PC, yet the PC's evidence around that minute (a DNS failure, a TLS alert, a
Wi-Fi drop, a Defender block) still says why. A :class:`Symptom` opens one *reported* attempt per
PC at that time, and the diagnosis treats it exactly as a logged failure: the same evidence
window, the same rules, the same verdict, marked ``reported`` in every output.

Placing the time: a time with a zone (``Z``, ``+09:00``) is that instant; a time without one is the
PC's local time, read in ``--tz`` when given, else in the zone another file of the same PC
established (a restore-log header, a measured or aligned zone), else in this machine's zone (said,
as a guess). With no time the whole evidence span of the PC is the window, and the incident says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from .clock import machine_zone
from .model import FileReport

#: How far either side of ``--at`` the evidence counts unless ``--window`` says otherwise.
DEFAULT_WINDOW_S = 600
MAX_WINDOW_S = 7 * 24 * 3600
#: Zone decisions of another file that are good enough to read the user's local time in.
_TRUSTED = ("written_offset", "tz_option", "restore_header", "measured", "aligned", "learnt", "date_aligned")
#: The attempt number of a reported incident (logged attempts count from 1).
REPORTED_ATTEMPT = 0


@dataclass(frozen=True)
class Symptom:
    """What the user says failed, and when. ``at`` is aware when the text gave a zone, naive when it
    is the PC's local time, None for "some time in the evidence"."""

    operation: str
    at: dt.datetime | None = None
    window_s: int = DEFAULT_WINDOW_S


def parse_at(text: str) -> dt.datetime:
    """``2026-03-14 09:30``, ``2026-03-14T09:30:15``, ``…Z``, ``…+09:00``: a day and a time of day, with
    or without a zone. Raises ValueError for anything else (a day alone is not a time)."""
    value = text.strip()
    if len(value) < 16 or value[10] not in "T ":
        raise ValueError(text)
    return dt.datetime.fromisoformat(value)


def parse_window(value: str | int) -> int:
    """``10m``, ``90s``, ``1h`` or a number of minutes, in seconds; raises ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        seconds = value * 60
    else:
        text = value.strip().lower()
        unit = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], None)
        number = text[:-1] if unit else text
        seconds = int(float(number) * (unit or 60)) if number.replace(".", "", 1).isdigit() else -1
    if not 0 < seconds <= MAX_WINDOW_S:
        raise ValueError(value)
    return seconds


def _local_zone(host: str, reports: list[FileReport], tz: str | None) -> tuple[str, str, str | None]:
    """(zone, how it was chosen, the file that established it) for reading a local ``--at``."""
    if tz:
        return tz, "tz_option", None
    for report in reports:
        clock = report.clock or {}
        if report.host == host and clock.get("local_zone") and clock.get("local_zone_method") in _TRUSTED:
            return clock["local_zone"], "learnt", report.path
    return machine_zone(), "assumed", None


def _instant(wall: dt.datetime, zone: str) -> dt.datetime:
    """``wall`` read in ``zone``, normalised as every zone here is (``+09:30`` or an IANA name)."""
    if zone[:1] in "+-":
        sign = 1 if zone[0] == "+" else -1
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) * sign
        return wall.replace(tzinfo=dt.timezone(offset)).astimezone(dt.timezone.utc)
    return wall.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.timezone.utc)


def placement(symptom: Symptom, host: str, events: pl.DataFrame, reports: list[FileReport],
              tz: str | None) -> dict[str, Any]:
    """Where the reported incident sits on the UTC clock: ``at`` (UTC), ``start``/``end`` of its window,
    ``placed`` (written_zone, tz_option, learnt, assumed or evidence_span), the ``zone`` used and,
    when learnt, the file it came from. Times are None when the PC's evidence has none."""
    out: dict[str, Any] = {"window_s": symptom.window_s, "given": None}
    if symptom.at is None:
        times = events.filter(pl.col("host") == host).get_column("ts_utc").drop_nulls() if events.height else None
        start, end = (times.min(), times.max()) if times is not None and len(times) else (None, None)
        out.update(placed="evidence_span", at=end, start=start, end=end, zone=None)
        return out
    out["given"] = symptom.at.isoformat()
    if symptom.at.tzinfo is not None:
        at = symptom.at.astimezone(dt.timezone.utc)
        out.update(placed="written_zone", zone=None)
    else:
        zone, how, source = _local_zone(host, reports, tz)
        at = _instant(symptom.at, zone)
        out.update(placed=how, zone=zone, **({"zone_from": source} if source else {}))
    window = dt.timedelta(seconds=symptom.window_s)
    out.update(at=at, start=at - window, end=at + window)
    return out


def reported_attempt(symptom: Symptom, host: str, place: dict[str, Any]) -> dict[str, Any]:
    """The reported incident as a row of :func:`analyzer.correlate.attempts` (no file: no log line
    says it failed)."""
    return {"host": host, "file": None, "attempt": REPORTED_ATTEMPT, "started_at": place["start"],
            "ended_at": place["end"], "failed_at": place["at"], "error_code": None, "outcome": "failed",
            "window_start": place["start"], "window_end": place["end"], "failed_line": None, "failed_wall": None,
            "operation": symptom.operation, "reported": True}
