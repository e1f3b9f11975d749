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
import re
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


_NORMAL_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")


def _fixed_offset(zone: str) -> dt.timedelta | None:
    """The offset of a fixed zone in the form :func:`parse_zone` and :func:`format_offset` give
    (``+09:30``), None for a named zone. Any other spelling of an offset is refused, not sliced:
    ``+0930`` read by position would silently become +09:00."""
    if zone[:1] not in "+-":
        return None
    match = _NORMAL_OFFSET.fullmatch(zone)
    if match is None:
        raise ValueError(f"zone {zone!r} is not normalised (+HH:MM); pass it through parse_zone first")
    delta = dt.timedelta(hours=int(match[2]), minutes=int(match[3]))
    return delta if match[1] == "+" else -delta


def _to_utc(wall: pl.Expr, zone: str) -> pl.Expr:
    """``wall`` read in ``zone``, a normalised zone: UTC, +HH:MM or an IANA name."""
    if zone == "UTC":
        return wall.dt.replace_time_zone("UTC")
    offset = _fixed_offset(zone)
    if offset is not None:
        return (wall - pl.lit(offset)).dt.replace_time_zone("UTC")
    return wall.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def _offset_zone(hours: float) -> str:
    return format_offset(dt.timedelta(hours=hours))


#: Kinds of events that several sources record at the same instant (the iPhone arriving or
#: leaving, a driver install, a service crash seen in evtx and in a text export, ...).
#: Only events of the same kind are paired.
ANCHOR_KINDS = ("device_connect", "device_disconnect", "driver_install", "driver_failure", "service_state",
                "service_crash", "app_crash", "power")
ANCHOR_TOLERANCE_S = 10
CANDIDATE_STEPS = range(-14 * 4, 14 * 4 + 1)  # quarter hours from UTC-14 to UTC+14


def _anchors(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("kind").cast(pl.String).is_in(list(ANCHOR_KINDS)) & pl.col("ts_wall").is_not_null())


def infer_offset(local: pl.DataFrame, reference: pl.DataFrame) -> tuple[dt.timedelta, int] | None:
    """The whole-quarter-hour offset that lines up ``local`` wall times with ``reference`` UTC times.

    ``local``/``reference`` are anchor rows; only rows of the same kind are paired.
    Returns (offset, matches) for the best candidate, or None when no candidate matches at
    least two events or the best is not unique — a single coincidence is not evidence.
    """
    if local.height == 0 or reference.height == 0:
        return None
    ref = (reference.select(pl.col("kind").cast(pl.String), pl.col("ts_utc").dt.replace_time_zone(None).alias("t"))
           .drop_nulls().sort("kind", "t").with_columns(pl.col("t").alias("ref_t")))
    loc = local.select(pl.col("kind").cast(pl.String), pl.col("ts_wall").alias("wall")).drop_nulls()
    scores: list[tuple[int, int]] = []
    for step in CANDIDATE_STEPS:
        shifted = loc.with_columns((pl.col("wall") - pl.duration(minutes=15 * step)).alias("t")).sort("kind", "t")
        joined = shifted.join_asof(ref, on="t", by="kind", strategy="nearest", tolerance=f"{ANCHOR_TOLERANCE_S}s",
                                   check_sortedness=False)
        scores.append((joined.get_column("ref_t").is_not_null().sum(), step))
    scores.sort(reverse=True)
    best, step = scores[0]
    if best < 2 or (len(scores) > 1 and scores[1][0] == best):
        return None
    return dt.timedelta(minutes=15 * step), best


def _skew(anchors: pl.DataFrame, reference: pl.DataFrame) -> float | None:
    """Median seconds by which one file's anchor events trail the reference's (after conversion)."""
    a = anchors.select(pl.col("kind").cast(pl.String), pl.col("ts_utc").alias("t")).drop_nulls().sort("kind", "t")
    b = (reference.select(pl.col("kind").cast(pl.String), pl.col("ts_utc").alias("t"), pl.col("ts_utc").alias("ref_t"))
         .drop_nulls().sort("kind", "t"))
    if a.height == 0 or b.height == 0:
        return None
    joined = a.join_asof(b, on="t", by="kind", strategy="nearest", tolerance=f"{ANCHOR_TOLERANCE_S}s",
                         check_sortedness=False).drop_nulls("ref_t")
    if joined.height == 0:
        return None
    return round(float(joined.select(((pl.col("t") - pl.col("ref_t")).dt.total_milliseconds() / 1000).median()).item()), 3)


