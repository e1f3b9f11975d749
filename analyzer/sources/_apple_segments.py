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
the two equal on every sample and real log, cut at every attempt and inside them).

An attempt with no place to cut for ``SEGMENT_ROWS`` rows (a verbose log: one attempt of millions of
lines held 850 MB at 2M) is cut inside, after a chunk, while it is in its body and before its first
outcome line (its result is then built from what follows alone), never inside a block of identity
lines. The segment after such a cut goes on from what the finishing steps left open (:class:`Open`):
the last host time (the date and the next midnight of the brackets before a header, the host time
of device lines), the header's process and the last provider, the transition state and the progress
run, the attempt's number and its session_start. The one thing it cannot give as a whole read does is
a header field written after the cut (a ``requested variant`` line 200,000 rows into its attempt):
the attempt's session_start row, finished before, lacks it, and a ``session_header_after_cut`` note
at that line says so.

A repair tool's log (3uTools' ``HH:MM:SS.mmm:`` lines, no header) has no attempt start to cut at, so it
is cut inside its attempts the same way; its lines' placeholder day goes on counting midnights from
the segment before (``Open.flash``). No cut is made before the first header-to-bracket boundary once
a dated, bracket or device line is held (the offset, and the host time of device lines, come from
there). One difference is accepted: a file of more than ``SEGMENT_ROWS`` rows that holds a Mac log after a
Windows one (pasted together) reads the later brackets in the first one's fraction unit, where a
whole read would take the Mac unit for all of them. A whole-file parse stacks the segments again; a
PC analysed in parts (:mod:`analyzer.parts`) writes each as a part of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import polars as pl

from ._apple_classify import IDENTITY
from ._apple_lines import Tally, stack
from ._apple_session import header_starts

#: A segment is cut at the first attempt start after this many classified rows: what a segment's
#: finishing steps hold at once. Measured on a 4M-line bench log analysed in parts (2-core machine):
#: 500k rows peaked at 661 MB, 200k at 339 MB in its reading (100k: no lower, and slower).
SEGMENT_ROWS = 200_000


def segments(chunks: Iterable[pl.DataFrame], tally: Tally, limit: int | None = None,
             carry: "Open | None" = None) -> Iterator[pl.DataFrame]:
    """The classified ``chunks`` (in order) stacked into segments of at least ``limit``
    (:data:`SEGMENT_ROWS`) rows, each cut where an attempt begins on a dated header line, or inside
    an attempt with no such place for ``limit`` rows (see :func:`_inside`); one segment for a file
    with no place to cut. Before each segment is handed over, ``carry.goes_on`` is set: None, or,
    when it goes on with the attempt the one before ended in, the ``before`` of its first row
    (:func:`._apple_session.header_starts`). (Not yielded beside the segment: a
    tuple unpacked into the call that finishes it would hold the classified rows to its end, 70 MB
    at 800k lines.) Each chunk is copied once."""
    carry = Open() if carry is None else carry
    limit = SEGMENT_ROWS if limit is None else limit
    held: list[pl.DataFrame] = []
    count = 0
    before: tuple[str | None, bool] = (None, False)
    settled = True  # the open attempt has had no outcome line yet
    goes_on: tuple[str | None, bool] | None = None  # the held rows go on with an attempt
    cut: tuple[int, int] | None = None  # (held chunk, row) of the last attempt start seen
    boundary: tuple[int, int] | None = None  # the first header-to-bracket boundary: the offset's
    # a dated, bracket or device row has been held (a cut before the boundary would move its time)
    clocked = False
    for chunk in chunks:
        shape = chunk.get_column("shape").cast(pl.String)
        clocked = clocked or bool(shape.is_in(["dated", "dated_proc", "bracket", "device"]).any())
        starts, before_next, settled = header_starts(chunk, before, settled)
        if boundary is None:
            seen = chunk.select(((shape == "bracket") & shape.shift(1, fill_value=before[0])
                                 .is_in(["dated", "dated_proc"])).arg_true()).to_series()
            boundary = (len(held), seen.item(0)) if seen.len() else None
        before = before_next
        held.append(chunk)
        count += chunk.height
        if starts.len():
            cut = (len(held) - 1, starts.item(-1))
        if count < limit or (boundary is None and clocked):
            continue
        if cut is None or boundary is None or cut <= boundary or cut == (0, 0):  # no attempt start to cut at
            if _inside(chunk, before, settled):
                carry.goes_on = goes_on
                yield stack(held, tally)
                held, count, cut, goes_on = [], 0, None, before
                boundary = None if boundary is None else (-1, -1)
            continue
        at, row = cut
        segment = held[:at] + ([held[at].slice(0, row)] if row else [])
        rest = [held[at].slice(row), *held[at + 1:]]
        held.clear()
        carry.goes_on = goes_on
        yield stack(segment, tally)
        held, count, cut, goes_on = rest, sum(part.height for part in rest), None, None
        boundary = (-1, -1)  # decided: any later cut will do
    if held:
        carry.goes_on = goes_on
        yield stack(held, tally)


def _inside(chunk: pl.DataFrame, before: tuple[str | None, bool], settled: bool) -> bool:
    """Whether a segment of ``limit`` rows with no attempt start to cut at can be cut after
    ``chunk``, inside the attempt open there: the attempt is in its body (restore activity was its
    last significant line), it has had no outcome line (its result is then built from what follows
    alone), and ``chunk`` does not end inside a block of identity lines (one device_identity row per
    block)."""
    last_rule = chunk.get_column("rule").item(-1) if "rule" in chunk.columns and chunk.height else None
    return before[1] and settled and last_rule not in IDENTITY


class Open:
    """What a segment's finishing steps leave for the next segment when that one goes on with the
    attempt it ended in (each step reads its own fields there first, then sets them from its rows):

    * ``host_time``: the last dated or bracket row's time in the bracket clock: the date and the
      midnight count of the brackets before the next header, and the host time of device lines;
    * ``loose`` and ``flash``: the last device line with no host time and the last repair-tool line,
      on the placeholder day, whose midnights count across the whole file (read after any cut);
    * ``process`` and ``provider``: the header's process and the last provider (forward fills);
    * ``machine``: the expected-transition state and the attempt it is of; ``keyed``: the last
      progress line's (device object, operation, attempt), which a run of progress lines continues;
    * ``headed``: the last attempt a session_start row was made for (not made again), and
      ``header`` its detail; ``late``: (line, attempt, fields) of header fields of that attempt
      found after a cut inside it, which its session_start row, finished before, does not carry
      (reported with a note: the only way a cut inside an attempt differs from a whole read)."""

    def __init__(self) -> None:
        self.goes_on: tuple[str | None, bool] | None = None  # (set by segments)
        self.host_time = None
        self.loose = None
        self.flash = None
        self.process: str | None = None
        self.provider: str | None = None
        self.machine: tuple[str, int | None] = ("idle", None)
        self.keyed: tuple | None = None
        self.headed: int | None = None
        self.header: dict = {}
        self.late: list[tuple[int, int, list[str]]] = []
