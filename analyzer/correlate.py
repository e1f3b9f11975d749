"""Tying each attempt to the evidence around it, on the one UTC clock.

Three polars steps, none of which grows with attempts × events:

1. :func:`attempts`: the restore log's rows grouped by (host, file, attempt), with the outcome
   and the **evidence window** of each attempt (``window_start`` = start − ``PRE_S``,
   ``window_end`` = failure, or last row, + ``POST_S``). The window is decided here once;
   the diagnosis and every report read these two columns.
2. :func:`mark_transitions`: a PC-side arrival or removal of the Apple device gets the
   ``expected`` flag of the restore log's own connect/disconnect at the same instant (an asof
   join), since a restore re-enumerates the device on purpose at every mode change.
3. :func:`evidence_window`: each failed attempt's own rows (an equi-join on host, file and
   attempt) and the PC's other rows inside its window, found by binary search over the rows
   sorted by time (``search_sorted``), so the cost is ~ events + attempts · log(events) plus
   the rows the windows hold — never a cross join.
"""

from __future__ import annotations

import polars as pl

from .apple import about_apple
from .frames import in_order
from .kinds import kinds_where

PRE_S = 600       # PC evidence this long before the attempt began still counts
POST_S = 120      # ... and this long after the failure (logs flush late)
#: A PC-side removal this close to the restore log's own disconnect is that same transition.
TRANSITION_MATCH_S = 15
#: The kinds of an arrival and a removal of the device, which :func:`mark_transitions` pairs.
CONNECTION_KINDS = ("device_connect", "device_disconnect")

_UTC = pl.Datetime("us", "UTC")
ATTEMPT_SCHEMA = {"host": pl.String, "file": pl.String, "attempt": pl.Int32, "started_at": _UTC, "ended_at": _UTC,
                  "failed_at": _UTC, "error_code": pl.Int64, "outcome": pl.String, "window_start": _UTC,
                  "window_end": _UTC, "failed_line": pl.Int64, "failed_wall": pl.Datetime("us"),
                  "operation": pl.String, "reported": pl.Boolean}
_KEYS = ["host", "file", "attempt"]
#: What became of an attempt: a failure line, a success line, or neither (the log stops first: a
#: log cut short, a paste of its head, a restore still running).
OUTCOMES = ("failed", "succeeded", "unfinished")
#: What an attempt was doing. A restore log's session is an ``update`` when Apple's software says
#: so (behavior Update) and a ``restore`` otherwise; other sources say it in the ``operation`` column.
#: ``icloud`` only comes from what the user reports (:mod:`analyzer.symptom`).
OPERATIONS = ("restore", "update", "backup", "icloud")


def attempts(events: pl.DataFrame) -> pl.DataFrame:
    """One row per restore attempt: start, end, outcome, failure time, line and code, evidence window.

    An attempt whose log gives no date (a pasted tail, a console without times) is still an
    attempt, and still failed when its log says so: its times and window are then null, and its
    failure is placed by its line (``failed_line``) and, when the log has times of day, its wall
    time (``failed_wall``).
    """
    if events.select(pl.col("attempt").is_not_null().any()).item() is not True:
        return pl.DataFrame(schema=ATTEMPT_SCHEMA)
    # lazily: only the columns used are filtered (an eager filter would copy every column of every row)
    rows = events.lazy().filter(pl.col("attempt").is_not_null())
    results = rows.filter(pl.col("kind") == "result")
    # a failure line with no code (idevicerestore's "Device failed to enter restore mode.") still fails
    said_failed = pl.col("detail").str.contains('"outcome":"failed"', literal=True).fill_null(False)
    failed = (results.filter((pl.col("error_code").is_not_null() & (pl.col("error_code") != 0))
                             | (pl.col("error_code").is_null() & said_failed))
              .sort("line").group_by(_KEYS)
              .agg(pl.col("ts_utc").last().alias("failed_at"), pl.col("error_code").last().alias("error_code"),
                   pl.col("line").last().alias("failed_line"), pl.col("ts_wall").last().alias("failed_wall"),
                   pl.len().alias("_failed")))
    succeeded = results.filter(pl.col("error_code") == 0).group_by(_KEYS).agg(pl.len().alias("ok"))
    update = (pl.col("kind") == "session_start") & pl.col("detail").str.contains('"behavior":"Update"', literal=True)
    spans = rows.group_by(_KEYS).agg(pl.col("ts_utc").min().alias("started_at"), pl.col("ts_utc").max().alias("ended_at"),
                                     pl.col("operation").drop_nulls().first().alias("said"),
                                     update.fill_null(False).any().alias("update"))
    out = (spans.join(failed, on=_KEYS, how="left", nulls_equal=True)
           .join(succeeded, on=_KEYS, how="left", nulls_equal=True))
    outcome = (pl.when(pl.col("_failed").is_not_null()).then(pl.lit("failed"))
               .when(pl.col("ok").is_not_null()).then(pl.lit("succeeded")).otherwise(pl.lit("unfinished")))
    end = pl.coalesce("failed_at", "ended_at", "started_at")
    operation = pl.coalesce("said", pl.when(pl.col("update")).then(pl.lit("update")).otherwise(pl.lit("restore")))
    return (out.with_columns(outcome.alias("outcome"),
                             (pl.col("started_at") - pl.duration(seconds=PRE_S)).alias("window_start"),
                             (end + pl.duration(seconds=POST_S)).alias("window_end"),
                             operation.alias("operation"), pl.lit(False).alias("reported"))
            .drop("_failed").select(list(ATTEMPT_SCHEMA)).sort(_KEYS).collect())


