"""From the parser's record texts to winevent's raw record frame: the vectorised query that
the .evtx source runs on every batch, and the record-by-record reference it must equal.

The query applies the System stages (:mod:`._evtx_system`) and the payload stages
(:mod:`._evtx_payload`) in the order that lets each stage skip what no record needs; the
per-(provider, event ID) lookup of :mod:`analyzer.winevent_kinds` is joined on as soon as
provider and event ID are known, so that the per-field work downstream is done on classified
records only.
"""

from __future__ import annotations

import json

import polars as pl

from .. import winevent
from . import _evtx_payload, _evtx_system
from ._evtx_system import parse_utc


def flatten_json_records(texts: list[str], header_ids=None, header_times=None) -> pl.LazyFrame:
    """Turn evtx ``records_json`` strings into a lazy winevent raw record frame with the per-pair
    lookup columns (what :func:`analyzer.winevent.normalise_prepared` takes).

    Vectorised: System fields by literal search + slice (a regex where that fails), the
    EventData/UserData object cut out at its key, UserData's single element unwrapped. Once
    provider and event ID are known, winevent's per-pair lookup is joined on
    (:func:`analyzer.winevent.with_lookup`), and unnamed ``<Data>`` is renumbered "1", "2", …
    on classified records only (generic ones keep ``{"Data":{"#text":[…]}}``, see winevent).
    ``record`` is EventRecordID and the time TimeCreated/@SystemTime; the record-header id
    and time (``header_*``) only fill in when the XML lacks them.

    Two large queries per call, whatever the records: the System fields here (their values
    decide the per-pair lookup, whose own queries touch only the key columns), the rest
    returned lazy so that normalise_prepared runs it in its one query.
    Two stages run only when some record needs them (the header fill-in, a third query, and
    the unnamed-Data renumbering); ``header_ids``/``header_times`` may be given as lists or
    as functions that return them (called with the positions of the records that lack
    EventRecordID or SystemTime, if any).
    """
    system, payload = _evtx_system.stages(), _evtx_payload.stages()
    frame = winevent.collect(
        pl.DataFrame({"j": pl.Series("j", texts, dtype=pl.String)}).lazy()
        .with_columns(system["ascii"]).with_columns(system["offsets"] + payload["offsets"])
        .with_columns(system["windows"]).with_columns(system["splits"]).with_columns(system["values"])
        .with_columns(payload["cut"] + system["escaped_flag"]).with_columns(payload["flags"])
        .with_columns(system["slow"]).with_columns(system["fallback"])
        .drop(_evtx_system.TEMP_COLUMNS, "_slow", "j", "_bascii"))
    if frame.get_column("record").null_count() or frame.get_column("ts_raw").null_count():
        frame = _fill_from_headers(frame, len(texts), header_ids, header_times)
    # provider and event_id are known: decide each pair's kind now, so that the stages below
    # and normalise do the per-field work on classified rows only
    lf = winevent.with_lookup(frame)
    lf = lf.with_columns(payload["unwrap"])
    lf = lf.drop(_evtx_payload.CUT_TEMP)
    lf = lf.with_columns(payload["empty"] + system["wall_time"]).with_columns(system["wall_time_rest"])
    if frame.get_column("_escaped").any():
        lf = lf.with_columns(system["unescape"])
    lf = lf.drop("_escaped")
    if frame.get_column("_haspos").any():
        for stage in payload["numbered"]:
            lf = lf.with_columns(stage)
        lf = lf.drop(_evtx_payload.NUMBERED_TEMP)
    # the raw record frame's columns that a .evtx record never has
    return lf.drop("_haspos").with_columns(
        [pl.lit(None, dtype=winevent.RAW_SCHEMA[name]).alias(name) for name in ("line", "message")])


def _fill_from_headers(frame: pl.DataFrame, n: int, header_ids, header_times) -> pl.DataFrame:
    """``frame`` with the record headers' ids and times where EventRecordID or SystemTime is
    missing (asked for at those positions only; see flatten_json_records)."""
    missing = frame.select(pl.arg_where(pl.col("record").is_null() | pl.col("ts_raw").is_null())).to_series().to_list()

    def at(values, dtype) -> pl.Series:
        if callable(values):
            values = values(missing)
        elif values is not None:
            values = [values[i] for i in missing]
        full = pl.Series([None] * n, dtype=dtype)
        return full.scatter(missing, pl.Series(values, dtype=dtype)) if values is not None else full
    return winevent.collect(frame.lazy().with_columns(
        at(header_ids, pl.Int64).alias("hid"), at(header_times, pl.String).alias("htime"))
        .with_columns(_evtx_system.stages()["header_fill"]).drop("hid", "htime"))


def payload_of(event: dict, numbered: bool = True) -> dict:
    """EventData/UserData as winevent's flat field object (the slow path's twin of the fast cut);
    unnamed Data renumbered "1", "2", … only if ``numbered`` (classified records)."""
    if isinstance(event.get("EventData"), dict):
        out: dict = {}
        for key, value in event["EventData"].items():
            if key == "#attributes":
                continue
            if numbered and key == "Data" and isinstance(value, dict) and "#text" in value:
                values = value["#text"] if isinstance(value["#text"], list) else [value["#text"]]
                for i, v in enumerate(values, 1):
                    out[str(i)] = v
            else:
                out[key] = value
        return out
    user = event.get("UserData")
    if isinstance(user, dict) and len(user) == 1:
        inner = next(iter(user.values()))
        if isinstance(inner, dict):
            return {k: v for k, v in inner.items() if k != "#attributes"}
    return {}


def slow_raw_frame(texts: list[str], header_ids: list, header_times: list) -> pl.DataFrame:
    """The raw record frame built record by record with ``json`` (about 10x slower). Used when
    the vectorised path fails, and by the tests as the reference the fast path must equal."""
    rows = []
    for text, hid, htime in zip(texts, header_ids, header_times):
        try:
            event = json.loads(text).get("Event") or {}
        except (ValueError, AttributeError):
            event = {}
        system = event.get("System") or {}
        provider = ((system.get("Provider") or {}).get("#attributes") or {}).get("Name")
        eid = system.get("EventID")
        if isinstance(eid, dict):
            eid = eid.get("#text")
        created = ((system.get("TimeCreated") or {}).get("#attributes") or {}).get("SystemTime")
        try:
            numbered = winevent.needs_fields(provider, int(eid))
        except (TypeError, ValueError):
            numbered = winevent.needs_fields(provider, None)
        rows.append({
            "record": system.get("EventRecordID", hid), "ts_raw": created or (htime or "").removesuffix(" UTC") or None,
            "clock": "utc", "channel": system.get("Channel"), "provider": provider, "event_id": eid,
            "level": system.get("Level"), "computer": system.get("Computer"),
            "data": json.dumps(payload_of(event, numbered), ensure_ascii=False, separators=(",", ":")),
        })
    raw = winevent.raw_frame(rows)
    return raw.with_columns(parse_utc(pl.col("ts_raw")).alias("ts_wall"))
