"""Putting every event on one UTC clock, and saying per file how.

Sources record the wall time as written (``ts_wall``) and which clock wrote it.
This stage decides each file's offset to UTC:

* ``utc`` clocks stay as they are;
* ``bracket`` clocks (MobileRestore body lines) are UTC when the file's header
  and brackets disagree by whole hours (the source measured that and put it in
  ``report.clock["bracket_minus_header_hours"]``); the header is then local
  time at minus that offset, a zone learnt from the file itself;
* ``local`` clocks use ``--tz`` when given; otherwise a zone learnt from a
  restore log of the same host; otherwise the zone of the machine running
  analyzer, with a warning in the report, because that guess is often wrong
  for logs copied from another PC.

The offset used and how it was found are written into every file's report.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from .model import FileReport, Note


def machine_zone() -> str:
    """The IANA name of this machine's zone when it can be found, else a fixed offset like '+09:00'."""
    env = os.environ.get("TZ")
    if env:
        try:
            ZoneInfo(env.lstrip(":"))
            return env.lstrip(":")
        except (ZoneInfoNotFoundError, ValueError):
            pass
    link = Path("/etc/localtime")
    if link.is_symlink():
        target = str(link.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    offset = dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0)
    return format_offset(offset)


def format_offset(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_zone(text: str) -> str:
    """Validate a ``--tz`` value: an IANA name (Asia/Tokyo), UTC, or a fixed offset (+09:00, -0500)."""
    value = text.strip()
    if value.upper() in ("UTC", "Z", "GMT"):
        return "UTC"
    sign = value[:1]
    digits = value[1:].replace(":", "")
    if sign in "+-" and digits.isdigit() and len(digits) in (2, 4):
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 14 or minutes > 59:
            raise ValueError(f"offset out of range: {text}")
        return f"{sign}{hours:02d}:{minutes:02d}"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {text!r}: give an IANA name like Europe/Berlin or an offset like +09:00") from exc
    return value


def _to_utc(wall: pl.Expr, zone: str) -> pl.Expr:
    if zone == "UTC":
        return wall.dt.replace_time_zone("UTC")
    if zone[:1] in "+-":
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        delta = dt.timedelta(hours=hours, minutes=minutes) * sign
        return (wall - pl.lit(delta)).dt.replace_time_zone("UTC")
    return wall.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def _offset_zone(hours: float) -> str:
    return format_offset(dt.timedelta(hours=hours))


def normalise(events: pl.DataFrame, reports: list[FileReport], tz: str | None = None) -> pl.DataFrame:
    """Fill ``ts_utc`` for every event and record each file's clock decision in its report."""
    if events.height == 0:
        return events
    by_path = {r.path: r for r in reports}
    learnt: dict[str, str] = {}
    for report in reports:
        hours = report.clock.get("bracket_minus_header_hours")
        if hours not in (None, 0) and report.host is not None:
            learnt.setdefault(report.host, _offset_zone(-float(hours)))
    fallback = None
    parts = []
    for (path,), frame in events.group_by(["file"], maintain_order=True):
        report = by_path.get(path)
        host = report.host if report else None
        hours = report.clock.get("bracket_minus_header_hours") if report else None
        bracket_is_utc = hours not in (None, 0)
        if tz:
            local_zone, how = tz, "--tz"
        elif bracket_is_utc:
            local_zone, how = _offset_zone(-float(hours)), "restore-log header vs its UTC bracket clock"
        elif host in learnt:
            local_zone, how = learnt[host], "learnt from a restore log of the same host"
        else:
            fallback = fallback or machine_zone()
            local_zone, how = fallback, "assumed: zone of the machine running analyzer"
        bracket_zone = "UTC" if bracket_is_utc else local_zone
        clocks = set(frame.get_column("clock").drop_nulls().cast(pl.String).unique().to_list())
        wall = pl.col("ts_wall")
        ts = (pl.when(pl.col("clock") == "utc").then(_to_utc(wall, "UTC"))
              .when(pl.col("clock") == "bracket").then(_to_utc(wall, bracket_zone))
              .when(pl.col("clock") == "local").then(_to_utc(wall, local_zone))
              .otherwise(pl.lit(None, dtype=pl.Datetime("us", "UTC"))))
        parts.append(frame.with_columns(ts.alias("ts_utc")))
        if report is not None:
            decision = {"clocks": sorted(clocks)}
            if clocks & {"local", "bracket"}:
                decision.update({"local_zone": local_zone, "local_zone_how": how})
                if "bracket" in clocks:
                    decision["bracket_zone"] = bracket_zone
                if how.startswith("assumed") and "local" in clocks:
                    report.errors.append(Note(path, f"local times converted with {local_zone}, the zone of this "
                                                    "machine; pass --tz with the PC's zone if the logs came from elsewhere",
                                              severity="warning"))
            report.clock.update(decision)
    return pl.concat(parts, how="vertical")
