"""Finding the input files, deciding which PC each belongs to, and handing each to its source.

Nothing is skipped silently: every file that is walked ends up with a
:class:`~analyzer.model.FileReport`, recognised or not, with the reason.
Input files are opened read-only and never modified.

Layout (which PC a file belongs to):

* ``host``: every path given is one PC, named after the folder (or, for a
  file, its parent folder);
* ``fleet``: every first-level subfolder of a given folder is one PC;
* ``auto`` (default): a folder with two or more subfolders (or zips) and no
  log file of its own is a fleet (a README beside the PCs does not count),
  anything else is one PC. A ``.zip`` given, or at the
  first level of a fleet folder, is one PC named after the archive (fleet
  folders may mix subfolders and archives). The report names the hosts,
  so a wrong split is visible; ``--layout`` overrides it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .archives import archive_host, is_archive
from .model import FileReport, Note, conform
from .sources import Input, Parsed, claimants, registry
from .textio import looks_binary

#: Text files above this size are reported, not read (evtx is streamed by the Rust parser and exempt).
MAX_TEXT_BYTES = 1 << 30


@dataclass(frozen=True)
class Located:
    """A file to read, with the PC it belongs to and how to show its path."""

    path: Path
    display: str
    host: str


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            out.append(Path(dirpath) / name)
    return out


def _host_name(path: Path) -> str:
    resolved = path.resolve()
    return resolved.name or str(resolved)


def _is_log(path: Path) -> bool:
    """True when some source recognises the file (a README or notes beside a fleet's PCs are not logs)."""
    try:
        return bool(path.stat().st_size) and bool(claimants(Input(path=path, display=str(path))))
    except OSError:
        return False


def discover(paths: list[Path], layout: str = "auto") -> tuple[list[Located], list[FileReport]]:
    """Expand the given paths into files with hosts; missing paths become reports."""
    found: list[Located] = []
    missing: list[FileReport] = []
    seen: set[Path] = set()
    for given in paths:
        if not given.exists():
            missing.append(FileReport(path=str(given), format=None, not_read="missing",
                                      errors=[Note(str(given), "not_found")]))
            continue
        if given.is_file():
            # a .zip given is one PC, named after the archive (analyzer.archives reads it)
            entries = [(given, archive_host(given) if is_archive(given) else _host_name(given.parent))]
        else:
            children = sorted(given.iterdir())
            subdirs = [c for c in children if c.is_dir()]
            own_files = [c for c in children if c.is_file()]
            archives = [c for c in own_files if is_archive(c)]
            loose = [c for c in own_files if not is_archive(c)]
            fleet = layout == "fleet" or (layout == "auto" and len(subdirs) + len(archives) >= 2
                                          and not any(_is_log(f) for f in loose))
            entries = []
            if fleet:
                for f in own_files:
                    entries.append((f, archive_host(f) if is_archive(f) else _host_name(given)))
                for sub in subdirs:
                    entries.extend((f, sub.name) for f in _walk(sub))
            else:
                entries = [(f, _host_name(given)) for f in _walk(given)]
        for path, host in entries:
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            found.append(Located(path, str(path), host))
    return found, missing


def parse_file(path: Path, display: str | None = None, host: str = "") -> Parsed:
    """Sniff and parse one file. Never raises: failures become the report's notes."""
    return parse_all([Located(path, display or str(path), host)])[0]


def _claim(path: Path, display: str, host: str) -> Parsed | tuple[Input, FileReport, object]:
    """Everything before the source's parser: a finished :class:`Parsed` when the file is not
    read (unreadable, empty, unrecognised, too large), else (input, report, source)."""
    item = Input(path=path, display=display)
    try:
        size = path.stat().st_size
    except OSError as exc:
        note = Note(display, "cannot_read", {"reason": exc.strerror or str(exc)})
        return Parsed(conform(None), FileReport(display, None, not_read="unreadable", errors=[note]))
    report = FileReport(path=display, format=None, size=size, host=host)
    if size == 0:
        report.errors.append(Note(display, "empty_file", severity="warning"))
        report.not_read = "empty"
        return Parsed(conform(None), report)
    try:
        names = claimants(item)
    except OSError as exc:
        report.errors.append(Note(display, "cannot_read", {"reason": exc.strerror or str(exc)}))
        report.not_read = "unreadable"
        return Parsed(conform(None), report)
    if not names:
        if looks_binary(item.head):
            report.errors.append(Note(display, "unrecognised_binary", severity="warning"))
        else:
            first = item.head_text.strip().splitlines()[0][:80] if item.head_text.strip() else None
            report.errors.append(Note(display, "unrecognised_text", line=1 if first else None, excerpt=first,
                                      severity="warning"))
        return Parsed(conform(None), report)
    if len(names) > 1:
        report.errors.append(Note(display, "claimed_by_several", {"sources": ", ".join(names), "source": names[0]},
                                  severity="warning"))
    source = registry()[names[0]]
    if not source.binary and size > MAX_TEXT_BYTES:
        report.format = source.name
        report.errors.append(Note(display, "too_large", {"size": size, "limit": MAX_TEXT_BYTES}))
        report.skipped = 1
        report.not_read = "too_large"
        return Parsed(conform(None), report)
    return item, report, source


def _finish(parsed: Parsed | Exception, report: FileReport, source, host: str) -> Parsed:
    """The source's result for one file (or what it raised) with the run's columns and report fields."""
    display, size = report.path, report.size
    if isinstance(parsed, Exception):
        report.format = source.name
        report.errors.append(Note(display, "parser_failed",
                                  {"source": source.name, "error": f"{type(parsed).__name__}: {parsed}"}))
        report.skipped = 1
        report.not_read = "parser_failed"
        return Parsed(conform(None), report)
    parsed.report.host = host
    parsed.report.path = display
    parsed.report.size = size
    events = conform(parsed.events).with_columns(
        pl.lit(host or None, dtype=pl.String).alias("host"), pl.lit(display).alias("file"))
    parsed.events = events
    parsed.report.events = events.height
    return parsed


def parse_all(located: list[Located]) -> list[Parsed]:
    """:func:`parse_file` for every file, in order. Files of a batched source (``Source.batched``:
    evtx) are handed to its ``parse_many`` together, so that it can share fixed costs between
    them; results and reports are the same as file by file."""
    out: list[Parsed | None] = [None] * len(located)
    grouped: dict[str, list[tuple[int, Input, FileReport, object, str]]] = {}
    for i, loc in enumerate(located):
        claimed = _claim(loc.path, loc.display or str(loc.path), loc.host)
        if isinstance(claimed, Parsed):
            out[i] = claimed
            continue
        item, report, source = claimed
        if source.batched:
            grouped.setdefault(source.name, []).append((i, item, report, source, loc.host))
            continue
        out[i] = _finish(source.parse_one_by_one([item])[0], report, source, loc.host)
    for group in grouped.values():
        source = group[0][3]
        items = [item for _, item, _, _, _ in group]
        try:
            results = source.parse_many(items)
        except Exception:  # noqa: BLE001 - the batch itself failed: file by file, as parse_file does
            results = source.parse_one_by_one(items)
        for (i, _, report, source, host), parsed in zip(group, results):
            out[i] = _finish(parsed, report, source, host)
    return out  # type: ignore[return-value]
