"""Reading a .evtx file's records with the Rust ``evtx`` parser, damaged files included.

The header counters are never trusted (reference/windows-formats.md §1): the iterator
raises once per unreadable chunk or record and can continue, so each error becomes a located
note (the chunk number when the parser names it, and the record ids on either side of the
gap) and every readable record is kept. The reading loop does no Python work per record: it
extends a list from slices of the iterator, short enough that another thread can take the GIL
between them (see :mod:`._evtx_pipeline`).
"""

from __future__ import annotations

import itertools
import operator
import re

from ..model import Note
from ..notes import part

try:  # the package is a hard dependency; guard so that a broken install is a note, not an import error
    from evtx import PyEvtxParser
except Exception:  # pragma: no cover - environment problem
    PyEvtxParser = None

#: Stop after this many errors in a row without a readable record (a garbage file cannot loop forever).
MAX_CONSECUTIVE_ERRORS = 10_000

#: Records taken from the parser per ``list.extend`` (read_records). The reader holds the GIL
#: for a whole slice, so a normalising thread that wants it waits up to a slice: with 16 rather
#: than 256 the batched source went from a median 0.51 to 0.55 of bare iteration (11 rounds
#: side by side; 8 and 32 were within the noise of 16).
READ_SLICE = 16

_CHUNK_RE = re.compile(r"chunk number (\d+)")

#: The record's JSON text, as the parser hands it over.
record_text = operator.itemgetter("data")


def read_records(path: str) -> tuple[list[dict], list[tuple[int, BaseException]]]:
    """All readable records of ``path`` and the errors met, each with the number of records read before it.

    ``list.extend`` keeps what it appended before the iterator raised, so the loop costs no
    Python work per record; after an error the same iterator carries on with the next record/chunk.
    """
    if PyEvtxParser is None:
        raise RuntimeError("the evtx package is not installed")
    parser = PyEvtxParser(path)
    it = parser.records_json()
    out: list[dict] = []
    errors: list[tuple[int, BaseException]] = []
    consecutive = 0
    while True:
        before = len(out)
        try:
            # in slices, so that another thread can take the GIL between them (one ``extend``
            # over the whole iterator holds it for the whole file; see _evtx_pipeline)
            while True:
                start = len(out)
                out.extend(itertools.islice(it, READ_SLICE))
                if len(out) - start < READ_SLICE:
                    break
            break
        except StopIteration:  # pragma: no cover - extend swallows it
            break
        except Exception as exc:  # noqa: BLE001 - the parser raises RuntimeError (and others on odd input)
            consecutive = 0 if len(out) > before else consecutive + 1
            errors.append((len(out), exc))
            if consecutive >= MAX_CONSECUTIVE_ERRORS:
                errors.append((len(out), GaveUp(MAX_CONSECUTIVE_ERRORS)))
                break
    return out, errors


class GaveUp(RuntimeError):
    """The reader stopped after ``count`` errors in a row (the last error :func:`read_records` lists)."""

    def __init__(self, count: int):
        super().__init__(f"gave up after {count} errors in a row")
        self.count = count


def describe(exc: BaseException) -> str:
    """An exception as one line of at most 300 characters for a note."""
    text = str(exc).strip().replace("\n", " ")
    return text[:300] if text else type(exc).__name__


def damage_notes(display: str, records: list[dict], errors: list[tuple[int, BaseException]]) -> list[Note]:
    """One located note per error of :func:`read_records`: which chunk (when the parser names
    it) and which record ids were lost, from the readable records on either side."""
    notes = []
    for position, exc in errors:
        before = records[position - 1].get("event_record_id") if position > 0 else None
        after = records[position].get("event_record_id") if position < len(records) else None
        chunk = _CHUNK_RE.search(str(exc))
        params = {"gap": _gap(before, after),
                  "error": part("gave_up", count=exc.count) if isinstance(exc, GaveUp) else describe(exc)}
        record = (before + 1) if before is not None else after
        if chunk:
            notes.append(Note(display, "evtx_chunk_unreadable", {"chunk": int(chunk.group(1)), **params}, record=record))
        else:
            notes.append(Note(display, "evtx_record_unreadable", params, record=record))
    return notes


def _gap(before: int | None, after: int | None) -> dict:
    """Which records a damaged stretch lost, from the readable record ids on either side (a note part)."""
    if before is not None and after is not None and after - before > 2:
        return part("records_lost", first=before + 1, last=after - 1)
    if before is not None and after is not None and after - before == 2:
        return part("record_lost", record=before + 1)
    if before is not None:
        return part("after_record", record=before)
    if after is not None:
        return part("before_record", record=after)
    return part("no_record_around")


def header_columns(record_lists: list[list[dict]]):
    """(ids, times) of the record headers, as functions of the record positions (all if none
    given) for flatten_json_records, which asks only for the records that need them."""
    def flat():
        return itertools.chain.from_iterable(record_lists)

    def ids(positions: list[int] | None = None) -> list:
        records = list(flat())
        return [r.get("event_record_id") for r in (records if positions is None else map(records.__getitem__, positions))]

    def times(positions: list[int] | None = None) -> list:
        records = list(flat())
        return [r.get("timestamp") for r in (records if positions is None else map(records.__getitem__, positions))]
    return ids, times
