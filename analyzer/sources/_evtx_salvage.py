"""A damaged or truncated .evtx file's report: what the header promised against what was found,
and the records carved back (:mod:`._evtx_recover`) added to the plain reading, marked.

Recovery runs only where the plain reading met damage (a parser error) or the file is shorter
than its header promises, so a sound file costs one 4 KiB header read. Recovered records come
after the plain ones in the file's record list; the ``evtx_recovered`` note says how many, and
:func:`mark_recovered` marks those last rows ``"recovered":true`` in ``detail``, so that every
output (JSON, CSV, Parquet, Timesketch) tells a carved row from a read one.
"""

from __future__ import annotations

import polars as pl

from ..model import Note
from ._base import Input, add_note, add_summary_note
from ._evtx_reader import describe
from ._evtx_recover import header_promise, recover

RECOVERED_NOTE = "evtx_recovered"


def salvage(item: Input, report, records: list[dict], errors: list) -> list[dict]:
    """``records`` plus the ones recovered from damaged stretches; notes on ``report`` for a
    truncated file and for what was recovered (and what was carved but could not be rendered)."""
    try:
        promise = header_promise(str(item.path))
    except OSError:
        promise = None
    truncated = bool(promise and promise["truncated"])
    if not errors and not truncated:
        return records
    try:
        found, failed = recover(str(item.path), {r.get("event_record_id") for r in records})
    except Exception as exc:  # noqa: BLE001 - recovery is a bonus; the plain reading stands
        add_note(report, Note(item.display, "evtx_recovery_failed", {"error": describe(exc)}, severity="warning"))
        found, failed = [], 0
    if truncated:
        ids = [r.get("event_record_id") for r in records + found if isinstance(r.get("event_record_id"), int)]
        add_summary_note(report, Note(item.display, "evtx_truncated", {
            "chunks": promise["chunks"], "expected_size": promise["expected_size"], "size": promise["size"],
            "chunks_found": promise["chunks_found"], "last_promised": max(promise["next_record"] - 1, 0),
            "last_found": max(ids) if ids else 0}))
    if failed:
        report.skipped += failed
        add_summary_note(report, Note(item.display, "evtx_carved_unrendered", {"count": failed}))
    if found:
        ids = [r.get("event_record_id") for r in found]
        add_summary_note(report, Note(item.display, "evtx_recovered", {
            "count": len(found), "first": min(ids), "last": max(ids)}, severity="warning"))
    return records + found


def recovered_count(report) -> int:
    """How many of the file's records (the last ones) were recovered, from its note."""
    return sum(n.params["count"] for n in report.errors if n.code == RECOVERED_NOTE)


def mark_recovered(events: pl.DataFrame, report) -> pl.DataFrame:
    """The file's rows with the last :func:`recovered_count` marked ``"recovered":true`` in
    ``detail`` (a JSON object: the key is put first; a null or non-object detail is wrapped)."""
    count = recovered_count(report)
    if not count or not events.height:
        return events
    first = max(events.height - count, 0)
    detail = pl.col("detail")
    marked = (pl.when(detail.is_null() | (detail == "{}")).then(pl.lit('{"recovered":true}'))
              .when(detail.str.starts_with("{")).then(pl.lit('{"recovered":true,') + detail.str.slice(1))
              .otherwise(pl.lit('{"recovered":true,"data":') + detail + pl.lit("}")))
    return events.with_columns(pl.when(pl.int_range(pl.len()) >= first).then(marked).otherwise(detail).alias("detail"))
