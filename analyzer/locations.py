"""The location table (``analyzer/data/locations.toml``): where each kind of evidence lives, per OS.

One table, read by every part that has to know where the logs are: ``analyze collect``
(:mod:`analyzer.collect`), a mounted disk or triage copy given to ``analyze`` and ``--this-pc``
(:mod:`analyzer.triage`), the generated collection scripts (:mod:`analyzer.collect_scripts`) and
the README's table. Keeping the places as data, each with its source, is what keeps those four
from drifting apart; this module only loads and checks it, and matches its globs.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

OSES = ("windows", "macos", "linux")
TAKES = ("file", "backup", "eventlog", "command")
KINDS = ("apple_log", "backup", "event_log", "setupapi", "firewall", "hosts", "system_log")
#: The backup folder's metadata files: the only ones ever taken from a backup (never its content).
BACKUP_METADATA = ("Info.plist", "Manifest.plist", "Status.plist", "Manifest.db")
TABLE = Path(__file__).parent / "data" / "locations.toml"


@dataclass(frozen=True)
class Location:
    """One row of the table (see the comments at the top of ``locations.toml``)."""

    id: str
    os: str
    base: str
    path: str
    globs: tuple[str, ...]
    kind: str
    take: str
    dated: bool
    what: str
    source: str
    verified: bool
    channels: tuple[str, ...] = ()
    argv: tuple[str, ...] = ()

    @property
    def base_path(self) -> str:
        """The base as it is written relative to the drive or root (``Users/*/AppData/Roaming``)."""
        return table().bases[self.os][self.base]

    def folder(self) -> str:
        """The base and the path joined: the folder the globs are matched under."""
        return "/".join(p for p in (self.base_path, self.path) if p)

    def files(self) -> tuple[str, ...]:
        """The glob patterns, an event channel's file name filled in (``%4`` stands for ``/``)."""
        if self.take == "eventlog":
            return tuple(channel_file(c) for c in self.channels)
        return self.globs


@dataclass(frozen=True)
class Table:
    bases: dict[str, dict[str, str]]
    locations: tuple[Location, ...]
    skip_profiles: frozenset[str]

    def for_os(self, os_name: str) -> list[Location]:
        return [loc for loc in self.locations if loc.os == os_name]


def channel_file(channel: str) -> str:
    """The file Windows keeps a channel in: ``/`` becomes ``%4`` (``Microsoft-Windows-Ntfs%4Operational.evtx``)."""
    return channel.replace("/", "%4") + ".evtx"


@functools.cache
def table(path: Path = TABLE) -> Table:
    """The table, checked: a bad row is an error here, not a silent gap in a collection."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    bases = {os_name: dict(raw["bases"][os_name]) for os_name in OSES}
    rows, seen = [], set()
    for row in raw["location"]:
        globs = row["glob"] if isinstance(row["glob"], list) else [row["glob"]]
        loc = Location(id=row["id"], os=row["os"], base=row["base"], path=row["path"], globs=tuple(globs),
                       kind=row["kind"], take=row["take"], dated=bool(row["dated"]), what=row["what"],
                       source=row["source"], verified=bool(row["verified"]),
                       channels=tuple(row.get("channels", ())), argv=tuple(row.get("argv", ())))
        problems = [name for name, ok in (
            ("id", loc.id not in seen), ("os", loc.os in OSES), ("take", loc.take in TAKES),
            ("kind", loc.kind in KINDS), ("base", loc.base in bases.get(loc.os, {})),
            ("channels", (loc.take == "eventlog") == bool(loc.channels)),
            ("argv", (loc.take == "command") == bool(loc.argv))) if not ok]
        if problems:
            raise ValueError(f"{path.name}: location {loc.id!r}: bad {', '.join(problems)}")
        seen.add(loc.id)
        rows.append(loc)
    return Table(bases=bases, locations=tuple(rows), skip_profiles=frozenset(raw.get("skip_profiles", ())))


@functools.cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over a relative path, ``/``-separated: ``*`` and ``?`` stay inside one name,
    ``**/`` is any number of folders (none included), ``%`` also matches the ``_`` it becomes when a
    zip is unpacked (``System%4Operational.evtx``). Matching ignores case (Windows, macOS)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "%":  # an unpacked zip keeps safe characters only (analyzer.archives): % is _ there
            out.append("[%_]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE)


def matches(patterns: tuple[str, ...], rel: str) -> bool:
    return any(glob_regex(p).match(rel) for p in patterns)


def recursive(patterns: tuple[str, ...]) -> bool:
    """Do the patterns reach below the folder's first level?"""
    return any("/" in p for p in patterns)
