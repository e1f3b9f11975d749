"""From the event table to incidents: which attempts failed, what surrounds them, and why.

Three steps, each a polars operation rather than a loop over events:

1. **attempts**: the Apple restore log's rows grouped by (host, file, attempt);
   an attempt whose result carries a non-zero code is a failure;
2. **evidence window**: every failed attempt is joined with the events of the
   same host: its own restore-log rows, and other sources' rows from
   ``PRE_S`` before the attempt began to ``POST_S`` after the failure;
3. **rules**: each rule (analyzer/rules/*.toml) is a boolean expression over
   that joined frame; counts per incident decide which rules fire, and fired
   rules add points to their cause on top of the error code's weak prior.

The verdict is the cause with most points, with a confidence of
``score / (sum of all scores + 1)`` — the "+ 1" keeps a lone weak signal from
looking certain. Below ``MIN_EVIDENCE`` points of log evidence the verdict is
``undetermined`` and the report says which logs would settle it.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from .itunes_versions import host_older_than_payload_expr
from .model import iso_utc
from .rules import CAUSE_IDS, Rule, load_rules
from .winevent import is_apple_process, is_apple_service

DATA = Path(__file__).resolve().parent / "data"
PRE_S = 600       # Windows evidence this long before the attempt began still counts
POST_S = 120      # ... and this long after the failure (logs flush late)
MIN_EVIDENCE = 1.5
MAX_EVIDENCE_PER_RULE = 6


@dataclass
class Incident:
    host: str
    file: str
    attempt: int
    error_code: int | None
    failed_at: dt.datetime | None
    started_at: dt.datetime | None
    cause: str
    confidence: float
    alternatives: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    remedy: list[str]
    rules: list[str]
    missing: list[str] = field(default_factory=list)
    code_meaning: str | None = None
    code_grade: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host, "file": self.file, "attempt": self.attempt, "error_code": self.error_code,
            "started_at": iso_utc(self.started_at), "failed_at": iso_utc(self.failed_at),
            "cause": {"id": self.cause, "confidence": self.confidence},
            "code_meaning": self.code_meaning, "code_grade": self.code_grade,
            "alternatives": self.alternatives, "evidence": self.evidence, "rules": self.rules,
            "missing": self.missing, "remedy": self.remedy,
        }


# -- data files ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def code_table() -> dict[int, dict[str, Any]]:
    data = tomllib.loads((DATA / "error_codes.toml").read_text(encoding="utf-8"))
    table: dict[int, dict[str, Any]] = {}
    for entry in data["code"]:
        codes = list(entry.get("codes", []))
        for lo, hi in entry.get("ranges", []):
            codes.extend(range(lo, hi + 1))
        for code in codes:
            table[code] = entry
    return table


@lru_cache(maxsize=1)
def remedies() -> dict[str, dict[str, list[str]]]:
    return tomllib.loads((DATA / "remedies.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_rules() -> tuple[Rule, ...]:
    rules, errors = load_rules()
    if errors:
        raise ValueError("rule files have errors:\n" + "\n".join(str(e) for e in errors))
    return tuple(rules)


# -- attempts -----------------------------------------------------------------------------
def attempts(events: pl.DataFrame) -> pl.DataFrame:
    """One row per restore attempt: start, end, outcome, failure time and code."""
    rows = events.filter(pl.col("attempt").is_not_null() & pl.col("ts_utc").is_not_null())
    if rows.height == 0:
        return pl.DataFrame(schema={"host": pl.String, "file": pl.String, "attempt": pl.Int32,
                                    "started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"),
                                    "failed_at": pl.Datetime("us", "UTC"), "error_code": pl.Int64, "outcome": pl.String})
    results = rows.filter(pl.col("kind") == "result")
    failed = (results.filter(pl.col("error_code").is_not_null() & (pl.col("error_code") != 0))
              .sort("ts_utc", "line").group_by("host", "file", "attempt")
              .agg(pl.col("ts_utc").last().alias("failed_at"), pl.col("error_code").last().alias("error_code")))
    succeeded = (results.filter(pl.col("error_code") == 0).group_by("host", "file", "attempt")
                 .agg(pl.len().alias("ok")))
    spans = rows.group_by("host", "file", "attempt").agg(
        pl.col("ts_utc").min().alias("started_at"), pl.col("ts_utc").max().alias("ended_at"))
    out = (spans.join(failed, on=["host", "file", "attempt"], how="left", nulls_equal=True)
           .join(succeeded, on=["host", "file", "attempt"], how="left", nulls_equal=True))
    outcome = (pl.when(pl.col("failed_at").is_not_null()).then(pl.lit("failed"))
               .when(pl.col("ok").is_not_null()).then(pl.lit("succeeded")).otherwise(pl.lit("unknown")))
    return out.with_columns(outcome.alias("outcome")).drop("ok").sort("host", "file", "attempt")


# -- evidence -----------------------------------------------------------------------------
#: A Windows-side removal this close to an Apple-side expected disconnect is that same transition.
TRANSITION_MATCH_S = 15


def mark_windows_transitions(events: pl.DataFrame) -> pl.DataFrame:
    """Set ``expected`` on Windows removals/arrivals of the Apple device.

    A restore re-enumerates the device on purpose at every mode change, and
    Windows logs each of those as a removal and an arrival. Such a row is
    expected when the restore log shows an expected event of the same kind
    (removal with disconnect, arrival with connect) within TRANSITION_MATCH_S
    seconds on the same host, and unexpected when the restore
    log shows an unexpected one there; with no restore-log row nearby it stays
    unknown (null), because Windows alone cannot tell a transition from a fault.
    """
    kinds = ["device_connect", "device_disconnect"]
    apple_side = (events.filter(pl.col("attempt").is_not_null() & pl.col("kind").cast(pl.String).is_in(kinds)
                                & pl.col("expected").is_not_null() & pl.col("ts_utc").is_not_null())
                  .select("host", pl.col("kind").cast(pl.String).alias("pair_kind"), pl.col("ts_utc").alias("t"),
                          pl.col("expected").alias("apple_expected"))
                  .sort("host", "pair_kind", "t"))
    is_windows = (pl.col("attempt").is_null() & pl.col("kind").cast(pl.String).is_in(kinds)
                  & (pl.col("usb_vid") == "05AC") & pl.col("ts_utc").is_not_null())
    if apple_side.height == 0 or events.filter(is_windows).height == 0:
        return events
    indexed = events.with_row_index("_row")
    windows = (indexed.filter(is_windows)
               .select("_row", "host", pl.col("kind").cast(pl.String).alias("pair_kind"), pl.col("ts_utc").alias("t"))
               .sort("host", "pair_kind", "t")
               .join_asof(apple_side, on="t", by=["host", "pair_kind"], strategy="nearest",
                          tolerance=f"{TRANSITION_MATCH_S}s", check_sortedness=False))
    return (indexed.join(windows.select("_row", "apple_expected"), on="_row", how="left")
            .with_columns(pl.coalesce("expected", "apple_expected").alias("expected"))
            .drop("_row", "apple_expected"))


def evidence_window(events: pl.DataFrame, failed: pl.DataFrame) -> pl.DataFrame:
    """Join each failed attempt with the events that may explain it (same host, in the window)."""
    inc = failed.with_row_index("incident").select(
        "incident", "host", pl.col("file").alias("inc_file"), pl.col("attempt").alias("inc_attempt"),
        "started_at", "failed_at")
    joined = inc.join(events.filter(pl.col("ts_utc").is_not_null()), on="host", how="inner", nulls_equal=True)
    own = (pl.col("file") == pl.col("inc_file")) & (pl.col("attempt") == pl.col("inc_attempt"))
    other_source = pl.col("attempt").is_null()
    in_window = pl.col("ts_utc").is_between(pl.col("started_at") - pl.duration(seconds=PRE_S),
                                            pl.col("failed_at") + pl.duration(seconds=POST_S))
    return (joined.filter(own | (other_source & in_window))
            .with_columns(((pl.col("failed_at") - pl.col("ts_utc")).dt.total_milliseconds() / 1000).alias("before_s")))


def rule_expr(rule: Rule) -> pl.Expr:
    """The rule's match as a boolean expression over the evidence window."""
    m = rule.match
    cond = pl.lit(True)
    if m.kind:
        cond &= pl.col("kind").cast(pl.String).is_in(list(m.kind))
    if m.side == "apple":
        cond &= pl.col("attempt").is_not_null()
    elif m.side == "windows":
        cond &= pl.col("attempt").is_null()
    if m.expected is not None:
        cond &= pl.col("expected") == m.expected
    if m.error_code:
        cond &= pl.col("error_code").is_in(list(m.error_code))
    if m.event_id:
        cond &= pl.col("event_id").is_in(list(m.event_id))
    for column in ("subject", "message", "detail", "format", "provider"):
        pattern = getattr(m, column)
        if pattern:
            cond &= pl.col(column).fill_null("").str.contains(pattern)
    if m.apple_device:
        cond &= (pl.col("usb_vid") == "05AC") | pl.col("attempt").is_not_null()
    if m.apple_process:
        text = pl.concat_str([pl.col("subject").fill_null(""), pl.col("detail").fill_null("")], separator=" ")
        cond &= is_apple_process(text) | is_apple_service(pl.col("subject"))
    if m.nonzero_code:
        cond &= pl.col("error_code").is_not_null() & (pl.col("error_code") != 0)
    if m.detail_field:
        value = pl.col("detail").str.json_path_match(f"$.{m.detail_field}").cast(pl.Float64, strict=False)
        if m.below is not None:
            cond &= value < m.below
        if m.above is not None:
            cond &= value > m.above
    if m.host_older_than_payload:
        cond &= host_older_than_payload_expr(pl.col("detail"))
    if m.when == "before":
        cond &= pl.col("before_s") >= 0
    elif m.when == "after":
        cond &= pl.col("before_s") < 0
    if m.within_s is not None:
        cond &= pl.col("before_s") <= m.within_s
    return cond.fill_null(False)


