"""Apple restore log: a big file finished a segment at a time, cut where an attempt starts.

Why: the steps that need order (clocks, attempts, transitions, summaries: :mod:`.apple_restore`)
ran on every row of the file at once, so a 1 GB bench log held 12.5M rows and each step's working
set on top (5.2 GB). None of them needs the whole file:

* attempts, expected transitions and the per-attempt summaries depend only on what came before
  *within an attempt*, and a cut is made only where an attempt begins on a dated header line
  (the numbering goes on from the segment before);
* header dates and midnight rollovers start again at every header line, and a segment starts
  with one; a device GMT line takes the host time before it;
* the bracket offset is measured at the first header-to-bracket boundary of the file, so the
  first cut is made only after one (later segments add what they measure to
  ``other_offsets_seen``); the bracket fraction's unit is decided on the first segment.

So each segment is finished on its own (:meth:`.AppleRestoreSource._finished`) with what the
segments before it decided, and its rows are the whole file's rows for those lines (a test holds
the two equal on every sample and real log, cut at every attempt). Not cut: a file with repair-tool
lines (their placeholder day rolls over across the whole file), nor an attempt, however long (a
segment is at least ``SEGMENT_ROWS`` rows and grows to the next attempt). One difference is
accepted: a file of more than ``SEGMENT_ROWS`` rows that holds a Mac log after a Windows one
(pasted together) reads the later brackets in the first one's fraction unit, where a whole read
would take the Mac unit for all of them. A whole-file parse stacks the segments again; a PC
analysed in parts (:mod:`analyzer.parts`) writes each as a part of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import polars as pl

from ._apple_lines import Tally, stack
from ._apple_session import header_starts

#: A segment is cut at the first attempt start after this many classified rows: what a segment's
#: finishing steps hold at once. Measured on a 4M-line bench log analysed in parts (2-core machine):
#: 500k rows peaked at 661 MB, 200k at 339 MB in its reading (100k: no lower, and slower).
SEGMENT_ROWS = 200_000


def segments(chunks: Iterable[pl.DataFrame], tally: Tally, limit: int | None = None) -> Iterator[pl.DataFrame]:
    """The classified ``chunks`` (in order) stacked into segments of at least ``limit``
    (:data:`SEGMENT_ROWS`) rows, each cut where an attempt begins on a dated header line; one
    segment for a file with repair-tool lines or no such place. Each chunk is copied once."""
    limit = SEGMENT_ROWS if limit is None else limit
    held: list[pl.DataFrame] = []
    count = 0
    before: tuple[str | None, bool] = (None, False)
    cut: tuple[int, int] | None = None  # (held chunk, row) of the last attempt start seen
    boundary: tuple[int, int] | None = None  # the first header-to-bracket boundary: the offset's
    whole = False
    for chunk in chunks:
        shape = chunk.get_column("shape").cast(pl.String)
        whole = whole or bool((shape == "flash").any())
        starts, before_next = header_starts(chunk, before)
        if boundary is None:
            seen = chunk.select(((shape == "bracket") & shape.shift(1, fill_value=before[0])
                                 .is_in(["dated", "dated_proc"])).arg_true()).to_series()
            boundary = (len(held), seen.item(0)) if seen.len() else None
        before = before_next
        held.append(chunk)
        count += chunk.height
        if starts.len():
            cut = (len(held) - 1, starts.item(-1))
        if whole or count < limit or cut is None or boundary is None or cut <= boundary or cut == (0, 0):
            continue
        at, row = cut
        segment = held[:at] + ([held[at].slice(0, row)] if row else [])
        rest = [held[at].slice(row), *held[at + 1:]]
        held.clear()
        yield stack(segment, tally)
        held, count, cut = rest, sum(part.height for part in rest), None
        boundary = (-1, -1)  # decided: any later cut will do
    if held:
        yield stack(held, tally)
