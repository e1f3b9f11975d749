"""Which arrivals and removals a timeline marks unexpected: exactly the ones the verdict counts.

One source of truth for the terminal and the HTML timelines. The diagnosis pairs the PC's own
arrivals and removals of the Apple device with the restore log's transitions
(:func:`analyzer.correlate.mark_transitions`) before its rules read them; the event table keeps
them unpaired, so a report that drew the table as it is would show a Windows removal during a
planned mode change as a fault the verdict never counted. The reports pair them the same way, and
a removal a rule cited as evidence (a backup has no restore log to pair with) is marked as the
verdict read it.
"""

from __future__ import annotations

import polars as pl

from ..correlate import mark_transitions


def paired_events(events: pl.DataFrame, side: pl.DataFrame | None = None) -> pl.DataFrame:
    """The event table with the PC's arrivals and removals paired as the diagnosis paired them
    (with ``side``, :func:`analyzer.correlate.transition_side`, when ``events`` are some of its rows)."""
    return mark_transitions(events, side)


def counted_keys(incidents) -> set[tuple]:
    """(file, line, record) of every removal a rule cited: rows the verdict counts as faults.
    ``incidents`` are incident dicts (the JSON document's) or :class:`~analyzer.diagnose.Incident`."""
    out = set()
    for inc in incidents:
        evidence = inc["evidence"] if isinstance(inc, dict) else inc.evidence
        out.update((e["file"], e.get("line"), e.get("record")) for e in evidence
                   if e.get("rule") and e["kind"] == "device_disconnect")
    return out


KEY = ("file", "line", "record")


def has_key(frame: pl.DataFrame, keys: set[tuple], name: str) -> pl.DataFrame:
    """``frame`` with a Boolean column ``name``: is the row's (file, line, record) in ``keys``? (The
    frame's own order kept; keys are few: the evidence an incident cites.)"""
    if not keys or not frame.height:
        return frame.with_columns(pl.lit(False).alias(name))
    schema = {**{c: frame.schema[c] for c in KEY}, name: pl.Boolean}
    table = pl.DataFrame([list(k) + [True] for k in keys], schema=schema, orient="row").unique(KEY)
    return frame.join(table, on=list(KEY), how="left", nulls_equal=True, maintain_order="left").with_columns(
        pl.col(name).fill_null(False))


def with_counted(frame: pl.DataFrame, counted: set[tuple]) -> pl.DataFrame:
    """``frame`` with ``expected`` False on every removal the verdict counted and nothing paired
    (a row whose ``expected`` is already set keeps it)."""
    flagged = has_key(frame, counted, "_counted")
    return flagged.with_columns(pl.when(pl.col("expected").is_null() & pl.col("_counted")).then(pl.lit(False))
                                .otherwise(pl.col("expected")).alias("expected")).drop("_counted")

