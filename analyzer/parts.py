"""A big PC analysed in parts: its rows on disk, in memory only what the diagnosis reads.

Why: a PC's rows are held in memory once read, and every step adds its working set on top, so
the peak grew with the evidence (2 GB of ``.evtx``, 1.9M records: 1.62 GB). Most rows of such a
PC are Windows records no verdict reads: the diagnosis needs the restore and backup logs' own
rows, the rows inside the failed attempts' evidence windows, and a few kinds that the whole-PC
steps read anywhere (:data:`KEEP_KINDS`); the clock needs each file's anchors. So a PC whose
evidence is at least :func:`threshold` bytes is analysed like this (:func:`analyze`):

1. **Parse in groups.** Its files are parsed a group of about :data:`GROUP_BYTES` at a time (whole
   files, in order), and each group's rows are written as a part (an LZ4 Arrow IPC file in the
   run's private folder, :mod:`analyzer.spill`) and let go. A big restore log hands its rows over a
   segment at a time (:mod:`analyzer.sources._apple_segments`), and each segment is a part.
2. **Clock.** Each file's clock is decided (:func:`analyzer.clock.decide`) on a lean copy: a few
   columns, and only the rows the decision reads (its anchors and the first row of each clock:
   :func:`analyzer.clock.decision_rows`); each part's rows are put on UTC by those decisions when
   it is read back (:func:`analyzer.clock.to_utc`), as :func:`analyzer.clock.normalise` would.
3. **Parts in order, in stretches of time.** Each part is read back, given its UTC times, sorted
   and written again as one file per stretch of time (cut every :data:`BUCKET_ROWS` rows of the
   PC's times, from a sample taken on the way). What the PC's facts need of every row (formats,
   computer names, its time span) is taken on the way, with the rows the diagnosis keeps.
4. **Diagnosis.** The attempts come from the kept rows: of an attempt's own rows, those the whole-PC
   steps read (:data:`ATTEMPT_KINDS`, its span, its last stage rows), not a bench log's progress
   lines. The failed attempts are diagnosed a few at a time (``diagnose.WINDOW_BATCH``), each batch
   on the kept rows and the rows of the kinds a rule reads inside their windows, read from the
   stretches of time they reach. The facts run on the kept rows as on a whole PC's (a test holds the
   documents and rows of the samples, a bench log and the corpus equal both ways).

The PC's result holds :class:`analyzer.spill.PartedEvents`; the run reads its rows only when an
output asks for them (:class:`analyzer.spill.Tables`): a report that shows a few rows reads them
file by file (``Analysis.rows_where``), the outputs that write every row a stretch of time at a
time.

Measured (2-core machine, whole process): 505 MB of ``.evtx`` (473k records) 509 → 255 MB at
7.3 s instead of 5.9 s; 2 GB (1.89M records) 1,624 MB → 334 MB and 33.8 → 29.6 s; a 1 GB restore
log (12.5M lines, 191 attempts) 5.2 GB → 335 MB, 64 → 84 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import polars as pl

from .allocator import parts_threshold
from .backups import DEVICE_FORMATS, FOLDER_FORMATS, backup_history
from .clock import decide, decision_rows, to_utc
from .discover import Located
from .evidence_size import evidence_bytes
from .fleet import computers, factors
from .history import STAGE_KINDS
from .frames import compact, inside
from .model import FileReport
from .sources import Segments
from .sources._backup_folder import payload_root
from .spill import PartedEvents, SpilledEvents, reached, read_part, spilled_part

#: Files are parsed together, and their rows written as one part, about this many bytes at a time.
GROUP_BYTES = 64 << 20

#: A PC's rows are written in stretches of time of about this many rows (what an output that reads
#: them in order holds at a time), cut at every SAMPLE-th time's quantiles.
BUCKET_ROWS = 50_000
SAMPLE = 64
#: Parts put in order at once (each held with its working set while it is).
FINISH_THREADS = 2

#: Kinds a whole-PC step reads outside the evidence windows: the fleet factors (driver versions,
#: security products), the backups' sizes and the free space, a hosts file's entries.
KEEP_KINDS = ("driver_install", "driver_load", "driver_failure", "security_product", "backup_info",
              "disk_space", "hosts_entry", "session_start", "device_identity")
#: A restore attempt's own rows that the whole-PC steps read (the attempts table, the transitions, the
#: device history: with its rows that name an ECID or an operation, its first and last rows in time and
#: its last stage rows, :func:`_kept_in_part`). Its other rows (a bench log's progress lines, nearly
#: all of it) are read back only inside a failed attempt's window, of the kinds a rule reads.
ATTEMPT_KINDS = ("result", "session_start", "device_identity", "device_connect", "device_disconnect")
#: Formats whose rows are all kept: the backup folders' and the device's, which the backup history reads.
KEEP_FORMATS = tuple(FOLDER_FORMATS) + tuple(DEVICE_FORMATS)

#: The column a part's kept rows are marked in while it is put in order.
_KEEP = "_kept"
#: The columns the clock's decisions read (:func:`analyzer.clock.decide`).
LEAN_COLUMNS = ("host", "file", "format", "clock", "ts_wall", "ts_utc", "kind")


def big(paths: list[Path]) -> bool:
    """Whether a PC of these files is analysed in parts: their weight (what reading them whole would
    hold, :func:`analyzer.evidence_size.evidence_bytes`) is :func:`threshold` or more."""
    return evidence_bytes(paths) >= threshold()


def threshold() -> int:
    """The evidence weight from which a PC is analysed in parts (:data:`analyzer.allocator.PARTS_BYTES`,
    or the environment's)."""
    return parts_threshold()


class Outcome(NamedTuple):
    """What :func:`analyze` gives back for the PC's result."""

    events: PartedEvents
    table: pl.DataFrame  # the rows the diagnosis reads wherever they are, in the run's order
    kept: dict[str, pl.Series]  # each stretch file's rows that are in ``table``
    formats: set[str]
    computers: dict[str, list[str]]
    span: pl.DataFrame  # the PC's first and last UTC time (host, ts_utc): what a reported symptom is placed in


def groups(slots: list, size: Callable[[object], int], together: Callable[[object], object | None],
           limit: int | None = None) -> list[list]:
    """``slots`` cut, in order, into groups of whole slots of about ``limit`` (:data:`GROUP_BYTES`)
    bytes. Slots with the same ``together`` key (a backup folder's payload files, counted in one
    report: :func:`analyzer.ingest.parse_all`) go to the group of the first of them, and weigh nothing
    (they are not read)."""
    limit = GROUP_BYTES if limit is None else limit
    out: list[list] = [[]]
    total = 0
    home: dict[object, list] = {}
    for slot in slots:
        key = together(slot)
        if key is not None and key in home:
            home[key].append(slot)
            continue
        if out[-1] and total >= limit:
            out.append([])
            total = 0
        out[-1].append(slot)
        if key is not None:
            home[key] = out[-1]
        else:
            total += size(slot)
    return out


def _slot_size(slot) -> int:
    """A file's size (0 for a slot that is a report already, or a file that cannot be sized)."""
    try:
        return Path(slot.path).stat().st_size if isinstance(slot, Located) else 0
    except OSError:
        return 0


def _payload_root(slot) -> Path | None:
    return payload_root(slot.path) if isinstance(slot, Located) else None


def _lean(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of a piece the clock's decisions read (:func:`analyzer.clock.decision_rows`), in the
    columns it reads."""
    return compact(frame.select(*LEAN_COLUMNS).filter(decision_rows()))


def _kept() -> pl.Expr:
    """The rows the diagnosis and the facts read wherever they are, whatever is around them (see
    KEEP_KINDS and ATTEMPT_KINDS)."""
    kind = pl.col("kind").cast(pl.String)
    own = kind.is_in(list(ATTEMPT_KINDS)) | pl.col("ecid").is_not_null() | pl.col("operation").is_not_null()
    # (an attempt's rows without a time are read back by its key, parts.windows: a repair tool's log
    # has no date, and keeping them all held every row of a 2M-line one)
    return ((pl.col("attempt").is_not_null() & own) | (pl.col("ts_utc").is_null() & pl.col("attempt").is_null())
            | kind.is_in(list(KEEP_KINDS)) | pl.col("format").is_in(list(KEEP_FORMATS)))


def _kept_in_part() -> pl.Expr:
    """:func:`_kept`, and of each attempt (a run of one file's attempt, in the part's order, which
    is its lines'): its first and last rows in time (its span: correlate.attempts) and in the part
    (so that an attempt with no time still has a row in the attempts table), and the last of its
    stage rows before each result and at its end (the step it failed at: history._stages)."""
    attempt, ts = pl.col("attempt"), pl.col("ts_utc")
    run = (pl.col("file").ne_missing(pl.col("file").shift(1)) | attempt.ne_missing(attempt.shift(1))).cum_sum()
    # (one row at each end: a long attempt's lines may share one time, and ties would keep them all)
    at = pl.int_range(pl.len()).over(run)
    ends = attempt.is_not_null() & ((at == ts.arg_min().over(run)) | (at == ts.arg_max().over(run))
                                    | (at == 0) | (at == pl.len().over(run) - 1)).fill_null(False)
    kind = pl.col("kind").cast(pl.String)
    stage = attempt.is_not_null() & kind.is_in(list(STAGE_KINDS)) & pl.col("subject").is_not_null()
    marker = pl.when(stage).then(run * 2).when(kind == "result").then(run * 2 + 1)
    last_stage = stage & marker.shift(-1).backward_fill().ne_missing(run * 2)
    return _kept() | ends | last_stage


def _pieces(frames: list) -> Iterator[pl.DataFrame]:
    """A group's rows as the frames to write as parts, in order: its files' frames together, and
    each segment of a file handed over a segment at a time (:class:`analyzer.sources.Segments`: a
    big restore log) as a part of its own."""
    held: list[pl.DataFrame] = []
    for frame in frames:
        if not isinstance(frame, Segments):
            held.append(frame)
            continue
        if held:
            yield pl.concat(held, how="vertical")
            held.clear()
        for segment in frame:
            if segment.height:
                yield segment
            del segment  # (not held while the next one is made)
    if held:
        yield pl.concat(held, how="vertical")


def analyze(slots: list, parse: Callable[[list], tuple[list[FileReport], list]], folder: str, *,
            tz: str | None, date, tz_force: bool, order: Callable[[pl.DataFrame], None]
            ) -> tuple[list[FileReport], Outcome | None]:
    """Parse ``slots`` in groups into parts in ``folder``, put them on the UTC clock, in order and in
    stretches of time (``order`` sorts a frame in place); None for the outcome when no file gave
    rows. ``parse`` gives a group's reports and frames, a big file's as :class:`Segments`. The
    caller then diagnoses :attr:`Outcome.table` (:func:`windows` adds the failed attempts' windows)."""
    reports: list[FileReport] = []
    raw: list[SpilledEvents] = []
    leans: list[pl.DataFrame] = []
    sample: list[pl.DataFrame] = []  # every SAMPLE-th row's time: where the stretches are cut
    rows = 0
    for group in groups(slots, _slot_size, _payload_root):
        got, frames = parse(group)
        reports.extend(got)  # (a segmented file's report is complete once its last segment is read)
        for frame in _pieces(frames):
            leans.append(_lean(frame))
            sample.append(compact(frame.select(*LEAN_COLUMNS).gather_every(SAMPLE)))
            raw.append(spilled_part(frame, folder))
            rows += frame.height
            del frame
        del frames
    if not raw:
        return reports, None
    lean = pl.concat(leans, how="vertical")
    del leans
    decisions = decide(lean, reports, tz=tz, date=date, tz_force=tz_force)
    del lean
    times = [to_utc(frame, decisions) for frame in sample]
    cuts = _cuts(pl.concat(times).drop_nulls().sort())
    del sample, times

    def finish(part: SpilledEvents) -> _Finished:
        frame = read_part(part, remove=True)
        frame = frame.with_columns(to_utc(frame, decisions))
        frame = frame.with_columns(_kept_in_part().alias(_KEEP))  # (in the part's order: its lines')
        order(frame)
        keep = frame.get_column(_KEEP)
        frame = frame.drop(_KEEP)
        times = frame.select("host", "ts_utc").drop_nulls()
        kept = frame if keep.all() else compact(frame.filter(keep))
        return _Finished(_stretches(frame, cuts, folder, keep), kept,
                         set(frame.get_column("format").drop_nulls().unique().to_list()), _first_names(frame),
                         times.select(pl.all().min()).vstack(times.select(pl.all().max())) if times.height else None)

    # two parts at a time: reading, sorting and writing a part is mostly polars work without the GIL
    with ThreadPoolExecutor(max_workers=FINISH_THREADS) as pool:
        done = list(pool.map(finish, raw))
    table = pl.concat([d.kept for d in done], how="vertical")
    order(table)
    spans = [d.span for d in done if d.span is not None]
    stretches = [(j, d.files[j]) for d in done for j in range(len(cuts) + 2) if d.files[j] is not None]
    buckets = tuple(tuple(st.file for k, st in stretches if k == j) for j in range(len(cuts) + 2))
    return reports, Outcome(PartedEvents(buckets, tuple(cuts), rows), table, {st.file.path: st.kept for _, st in stretches},
                            set().union(*(d.formats for d in done)), computers(_in_first_order([d.names for d in done])),
                            pl.concat(spans, how="vertical") if spans else
                            pl.DataFrame(schema={"host": pl.String, "ts_utc": pl.Datetime("us", "UTC")}))


def _cuts(times: pl.Series) -> list:
    """Where the PC's time is cut into stretches of about BUCKET_ROWS rows, from a sorted sample of
    every SAMPLE-th time."""
    return pl.Series(times.gather_every(max(1, BUCKET_ROWS // SAMPLE)).slice(1)).unique(maintain_order=True).to_list()


def _stretches(frame: pl.DataFrame, cuts: list, folder: str, keep: pl.Series) -> list[_Stretch | None]:
    """A sorted part written as one file per stretch of time (None where it has no rows): before the
    first cut, between each two, after the last, and without a time; each with which of its rows
    are kept in memory (``keep``, the part's)."""
    times = frame.get_column("ts_utc")
    dated = times.len() - times.null_count()  # (sorted, nulls last)
    at = times.head(dated).search_sorted(pl.Series(cuts, dtype=times.dtype), side="left").to_list() if cuts else []
    bounds = [0, *at, dated, frame.height]
    # each stretch in buffers of its own: a slice of a text column writes the texts of the whole part
    return [_Stretch(spilled_part(compact(frame.slice(a, b - a)), folder), keep.slice(a, b - a)) if b > a else None
            for a, b in zip(bounds, bounds[1:])]


class _Stretch(NamedTuple):
    """A stretch of a part as a file, and which of its rows the diagnosis holds already."""

    file: SpilledEvents
    kept: pl.Series


class _Finished(NamedTuple):
    """A part on the UTC clock, in order and in stretches of time, and what was taken of it on the way."""

    files: list[_Stretch | None]
    kept: pl.DataFrame
    formats: set[str]
    names: pl.DataFrame
    span: pl.DataFrame | None


def _first_names(frame: pl.DataFrame) -> pl.DataFrame:
    """Each computer name of a sorted part with its first row's place in the run's order."""
    return (frame.filter(pl.col("computer").is_not_null() & (pl.col("computer") != ""))
            .group_by("host", "computer", maintain_order=True)
            .agg(pl.col("ts_utc", "file", "line", "record").first()))


def _in_first_order(names: list[pl.DataFrame]) -> pl.DataFrame:
    """The parts' computer names as the whole PC's sorted rows would first show them."""
    return (pl.concat(names, how="vertical").sort("host", "ts_utc", "file", "line", "record",
                                                  nulls_last=True, maintain_order=True)
            .select("host", "computer"))


def windows(outcome: Outcome, spans: pl.DataFrame, order: Callable[[pl.DataFrame], None],
            need=None, first=None) -> pl.DataFrame:
    """The rows to diagnose some incidents on: :attr:`Outcome.table` and the parts' rows that ``need``
    (a :class:`analyzer.window_need.WindowNeed`; None: every row) takes inside their evidence windows
    (``spans``: window_start, window_end) that it does not hold, read from the stretches of time the
    windows reach, and their attempts' own rows without a time (``spans`` has host, file, attempt).
    ``first`` (a :class:`analyzer.diagnose.FirstHits`), given each stretch's rows in time order, says
    which of them to keep: of a verbose attempt's million matches, those a verdict reads."""
    keys = spans.select("host", "file", "attempt").filter(pl.col("attempt").is_not_null()).unique()
    spans = spans.select("window_start", "window_end").drop_nulls()
    found = [outcome.table]
    cuts = list(outcome.events.cuts)
    for j, bucket in enumerate(outcome.events.buckets):
        timeless = j > len(cuts)
        if timeless and keys.height == 0 or not timeless and (spans.height == 0 or not reached(spans, cuts, j)):
            continue  # no window reaches this stretch of time
        stretch = []
        for part in bucket:
            frame = read_part(part)
            if timeless:
                wanted = ~outcome.kept[part.path] & _of(frame, keys)
            else:
                wanted = ~outcome.kept[part.path] & inside(frame.get_column("ts_utc"), spans)
            if need is not None:
                wanted = wanted & need.mask(frame)
            rows = frame.filter(wanted)
            if rows.height:  # (compacted once kept: what is kept of a column may point into all of it)
                stretch.append(rows if first is not None else compact(rows))
            del frame
        if stretch and first is not None:  # (the stretch's parts are files of the same stretch of time)
            rows = pl.concat(stretch, how="vertical")
            stretch = [compact(rows.filter(first(rows)))]
        found += stretch
    table = pl.concat(found, how="vertical")
    order(table)
    return table


def _of(frame: pl.DataFrame, keys: pl.DataFrame) -> pl.Series:
    """Which rows of ``frame`` are of the attempts ``keys`` (host, file, attempt)."""
    at = (frame.select("host", "file", "attempt").with_row_index("_i")
          .join(keys, on=["host", "file", "attempt"], how="semi", nulls_equal=True).get_column("_i"))
    return pl.repeat(False, frame.height, eager=True).scatter(at, True)


def tables_facts(tables, attempts: pl.DataFrame) -> tuple[dict, pl.DataFrame]:
    """What the reports need of a run's rows still on disk (:class:`analyzer.spill.Tables`): the
    facts and backups :func:`facts` gives, read a file at a time (a redacted copy's: analyzer.redact)."""
    names = [_first_names(frame) for _, frame in tables.each_frame()]
    table = tables.rows_where(_kept())  # (what the facts read: kinds and formats, not stretches of attempts)
    return ({"computers": computers(_in_first_order(names)), "factors": factors(table)},
            backup_history(table, attempts))


def facts(outcome: Outcome, attempts: pl.DataFrame) -> tuple[dict, pl.DataFrame]:
    """What the reports need of the PC's rows (:func:`analyzer.fleet.host_facts`, its backups), from
    the rows kept in memory (:attr:`Outcome.table`) and what the parts gave on the way."""
    return {"computers": outcome.computers, "factors": factors(outcome.table)}, backup_history(outcome.table, attempts)

