"""The timeline as CSV (``--format csv`` on stdout, ``--csv PATH``), safe to open in a spreadsheet.

Why the quote prefix: log lines are attacker-reachable text (device names, URLs,
service names), and a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is run as a formula by Excel/LibreOffice/Sheets. Such text
cells get a leading ``'`` (the OWASP "CSV injection" advice); numbers are left
as numbers. Files written with ``--csv`` start with a UTF-8 byte-order mark so
that Excel shows Japanese text correctly; stdout has none, for pipelines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import polars as pl

from ..model import conform
from .config_rows import time_note
from .fleet_rows import fleet_tables
from .flat import flat_events
from .write import atomic_stream, atomic_write

#: Characters that make a spreadsheet treat a cell as a formula (or hide one behind whitespace).
FORMULA_LEAD = r"^[=+\-@\t\r]"


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix ``'`` to every text cell a spreadsheet would evaluate."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_LEAD)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text)


#: Events converted to text and written at a time: one batch's text is held, never the table's
#: (the whole 800k-line log's CSV held as text peaked at 1.1 GB, 2.5x the analysis).
BATCH_ROWS = 20_000


def csv_pieces(analysis) -> Iterator[str]:
    """The timeline, one row per event, header first, in pieces of BATCH_ROWS events;
    configuration rows (a hosts entry: no time of its own, so ``ts_utc`` empty) say so in the
    last column, ``time_note``."""
    header = True
    for events in analysis.event_frames():  # (one PC at a time while their rows are files)
        for start in range(0, events.height, BATCH_ROWS):
            rows = neutralise(flat_events(events.slice(start, BATCH_ROWS)).with_columns(time_note()))
            yield rows.write_csv(null_value="", include_header=header)
            header = False
        del events  # (before the next PC's table is read)
    if header:  # no rows: the header alone
        yield neutralise(flat_events(conform(None)).with_columns(time_note())).write_csv(null_value="")


def to_csv(analysis) -> str:
    """The whole timeline as one text (:func:`csv_pieces`)."""
    return "".join(csv_pieces(analysis))


def write_text(analysis, out: TextIO) -> None:
    """The timeline written to ``out`` (stdout) piece by piece."""
    for piece in csv_pieces(analysis):
        out.write(piece)


def write_csv(analysis, path: Path) -> list[Path]:
    """The timeline at ``path``, and each fleet summary table beside it (``<stem>.fleet_hosts.csv`` …)."""
    with atomic_stream(path) as handle:
        handle.write("\ufeff".encode("utf-8"))
        for piece in csv_pieces(analysis):
            handle.write(piece.encode("utf-8"))
    written = [path]
    for table, rows in fleet_tables(analysis.fleet).items():
        side = path.with_name(f"{path.stem}.fleet_{table}.csv")
        text = neutralise(pl.DataFrame(rows, infer_schema_length=None)).write_csv(null_value="")
        atomic_write(side, ("\ufeff" + text).encode("utf-8"))
        written.append(side)
    return written
