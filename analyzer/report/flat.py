"""The event table as flat text-friendly columns, shared by the CSV and Timesketch outputs.

Why a shared step: both outputs promise the same column names and the same time
format (ISO-8601 UTC with a ``Z``, milliseconds like the JSON document), so a
reviewer can join a CSV row, a Timesketch event and a JSON evidence item by
``file`` + ``line``/``record`` and compare their times as text.
"""

from __future__ import annotations

import polars as pl

from ..model import EVENT_COLUMNS

#: Timeline columns first, in the order a reviewer reads them; the rest keep the schema order.
LEAD = ("host", "ts_utc", "kind", "file", "line", "record", "attempt", "error_code", "expected",
        "subject", "message")
COLUMNS = LEAD + tuple(c for c in EVENT_COLUMNS if c not in LEAD)

ISO_UTC = "%Y-%m-%dT%H:%M:%S%.3fZ"
ISO_WALL = "%Y-%m-%dT%H:%M:%S%.3f"


def flat_events(events: pl.DataFrame) -> pl.DataFrame:
    """Every event column, times as ISO text and enums as plain strings (no nested values)."""
    return events.select(
        [pl.col("ts_utc").dt.convert_time_zone("UTC").dt.strftime(ISO_UTC).alias("ts_utc")
         if c == "ts_utc" else
         pl.col("ts_wall").dt.strftime(ISO_WALL).alias("ts_wall") if c == "ts_wall" else
         pl.col(c).cast(pl.String) if c in ("kind", "clock") else pl.col(c)
         for c in COLUMNS])
