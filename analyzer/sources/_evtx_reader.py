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
                errors.append((len(out), RuntimeError(f"gave up after {MAX_CONSECUTIVE_ERRORS} errors in a row")))
                break
    return out, errors


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
        what = f"chunk {chunk.group(1)}" if chunk else "a record"
        if before is not None and after is not None and after - before > 1:
            gap = f"records {before + 1}-{after - 1} lost" if after - before > 2 else f"record {before + 1} lost"
        elif before is not None:
            gap = f"after record {before}"
        elif after is not None:
            gap = f"before record {after}"
        else:
            gap = "no readable record around it"
        notes.append(Note(display, f"{what} unreadable, skipped ({gap}): {describe(exc)}",
                          record=(before + 1) if before is not None else after))
    return notes


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