#: The columns of :func:`transition_side`.
SIDE_SCHEMA = {"host": pl.String, "pair_kind": pl.String, "t": pl.Datetime("us", "UTC"), "attempt_expected": pl.Boolean}


def transition_side(events: pl.DataFrame) -> pl.DataFrame:
    """The restore log's own arrivals and removals that :func:`mark_transitions` pairs the PC's
    with (:data:`SIDE_SCHEMA`, sorted): a report that reads a PC's rows a stretch at a time
    gathers these from every stretch, and pairs each stretch's rows with all of them."""
    kind = pl.col("kind").cast(pl.String)
    return (events.filter(pl.col("attempt").is_not_null() & kind.is_in(list(CONNECTION_KINDS))
                          & pl.col("expected").is_not_null() & pl.col("ts_utc").is_not_null())
            .select("host", kind.alias("pair_kind"), pl.col("ts_utc").alias("t"), pl.col("expected").alias("attempt_expected"))
            .sort("host", "pair_kind", "t"))


def mark_transitions(events: pl.DataFrame, side: pl.DataFrame | None = None) -> pl.DataFrame:
    """Set ``expected`` on PC-side arrivals and removals of the Apple device.

    Such a row is expected when the restore log shows an expected event of the same kind
    (removal with disconnect, arrival with connect) within TRANSITION_MATCH_S seconds on the
    same host, and unexpected when the restore log shows an unexpected one there; with no
    restore-log row nearby it stays unknown (null): the PC alone cannot tell a transition from
    a fault. ``side``: the restore log's rows to pair with (:func:`transition_side`), when
    ``events`` is not all of them.
    """
    kind = pl.col("kind").cast(pl.String)
    attempt_side = transition_side(events) if side is None else side
    if attempt_side.height == 0:
        return events
    indexed = events.with_row_index("_row")
    # the cheap tests first: the Apple test reads text, and only device rows of the PC need it
    pc_devices = (indexed.filter(pl.col("attempt").is_null() & kind.is_in(list(CONNECTION_KINDS))
                                 & pl.col("ts_utc").is_not_null())
                  .filter(about_apple()))
    if pc_devices.height == 0:
        return events
    paired = (pc_devices.select("_row", "host", kind.alias("pair_kind"), pl.col("ts_utc").alias("t"))
              .sort("host", "pair_kind", "t")
              .join_asof(attempt_side, on="t", by=["host", "pair_kind"], strategy="nearest",
                         tolerance=f"{TRANSITION_MATCH_S}s", check_sortedness=False))
    return (indexed.join(paired.select("_row", "attempt_expected"), on="_row", how="left")
            .with_columns(pl.coalesce("expected", "attempt_expected").alias("expected"))
            .drop("_row", "attempt_expected"))


#: The event columns the window's row index is built from (each window row is then gathered from
#: the events once, every column, see evidence_window).
_INDEX_COLUMNS = ["host", "file", "attempt", "ts_utc", "ts_wall", "line", "record", "kind"]