def _evidence_item(row: dict[str, Any], rule_id: str | None) -> dict[str, Any]:
    item = {"file": row["file"], "ts": iso_utc(row["ts_utc"]), "kind": str(row["kind"]),
            "text": (row["message"] or "")[:300]}
    if row.get("line") is not None:
        item["line"] = row["line"]
    if row.get("record") is not None:
        item["record"] = row["record"]
    if rule_id:
        item["rule"] = rule_id
    return item


# -- scoring ------------------------------------------------------------------------------
def _why_not(cause: str, best: str, scores: dict, evidence: dict, discounted_by: dict, rules_by_id: dict) -> str:
    if cause in discounted_by:
        titles = "; ".join(rules_by_id[r].title for r in discounted_by[cause])
        return f"explained away by: {titles}"
    if evidence.get(cause, 0) == 0 and scores.get(cause, 0) > 0:
        return "only the error code points here; no log evidence for it"
    if evidence.get(cause, 0) == 0:
        return "no evidence for it in the logs read"
    return f"less evidence than {best} ({scores[cause]:.1f} vs {scores[best]:.1f} points)"


def _missing(formats: set[str]) -> list[str]:
    missing = []
    if not any(f.startswith("windows_") for f in formats):
        missing.append("Windows event logs from the same PC: System.evtx and Application.evtx "
                       "(Event Viewer > Save All Events As), to see driver, service and disk problems")
    if "windows_evtx" in formats or not any(f.startswith("windows_") for f in formats):
        missing.append("Microsoft-Windows-DriverFrameworks-UserMode/Operational (enable it with "
                       "'wevtutil sl Microsoft-Windows-DriverFrameworks-UserMode/Operational /e:true', "
                       "reproduce, then export) to see USB disconnects")
    if "windows_setupapi" not in formats:
        missing.append("C:\\Windows\\INF\\setupapi.dev.log, for Apple driver installs")
    if "windows_firewall" not in formats:
        missing.append("the firewall log (%systemroot%\\system32\\LogFiles\\Firewall\\pfirewall.log) with dropped "
                       "packets logging on, if a firewall is suspected")
    return missing


