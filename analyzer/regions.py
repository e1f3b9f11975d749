"""Several logs in one file: a ticket or a mail with a log inside, two logs pasted one after another.

:func:`find` labels every line with the line-oriented sources whose grammar knows its shape (one
vectorised pass per grammar) and the event-XML blocks, then takes the longest runs of one source
(a few unknown lines may interrupt a run: a wrapped line, a remark) as regions, longest first and
never overlapping. Each region is then offered to its source's sniffer like a file of its own
(sniffing stays by content) and read by it, its line numbers pointing into the whole file; what
lies outside every region is reported as such, never silently dropped (:mod:`analyzer.ingest`).

Only files up to MAX_BYTES are searched: pasted material is small, and a log written by its
program is one format, so large files cost nothing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from . import grammars
from .textio import line_list

MAX_BYTES = 4 << 20
#: A region needs this many lines its source knows.
MIN_LINES = 3
#: Unknown non-blank lines that may interrupt a region.
GAP = 3
_XML_START = re.compile(r"^\s*<Event[\s>]")
_XML_END = re.compile(r"</Event>\s*$")


@dataclass(frozen=True)
class Region:
    """Lines ``first``..``last`` (1-based, inclusive) of a file, read by ``source``."""

    source: str
    first: int
    last: int
    known: int  # lines of the region the source's grammar knows


def _runs(known: list[bool], blank: list[bool]) -> list[tuple[int, int, int]]:
    """(first, last, known lines) of each run of known lines, allowing GAP unknown lines inside."""
    runs, start, last, count, misses = [], None, None, 0, 0
    for i, (ok, empty) in enumerate(zip(known, blank)):
        if ok:
            if start is None:
                start, count = i, 0
            last, count, misses = i, count + 1, 0
        elif not empty and start is not None:
            misses += 1
            if misses > GAP:
                runs.append((start, last, count))
                start, misses = None, 0
    if start is not None:
        runs.append((start, last, count))
    return [r for r in runs if r[2] >= MIN_LINES]


def _xml_blocks(lines: list[str]) -> list[bool]:
    inside, out = False, []
    for line in lines:
        if _XML_START.match(line):
            inside = True
        out.append(inside)
        if _XML_END.search(line):
            inside = False
    return out


def find(text: str, sources: list[str], claimant: str | None = None) -> list[Region]:
    """The log regions of ``text`` for the line-grammar ``sources`` (and event XML), in file order.

    With a ``claimant`` (the source that claims the whole file), nothing is searched unless at least
    MIN_LINES lines are not its own: a log of one format costs one grammar pass here, and the other
    grammars are not even loaded.
    """
    lines = line_list(text)
    series = pl.Series(lines, dtype=pl.String)
    blank_mask = series.str.strip_chars().eq("")
    if claimant is not None and int((~grammars.load(claimant).known(series) & ~blank_mask).sum()) < MIN_LINES:
        return []
    blank = blank_mask.to_list()
    labelled = {name: grammars.load(name).known(series).to_list() for name in sources}
    labelled["windows_event_xml"] = _xml_blocks(lines)
    candidates = [Region(name, a + 1, b + 1, n) for name, known in labelled.items() for a, b, n in _runs(known, blank)]
    chosen: list[Region] = []
    for region in sorted(candidates, key=lambda r: (-r.known, r.first)):
        if all(region.last < c.first or region.first > c.last for c in chosen):
            chosen.append(region)
    chosen.sort(key=lambda r: r.first)
    return [_extended(r, nxt, series, blank) for r, nxt in zip(chosen, chosen[1:] + [None])]


def _extended(region: Region, following: Region | None, series: pl.Series, blank: list[bool]) -> Region:
    """The region with the lines after its last known one that its grammar still fits (a record's
    description, a continuation), up to a blank line or the next region."""
    if region.source not in ("windows_event_xml",):
        fits = grammars.load(region.source).fits(series).to_list()
        stop = following.first - 1 if following else len(blank)
        last = region.last
        while last < stop and not blank[last] and fits[last]:
            last += 1
        region = Region(region.source, region.first, last, region.known)
    return region


def excerpt(text: str, region: Region) -> str:
    """The region's lines of ``text``, joined with ``\\n``."""
    lines = line_list(text)
    return "\n".join(lines[region.first - 1:region.last]) + "\n"


def outside(text: str, regions: list[Region]) -> list[int]:
    """1-based numbers of the non-blank lines of ``text`` that no region holds."""
    lines = line_list(text)
    inside = set()
    for r in regions:
        inside.update(range(r.first, r.last + 1))
    return [i for i, line in enumerate(lines, 1) if line.strip() and i not in inside]
