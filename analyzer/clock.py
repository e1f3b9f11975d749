"""Putting every event on one UTC clock, and saying per file how.

Sources record the wall time as written (``ts_wall``) and which clock wrote it.
This stage decides each file's offset to UTC:

* ``utc`` clocks stay as they are;
* ``bracket`` clocks (MobileRestore body lines) are UTC when the file's header
  and brackets disagree by whole hours (the source measured that and put it in
  ``report.clock["bracket_minus_header_hours"]``); the header is then local
  time at minus that offset, a zone learnt from the file itself;
* a file whose source measured its own zone (local and UTC times of the same
  events side by side, ``report.clock["measured_zone"]`` in ``+HH:MM``) uses it;
* ``local`` clocks use ``--tz`` when given; otherwise a zone learnt from a
  restore log of the same host; otherwise the zone of the machine running
  analyzer, with a warning in the report, because that guess is often wrong
  for logs copied from another PC.

The zone used and how it was found (a method of METHODS with its parameters, which the
report layer words) are written into every file's report.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from .kinds import kinds_where
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


#: Kinds that several sources record at the same instant (the iPhone arriving or leaving, a driver
#: install, a service crash seen in evtx and in a text export, ...). Only events of the same kind are paired.
ANCHOR_KINDS = kinds_where(anchor=True)
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


@dataclass
class _Decision:
    """How one file's clocks go to UTC: the zone of its local clock, of its bracket clock, and
    how the zone was found (``method`` is one of METHODS; ``params`` what the report needs to
    say more, e.g. how many events were aligned with which files)."""

    zone: str
    bracket_zone: str
    method: str
    params: dict = field(default_factory=dict)

    def fields(self) -> dict:
        return {"local_zone": self.zone, "local_zone_method": self.method, **self.params}


#: How a local zone was found, most trusted first.
METHODS = ("tz_option", "restore_header", "measured", "aligned", "learnt", "assumed", "utc")


def _convert(frame: pl.DataFrame, d: _Decision) -> pl.DataFrame:
    wall = pl.col("ts_wall")
    ts = (pl.when(pl.col("clock") == "utc").then(_to_utc(wall, "UTC"))
          .when(pl.col("clock") == "bracket").then(_to_utc(wall, d.bracket_zone))
          .when(pl.col("clock") == "local").then(_to_utc(wall, d.zone))
          .otherwise(pl.lit(None, dtype=pl.Datetime("us", "UTC"))))
    return frame.with_columns(ts.alias("ts_utc"))


def _clocks(frame: pl.DataFrame) -> set[str]:
    return set(frame.get_column("clock").drop_nulls().cast(pl.String).unique().to_list())


def _own_decision(report: FileReport | None, frame: pl.DataFrame, tz: str | None) -> _Decision | None:
    """What the file says about its own clock (or --tz); None when it must be learnt from others."""
    hours = report.clock.get("bracket_minus_header_hours") if report else None
    if hours not in (None, 0):
        zone = _offset_zone(-float(hours))
        return _Decision(tz or zone, "UTC", "tz_option" if tz else "restore_header")
    measured = report.clock.get("measured_zone") if report else None
    if measured:  # local times beside UTC times of the same events (e.g. Event Viewer details)
        params = {} if tz else {"measured_pairs": report.clock.get("measured_pairs")}
        return _Decision(tz or measured, tz or measured, "tz_option" if tz else "measured", params)
    if tz:
        return _Decision(tz, tz, "tz_option")
    if not _clocks(frame) & {"local", "bracket"}:
        return _Decision("UTC", "UTC", "utc")
    return None


class _Host:
    """The files of the run with their decisions so far, and what can be learnt from them."""

    def __init__(self, frames: dict[str, pl.DataFrame], by_path: dict[str, FileReport]):
        self.frames, self.by_path = frames, by_path
        self.decided: dict[str, _Decision] = {}
        self.converted: dict[str, pl.DataFrame] = {}

    def host(self, path: str) -> str | None:
        return self.by_path[path].host if path in self.by_path else None

    def decide(self, path: str, d: _Decision) -> None:
        self.decided[path] = d
        self.converted[path] = _convert(self.frames[path], d)

    def utc_anchors(self, path: str) -> tuple[pl.DataFrame, list[str]]:
        """Anchor rows of the same PC's other files that are on UTC, and those files' names."""
        parts, names = [], []
        for p, frame in self.converted.items():
            if p == path or self.host(p) != self.host(path):
                continue
            clocks = ["utc", "bracket"] if self.decided[p].bracket_zone == "UTC" else ["utc"]
            rows = _anchors(frame).filter(pl.col("clock").cast(pl.String).is_in(clocks))
            if rows.height:
                parts.append(rows)
                names.append(p)
        return (pl.concat(parts) if parts else _anchors(self.frames[path].head(0))), names

    def align(self, path: str) -> _Decision | None:
        reference, names = self.utc_anchors(path)
        found = infer_offset(_anchors(self.frames[path]), reference)
        if not found:
            return None
        offset, matches = found
        zone = format_offset(offset)
        mine = _anchors(_convert(self.frames[path], _Decision(zone, zone, "aligned")))
        matched = [n for n in names if _skew(mine, _anchors(self.converted[n])) is not None]
        return _Decision(zone, zone, "aligned", {"aligned_events": matches, "aligned_with": matched or names})

    def learnt(self, path: str) -> _Decision | None:
        """The zone another file of the same PC established, as a decision for ``path``."""
        for p, d in self.decided.items():
            if d.method not in ("utc", "learnt", "assumed") and self.host(p) == self.host(path) and p != path:
                return _Decision(d.zone, d.zone, "learnt",
                                 {"learnt_from": p, "learnt_method": d.method, "learnt_params": d.params})
        return None


def _report(host: _Host) -> None:
    anchors = {p: _anchors(f) for p, f in host.converted.items()}
    for path, frame in host.converted.items():
        report = host.by_path.get(path)
        if report is None:
            continue
        d, clocks = host.decided[path], _clocks(frame)
        decision: dict = {"clocks": sorted(clocks)}
        if clocks & {"local", "bracket"}:
            decision.update(d.fields())
            if "bracket" in clocks:
                decision["bracket_zone"] = d.bracket_zone
            if d.method == "assumed" and "local" in clocks:
                report.errors.append(Note(path, "zone_assumed", {"zone": d.zone}, severity="warning"))
            # skew against every other file of the PC: two UTC logs share the PC's clock, so
            # their pairwise skew says nothing (and would cost n² joins)
            skews = {other: value for other in host.converted
                     if other != path and host.host(other) == report.host and anchors[path].height
                     and anchors[other].height and (value := _skew(anchors[path], anchors[other])) is not None}
            if skews:
                decision["skew_s"] = skews
        report.clock.update(decision)


def normalise(events: pl.DataFrame, reports: list[FileReport], tz: str | None = None) -> pl.DataFrame:
    """Fill ``ts_utc`` for every event and record each file's clock decision in its report.

    Order of trust for a local clock: ``--tz``; the file's own header-vs-bracket offset or
    measured zone; alignment of its Apple-device events with a UTC source of the same host; a zone
    learnt for that host from another file; the machine's zone (with a warning).
    """
    if events.height == 0:
        return events
    frames = {path: frame for (path,), frame in events.group_by(["file"], maintain_order=True)}
    host = _Host(frames, {r.path: r for r in reports})
    pending = []
    for path, frame in frames.items():
        own = _own_decision(host.by_path.get(path), frame, tz)
        if own is None:
            pending.append(path)
        else:
            host.decide(path, own)
    aligned = {p: d for p in pending if (d := host.align(p)) is not None}
    for path, d in aligned.items():
        host.decide(path, d)
    fallback = None
    for path in (p for p in pending if p not in aligned):
        d = host.learnt(path)
        if d is None:
            fallback = fallback or machine_zone()
            d = _Decision(fallback, fallback, "assumed")
        host.decide(path, d)
    _report(host)
    return pl.concat([host.converted[p] for p in frames], how="vertical")
