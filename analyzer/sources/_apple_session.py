"""Apple restore log: the parts that need order — attempts, transitions, and per-attempt summaries.

Why: most of a restore log is independent lines, but four facts depend on what came before.

* **Attempts.** A file can hold several restores. A new attempt starts at a header line (``restore
  library built``, ``iTunes: iTunes …``, ``Apple Mobile Device version``, ``Using … state machine``,
  or any dated line straight after bracket lines) when the previous significant line was restore
  activity. Repeated header lines inside one header block do not split (real logs repeat them).
* **Expected vs unexpected USB disconnects** (reference §0.3). MobileRestore moves *every* removal to
  the 'Transitioning' state, so 'Transitioning' alone does not prove a planned mode change. A
  disconnect is expected when a mode change was announced first (``Entering recovery mode``,
  ``Finished … Restore Phase: Successful``, ``Recovery mode/DFU/Restore succeeded``, ``bootstrapping
  restore with iBEC``, idevicerestore ``Waiting for device to …``, operation 21/22 reboot/shutdown) or
  the device is already mid-transition; the reconnect of such a transition is expected too. Restore
  progress on the ``<Restore Device>`` uses an announcement up: a drop in the middle of the restore
  is a fault even if a mode change was announced long before. Faults
  are: a disconnect with nothing announced (and the reconnect that follows it), ``Timer fired to
  timeout transitioning device``, ``Device disappeared during transition`` and ``Unexpected device
  state 'X' expected 'Y'`` (wrong mode on reconnect). A first connect with no transition is neither
  (``expected`` null: initial discovery).
* **session_start**: one row per attempt, at its first header line, carrying the whole header.
* **result**: one row per attempt, at ``Restore completed`` (else the user-facing ``Restore error``,
  else the last outcome line outside the failure description). ``error_code`` is the number the
  user saw: ``AMPDevicesAgent/iTunes: Restore error N``, else ``Restore completed, status: N``, else
  the top of the failure description (``Depth:0``), else the last ``Restore failed (result = N)`` /
  ``AMRestorePerformRestoreModeRestoreWithError … N`` of a log without an end block — even when it
  is the −1 wrapper, because that is what the dialog said. The deeper codes stay what they are:
  each ``Depth:N Code:C Error:text`` line is a ``failure_detail`` row of its own (error_code C), and
  the result's ``detail`` lists them as ``underlying_codes`` ({depth, code, domain?, text, line}).
* **device_identity**: consecutive identity lines (the ``Device info:`` block, or one idevicerestore
  line) become one row carrying ECID, serial, chip and board together.

The Python loops here run over the few marker rows only, never over every line.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from ._apple_classify import HEADER, IDENTITY, OPENERS, RESULT_PARTS, attach, last_true

c = pl.col
BODY_KINDS = ("progress", "state_change", "phase", "result", "device_connect", "device_disconnect",
              "usb_io_error", "tss_request", "tss_error", "baseband_error")


def _dumps(obj: dict[str, Any]) -> str | None:
    obj = {k: v for k, v in obj.items() if v is not None and v != []}
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if obj else None


def _significant(rows: pl.DataFrame, before: tuple[str | None, bool] = (None, False)) -> pl.DataFrame:
    """The rows that open or carry an attempt, with their place (``_row``), ``line`` and shape, and
    ``_start``: whether an attempt begins there (an opener after restore activity). ``before``: the
    shape of the row before the first and whether the last significant row before it was restore
    activity (a chunk read after others: :mod:`._apple_segments`)."""
    shape = c("shape").cast(pl.String)
    prev_shape = shape.shift(1, fill_value=pl.lit(before[0], dtype=pl.String))
    body = (c("kind").is_in(BODY_KINDS) | c("rule").is_in(RESULT_PARTS)).fill_null(False)
    opener = c("rule").is_in(OPENERS) | (shape.is_in(["dated", "dated_proc"]) & prev_shape.is_in(["bracket", "device"]))
    # (an outcome line: a result part, or the device's "Restore succeeded", which results() reads as one)
    result = c("rule").is_in(RESULT_PARTS)
    if "outcome" in rows.columns:
        result = result | ((c("rule") == "device_outcome") & (c("outcome") == "Restore succeeded"))
    result = result.fill_null(False)
    sig = (rows.lazy().with_row_index("_row").select("_row", "line", shape.alias("shape"), body.alias("_body"),
                                                     opener.alias("_opener"), result.alias("_result"))
           .filter(c("_body") | c("_opener")).collect())
    return sig.select("_row", "line", "shape", "_body", "_result",
                      (c("_opener") & c("_body").shift(1, fill_value=before[1])).alias("_start"))


def split_attempts(rows: pl.DataFrame, first: int = 1, before: tuple[str | None, bool] = (None, False)
                   ) -> pl.DataFrame:
    """Number the restore attempts (column ``attempt``, from ``first``: a later segment of a file
    goes on from the one before, :mod:`._apple_segments`; ``before`` as for a chunk read after
    others, for a segment that goes on with an attempt)."""
    sig = _significant(rows, before).select("line", c("_start").cum_sum().alias("_n"))
    rows = attach(rows, sig)
    attempt = (c("_n").forward_fill().fill_null(0) + first).cast(pl.Int32)
    return rows.with_columns(attempt.alias("attempt")).drop("_n")


def header_starts(rows: pl.DataFrame, before: tuple[str | None, bool] = (None, False), settled: bool = True
                  ) -> tuple[pl.Series, tuple[str | None, bool], bool]:
    """The places of the rows of ``rows`` where an attempt begins on a dated header line (where a
    file can be cut with each attempt whole on one side), ``before`` for the rows that follow, and
    whether the attempt open at the end has had no outcome line yet (``settled``: the same before
    ``rows``), so that its result is all in what follows (:mod:`._apple_segments`)."""
    sig = _significant(rows, before)
    at = sig.filter(c("_start") & c("shape").is_in(["dated", "dated_proc"])).get_column("_row")
    last_shape = rows.get_column("shape").cast(pl.String).item(-1) if rows.height else before[0]
    starts = sig.get_column("_start").arg_true()
    since = sig.slice(starts.item(-1)) if starts.len() else sig
    settled = (settled or starts.len() > 0) and not since.get_column("_result").any()
    return at, (last_shape, sig.item(-1, "_body") if sig.height else before[1]), settled


#: Rules whose rows the expected-transition state machine reads (beside connects, disconnects and the
#: first progress line of each run): a fault, an announced transition, its close.
_FAULT_RULES = ("timer_fired", "disappeared", "unexpected_state")
_ANNOUNCE_RULES = ("entering_recovery", "device_outcome", "bootstrapping", "waiting")
_TRANSITION_RULES = (*_FAULT_RULES, *_ANNOUNCE_RULES, "phase_finished", "transition_returned", "state_change")


def _transition_events(rows: pl.DataFrame, keyed_before: tuple | None = None) -> pl.DataFrame:
    """``line``, ``attempt`` and ``_ev`` of the rows the state machine of :func:`mark_expected` reads.

    Worked out on those rows only (connects, disconnects, a few rules, the progress lines), never
    with a text key per line: a bench log is mostly progress lines, and a run of them (one device,
    one operation) is found by comparing each with the progress line before it, column by column.
    ``keyed_before``: that line's (device object, operation, attempt) when it is in the segment before."""
    kind, rule = c("kind"), c("rule")
    is_progress = kind == "progress"
    candidates = rows.lazy().filter(is_progress | kind.is_in(["device_connect", "device_disconnect"])
                                    | rule.is_in(_TRANSITION_RULES))
    device_obj, operation = c("device_obj"), c("operation")
    keyed = is_progress & device_obj.is_not_null() & operation.is_not_null()
    def before(name: str, i: int) -> pl.Expr:  # the last keyed row's
        last = pl.when(keyed).then(c(name)).shift(1).forward_fill()
        if keyed_before is None or keyed_before[i] is None:
            return last
        return last.fill_null(pl.lit(keyed_before[i]).cast(rows.schema[name]))
    # (a run never goes on into the next attempt: each attempt's first progress line starts one)
    same = ((device_obj == before("device_obj", 0)) & (operation == before("operation", 1))
            & (c("attempt") == before("attempt", 2))).fill_null(False)
    run = is_progress & (~keyed | ~same)
    restore_obj = device_obj.cast(pl.String).str.starts_with("Restore")
    op = operation.cast(pl.Int64, strict=False)
    ev = (pl.when(rule.is_in(_FAULT_RULES)).then(pl.lit("fault"))
          .when(kind == "device_disconnect").then(pl.lit("disconnect"))
          .when(kind == "device_connect").then(pl.lit("connect"))
          .when(rule.is_in(_ANNOUNCE_RULES)
                | ((rule == "phase_finished") & (c("phase_result") == "Successful"))
                | (c("_run") & restore_obj & op.is_in([21, 22]))).then(pl.lit("announce"))
          .when((rule == "transition_returned")
                | ((rule == "state_change") & (c("from_state") == "Transitioning") & (c("to_state") != "Disappeared")))
          .then(pl.lit("close"))
          .when(c("_run") & restore_obj).then(pl.lit("restore_body"))
          .when(c("_run")).then(pl.lit("body")))
    return (candidates.with_columns(run.alias("_run")).filter(~is_progress | c("_run"))
            .select("line", "attempt", ev.alias("_ev")).filter(c("_ev").is_not_null()).collect())


