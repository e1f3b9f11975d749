"""A PC's event table crossing a process boundary as a file, not inside the pickle.

Why: a worker process hands its PC's result back to the run by pickling it. A polars table pickles
as an Arrow IPC byte string built in memory, which the pipe copies and the parent decodes: for an
800k-line log (379 MB of rows) 1.3 s to pickle, 0.85 s to unpickle, and the byte string held
beside the table on both sides. Written as an Arrow IPC file in the run's private folder instead
and read back by the parent, the pickle holds only the file's name. The file is LZ4-compressed:
uncompressed, a text column's views write the shared buffers they point into whole (379 MB, read
back as 379 MB of rows); compressed, 41 MB, written in 0.25 s, read back in 0.27 s as a compact
table (two 800k-line PCs: 1.24 GB peak uncompressed, 0.90 GB compressed).

The folder is made per run (:func:`run_folder`, private and locked, like unpacked archives) and
removed when no file came back, else when the PCs' rows are read (:meth:`Tables.load`) or the
analysis is let go; what a killed run leaves is swept by the next (:mod:`analyzer.leftovers`). Small tables (most PCs of a fleet)
stay in the pickle: a file costs more than it saves below :data:`SPILL_ROWS`. Only the local
process pool uses this (a Ray worker may be on another machine).

The run does not read the files back until something asks for rows (:class:`Tables`): the JSON
document and the fleet's terminal report need each PC's row count, fleet factors and backups,
which the worker computes beside its table, and the outputs that write every row read one PC's
table at a time. So a fleet of big PCs is summarised without holding their rows: two 800k-line
PCs peaked at 901 MB with their tables read back, and now at 475 MB (the worker's own peak) for
``--format json``, the fleet's terminal report, ``--csv`` and ``--timesketch``. A report that
shows rows reads them a file at a time and keeps what it shows: the timelines of ``--details``,
``--host`` and HTML fold each attempt's window into its first rows and the chart's marks
(:meth:`Tables.near_pieces`, :mod:`analyzer.report.shown_rows`), device activity and configuration
are the rows a predicate holds for (:meth:`Tables.rows_where`), and an output that writes every row
(Parquet, CSV, ``--redact``'s copy) writes one PC, or one stretch of its time, at a time.
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import polars as pl

from . import leftovers
from .correlate import CONNECTION_KINDS
from .frames import compact, inside
from .model import conform

#: Tables of at least this many rows cross as a file.
SPILL_ROWS = 50_000
PREFIX = "analyzer-rows-"


class SpilledEvents(NamedTuple):
    """What a pickled result holds in place of its table: the file, its number of rows, the table's
    columns in order with their types, and the columns that hold one value (or none) on every row,
    which are not in the file (a restore log's rows leave a dozen columns empty)."""

    path: str
    rows: int
    schema: tuple[tuple[str, pl.DataType], ...] = ()
    constant: tuple[tuple[str, object], ...] = ()


def run_folder(optional: bool = False) -> Path | None:
    """A private folder for one run's spilled tables (folders of killed runs are removed first). If
    ``optional``, None when the temporary folder cannot hold one: the rows then stay in memory."""
    leftovers.sweep_dirs(PREFIX)
    try:
        return leftovers.held_dir(PREFIX)
    except OSError:
        if optional:
            return None
        raise


def release(folder: Path | None) -> None:
    """Remove the run's folder and whatever is left in it (results of workers that died)."""
    if folder is not None:
        leftovers.release_dir(folder)


def spilled(events, folder: str | None):
    """``events`` (a PC's table, in the run's order) written to files in ``folder`` when it is a big
    table, a stretch of its time of about SPILL_ROWS rows each (:class:`PartedEvents`), else as it is
    (also when a file cannot be written: the pickle then carries the table, as without a folder; and
    a PC already in parts). In stretches, a report that shows a few of its rows reads only the files
    those rows are in (two 800k-line PCs with ``--details``: one file each read whole, 1.0 GB)."""
    if folder is None or not isinstance(events, pl.DataFrame) or events.height < SPILL_ROWS:
        return events
    times = events.get_column("ts_utc")
    dated = times.len() - times.null_count()  # (in the run's order: a PC's times sorted, nulls last)
    cuts = times.head(dated).gather_every(SPILL_ROWS).slice(1).unique(maintain_order=True)
    bounds = [0, *times.head(dated).search_sorted(cuts, side="left").to_list(), dated, events.height]
    try:
        # each stretch in buffers of its own: a slice of a text column writes the texts of the whole table
        buckets = tuple((spilled_part(compact(events.slice(a, b - a)), folder),) if b > a else ()
                        for a, b in zip(bounds, bounds[1:]))
    except OSError:
        return events
    return PartedEvents(buckets, tuple(cuts.to_list()), events.height)


def spilled_part(events: pl.DataFrame, folder: str) -> SpilledEvents:
    """``events`` written to a new file in ``folder`` (raises OSError when it cannot be, leaving none)."""
    path = Path(folder) / f"{uuid.uuid4().hex}.arrow"
    one = list(events.select(pl.all().eq_missing(pl.all().first()).all()).row(0)) if events.height else []
    one[:1] = [False] * len(one[:1])  # (the file keeps a column, so that it knows its rows)
    constant = tuple((name, events.get_column(name)[0]) for name, same in zip(events.columns, one) if same)
    try:
        events.drop([name for name, _ in constant]).write_ipc(path, compression="lz4")
    except OSError:
        path.unlink(missing_ok=True)
        raise
    return SpilledEvents(str(path), events.height, tuple(events.schema.items()), constant)


def reached(spans: pl.DataFrame, cuts: tuple | list, j: int) -> bool:
    """Whether one of ``spans`` (window_start, window_end) reaches stretch ``j`` of a PC in parts (its
    rows in ``[cuts[j - 1], cuts[j])``); the last, the rows without a time, is reached by any."""
    if j > len(cuts):
        return True
    reach = pl.lit(True)
    if j < len(cuts):
        reach = reach & (pl.col("window_start") < cuts[j])
    if j:
        reach = reach & (pl.col("window_end") >= cuts[j - 1])
    return bool(spans.select(reach.any()).item())


class PartedEvents(NamedTuple):
    """A PC analysed in parts (:mod:`analyzer.parts`): its table as files, by stretch of time.

    ``buckets[j]`` holds the rows whose time is in ``[cuts[j - 1], cuts[j])`` (the first from the
    earliest, the one after the last cut up to the latest), and a last bucket the rows without a
    time; each bucket's files are in the order of the PC's parts and each file is in the run's order,
    so a bucket read and put in order is that stretch of the PC in order."""

    buckets: tuple[tuple[SpilledEvents, ...], ...]
    cuts: tuple
    rows: int

    @property
    def files(self) -> list[SpilledEvents]:
        return [piece for bucket in self.buckets for piece in bucket]


def read_part(value: SpilledEvents, remove: bool = False) -> pl.DataFrame:
    """The table of one spilled file; the file removed once read if ``remove``."""
    try:
        return _read(value)
    finally:
        if remove:
            Path(value.path).unlink(missing_ok=True)


def _read(value: SpilledEvents, columns: Iterable[str] | None = None) -> pl.DataFrame:
    """The table of a spilled file (only ``columns``, in its order, if given: the others are not
    decoded), its one-value columns put back as such (a column polars keeps as one value costs
    nothing; read from a file it would be a value per row: 800k rows, 136 MB)."""
    types = dict(value.schema)
    named = None if columns is None else set(columns)
    wanted = list(types) if named is None else [name for name in types if name in named]
    constant = dict(value.constant)
    # (the file always stores its first column: what it is read by when every wanted one is constant)
    stored = [name for name in wanted if name not in constant] or [next(n for n in types if n not in constant)]
    frame = pl.read_ipc(value.path, columns=stored)
    if frame.height != value.rows:
        raise ValueError(f"spilled rows: {frame.height} read back, {value.rows} written")
    return frame.with_columns(pl.lit(constant[name], dtype=types[name]).alias(name)
                              for name in wanted if name in constant).select(wanted)


def merged(parted: PartedEvents, order: Callable[[pl.DataFrame], pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """A PC's rows from its parts in the run's order, a stretch of time (:attr:`PartedEvents.buckets`)
    at a time: each stretch's files read, put in order and given. Reading the parts whole held the
    PC (2 GB of event logs: 1.6 GB)."""
    for bucket in parted.buckets:
        if bucket:
            yield order(pl.concat([_read(piece) for piece in bucket], how="vertical"))


def loaded(value):
    """The table back from :func:`spilled` (or a PC's parts one after another); files removed once read."""
    if isinstance(value, PartedEvents):
        return pl.concat([read_part(part, remove=True) for part in value.files], how="vertical")
    if not isinstance(value, SpilledEvents):
        return value
    return read_part(value, remove=True)


def rows(value) -> int:
    """How many rows a table, a spilled file or a PC's parts hold."""
    return value.rows if isinstance(value, (SpilledEvents, PartedEvents)) else value.height


#: The columns the run's order sorts on (analyzer.pipeline.EVENT_ORDER).
ORDER_KEYS = ("host", "ts_utc", "file", "line", "record")


class Tables:
    """A run's PC tables, the big ones still files: one table (:meth:`load`) when rows are asked for.

    The PCs are kept in the run's order (by host; ``arranged``: already so), each PC's rows in
    order, so the run's rows in order are the PCs' one after another. The files' folder is the
    run's; it goes when the tables are loaded, or when this object is garbage-collected or the
    process ends, whichever comes first."""

    def __init__(self, parts: list[tuple[str, pl.DataFrame | SpilledEvents | PartedEvents]], folder: Path | None,
                 order: Callable[[pl.DataFrame], pl.DataFrame], arranged: bool = False):
        # (host, its table or file or parts), one per PC
        self.parts = list(parts) if arranged else sorted(parts, key=lambda hp: hp[0])
        self.rows = sum(rows(p) for _, p in self.parts)
        self._order = order
        self._folder = folder
        self._release = weakref.finalize(self, release, folder) if folder is not None else None

    def load(self) -> pl.DataFrame:
        """The PCs' rows as one table, in the run's order (each file read once and removed)."""
        frames = [self._order(loaded(part)) for _, part in self.parts]
        self.parts = []
        if self._release is not None:
            self._release()
        return pl.concat(frames, how="vertical") if frames else conform(None)

    def each_frame(self, spans: pl.DataFrame | None = None, hosts: set[str] | None = None
                   ) -> Iterator[tuple[str, pl.DataFrame]]:
        """Every file (or table) of every PC (of ``hosts``, if given) with its host, one at a time,
        files left as they are; of a PC in parts, with ``spans`` (host, window_start, window_end),
        only the stretches of time one of its spans reaches and its rows without a time."""
        for host, piece in self._pieces(spans, hosts):
            yield host, (_read(piece) if isinstance(piece, SpilledEvents) else piece)

    def _pieces(self, spans: pl.DataFrame | None = None, hosts: set[str] | None = None
                ) -> Iterator[tuple[str, pl.DataFrame | SpilledEvents]]:
        """:meth:`each_frame`'s files (or tables), not read. (``hosts``: a report of some PCs of a
        fleet of 2,000 read every PC's files once per PC it showed.)"""
        for host, part in self.parts:
            if hosts is not None and host not in hosts:
                continue
            if not isinstance(part, PartedEvents):
                yield host, part
                continue
            mine = None if spans is None else spans.filter(pl.col("host") == host)
            for j, bucket in enumerate(part.buckets):
                if mine is None or reached(mine, part.cuts, j):
                    yield from ((host, piece) for piece in bucket)

    def rows_where(self, predicate: pl.Expr, host: str | None = None) -> pl.DataFrame:
        """The PCs' rows (``host``'s only, if given) where ``predicate`` holds, in the run's order,
        read a file at a time and left as files: what a report that shows a few rows of each PC reads
        (a PC of 2 GB of event logs, read whole for its device activity, held 1.6 GB)."""
        names = predicate.meta.root_names() or None  # (None: every column, for a predicate that names none)
        out: dict[str, list[pl.DataFrame]] = {}
        for name, piece in self._pieces(hosts=None if host is None else {host}):
            if isinstance(piece, SpilledEvents):
                # a file's predicate columns first: the whole file is read only where a row holds (a
                # bench log's stretches hold no device activity and no configuration)
                mask = _read(piece, names).select(predicate).to_series()
                rows = _read(piece).filter(mask) if mask.any() else None
            else:
                rows = piece.filter(predicate)
            if rows is not None and rows.height:
                out.setdefault(name, []).append(compact(rows))
        frames = [self._order(pl.concat(found, how="vertical")) for found in out.values()]
        return pl.concat(frames, how="vertical") if frames else conform(None)

    def near_pieces(self, attempts: pl.DataFrame, kinds: Iterable[str] | None = None,
                    columns: list[str] | None = None, margin: dt.timedelta = dt.timedelta(0)) -> Iterator[pl.DataFrame]:
        """The rows the timelines of ``attempts`` may show (:func:`analyzer.correlate.window_rows`), a
        file at a time, each in the run's order: each attempt's own rows and its PC's rows outside an
        attempt inside its evidence window (each file is a PC's rows in order: a binary search per
        window), of ``kinds`` and progress only (and only ``columns``, with the run's order's). Every
        attempt's connects and disconnects come too, from the stretches of time the windows widened
        by ``margin`` reach: they pair the PC's arrivals and removals
        (:func:`analyzer.correlate.transition_side`). A report folds the pieces into what it shows
        (:mod:`analyzer.report.shown_rows`): a bench attempt's window holds a million rows."""
        spans = attempts.select("host", "window_start", "window_end").drop_nulls()
        own = attempts.filter(pl.col("file").is_not_null()).select(
            "host", pl.concat_str("file", pl.col("attempt").cast(pl.String), separator="\x1f").alias("key"))
        kind = pl.col("kind").cast(pl.String)
        shown = pl.lit(True) if kinds is None else kind.is_in(list(kinds)) | (kind == "progress")
        paired = pl.col("attempt").is_not_null() & kind.is_in(list(CONNECTION_KINDS))
        reach = spans.select("host", pl.col("window_start") - margin, pl.col("window_end") + margin)
        for host, frame in self.each_frame(reach, set(attempts.get_column("host").to_list())):
            keys = own.filter(pl.col("host") == host).get_column("key")
            mine = pl.col("attempt").is_not_null() & pl.concat_str(
                "file", pl.col("attempt").cast(pl.String), separator="\x1f").is_in(keys.implode())
            near = pl.col("attempt").is_null() & inside(frame.get_column("ts_utc"), spans.filter(pl.col("host") == host))
            rows = frame.filter(((mine | near) & shown) | paired)
            del frame
            if rows.height:
                yield rows if columns is None else rows.select(list(dict.fromkeys([*ORDER_KEYS, *columns])))

    def mapped(self, change: Callable[[pl.DataFrame], pl.DataFrame], host: Callable[[str], str]) -> Tables:
        """A copy with ``change`` applied to every file's rows (which keeps their order) and ``host``
        to every PC's name, written to a folder of its own (this one is left as it was): a redacted
        run's rows, a file at a time. The PCs keep their order, whatever their new names."""
        folder = run_folder()
        try:
            parts = []
            for name, part in self.parts:
                if isinstance(part, PartedEvents):
                    buckets = tuple(tuple(spilled_part(change(_read(p)), str(folder)) for p in bucket)
                                    for bucket in part.buckets)
                    parts.append((host(name), PartedEvents(buckets, part.cuts, part.rows)))
                elif isinstance(part, SpilledEvents):
                    parts.append((host(name), spilled_part(change(_read(part)), str(folder))))
                else:
                    parts.append((host(name), change(part)))
        except BaseException:
            release(folder)
            raise
        return Tables(parts, folder, self._order, arranged=True)

    def frames(self) -> Iterator[pl.DataFrame]:
        """The PCs' tables one at a time, in the run's order (a PC in parts a stretch of its time at a
        time, :func:`merged`), files read and left for :meth:`load`: what an output that writes every
        row in pieces reads, so that only one PC's rows (or one stretch of them) are held at a time."""
        for _, part in self.parts:
            if isinstance(part, PartedEvents):  # a stretch of time at a time
                yield from merged(part, self._order)
            else:
                yield _read(part) if isinstance(part, SpilledEvents) else part
