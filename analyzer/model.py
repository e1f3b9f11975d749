"""The one event table every source fills, and the per-file report beside it.

Why one declared schema: correlation, rules and reports all read the same
columns, so a new source cannot invent a shape the later stages do not know.
Every source returns a frame that passed through :func:`conform`, which adds
missing columns as nulls and casts to the declared types (a source that emits
an undeclared column is a programming error and raises).

Times: ``ts_wall`` is the time as written in the log with its date resolved
(naive); ``clock`` says which clock wrote it; ``ts_raw`` keeps the original
text. ``ts_utc`` is filled by :mod:`analyzer.clock` once the clock of every
file is known, never by the sources themselves (Plaso's ``is_local_time``).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import polars as pl

from . import notes
from .kinds import KINDS as _KINDS

#: Which clock wrote a time stamp.
#: utc: the log says UTC (evtx SystemTime, ``Z`` suffixes, device GMT lines).
#: local: the PC's wall clock with no zone (restore-log headers, setupapi, pfirewall, text exports).
#: bracket: MobileRestore ``[HH:MM:SS.ffff]`` body lines, date taken from the header.
#: none: the line carries no time of its own (continuation lines, idevicerestore console).
CLOCKS = ("utc", "local", "bracket", "none")

#: The closed list of event kinds, declared with their roles in :mod:`analyzer.kinds`.
KINDS = _KINDS

ClockEnum = pl.Enum(list(CLOCKS))
KindEnum = pl.Enum(list(KINDS))

#: The event table. Names are part of the documented interface (README "Event schema").
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String,                      # the PC this event belongs to (bundle label)
    "file": pl.String,                      # source file path as given
    "line": pl.Int64,                       # 1-based line number (text sources)
    "record": pl.Int64,                     # record id (evtx) or record ordinal (exports)
    "ts_utc": pl.Datetime("us", "UTC"),     # the time on the common UTC clock
    "ts_wall": pl.Datetime("us"),           # the time as written, date resolved, no zone
    "ts_raw": pl.String,                    # the original time text
    "clock": ClockEnum,
    "format": pl.String,                    # source name, e.g. "apple_restore"
    "kind": KindEnum,
    "attempt": pl.Int32,                    # attempt number within its file (1-based)
    "operation": pl.String,                 # the attempt's operation when the source knows it: restore, update, backup
    "error_code": pl.Int64,                  # error/status code; for service_state the SCM state (1 stopped, 4 running); for a removal the PnP minor code
    "expected": pl.Boolean,                 # for connect/disconnect: explained by a mode transition?
    "device_mode": pl.String,               # normal / recovery / dfu / restore
    "ecid": pl.UInt64,
    "udid": pl.String,
    "serial": pl.String,
    "chip_id": pl.String,
    "board_id": pl.String,
    "usb_vid": pl.String,                   # 4 upper-case hex digits, e.g. "05AC"
    "usb_pid": pl.String,
    "computer": pl.String,                  # the computer name the log itself records (Windows)
    "channel": pl.String,                   # Windows event channel
    "provider": pl.String,                  # Windows provider, or the process that logged the line
    "event_id": pl.Int32,
    "level": pl.Int32,
    "subject": pl.String,                   # what the event is about: phase name, service, device instance, peer
    "detail": pl.String,                    # extra fields as compact JSON text (never a nested column)
    "message": pl.String,                   # the line or rendered message
}

EVENT_COLUMNS = tuple(EVENT_SCHEMA)


def iso_utc(value: "dt.datetime | None") -> str | None:
    """How every output writes a time: ISO-8601 in UTC with milliseconds and a ``Z``."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(text: str | None) -> "dt.datetime | None":
    """The inverse of :func:`iso_utc` (timezone-aware)."""
    return dt.datetime.fromisoformat(text) if text else None


