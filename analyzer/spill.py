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
shows rows (``--details``, ``--host``, HTML, Parquet, ``--redact``) reads them all.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import polars as pl

from . import leftovers

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


def run_folder() -> Path:
    """A private folder for one run's spilled tables (folders of killed runs are removed first)."""
    leftovers.sweep_dirs(PREFIX)
    return leftovers.held_dir(PREFIX)


def release(folder: Path | None) -> None:
    """Remove the run's folder and whatever is left in it (results of workers that died)."""
    if folder is not None:
        leftovers.release_dir(folder)


def spilled(events: pl.DataFrame | None, folder: str | None) -> pl.DataFrame | SpilledEvents | None:
    """``events`` written to a file in ``folder`` when it is big, else as it is (also when the
    file cannot be written: the pickle then carries the table, as without a folder)."""
    if folder is None or events is None or events.height < SPILL_ROWS:
        return events
    path = Path(folder) / f"{uuid.uuid4().hex}.arrow"
    one = events.select(pl.all().eq_missing(pl.all().first()).all()).row(0)
    constant = tuple((name, events.get_column(name)[0]) for name, same in zip(events.columns, one) if same)
    try:
        events.drop([name for name, _ in constant]).write_ipc(path, compression="lz4")
    except OSError:
        path.unlink(missing_ok=True)
        return events
    return SpilledEvents(str(path), events.height, tuple(events.schema.items()), constant)


def _read(value: SpilledEvents) -> pl.DataFrame:
    """The table of a spilled file, its one-value columns put back as such (a column polars keeps
    as one value costs nothing; read from a file it would be a value per row: 800k rows, 136 MB)."""
    frame = pl.read_ipc(value.path)
    if frame.height != value.rows:
        raise ValueError(f"spilled rows: {frame.height} read back, {value.rows} written")
    types = dict(value.schema)
    return frame.with_columns(pl.lit(v, dtype=types[name]).alias(name) for name, v in value.constant).select(list(types))


def loaded(value: pl.DataFrame | SpilledEvents | None) -> pl.DataFrame | None:
    """The table back from :func:`spilled`; its file is removed once read."""
    if not isinstance(value, SpilledEvents):
        return value
    try:
        return _read(value)
    finally:
        Path(value.path).unlink(missing_ok=True)


class Tables:
    """A run's PC tables, the big ones still files: one table (:meth:`load`) when rows are asked for.

    The files' folder is the run's; it goes when the tables are loaded, or when this object is
    garbage-collected or the process ends, whichever comes first."""

    def __init__(self, parts: list[tuple[str, pl.DataFrame | SpilledEvents]], folder: Path | None,
                 order: Callable[[pl.DataFrame], pl.DataFrame]):
        self.parts = parts  # (host, its table or file), one per PC, each in the run's order
        self.rows = sum(p.rows if isinstance(p, SpilledEvents) else p.height for _, p in parts)
        self._order = order
        self._release = weakref.finalize(self, release, folder) if folder is not None else None

    def load(self) -> pl.DataFrame:
        """The PCs' rows as one table, in the parts' order put in the run's order (each file read
        once and removed)."""
        frames = [loaded(part) for _, part in self.parts]
        self.parts = []
        if self._release is not None:
            self._release()
        return self._order(pl.concat(frames, how="vertical"))

    def frames(self) -> Iterator[pl.DataFrame]:
        """The PCs' tables one at a time, in the run's order (by host: each PC's own table is in
        order), files read and left for :meth:`load`: what an output that writes every row in
        pieces reads, so that only one PC's rows are held at a time."""
        for _, part in sorted(self.parts, key=lambda hp: hp[0]):
            yield _read(part) if isinstance(part, SpilledEvents) else part

