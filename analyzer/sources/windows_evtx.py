"""Binary Windows event logs (.evtx), read with the Rust ``evtx`` parser.

Recognised by the ``ElfFile\\0`` magic only (never by extension).

Speed matters here (a helpdesk bundle holds tens of MB of .evtx): the Rust
parser renders each record as a JSON string and everything after that is
vectorised in polars, so no Python code runs per record except the iterator
itself (``list.extend`` over slices of it, :mod:`._evtx_reader`). System fields are
cut out by literal search, a byte slice and one split of that window (regexes only for
records where that fails, e.g. non-ASCII text; :mod:`._evtx_system`); the
EventData/UserData object is cut at its key (:mod:`._evtx_payload`); stages that no
record of the file needs are left out of the plan (:mod:`._evtx_flatten`);
per-(provider, id) decisions are made once per pair in :mod:`analyzer.winevent_kinds`,
right after the System fields, so that the per-field work (unnamed-Data renumbering,
field decoding, subject) is done on classified records only. The JSON is the parser's
default shape (asking for ``separate_json_attributes`` makes the Rust parse itself 60 %
slower), so ``EventID`` may be ``{"#attributes":{"Qualifiers":…},"#text":7031}``.
A run's files are read together (:meth:`WindowsEvtx.parse_many`, used by
:func:`analyzer.ingest.parse_all`): one polars query per ~8 MB batch of files
instead of one per file, read in the calling thread while worker threads
normalise the batches read before, so that the Rust parse (which holds the GIL)
overlaps the polars work (which does not; :mod:`._evtx_pipeline`).
``benchmarks/bench_evtx.py`` measures all this against the bare parser.

Damaged files (reference/windows-formats.md §1): the header counters are
never trusted; the iterator raises once per unreadable chunk or record and can
continue, so each error becomes a located note (the chunk number when the
parser names it, and the record ids on either side of the gap) and every
readable record is kept.
"""

from __future__ import annotations

from .. import winevent
from ..model import Note, conform
from ._base import Input, Parsed, Source, add_note
from ._evtx_flatten import flatten_json_records, slow_raw_frame
from ._evtx_pipeline import plan_batches, run_batches
from ._evtx_reader import damage_notes, describe, header_columns, read_records, record_text
from ._evtx_salvage import mark_recovered, salvage

# (the tests read flatten_json_records, read_records and slow_raw_frame from here, and replace
# flatten_json_records here to make a batch fail)

MAGIC = b"ElfFile\x00"


class WindowsEvtx(Source):
    name = "windows_evtx"
    description = "Windows binary event log (.evtx), any channel"
    binary = True
    batched = True

    def sniff(self, item: Input) -> bool:
        return item.head[:8] == MAGIC

    def parse(self, item: Input) -> Parsed:
        read = self._read(item)
        if isinstance(read, Parsed):
            return read
        return self._normalise_one(item, *read)

    def parse_many(self, items: list[Input]) -> list[Parsed | Exception]:
        """:meth:`parse` for several files at once: the same results, in the same order.

        The files are cut into batches of about :data:`._evtx_pipeline.BATCH_FILE_BYTES`; the
        records of a batch go through ONE flatten + normalise query, so the fixed polars cost
        (planning, materialising: 3-4 ms) is paid per batch instead of per file; each file's
        rows are then a zero-copy slice of the batch. Reports and notes stay per file. If a
        batch fails, each of its files is done on its own as :meth:`parse` would; where that
        raises, the exception takes the file's place in the result (``parse`` would have
        raised it). Batches are read and normalised in a pipeline of threads
        (:func:`._evtx_pipeline.run_batches`).
        """
        out: list = [None] * len(items)
        run_batches(plan_batches(items), lambda batch: self._read_batch(batch, out),
                    lambda read: self._normalise_batch(read, out))
        return out

    def _read_batch(self, batch: list[tuple[int, Input]], out: list) -> list:
        """The batch's files read; those with nothing to normalise are finished in ``out``."""
        read = []
        for i, item in batch:
            got = self._read(item)
            if isinstance(got, Parsed):
                out[i] = got
            else:
                read.append((i, item, *got))
        return read

    def _read(self, item: Input):
        """Read ``item``'s records: a finished :class:`Parsed` when there is nothing to
        normalise (unreadable header, no records), else ``(report, texts, records)``."""
        report = self.new_report(item)
        report.clock = {"clock": "utc", "source": "TimeCreated/@SystemTime"}
        try:
            records, errors = read_records(str(item.path))
        except Exception as exc:  # noqa: BLE001 - the header itself is unreadable
            add_note(report, Note(item.display, "evtx_unreadable", {"error": describe(exc)}))
            report.skipped = 1
            return Parsed(conform(None), report)
        for note in damage_notes(item.display, records, errors):
            add_note(report, note)
        report.skipped = len(errors)
        records = salvage(item, report, records, errors)
        texts = list(map(record_text, records))
        report.records = len(texts)
        if not texts:
            if not errors:
                add_note(report, Note(item.display, "evtx_empty", severity="warning"))
            return Parsed(conform(None), report)
        # the record headers' ids and times are looked at only if some record's XML lacks them
        return report, texts, records

    def _normalise_one(self, item: Input, report, texts: list, records: list) -> Parsed:
        try:
            events = winevent.normalise_prepared(flatten_json_records(texts, *header_columns([records])),
                                                 format=self.name)
        except Exception as exc:  # noqa: BLE001 - a record shape the fast path did not foresee
            add_note(report, Note(item.display, "evtx_fast_reader_failed", {"error": describe(exc)}, severity="warning"))
            ids, times = header_columns([records])
            events = winevent.normalise(slow_raw_frame(texts, ids(), times()), format=self.name)
        events = mark_recovered(events, report)
        report.events = events.height
        return Parsed(events, report)

    def _normalise_batch(self, batch: list, out: list) -> None:
        """One query for the batch's records, sliced back into files; file by file if it fails."""
        texts: list = []
        for _, _, _, t, _ in batch:
            texts += t
        try:
            events = winevent.normalise_prepared(flatten_json_records(texts, *header_columns([r for *_, r in batch])),
                                                 format=self.name)
            if events.height != len(texts):
                raise ValueError("row count changed")
        except Exception:  # noqa: BLE001 - one file's odd record must not change the others' path
            for i, item, report, t, r in batch:
                try:
                    out[i] = self._normalise_one(item, report, t, r)
                except Exception as exc:  # noqa: BLE001 - parse() would raise it; the caller reports it
                    out[i] = exc
            return
        offset = 0
        for i, item, report, t, _ in batch:
            part = mark_recovered(events.slice(offset, len(t)), report)
            offset += len(t)
            report.events = part.height
            out[i] = Parsed(part, report)


SOURCE = WindowsEvtx()