def empty_events() -> pl.DataFrame:
    """A zero-row frame with the declared schema."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def conform(frame: pl.DataFrame | Iterable[Mapping[str, Any]] | None) -> pl.DataFrame:
    """Bring a source's output to the declared schema.

    Accepts a frame or an iterable of row dicts. Missing columns become nulls;
    an unknown column raises ``KeyError`` so that a typo in a source is caught
    by its golden test instead of silently dropping data.
    """
    if frame is None:
        return empty_events()
    if not isinstance(frame, pl.DataFrame):
        rows = list(frame)
        if not rows:
            return empty_events()
        unknown = {k for row in rows for k in row} - set(EVENT_SCHEMA)
        if unknown:
            raise KeyError(f"columns not in EVENT_SCHEMA: {sorted(unknown)}")
        frame = pl.DataFrame(rows, schema={k: EVENT_SCHEMA[k] for k in EVENT_SCHEMA if any(k in r for r in rows)}, strict=False)
    unknown = set(frame.columns) - set(EVENT_SCHEMA)
    if unknown:
        raise KeyError(f"columns not in EVENT_SCHEMA: {sorted(unknown)}")
    schema = frame.schema  # built once: it is a costly object and this runs for every file
    if len(schema) == len(EVENT_SCHEMA) and all(a == b for a, b in zip(schema.items(), EVENT_SCHEMA.items())):
        return frame  # already conformed (saves a query per file)
    exprs = []
    for name, dtype in EVENT_SCHEMA.items():
        if name in schema:
            exprs.append(pl.col(name).cast(dtype, strict=False) if schema[name] != dtype else pl.col(name))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs)


@dataclass
class Note:
    """A located note about the input: what could not be read, and where.

    What happened is a stable ``code`` declared in ``data/notes.toml`` with the
    ``params`` its sentence needs (JSON values, shown as written): ``Note(path,
    "empty_file", severity="warning")``, ``Note(path, "cannot_read", {"reason": text})``.
    The reports word it in the reader's language; :attr:`message` is the English
    wording. ``severity`` is "error" (data was skipped), "warning" (read, but with a
    caveat) or "info" (what was found, e.g. a clock offset).
    """

    file: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    record: int | None = None
    excerpt: str | None = None
    severity: str = "error"

    def __post_init__(self) -> None:
        notes.check(self.code, self.params)  # an undeclared code fails where it is made, not in a report

    @property
    def message(self) -> str:
        """The note in English."""
        return notes.render(self.code, self.params, "en")

    def location(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        elif self.record is not None:
            where += f" record {self.record}"
        return where

    def as_dict(self) -> dict[str, Any]:
        """``file``, ``code``, ``params``, the English ``message``, then the location and severity."""
        out = {"file": self.file, "code": self.code, "params": copy.deepcopy(self.params), "message": self.message}
        out.update((k, v) for k, v in (("line", self.line), ("record", self.record), ("excerpt", self.excerpt),
                                       ("severity", self.severity)) if v is not None)
        return out


#: Why a file was not read: not there, could not be opened, empty, too large, or its parser failed.
NOT_READ = ("missing", "unreadable", "empty", "too_large", "parser_failed")
#: A file's status in the reports: read in full, read with something skipped, not recognised, or not read.
STATUSES = ("read", "partial", "unrecognised", *NOT_READ)


@dataclass
class FileReport:
    """What happened to one input file: read, skipped, not recognised, and why.

    ``records`` counts the units the source read (lines for text logs, records for
    event logs); ``events`` the rows it put in the event table; ``skipped`` the
    units it could not read (corrupt records, undecodable lines); ``unrecognised``
    the units that matched no line shape of the format; ``notes_omitted`` the notes
    left out of ``errors`` by the per-file cap (they are counted, never lost silently).
    """

    path: str
    format: str | None
    size: int = 0
    encoding: str | None = None
    records: int = 0
    events: int = 0
    skipped: int = 0
    unrecognised: int = 0
    errors: list[Note] = field(default_factory=list)
    clock: dict[str, Any] = field(default_factory=dict)
    host: str | None = None
    notes_omitted: int = 0
    #: Why the file was not read at all, when it was not: one of NOT_READ (set where that is decided).
    not_read: str | None = None
    #: A margin removed from its lines before reading (analyzer.paste.Margin.describe()), if any.
    margin: dict[str, Any] | None = None
    #: For one log of several in a file (analyzer.regions): {"first_line", "last_line"}; for the
    #: file's lines outside every log: {"outside": True}. None for a file read whole.
    region: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        """True when the file was recognised and nothing in it was skipped."""
        return (self.format is not None and self.not_read is None and self.skipped == 0
                and not any(n.severity == "error" for n in self.errors))

    @property
    def status(self) -> str:
        """What happened to the file, one of STATUSES: what every report shows for it."""
        if self.not_read:
            return self.not_read
        if self.format is None:
            return "unrecognised"
        return "read" if self.complete else "partial"

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "status": self.status,
            "host": self.host,
            "size": self.size,
            "encoding": self.encoding,
            "records": self.records,
            "events": self.events,
            "skipped": self.skipped,
            "unrecognised": self.unrecognised,
            "clock": self.clock,
            "errors": [n.as_dict() for n in self.errors],
            "notes_omitted": self.notes_omitted,
            **({"margin": self.margin} if self.margin else {}),
            **({"region": self.region} if self.region else {}),
        }