def diagnose(events: pl.DataFrame, rules: tuple[Rule, ...] | None = None, lang: str = "en") -> tuple[list[Incident], pl.DataFrame]:
    """Return the incidents (one per failed attempt) and the attempts table."""
    rules = rules if rules is not None else default_rules()
    rules_by_id = {r.id: r for r in rules}
    table = attempts(events)
    failed = table.filter(pl.col("outcome") == "failed").sort("host", "file", "attempt")
    if failed.height == 0:
        return [], table
    window = evidence_window(mark_windows_transitions(events), failed)
    flags = window.with_columns([rule_expr(r).alias(f"r::{r.id}") for r in rules])
    counts = flags.group_by("incident").agg([pl.col(f"r::{r.id}").sum() for r in rules]) if rules else None
    formats_by_host = events.group_by("host").agg(pl.col("format").unique())
    formats_by_host = {row["host"]: set(row["format"]) for row in formats_by_host.to_dicts()}
    incidents = []
    for idx, inc in enumerate(failed.to_dicts()):
        row = counts.filter(pl.col("incident") == idx).to_dicts() if counts is not None else []
        row = row[0] if row else {}
        fired = [r for r in rules if row.get(f"r::{r.id}", 0) >= r.match.min_count]
        code = inc["error_code"]
        entry = code_table().get(code) if code is not None else None
        scores = {c: 0.0 for c in CAUSE_IDS if c != "undetermined"}
        for cause, prior in (entry or {}).get("priors", {}).items():
            scores[cause] += prior
        evidence_pts = {c: 0.0 for c in scores}
        discounted_by: dict[str, list[str]] = {}
        for r in fired:
            scores[r.cause] += r.weight
            evidence_pts[r.cause] += r.weight
        for r in fired:
            for cause, pts in r.discounts.items():
                if cause in scores and cause != r.cause:
                    scores[cause] = max(0.0, scores[cause] - pts)
                    evidence_pts[cause] = max(0.0, evidence_pts[cause] - pts)
                    discounted_by.setdefault(cause, []).append(r.id)
        total = sum(scores.values())
        best = max(scores, key=lambda c: (evidence_pts[c], scores[c]))
        confidence = round(scores[best] / (total + 1.0), 2)
        cause = best
        if evidence_pts[best] < MIN_EVIDENCE:
            cause = "undetermined"
            confidence = round(1.0 - scores[best] / (total + 1.0), 2)
        alternatives = [{"id": c, "confidence": round(scores[c] / (total + 1.0), 2),
                         "why_not": ("the leading candidate, but the log evidence is too thin to name it"
                                     if cause == "undetermined" and c == best else
                                     _why_not(c, best, scores, evidence_pts, discounted_by, rules_by_id))}
                        for c in sorted(scores, key=lambda c: -scores[c]) if c != cause]
        own = flags.filter(pl.col("incident") == idx)
        evidence = [_evidence_item(r, None) for r in
                    own.filter((pl.col("kind") == "result") & (pl.col("error_code").fill_null(0) != 0)).to_dicts()]
        for r in fired:
            hits = own.filter(pl.col(f"r::{r.id}")).sort("ts_utc").head(MAX_EVIDENCE_PER_RULE)
            evidence.extend(_evidence_item(h, r.id) for h in hits.to_dicts())
        evidence.sort(key=lambda e: (e["ts"] or "", e.get("line") or 0))
        steps = remedies().get(cause, {}).get(lang) or remedies().get(cause, {}).get("en", [])
        incidents.append(Incident(
            host=inc["host"], file=inc["file"], attempt=inc["attempt"], error_code=code,
            failed_at=inc["failed_at"], started_at=inc["started_at"], cause=cause, confidence=confidence,
            alternatives=alternatives, evidence=evidence, remedy=list(steps), rules=[r.id for r in fired],
            missing=_missing(formats_by_host.get(inc["host"], set())) if cause == "undetermined" else [],
            code_meaning=(entry or {}).get("meaning"), code_grade=(entry or {}).get("grade")))
    return incidents, table