def mark_expected(rows: pl.DataFrame, carry=None, goes_on: bool = False) -> pl.DataFrame:
    """Fill ``expected`` on connect/disconnect rows (see module docstring). ``carry``
    (:class:`._apple_segments.Open`): its ``machine`` and ``keyed`` are read when the rows go on
    with the attempt of the segment before (``goes_on``), then set from these rows."""
    going = carry is not None and goes_on
    events = _transition_events(rows, carry.keyed if going else None)
    # repeated body rows have the effect of the first one: keep only the first of each run so the
    # loop stays short on logs with millions of progress lines
    body = c("_ev").is_in(["body", "restore_body"])
    events = events.filter(~body | (c("_ev") != c("_ev").shift(1)).fill_null(True))
    out_lines: list[int] = []
    out_vals: list[bool | None] = []
    state, current = carry.machine if going else ("idle", None)
    for line, attempt, ev in events.iter_rows():
        if attempt != current:
            state, current = "idle", attempt
        value: bool | None = None
        if ev == "announce":
            state = "pending"
        elif ev == "disconnect":
            value = state in ("pending", "away", "back")
            state = "away" if value else "fault"
        elif ev == "connect":
            if state in ("pending", "away", "back"):
                value, state = True, "back"
            elif state == "fault":
                value = False
        elif ev == "fault":
            value, state = False, "idle"
        elif ev == "close":
            state = "idle"
        elif ev == "body" and state == "back":
            state = "idle"
        elif ev == "restore_body" and state in ("back", "pending"):
            state = "idle"  # the restore is running: an announcement made before it is used up
        if ev in ("disconnect", "connect", "fault"):
            out_lines.append(line)
            out_vals.append(value)
    marks = pl.DataFrame({"line": out_lines, "expected": out_vals}, schema={"line": pl.Int64, "expected": pl.Boolean})
    if carry is not None:
        carry.machine = (state, current) if events.height or going else ("idle", None)
        keyed = ((rows.get_column("kind") == "progress") & rows.get_column("device_obj").is_not_null()
                 & rows.get_column("operation").is_not_null())
        at = last_true(keyed)
        if at is not None:
            carry.keyed = tuple(rows.get_column(name)[at] for name in ("device_obj", "operation", "attempt"))
        elif not going:
            carry.keyed = None
    return attach(rows, marks)


