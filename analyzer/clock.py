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
* ``local`` clocks use the UTC offset the file writes in its own time stamps
  (``report.clock["utc_offset"]``: the unified log's ``-0800``, journalctl's
  short-iso) when it has one; else ``--tz`` when given; otherwise a zone learnt
  from a restore log of the same host; otherwise the zone of the machine running
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

from .alignment import ANCHOR_KINDS, SENTINEL_DAY, anchors, infer_day, infer_offset, skews
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


@dataclass
class _Decision:
    """How one file's clocks go to UTC: the zone of its local clock, of its bracket clock, and
    how the zone was found (``method`` is one of METHODS; ``params`` what the report needs to
    say more, e.g. how many events were aligned with which files)."""

    zone: str
    bracket_zone: str
    method: str
    params: dict = field(default_factory=dict)
    #: For a log that gives times of day only (its rows sit on SENTINEL_DAY): the day to put them
    #: on (``--date``), or None to leave them off the UTC clock.
    day: dt.date | None = None
    undated: bool = False

    def fields(self) -> dict:
        return {"local_zone": self.zone or None, "local_zone_method": self.method, **self.params}


#: How a local zone was found, most trusted first; ``date_option`` / ``date_aligned`` / ``date_unknown``:
#: a log with times of day only, put on the day ``--date`` gives, on the day its events share with a
#: UTC log of the same PC, or left off the clock.
METHODS = ("written_offset", "tz_option", "restore_header", "measured", "aligned", "learnt", "assumed", "utc",
           "date_option", "date_aligned", "date_unknown")