def normalise(events: pl.DataFrame, reports: list[FileReport], tz: str | None = None) -> pl.DataFrame:
    """Fill ``ts_utc`` for every event and record each file's clock decision in its report.

    Order of trust for a local clock: ``--tz``; the file's own header-vs-bracket offset;
    alignment of its Apple-device events with a UTC source of the same host; a zone
    learnt for that host from another file; the machine's zone (with a warning).
    """
    if events.height == 0:
        return events
    by_path = {r.path: r for r in reports}
    frames = {path: frame for (path,), frame in events.group_by(["file"], maintain_order=True)}
    decisions: dict[str, tuple[str, str, str]] = {}  # path -> (local zone, how, bracket zone)
    pending: list[str] = []
    for path, frame in frames.items():
        report = by_path.get(path)
        hours = report.clock.get("bracket_minus_header_hours") if report else None
        if hours not in (None, 0):
            zone = _offset_zone(-float(hours))
            decisions[path] = (tz or zone, "--tz" if tz else "restore-log header vs its UTC bracket clock", "UTC")
        elif tz:
            decisions[path] = (tz, "--tz", tz)
        else:
            pending.append(path)

    def convert(path: str, zone: str, bracket_zone: str) -> pl.DataFrame:
        wall = pl.col("ts_wall")
        ts = (pl.when(pl.col("clock") == "utc").then(_to_utc(wall, "UTC"))
              .when(pl.col("clock") == "bracket").then(_to_utc(wall, bracket_zone))
              .when(pl.col("clock") == "local").then(_to_utc(wall, zone))
              .otherwise(pl.lit(None, dtype=pl.Datetime("us", "UTC"))))
        return frames[path].with_columns(ts.alias("ts_utc"))

    converted = {p: convert(p, z, b) for p, (z, _, b) in decisions.items()}
    for path in list(pending):  # files that are already on UTC need no zone
        clocks = set(frames[path].get_column("clock").drop_nulls().cast(pl.String).unique().to_list())
        if not clocks & {"local", "bracket"}:
            converted[path] = convert(path, "UTC", "UTC")
            decisions[path] = ("UTC", "file is on UTC", "UTC")
            pending.remove(path)

    def host_of(path: str) -> str | None:
        return by_path[path].host if path in by_path else None

    def utc_anchors(host: str | None, exclude: str) -> tuple[pl.DataFrame, list[str]]:
        parts, names = [], []
        for p, frame in converted.items():
            if p == exclude or host_of(p) != host:
                continue
            utc_rows = _anchors(frame).filter(pl.col("clock").cast(pl.String).is_in(["utc", "bracket"])
                                              if decisions[p][2] == "UTC" else pl.col("clock") == "utc")
            if utc_rows.height:
                parts.append(utc_rows)
                names.append(p)
        return (pl.concat(parts) if parts else _anchors(events.head(0))), names

    learnt: dict[str | None, tuple[str, str]] = {}
    for p, (zone, how, _) in decisions.items():
        if how != "file is on UTC" and host_of(p) is not None:
            learnt.setdefault(host_of(p), (zone, f"learnt from {p} ({how})"))
    for path in list(pending):
        reference, names = utc_anchors(host_of(path), path)
        found = infer_offset(_anchors(frames[path]), reference)
        if found:
            offset, matches = found
            zone = format_offset(offset)
            converted[path] = convert(path, zone, zone)
            mine = _anchors(converted[path])
            matched = [n for n in names if _skew(mine, _anchors(converted[n])) is not None]
            how = f"aligned {matches} events with {', '.join(matched or names)}"
            decisions[path] = (zone, how, zone)
            learnt.setdefault(host_of(path), (zone, f"learnt from {path} ({how})"))
            pending.remove(path)
    fallback = None
    for path in pending:
        if host_of(path) in learnt:
            zone, how = learnt[host_of(path)]
        else:
            fallback = fallback or machine_zone()
            zone, how = fallback, "assumed: zone of the machine running analyzer"
        decisions[path] = (zone, how, zone)
        converted[path] = convert(path, zone, zone)

    # skew is measured for files on a local or bracket clock, against every other file of the PC:
    # two UTC logs share the PC's clock, so their pairwise skew says nothing (and costs n² joins)
    anchors = {p: _anchors(f) for p, f in converted.items()}
    for path, frame in converted.items():
        report = by_path.get(path)
        if report is None:
            continue
        zone, how, bracket_zone = decisions[path]
        clocks = set(frame.get_column("clock").drop_nulls().cast(pl.String).unique().to_list())
        decision: dict = {"clocks": sorted(clocks)}
        if clocks & {"local", "bracket"}:
            decision.update({"local_zone": zone, "local_zone_how": how})
            if "bracket" in clocks:
                decision["bracket_zone"] = bracket_zone
            if how.startswith("assumed") and "local" in clocks:
                report.errors.append(Note(path, f"local times converted with {zone}, the zone of this machine; "
                                                "pass --tz with the PC's zone if the logs came from elsewhere",
                                          severity="warning"))
        skews = {}
        for other in converted if clocks & {"local", "bracket"} and anchors[path].height else ():
            if other != path and host_of(other) == report.host and anchors[other].height:
                value = _skew(anchors[path], anchors[other])
                if value is not None:
                    skews[other] = value
        if skews:
            decision["skew_s"] = skews
        report.clock.update(decision)
    return pl.concat([converted[p] for p in frames], how="vertical")
