"""Configuration found on a PC (a hosts-file line redirecting an Apple host), for the timelines.

Why apart from the timeline: such a row has no time of its own (``ts_utc`` null; it is true before
and after every incident, :data:`analyzer.correlate.TIMELESS_CONFIG_KINDS`), so placing it on a time
axis would invent a time. The terminal and the HTML page show these rows in a "configuration" block
above each attempt's timeline, with file and line, and the CSV marks them in a column of their own;
the rules already read them and the verdict cites them like any evidence.
"""

from __future__ import annotations

import json

import polars as pl

from ..correlate import TIMELESS_CONFIG_KINDS
from .i18n import Catalogue

#: Where a hosts entry points (the hosts_file source's ``detail.target``) → its words' key.
TARGETS = ("loopback", "unspecified", "apple", "private", "public")


def config_rows(analysis, host: str | None) -> list[dict]:
    """The PC's timeless configuration rows, in file and line order (read without the other rows
    while the PCs' tables are files: ``Analysis.rows_where``)."""
    where = pl.col("ts_utc").is_null() & pl.col("attempt").is_null() & pl.col("kind").cast(pl.String).is_in(TIMELESS_CONFIG_KINDS)
    return analysis.rows_where(where, host).sort("file", "line", nulls_last=True).to_dicts()


def entry_words(row: dict, cat: Catalogue) -> str:
    """``gs.apple.com → 74.208.105.171 (a public address; on the signing path)`` in the run's language."""
    try:
        detail = json.loads(row.get("detail") or "{}")
    except ValueError:
        detail = {}
    text = cat.text("config.entry", name=row.get("subject") or "?", address=detail.get("address", "?"))
    notes = []
    if detail.get("target") in TARGETS:
        notes.append(cat[f"config.target_{detail['target']}"])
    if detail.get("signing"):
        notes.append(cat["config.signing"])
    return f"{text} ({cat['config.sep'].join(notes)})" if notes else text


#: The CSV's marker for such rows (a stable value, like the column names, whatever ``--lang`` says).
UNTIMED = "configuration, no time of its own"


def time_note() -> pl.Expr:
    """The CSV's ``time_note`` column: :data:`UNTIMED` on configuration rows, empty elsewhere."""
    config = pl.col("ts_utc").is_null() & pl.col("attempt").is_null() & pl.col("kind").cast(pl.String).is_in(TIMELESS_CONFIG_KINDS)
    return pl.when(config).then(pl.lit(UNTIMED)).otherwise(pl.lit(None, dtype=pl.String)).alias("time_note")