def _convert(frame: pl.DataFrame, d: _Decision) -> pl.DataFrame:
    if d.undated and d.day is None:
        return frame.with_columns(pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts_utc"))
    wall = pl.col("ts_wall")
    if d.undated:
        wall = wall - pl.lit(SENTINEL_DAY) + pl.lit(dt.datetime.combine(d.day, dt.time()))
    ts = (pl.when(pl.col("clock") == "utc").then(_to_utc(wall, "UTC"))
          .when(pl.col("clock") == "bracket").then(_to_utc(wall, d.bracket_zone))
          .when(pl.col("clock") == "local").then(_to_utc(wall, d.zone))
          .otherwise(pl.lit(None, dtype=pl.Datetime("us", "UTC"))))
    return frame.with_columns(ts.alias("ts_utc"))


def _undated(tz: str | None, day: dt.date | None) -> _Decision:
    """A log with times of day only (a pasted restore-log tail, a device log): on the day ``--date``
    gives, its bracket times read as UTC (Windows iTunes writes them so; on a Mac they are local
    time, which ``--tz`` then gives), or left off the UTC clock when no day is given."""
    if day is None:
        return _Decision("", "", "date_unknown", undated=True)
    return _Decision(tz or "UTC", tz or "UTC", "date_option", {"date": day.isoformat()}, day=day, undated=True)


def _offset_at(zone: str, frame: pl.DataFrame) -> dt.timedelta | None:
    """``zone``'s UTC offset at the file's first local time (a named zone's offset depends on the date)."""
    if zone == "UTC":
        return dt.timedelta(0)
    fixed = _fixed_offset(zone)
    if fixed is not None:
        return fixed
    walls = frame.filter(pl.col("clock") == "local").get_column("ts_wall").drop_nulls()
    return ZoneInfo(zone).utcoffset(walls[0]) if len(walls) else None


def _checked_tz(report: FileReport, frame: pl.DataFrame, tz: str, proof: _Decision, force: bool) -> _Decision:
    """``--tz`` against the zone the file proves (its restore-log header against its UTC brackets, or
    its local times beside UTC times of the same events): when they agree, ``--tz``; when they
    disagree, the proven zone, with a note naming both and ``--tz-force``, or with ``force`` ``--tz``
    and a note that it overrode the proof. A wrong ``--tz`` would otherwise shift a whole log by hours
    and tie it to evidence from another part of the day."""
    given, proven = _offset_at(tz, frame), _offset_at(proof.zone, frame)
    if given is None or proven is None or given == proven:
        return _Decision(tz, tz if proof.bracket_zone != "UTC" else "UTC", "tz_option")
    params = {"given": tz, "given_offset": format_offset(given), "proven": format_offset(proven)}
    if force:
        report.errors.append(Note(report.path, "tz_forced", params, severity="warning"))
        return _Decision(tz, tz if proof.bracket_zone != "UTC" else "UTC", "tz_option")
    report.errors.append(Note(report.path, "tz_disagrees", params, severity="warning"))
    return _Decision(proof.zone, proof.bracket_zone, proof.method, {**proof.params, "tz_refused": tz})


def _own_decision(report: FileReport | None, frame: pl.DataFrame, clocks: set[str], tz: str | None,
                  day: dt.date | None = None, tz_force: bool = False) -> _Decision | None:
    """What the file says about its own clock (or --tz); None when it must be learnt from others.
    A UTC offset written in the file's own time stamps (``report.clock["utc_offset"]``, e.g. the
    unified log's ``-0800``) wins over ``--tz``: it is what the clock that wrote them said. An offset
    the file proves otherwise (header vs brackets, measured) wins over a ``--tz`` that disagrees,
    unless ``tz_force`` (:func:`_checked_tz`)."""
    if report is not None and report.clock.get("date_unknown"):
        return _undated(tz, day)
    offset = report.clock.get("utc_offset") if report else None
    if offset:
        return _Decision(offset, offset, "written_offset")
    hours = report.clock.get("bracket_minus_header_hours") if report else None
    if hours not in (None, 0):
        proof = _Decision(_offset_zone(-float(hours)), "UTC", "restore_header")
        return _checked_tz(report, frame, tz, proof, tz_force) if tz else proof
    measured = report.clock.get("measured_zone") if report else None
    if measured:  # local times beside UTC times of the same events (e.g. Event Viewer details)
        proof = _Decision(measured, measured, "measured", {"measured_pairs": report.clock.get("measured_pairs")})
        return _checked_tz(report, frame, tz, proof, tz_force) if tz else proof
    if tz:
        return _Decision(tz, tz, "tz_option")
    if not clocks & {"local", "bracket"}:
        return _Decision("UTC", "UTC", "utc")
    return None


def _key(path: str, fmt: str | None) -> str:
    """One clock per file and format: a file holding several logs (analyzer.regions) has a clock
    per log, and two of one format share it."""
    return f"{path}\x1f{fmt or ''}"


class _Host:
    """The files of the run with their decisions so far, and what can be learnt from them.
    Keys are :func:`_key` (a file and a format); :meth:`name` is how a report names one."""

    def __init__(self, frames: dict[str, pl.DataFrame], reports: list[FileReport]):
        self.frames = frames
        self.by_key: dict[str, list[FileReport]] = {}
        by_path: dict[str, list[FileReport]] = {}
        for r in reports:
            self.by_key.setdefault(_key(r.path, r.format), []).append(r)
            by_path.setdefault(r.path, []).append(r)
        for key in frames:  # rows whose format differs from their file's report: the file's report
            path = key.split("\x1f")[0]
            if key not in self.by_key and len(by_path.get(path, [])) == 1:
                self.by_key[key] = by_path[path]
        paths = [k.split("\x1f")[0] for k in frames]
        self._shared = {p for p in paths if paths.count(p) > 1}
        self.decided: dict[str, _Decision] = {}
        self.converted: dict[str, pl.DataFrame] = {}
        self.clocks: dict[str, set[str]] = {}  # each file's clocks (set by normalise)

    def name(self, key: str) -> str:
        path, fmt = key.split("\x1f")
        return f"{path} ({fmt})" if path in self._shared else path

    def report(self, key: str) -> FileReport | None:
        return (self.by_key.get(key) or [None])[0]

    def host(self, key: str) -> str | None:
        report = self.report(key)
        return report.host if report else None

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
            rows = anchors(frame).filter(pl.col("clock").cast(pl.String).is_in(clocks))
            if rows.height:
                parts.append(rows)
                names.append(self.name(p))
        return (pl.concat(parts) if parts else anchors(self.frames[path].head(0))), names

    def align(self, path: str) -> _Decision | None:
        reference, names = self.utc_anchors(path)
        found = infer_offset(anchors(self.frames[path]), reference)
        if not found:
            return None
        offset, matches = found
        zone = format_offset(offset)
        mine = anchors(_convert(self.frames[path], _Decision(zone, zone, "aligned")))
        keys = {self.name(k): k for k in self.converted}
        found = skews(mine, {n: anchors(self.converted[keys[n]]) for n in names})
        matched = [n for n in names if n in found]
        return _Decision(zone, zone, "aligned", {"aligned_events": matches, "aligned_with": matched or names})

    def place_undated(self, path: str) -> _Decision | None:
        """A log with times of day only, put on the day (and zone) its events share with a UTC log
        of the same PC."""
        reference, names = self.utc_anchors(path)
        found = infer_day(anchors(self.frames[path]), reference)
        if not found:
            return None
        day, offset, matches = found
        zone = format_offset(offset)
        return _Decision(zone, zone, "date_aligned", {"date": day.isoformat(), "aligned_events": matches,
                                                        "aligned_with": names}, day=day, undated=True)

    def learnt(self, path: str) -> _Decision | None:
        """The zone another file of the same PC established, as a decision for ``path``."""
        for p, d in self.decided.items():
            if d.method not in ("utc", "learnt", "assumed") and self.host(p) == self.host(path) and p != path:
                return _Decision(d.zone, d.zone, "learnt",
                                 {"learnt_from": self.name(p), "learnt_method": d.method, "learnt_params": d.params})
        return None


def _report(host: _Host) -> None:
    anchor_rows: dict[str, pl.DataFrame] = {}

    def anchors_of(path: str) -> pl.DataFrame:  # (only files with a local clock are compared: most are UTC)
        if path not in anchor_rows:
            anchor_rows[path] = anchors(host.converted[path])
        return anchor_rows[path]

    for path, frame in host.converted.items():
        report = host.report(path)
        if report is None:
            continue
        d, clocks = host.decided[path], host.clocks[path]
        decision: dict = {"clocks": sorted(clocks)}
        if d.undated and d.day is None:
            report.errors.append(Note(report.path, "date_unplaced", severity="warning"))
        if clocks & {"local", "bracket"} or d.undated:
            decision.update(d.fields())
            if "bracket" in clocks:
                decision["bracket_zone"] = d.bracket_zone
            if d.method == "assumed" and "local" in clocks:
                report.errors.append(Note(report.path, "zone_assumed", {"zone": d.zone}, severity="warning"))
            # skew against every other file of the PC: two UTC logs share the PC's clock, so
            # their pairwise skew says nothing (and would cost n² joins)
            mine = anchors_of(path)
            others = {host.name(other): anchors_of(other) for other in host.converted
                      if other != path and host.host(other) == report.host} if mine.height else {}
            found = skews(mine, others) if mine.height else {}
            if found:
                decision["skew_s"] = found
        for each in host.by_key[path]:
            each.clock.update(decision)


def run_starts() -> pl.Expr:
    """True on each row that starts a run of one (file, format): the PC's frame is its files'
    frames one after another."""
    return (pl.col("file").ne_missing(pl.col("file").shift(1)) | pl.col("format").ne_missing(pl.col("format").shift(1))
            | (pl.int_range(pl.len()) == 0))


def _run_keys(events: pl.DataFrame) -> tuple[list[int], list[str]]:
    """The first row of each run (:func:`run_starts`) and its (file, format) key (:func:`_key`)."""
    starts = events.select(run_starts().arg_true()).to_series().to_list()
    keys = [_key(path, fmt) for path, fmt in events.select(pl.col("file", "format").gather(starts)).iter_rows()]
    return starts, keys


def _per_file(events: pl.DataFrame, runs: tuple[list[int], list[str]]) -> dict:
    """The events of each (file, format), in order of appearance. The PC's frame is its files'
    frames one after another, so each is a slice of it (no copy); only rows of one file that are
    not together are grouped, which copies every row (a PC of 500 event logs doubled its peak).
    ``runs``: :func:`_run_keys`."""
    starts, keys = runs
    bounds = list(zip(starts, [*starts[1:], events.height]))
    if len(set(keys)) == len(keys):
        return {key: events.slice(a, b - a) for key, (a, b) in zip(keys, bounds)}
    return {_key(path, fmt): frame for (path, fmt), frame in events.group_by(["file", "format"], maintain_order=True)}


def _clocks_per_file(events: pl.DataFrame, runs: tuple[list[int], list[str]] | None = None) -> dict[str, set[str]]:
    """Each (file, format)'s clocks (:func:`_key`), in one query for the whole PC: asked file by
    file, a PC of a hundred event logs paid a query's fixed cost a hundred times over. Grouped by
    run number, not by the file and format texts: hashing those for every row cost a PC of 500
    event logs (473k rows) 150 MB at its peak. ``runs``: :func:`_run_keys` (found here if not given)."""
    _, keys = runs or _run_keys(events)
    found = (events.select(run_starts().cum_sum().alias("_run"), "clock").group_by("_run")
             .agg(pl.col("clock").drop_nulls().unique().cast(pl.String).alias("clocks")).iter_rows())
    out: dict[str, set[str]] = {key: set() for key in keys}
    for run, clocks in found:
        out[keys[run - 1]].update(clocks)
    return out


def normalise(events: pl.DataFrame, reports: list[FileReport], tz: str | None = None,
              date: dt.date | None = None, tz_force: bool = False) -> pl.DataFrame:
    """Fill ``ts_utc`` for every event and record each file's clock decision in its report.

    Order of trust for a local clock: ``--tz``; the file's own header-vs-bracket offset or
    measured zone; alignment of its Apple-device events with a UTC source of the same host; a zone
    learnt for that host from another file; the machine's zone (with a warning).
    """
    if events.height == 0:
        return events
    host = _decided(events, reports, tz, date, tz_force)
    return pl.concat([host.converted[p] for p in host.frames], how="vertical")


def decide(events: pl.DataFrame, reports: list[FileReport], tz: str | None = None,
           date: dt.date | None = None, tz_force: bool = False) -> dict[str, _Decision]:
    """:func:`normalise`'s decision for each (file, format) (:func:`_key`), recorded in the reports as
    normalise records it, for :func:`to_utc` to apply to rows read later (analyzer.parts). ``events``
    need hold only the rows the decisions read (:func:`decision_rows`)."""
    return _decided(events, reports, tz, date, tz_force).decided if events.height else {}


def decision_rows() -> pl.Expr:
    """The rows a file's clock decision reads (a filter over a PC's rows in their order): its anchors
    (the events aligned across files) and, of each run of a file, the first row of each clock with
    and without a time (which clocks it has, and the first local time a named zone is read at)."""
    first = pl.struct(run_starts().cum_sum(), pl.col("clock"), pl.col("ts_wall").is_null()).is_first_distinct()
    return pl.col("kind").cast(pl.String).is_in(list(ANCHOR_KINDS)) | first


def to_utc(frame: pl.DataFrame, decisions: dict[str, _Decision]) -> pl.Series:
    """``ts_utc`` of ``frame``'s rows (``file``, ``format``, ``clock``, ``ts_wall``), each (file,
    format) by its decision of :func:`decide` (a file it has none for, as UTC: it was not seen)."""
    starts, keys = _run_keys(frame)
    utc = _Decision("UTC", "UTC", "utc")
    pieces = [_convert(frame.slice(a, b - a).select("clock", "ts_wall"), decisions.get(key, utc)).get_column("ts_utc")
              for key, (a, b) in zip(keys, zip(starts, [*starts[1:], frame.height]))]
    return (pl.concat(pieces) if pieces else pl.Series([], dtype=pl.Datetime("us", "UTC"))).alias("ts_utc")


def _decided(events: pl.DataFrame, reports: list[FileReport], tz: str | None, date: dt.date | None,
             tz_force: bool) -> _Host:
    """Every (file, format) of ``events`` decided and converted, the decisions recorded in ``reports``."""
    runs = _run_keys(events)
    frames = _per_file(events, runs)
    host = _Host(frames, reports)
    host.clocks = _clocks_per_file(events, runs)
    pending, undated = [], []
    for path, frame in frames.items():
        report = host.report(path)
        if report is not None and report.clock.get("date_unknown") and date is None:
            undated.append(path)  # placed after the dated logs: they are what it is placed against
            continue
        own = _own_decision(report, frame, host.clocks[path], tz, date, tz_force)
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
    for path in undated:
        host.decide(path, host.place_undated(path) or _undated(tz, None))
    _report(host)
    return host
