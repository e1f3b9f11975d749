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
removed when the run has its results; a file is removed as soon as it is read, and what a killed
run leaves is swept by the next (:mod:`analyzer.leftovers`). Small tables (most PCs of a fleet)
stay in the pickle: a file costs more than it saves below :data:`SPILL_ROWS`. Only the local
process pool uses this (a Ray worker may be on another machine).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import NamedTuple

import polars as pl

from . import leftovers

#: Tables of at least this many rows cross as a file.
SPILL_ROWS = 50_000
PREFIX = "analyzer-rows-"


class SpilledEvents(NamedTuple):
    """What a pickled result holds in place of its table: the file and its number of rows."""

    path: str
    rows: int


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
    try:
        events.write_ipc(path, compression="lz4")
    except OSError:
        path.unlink(missing_ok=True)
        return events
    return SpilledEvents(str(path), events.height)


def loaded(value: pl.DataFrame | SpilledEvents | None) -> pl.DataFrame | None:
    """The table back from :func:`spilled`; its file is removed once read."""
    if not isinstance(value, SpilledEvents):
        return value
    try:
        frame = pl.read_ipc(value.path)
    finally:
        Path(value.path).unlink(missing_ok=True)
    if frame.height != value.rows:
        raise ValueError(f"spilled rows: {frame.height} read back, {value.rows} written")
    return frame