def _first(rows: list[dict], key: str) -> Any:
    return next((r[key] for r in rows if r.get(key) is not None), None)


def _groups(frame: pl.DataFrame, key: str) -> list[list[dict]]:
    """The rows of ``frame`` (in line order) as dicts, grouped by ``key`` in order of first
    appearance. One conversion for the whole frame: a frame per group costs far more on a bench
    log of thousands of attempts."""
    groups: dict[Any, list[dict]] = {}
    for rec in frame.sort("line").to_dicts():
        groups.setdefault(rec[key], []).append(rec)
    return list(groups.values())


def session_starts(rows: pl.DataFrame, carry=None, goes_on: bool = False) -> dict[int, tuple[str, str | None, str]]:
    """line → (kind, detail, subject) for the first header line of every attempt. ``carry``
    (:class:`._apple_segments.Open`): its ``headed`` attempt, made in the segment before, is not
    made again when the rows go on with it (``goes_on``); a header field its rows add is listed in
    ``carry.late`` (line, attempt, fields) instead. Then ``headed`` is set from these rows."""
    head = rows.lazy().filter(c("rule").is_in(HEADER)).select(
        "line", "attempt", "rule", "provider", "itunes_version", "amd_version", "built_on", "current_build",
        "payload_build", "behavior", "variant", "boot_image", "restore_uuid", "state_machine").collect()
    out: dict[int, tuple[str, str | None, str]] = {}
    for recs in _groups(head, "attempt"):
        detail = _header_detail(recs)
        if carry is not None and goes_on and recs[0]["attempt"] == carry.headed:
            late = sorted(k for k, v in detail.items() if v is not None and carry.header.get(k) is None)
            if late:  # (said once: a later segment compares with what is known by then)
                carry.late.append((recs[0]["line"], recs[0]["attempt"], late))
                carry.header.update({k: detail[k] for k in late})
            continue
        subject = " ".join(x for x in (detail["behavior"], detail["payload_build"]) if x) or "restore"
        out[recs[0]["line"]] = ("session_start", _dumps(detail), subject)
        if carry is not None:
            carry.headed, carry.header = recs[0]["attempt"], detail
    return out


