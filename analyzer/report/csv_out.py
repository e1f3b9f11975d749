"""The timeline as CSV (``--format csv`` on stdout, ``--csv PATH``), safe to open in a spreadsheet.

Why the quote prefix: log lines are attacker-reachable text (device names, URLs,
service names), and a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is run as a formula by Excel/LibreOffice/Sheets. Such text
cells get a leading ``'`` (the OWASP "CSV injection" advice); numbers are left
as numbers. Files written with ``--csv`` start with a UTF-8 byte-order mark so
that Excel shows Japanese text correctly; stdout has none, for pipelines.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .config_rows import time_note
from .fleet_rows import fleet_tables
from .flat import flat_events
from .write import atomic_write

#: Characters that make a spreadsheet treat a cell as a formula (or hide one behind whitespace).
FORMULA_LEAD = r"^[=+\-@\t\r]"


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix ``'`` to every text cell a spreadsheet would evaluate."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_LEAD)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text)


def to_csv(analysis) -> str:
    """The whole timeline, one row per event, header first; configuration rows (a hosts entry: no
    time of its own, so ``ts_utc`` empty) say so in the last column, ``time_note``."""
    return neutralise(flat_events(analysis.events).with_columns(time_note())).write_csv(null_value="")


def write_csv(analysis, path: Path) -> list[Path]:
    """The timeline at ``path``, and each fleet summary table beside it (``<stem>.fleet_hosts.csv`` …)."""
    atomic_write(path, ("\ufeff" + to_csv(analysis)).encode("utf-8"))
    written = [path]
    for table, rows in fleet_tables(analysis.fleet).items():
        side = path.with_name(f"{path.stem}.fleet_{table}.csv")
        text = neutralise(pl.DataFrame(rows, infer_schema_length=None)).write_csv(null_value="")
        atomic_write(side, ("\ufeff" + text).encode("utf-8"))
        written.append(side)
    return written