def _own_rows(index: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """The failed attempts' own rows, with or without a time (a log with no date is still evidence)."""
    keys = incidents.select("incident", *_KEYS, "failed_at", "failed_line", "failed_wall")
    return keys.join(index.filter(pl.col("attempt").is_not_null()), on=_KEYS, how="inner", nulls_equal=True)


def _pc_rows(index: pl.DataFrame, incidents: pl.DataFrame) -> list[pl.DataFrame]:
    """Per host: the PC's other rows inside each incident's window, by binary search on time."""
    other = index.filter(pl.col("attempt").is_null() & pl.col("ts_utc").is_not_null())
    parts = []
    dated = incidents.filter(pl.col("window_start").is_not_null() & pl.col("window_end").is_not_null())
    for (host,), wanted in dated.group_by(["host"], maintain_order=True):
        rows = other.filter(pl.col("host") == host if host is not None else pl.col("host").is_null()).sort("ts_utc")
        if rows.height == 0:
            continue
        times = rows.get_column("ts_utc")
        lo = times.search_sorted(wanted.get_column("window_start"), side="left")
        hi = times.search_sorted(wanted.get_column("window_end"), side="right")
        spans = (wanted.select("incident", "failed_at", "failed_line", "failed_wall")
                 .with_columns(lo.alias("lo"), hi.alias("hi"))
                 .filter(pl.col("hi") > pl.col("lo"))
                 .select("incident", "failed_at", "failed_line", "failed_wall",
                         pl.int_ranges("lo", "hi", dtype=pl.UInt32).alias("_i"))
                 .explode("_i"))
        if spans.height:
            parts.append(spans.join(rows.with_row_index("_i"), on="_i", how="left").drop("_i"))
    return parts


#: Kinds that record a configuration rather than an event: a row of one with no time of its own (a
#: hosts-file entry) holds around every incident of its PC, so it joins every window of that PC.
TIMELESS_CONFIG_KINDS = ("hosts_entry",)


def _config_rows(index: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """Each incident with its PC's timeless configuration rows (see TIMELESS_CONFIG_KINDS)."""
    config = index.filter(pl.col("attempt").is_null() & pl.col("ts_utc").is_null()
                          & pl.col("kind").cast(pl.String).is_in(TIMELESS_CONFIG_KINDS))
    keys = incidents.select("incident", "host", "failed_at", "failed_line", "failed_wall")
    return keys.join(config, on="host", how="inner", nulls_equal=True)


#: The order of an attempt's rows (:func:`window_rows`): by time, rows without one last.
TIME_ORDER = ["ts_utc", "file", "line", "record"]
#: The order of a window's rows: by incident, then as the events are ordered.
WINDOW_ORDER = ["incident", *TIME_ORDER]


def evidence_window(events: pl.DataFrame, failed: pl.DataFrame, need=None) -> pl.DataFrame:
    """Each failed attempt (a row of :func:`attempts`) with the events that may explain it.

    Columns: ``incident`` (the attempt's index in ``failed``), the event columns, and
    ``before_s``, the seconds from the event to the failure (negative after it). Only the rows
    ``need`` (a :class:`analyzer.window_need.WindowNeed`; None: every row) takes are in it.

    The window is found on an index of a few key columns (which rows, for which incident, in which
    order) and its rows are then gathered from ``events`` once: selecting, joining and sorting
    whole rows copied a bench log's window three or four times (an 800k-line log: 95 MB more at
    the peak).
    """
    incidents = failed.with_row_index("incident").with_columns(pl.col("incident").cast(pl.UInt32))
    index = events.select(*_INDEX_COLUMNS).with_row_index("_row")
    if need is not None and need.kinds is not None:
        index = index.filter(need.mask(events))
    columns = ["incident", "_row", "failed_at", "failed_line", "failed_wall", "attempt", "ts_utc", "ts_wall",
               "file", "line", "record"]
    frames = [_own_rows(index, incidents).select(columns)]
    frames += [p.select(columns) for p in _pc_rows(index, incidents)]
    frames.append(_config_rows(index, incidents).select(columns))
    del index
    found = pl.concat(frames, how="vertical").with_columns(_before_s().alias("before_s"))
    # a failed attempt's own log is mostly in order already; sorting it anyway costs a pass
    if not in_order(found, WINDOW_ORDER):
        found = found.sort(WINDOW_ORDER, nulls_last=True, maintain_order=True)
    rows = events.gather(found.get_column("_row"))
    return rows.insert_column(0, found.get_column("incident")).with_columns(found.get_column("before_s"))


def _before_s() -> pl.Expr:
    """Seconds from a row to its attempt's failure: on the UTC clock; for a log with no date, by its
    times of day; for a log with no times at all, 0 up to the failure line and -1 after it (so
    "before the failure" still means something)."""
    utc = (pl.col("failed_at") - pl.col("ts_utc")).dt.total_milliseconds() / 1000
    wall = (pl.col("failed_wall") - pl.col("ts_wall")).dt.total_milliseconds() / 1000
    by_line = pl.when(pl.col("attempt").is_not_null() & pl.col("failed_line").is_not_null()).then(
        pl.when(pl.col("line") <= pl.col("failed_line")).then(pl.lit(0.0)).otherwise(pl.lit(-1.0)))
    return pl.coalesce(utc, wall, by_line)


def window_rows(events: pl.DataFrame, attempt: dict) -> pl.DataFrame:
    """The rows a report shows for one attempt (a row of :func:`attempts` as a dict): its own
    restore-log rows (also those without a time of their own, last) and the PC's other rows
    inside its evidence window, in time order."""
    own = ((pl.col("file") == attempt["file"]) & (pl.col("attempt") == attempt["attempt"])
           if attempt["file"] is not None else pl.lit(False))  # a reported incident has no log of its own
    near = pl.col("attempt").is_null() & pl.col("ts_utc").is_between(attempt["window_start"], attempt["window_end"])
    return (events.filter((pl.col("host") == attempt["host"]) & (own | near).fill_null(False))
            .sort(TIME_ORDER, nulls_last=True))


def device_activity_where(host: str) -> pl.Expr:
    """One PC's Apple device, driver and service activity outside its restore attempts, as a
    predicate on its rows: what Windows saw on its own (the iPhone plugged in and removed, Apple
    driver installs, the Apple Mobile Device Service stopping or crashing). A predicate, so that
    ``Analysis.rows_where`` reads these rows without the PC's others."""
    kinds = list(kinds_where(device_activity=True))
    return ((pl.col("host") == host) & pl.col("attempt").is_null()
            & pl.col("kind").cast(pl.String).is_in(kinds) & about_apple())