def _header_detail(recs: list[dict]) -> dict[str, Any]:
    """session_start's detail from an attempt's header rows (each field from the first row giving it)."""
    payload = _first(recs, "payload_build")
    behavior = _first(recs, "behavior")
    boot = _first(recs, "boot_image")
    if behavior is None and boot is not None:
        behavior = {"UOI": "Erase", "Update": "Update"}.get(boot)
    return {
        "itunes_version": _first(recs, "itunes_version"), "apple_mobile_device_version": _first(recs, "amd_version"),
        "restore_library_built": _first(recs, "built_on"), "current_build": _first(recs, "current_build"),
        "payload_build": payload.replace(" (option key)", "") if payload else None,
        "hand_picked_ipsw": (payload.endswith("(option key)") if payload else None),
        "behavior": behavior, "variant": _first(recs, "variant"), "boot_image": boot,
        "restore_uuid": _first(recs, "restore_uuid"), "state_machine": _first(recs, "state_machine"),
        "process": _first(recs, "provider"),
    }


def _user_code(agent: list[int], status: int | None, depths: list[dict[str, Any]], inner: list[int]) -> int | None:
    """The number the user was shown: ``… Restore error N``, else ``Restore completed, status: N``, else
    the top (depth 0) of the failure description, else the last failure line of a log without an end
    block. Never a deeper depth: those are the failure description's own rows (``failure_detail``)."""
    if agent:
        return agent[-1]
    if status is not None:
        return status
    top = [d["code"] for d in depths if d.get("depth") == 0 and d.get("code") is not None]
    if top:
        return top[0]
    return inner[-1] if inner else None


def _underlying(rows: list[dict]) -> list[dict[str, Any]]:
    """The failure description as data: one entry per ``Depth:`` line, in the order written."""
    out = []
    for r in rows:
        detail = json.loads(r["detail"] or "{}")
        entry = {"depth": detail.get("depth"), "code": r["error_code"], "domain": detail.get("domain"),
                 "text": detail.get("text"), "line": r["line"]}
        out.append({k: v for k, v in entry.items() if v is not None})
    return out


def results(rows: pl.DataFrame) -> dict[int, tuple[int | None, str | None, str]]:
    """line → (error_code, detail, subject) of the one result row of every attempt that has outcome lines.

    The row sits on ``Restore completed`` (else the user-facing error line, else the last outcome line
    that is not part of the failure description), so every ``Depth:`` line keeps its own row."""
    parts = rows.lazy().with_columns(
        pl.when((c("rule") == "device_outcome") & (c("outcome") == "Restore succeeded"))
        .then(pl.lit("restore_succeeded")).otherwise(c("rule")).alias("_part"))
    parts = parts.filter(c("_part").is_in(RESULT_PARTS)).select("line", "attempt", "_part", "error_code", "detail").collect()
    out: dict[int, tuple[int | None, str | None, str]] = {}
    for recs in _groups(parts, "attempt"):
        by = lambda name: [r for r in recs if r["_part"] == name]  # noqa: E731
        agent = [r["error_code"] for r in by("agent_error") if r["error_code"] is not None]
        underlying = _underlying(by("depth_code"))
        completed = by("restore_completed")
        status = completed[-1]["error_code"] if completed else None
        inner = [r["error_code"] for r in by("restore_failed") + by("perform_failed") if r["error_code"] is not None]
        code = _user_code(agent, status, underlying, inner)
        failed = bool(by("unable_to_restore") or inner or (code not in (None, 0)))
        succeeded = not failed and (status == 0 or bool(by("restore_succeeded")))
        if succeeded and code is None:
            code = 0
        seen = sorted({x for x in [*agent, status, *inner, *(d.get("code") for d in underlying)] if x is not None})
        detail = {"outcome": "failed" if failed else ("succeeded" if succeeded else "unknown"),
                  "status": status, "agent_error": agent[-1] if agent else None,
                  "underlying_codes": underlying, "inner_codes": inner, "codes": seen}
        anchor = (completed[:1] or by("agent_error")[-1:] or [r for r in recs if r["_part"] != "depth_code"][-1:]
                  or recs[:1])[0]["line"]
        out[anchor] = (code, _dumps(detail), f"restore {detail['outcome']}")
    return out


def identities(rows: pl.DataFrame) -> dict[int, dict[str, Any]]:
    """line → identity columns for the first line of each block of consecutive identity lines."""
    flagged = rows.with_columns(c("rule").is_in(IDENTITY).alias("_id"))
    flagged = flagged.with_columns((c("_id") != c("_id").shift(1)).fill_null(True).cum_sum().alias("_blk"))
    wanted = ("ecid_value", "serial", "chip_id", "board_id", "identity_key", "identity_value", "board_config", "product_type")
    ids = flagged.filter(c("_id")).select("line", "_blk", "rule", *(n for n in wanted if n in rows.columns))
    out: dict[int, dict[str, Any]] = {}
    for recs in _groups(ids, "_blk"):
        extra = {r["identity_key"].lower().replace(" ", "_"): r.get("identity_value") for r in recs if r.get("identity_key")}
        extra.update(board_config=_first(recs, "board_config"), product_type=_first(recs, "product_type"))
        out[recs[0]["line"]] = {"ecid_value": _first(recs, "ecid_value"), "serial": _first(recs, "serial"),
                                "chip_id": _first(recs, "chip_id"), "board_id": _first(recs, "board_id"),
                                "detail": _dumps(extra)}
    return out


def overlay(rows: pl.DataFrame, starts: dict[int, tuple[str, str | None, str]],
            outcomes: dict[int, tuple[int | None, str | None, str]], idents: dict[int, dict[str, Any]]) -> pl.DataFrame:
    """Put the session_start rows (line → kind, detail, subject), the result rows (line → code,
    detail, subject) and the identity rows (line → columns) onto their lines; a line that is a
    session start or a result is not also an identity row."""
    recs: dict[int, dict] = {}
    for line, (kind, detail, subject) in starts.items():
        recs.setdefault(line, {}).update(kind=kind, detail=detail, subject=subject)
    for line, (code, detail, subject) in outcomes.items():
        recs.setdefault(line, {}).update(kind="result", error_code=code, detail=detail, subject=subject)
    for line, ident in idents.items():
        rec = recs.setdefault(line, {})
        if "kind" not in rec:
            rec.update(kind="device_identity", **ident)
    if not recs:
        return rows
    schema = {"line": pl.Int64, "kind": pl.String, "subject": pl.String, "error_code": pl.Int64, "detail": pl.String,
              "ecid_value": pl.UInt64, "serial": pl.String, "chip_id": pl.String, "board_id": pl.String}
    over = pl.DataFrame([{"line": k, **v} for k, v in recs.items()], schema=schema).sort("line")
    lines = rows.get_column("line")
    if lines.is_sorted():
        return _overlay_in_place(rows, over, lines.search_sorted(over.get_column("line")))
    # overwrite kind/detail/error_code wholesale on these lines (a result's code may legitimately be null)
    rows = attach(rows, over.rename({n: f"{n}_o" for n in schema if n != "line"}))
    hit = c("kind_o").is_not_null()
    return rows.with_columns(
        [pl.when(hit).then(c(f"{n}_o")).otherwise(c(n)).alias(n) for n in ("kind", "error_code", "detail")]
        + [pl.coalesce(c(f"{n}_o"), c(n)).alias(n) for n in ("subject", "ecid_value", "serial", "chip_id", "board_id")]
    ).drop([f"{n}_o" for n in schema if n != "line"])


def _overlay_in_place(rows: pl.DataFrame, over: pl.DataFrame, at: pl.Series) -> pl.DataFrame:
    """:func:`overlay` for rows in line order: the values are written at their rows (found by binary
    search) into copies of the columns in their own types, so a column held as a categorical stays
    one instead of becoming a text column of every line."""
    def put(name: str, only_given: bool) -> pl.Series:
        values = over.get_column(name)
        where = at
        if only_given:
            given = values.is_not_null()
            values, where = values.filter(given), at.filter(given)
        column = rows.get_column(name)
        return column.clone().scatter(where, values.cast(column.dtype)) if where.len() else column
    # kind/detail/error_code wholesale on these lines (a result's code may legitimately be null)
    return rows.with_columns([put(n, False) for n in ("kind", "error_code", "detail")]
                             + [put(n, True) for n in ("subject", "ecid_value", "serial", "chip_id", "board_id")])
