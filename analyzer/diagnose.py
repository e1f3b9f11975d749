"""From the correlated evidence to a verdict per failed attempt: which rules fired, which cause
wins, how sure, what was ruled out and why — as data, in no language.

Every rule (:mod:`analyzer.rules`) is a boolean expression over the evidence window
(:mod:`analyzer.correlate`); counts per incident decide which rules fire, and fired rules add
points to their cause on top of the error code's weak prior (``data/error_codes.toml``). The
verdict is the cause with most points, with a confidence of ``score / (sum of all scores + 1)``
— the "+ 1" keeps a lone weak signal from looking certain. Below ``MIN_EVIDENCE`` points of log
evidence the verdict is ``undetermined`` and the incident lists which evidence would settle it.

Reasons are structured (``{"code": "explained_away", "rules": [...]}``, ``missing`` codes):
the report layer words them in the reader's language (:mod:`analyzer.report.i18n`).
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from .backups import device_side_copies, space_check, superseded_snapshots
from .causes import CAUSE_IDS, UNDETERMINED
from .correlate import OPERATIONS, WINDOW_ORDER, attempts, evidence_window, mark_transitions
from .model import iso_utc
from .evaluate import fired_rules, rule_hits
from .history import history
from .rules import Rule, default_rules
from .window_need import WindowNeed, window_need

DATA = Path(__file__).resolve().parent / "data"
MIN_EVIDENCE = 1.5
MAX_EVIDENCE_PER_RULE = 6
#: The order a rule's matches are cited in (the first MAX_EVIDENCE_PER_RULE of an incident's): the window's.
CITE_ORDER = WINDOW_ORDER

#: Reason codes of a cause that did not win (alternatives[].reason.code).
REASONS = ("leading_but_thin", "explained_away", "code_only", "no_evidence", "less_evidence")
#: What an undetermined verdict asks for (incident.missing), in the order it is asked.
MISSING = ("windows_event_logs", "usb_removal_log", "setupapi_log", "firewall_log")


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
    alternatives: list[dict[str, Any]]   # {"id", "confidence", "reason": {"code", ...}}
    evidence: list[dict[str, Any]]
    rules: list[str]
    missing: list[str] = field(default_factory=list)  # codes of MISSING
    code_grade: str | None = None
    #: The deeper codes of Apple's failure description ({depth, code, domain?, text, line}): what
    #: the code the user saw wraps (``Depth:1 Code:112 Error: …``), cited beside it.
    underlying_codes: list[dict[str, Any]] = field(default_factory=list)
    #: The other attempts of the same device that the history rules weigh (analyzer.history):
    #: {file, attempt, outcome, error_code, usb_location, relation}.
    related_attempts: list[dict[str, Any]] = field(default_factory=list)
    #: restore, update, backup or icloud (analyzer.correlate.OPERATIONS).
    operation: str = "restore"
    #: Opened from what the user reported (``--symptom``/``--at``), not from a failure line; then
    #: ``reported_time`` says where it was placed (analyzer.symptom.placement).
    reported: bool = False
    reported_time: dict[str, Any] | None = None
    #: A backup refused for disk space: free space against the needed size, where both are known
    #: (:func:`analyzer.backups.space_check`).
    space: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The incident as data (no language): what the JSON document builds on."""
        return {
            "host": self.host, "file": self.file, "attempt": self.attempt, "error_code": self.error_code,
            "started_at": iso_utc(self.started_at), "failed_at": iso_utc(self.failed_at),
            "cause": {"id": self.cause, "confidence": self.confidence}, "code_grade": self.code_grade,
            "alternatives": self.alternatives, "evidence": self.evidence, "rules": self.rules, "missing": self.missing,
            "underlying_codes": self.underlying_codes, "related_attempts": self.related_attempts,
            "operation": self.operation, "reported": self.reported,
            "reported_time": _placement_dict(self.reported_time) if self.reported_time else None,
            "space": self.space,
        }


def _placement_dict(place: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso_utc(v) if isinstance(v, dt.datetime) else v) for k, v in place.items()}


#: The code table of each operation: a backup's codes are MBErrorDomain's, not a restore's.
CODE_TABLES = {"backup": "backup_error_codes.toml"}


@lru_cache(maxsize=4)
def code_table(operation: str = "restore") -> dict[int, dict[str, Any]]:
    """error code → its entry of the operation's code table (``data/error_codes.toml`` for restores and
    updates): priors, grade, meaning per language."""
    path = DATA / CODE_TABLES.get(operation, "error_codes.toml")
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table: dict[int, dict[str, Any]] = {}
    for entry in data["code"]:
        codes = list(entry.get("codes", [])) + ([entry["code"]] if "code" in entry else [])
        for lo, hi in entry.get("ranges", []):
            codes.extend(range(lo, hi + 1))
        for code in codes:
            table[code] = entry
    return table


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


@dataclass
class _Scores:
    """Points per cause for one incident: all points, and the part that came from log evidence."""

    total: dict[str, float]
    evidence: dict[str, float]
    discounted_by: dict[str, list[str]]

    @classmethod
    def of(cls, prior: dict[str, float], fired: list[Rule]) -> "_Scores":
        causes = [c for c in CAUSE_IDS if c != UNDETERMINED]
        s = cls({c: float(prior.get(c, 0.0)) for c in causes}, {c: 0.0 for c in causes}, {})
        for r in fired:
            s.total[r.cause] += r.weight
            s.evidence[r.cause] += r.weight
        for r in fired:
            for cause, pts in r.discounts.items():
                if cause in s.total and cause != r.cause:
                    s.total[cause] = max(0.0, s.total[cause] - pts)
                    s.evidence[cause] = max(0.0, s.evidence[cause] - pts)
                    s.discounted_by.setdefault(cause, []).append(r.id)
        return s

    def share(self, cause: str) -> float:
        return round(self.total[cause] / (sum(self.total.values()) + 1.0), 2)

    def reason(self, cause: str, best: str, verdict: str) -> dict[str, Any]:
        if verdict == UNDETERMINED and cause == best:
            return {"code": "leading_but_thin"}
        if cause in self.discounted_by:
            return {"code": "explained_away", "rules": self.discounted_by[cause]}
        if self.evidence[cause] == 0:
            return {"code": "code_only" if self.total[cause] > 0 else "no_evidence"}
        return {"code": "less_evidence", "than": best, "points": round(self.total[cause], 1),
                "best_points": round(self.total[best], 1)}


def _missing(formats: set[str]) -> list[str]:
    windows = any(f.startswith("windows_") for f in formats)
    out = [] if windows else ["windows_event_logs"]
    if "windows_evtx" in formats or not windows:
        out.append("usb_removal_log")
    out += [code for code, fmt in (("setupapi_log", "windows_setupapi"), ("firewall_log", "windows_firewall"))
            if fmt not in formats]
    return out


def _evidence(window: pl.DataFrame, hits: dict[str, pl.DataFrame], rules: tuple[Rule, ...],
              fired: dict[int, list[Rule]]) -> dict[int, list[dict]]:
    """incident → its cited rows: the failing result lines and Apple's failure description, and up to
    MAX_EVIDENCE_PER_RULE rows of each rule that fired on it."""
    out: dict[int, list[dict]] = {}
    failing = window.filter(((pl.col("kind") == "result") & (pl.col("error_code").fill_null(0) != 0))
                            | ((pl.col("kind") == "failure_detail") & pl.col("attempt").is_not_null()))
    for row in failing.to_dicts():
        out.setdefault(row["incident"], []).append(_evidence_item(row, None))
    for r in rules:
        if not any(r in f for f in fired.values()):
            continue
        cited = hits[r.id].sort(CITE_ORDER, nulls_last=True)
        for row in cited.group_by("incident", maintain_order=True).head(MAX_EVIDENCE_PER_RULE).to_dicts():
            if r in fired.get(row["incident"], ()):
                out.setdefault(row["incident"], []).append(_evidence_item(row, r.id))
    for items in out.values():
        cited_keys = {(e["file"], e.get("line"), e.get("record")) for e in items if e.get("rule")}
        items[:] = [e for e in items if e.get("rule") or (e["file"], e.get("line"), e.get("record")) not in cited_keys]
        items.sort(key=lambda e: (e["ts"] or "", e.get("line") or 0))
    return out


def _underlying(evidence: list[dict], details: dict[int, str | None]) -> list[dict[str, Any]]:
    """The deeper codes of the failing result (its detail's ``underlying_codes``), the source's reading
    of Apple's failure description."""
    for item in evidence:
        if item["kind"] == "result" and item.get("line") in details:
            try:
                codes = json.loads(details[item["line"]] or "{}").get("underlying_codes") or []
            except ValueError:
                codes = []
            return [c for c in codes if isinstance(c, dict)]
    return []


def _verdict(inc: dict, fired: list[Rule], evidence: list[dict], formats: set[str],
             details: dict[int, str | None], related: list[dict]) -> Incident:
    entry = code_table(inc["operation"]).get(inc["error_code"]) if inc["error_code"] is not None else None
    scores = _Scores.of((entry or {}).get("priors", {}), fired)
    best = max(scores.total, key=lambda c: (scores.evidence[c], scores.total[c]))
    cause, confidence = best, scores.share(best)
    if scores.evidence[best] < MIN_EVIDENCE:
        cause, confidence = UNDETERMINED, round(1.0 - scores.share(best), 2)
    alternatives = [{"id": c, "confidence": scores.share(c), "reason": scores.reason(c, best, cause)}
                    for c in sorted(scores.total, key=lambda c: -scores.total[c]) if c != cause]
    return Incident(host=inc["host"], file=inc["file"], attempt=inc["attempt"], error_code=inc["error_code"],
                    failed_at=inc["failed_at"], started_at=inc["started_at"], cause=cause, confidence=confidence,
                    alternatives=alternatives, evidence=evidence, rules=[r.id for r in fired],
                    missing=_missing(formats) if cause == UNDETERMINED else [],
                    code_grade=(entry or {}).get("grade"), underlying_codes=_underlying(evidence, details),
                    related_attempts=related, operation=inc["operation"], reported=bool(inc["reported"]))


def _with_history(window: pl.DataFrame, failed: pl.DataFrame, past: pl.DataFrame) -> pl.DataFrame:
    """The history facts of each failed attempt (analyzer.history) on the rows of its window."""
    keyed = (failed.with_row_index("incident").with_columns(pl.col("incident").cast(pl.UInt32))
             .join(past.drop("related"), on=["host", "file", "attempt"], how="left", nulls_equal=True)
             .select("incident", pl.col("later_success").fill_null(False), pl.col("later_success_moved").fill_null(False),
                     pl.col("same_failure_moved").fill_null(0), "reported", pl.col("operation").alias("_op")))
    # in a window, ``operation`` is the incident's: what the user or the log says was being done
    if keyed.height != failed.height:  # (one row per incident, unless history repeats an attempt)
        return (window.join(keyed, on="incident", how="left")
                .with_columns(pl.col("_op").alias("operation")).drop("_op"))
    # keyed's row i is incident i: its facts are gathered onto the window's rows, which a join
    # would copy whole
    facts = keyed.sort("incident").gather(window.get_column("incident"))
    return window.with_columns(facts.get_column("_op").alias("operation"),
                               *(facts.get_column(name) for name in facts.columns if name not in ("incident", "_op")))


#: Failed attempts diagnosed at a time when their windows are read back from disk (analyzer.parts):
#: a bench log's failed attempts each hold tens of thousands of rows a rule reads.
WINDOW_BATCH = 4


def diagnose(events: pl.DataFrame, rules: tuple[Rule, ...] | None = None,
             reported: list[dict[str, Any]] | None = None,
             formats: dict[str, set[str]] | None = None,
             windows: Callable[[pl.DataFrame, WindowNeed, "FirstHits"], pl.DataFrame] | None = None
             ) -> tuple[list[Incident], pl.DataFrame]:
    """Return the incidents (one per failed attempt, then one per reported symptom, each a row of
    :func:`analyzer.symptom.reported_attempt` with its ``placement``) and the attempts table.

    For a PC analysed in parts (:mod:`analyzer.parts`), ``events`` holds only the rows read wherever
    they are, ``formats`` gives each host's formats, and ``windows(failed, need)`` the rows to
    diagnose some failed attempts on (``events`` and the rows inside their windows that ``need``,
    a :class:`analyzer.window_need.WindowNeed`, takes), asked for WINDOW_BATCH attempts at a time."""
    table = attempts(events)
    if reported:
        extra = pl.DataFrame([{k: v for k, v in r.items() if k != "placement"} for r in reported],
                             schema=table.schema)
        table = pl.concat([table, extra], how="vertical")
    failed = table.filter(pl.col("outcome") == "failed").sort("reported", "host", "file", "attempt", nulls_last=True)
    if failed.height and (failed.get_column("operation") == "backup").any():
        # a folder snapshot a later backup superseded is history; a backup a device log and a host
        # log both record is one incident (the host's)
        for drop in (superseded_snapshots(events, table), device_side_copies(events, table)):
            failed = failed.join(drop, on=["host", "file", "attempt"], how="anti", nulls_equal=True)
    if failed.height == 0:
        return [], table
    rules = rules if rules is not None else default_rules()
    need = window_need(rules)
    past = history(events, table)
    if formats is None:
        formats = {row["host"]: set(row["format"]) for row in
                   events.group_by("host").agg(pl.col("format").unique()).to_dicts()}
    step = failed.height if windows is None else WINDOW_BATCH
    incidents: list[Incident] = []
    for start in range(0, failed.height, step):
        some = failed.slice(start, step)
        rows = events if windows is None else windows(some, need, FirstHits(some, past, rules, need))
        incidents += _diagnosed(rows, some, past, rules, need, formats)
    rows = failed.to_dicts()
    places = {r["host"]: r.get("placement") for r in reported or []}
    sizes = None  # the PC's free-space and backup-size rows, taken out of the events once
    for inc, incident in zip(rows, incidents):
        if incident.operation == "backup" and incident.cause == "host_storage":  # any file's figures in its window
            if sizes is None:
                sizes = events.filter(pl.col("kind").cast(pl.String).is_in(["disk_space", "backup_info"]))
            incident.space = space_check(sizes.filter((pl.col("host") == inc["host"]) & pl.col("ts_utc").is_between(
                inc["window_start"], inc["window_end"])))
    for incident in incidents:
        if incident.reported:
            incident.reported_time = places.get(incident.host)
    return incidents, table


def _diagnosed(events: pl.DataFrame, failed: pl.DataFrame, past: pl.DataFrame, rules: tuple[Rule, ...],
               need: WindowNeed, formats: dict[str, set[str]]) -> list[Incident]:
    """The verdicts of ``failed`` (rows of the attempts table), on the rows of their evidence windows."""
    # (a bench log's attempt holds hundreds of thousands of progress lines no rule reads, a verbose
    # attempt millions of generic lines no rule matches: the window is built without them)
    window = evidence_window(mark_transitions(events), failed, need)
    window = _with_history(window, failed, past)
    hits = rule_hits(window, rules)
    fired = fired_rules(hits, rules)
    evidence = _evidence(window, hits, rules, fired)
    details: dict[int, dict[int, str | None]] = {}
    for row in window.filter((pl.col("kind") == "result") & pl.col("attempt").is_not_null()).select(
            "incident", "line", "detail").to_dicts():
        details.setdefault(row["incident"], {})[row["line"]] = row["detail"]
    keys = ["host", "file", "attempt"]  # (the other attempts each failure's history rests on: its own only)
    related = {(r["host"], r["file"], r["attempt"]): r["related"]
               for r in past.join(failed.select(keys), on=keys, how="semi", nulls_equal=True).to_dicts()}
    return [_verdict(inc, fired.get(idx, []), evidence.get(idx, []), formats.get(inc["host"], set()),
                     details.get(idx, {}), related.get((inc["host"], inc["file"], inc["attempt"]), []))
            for idx, inc in enumerate(failed.to_dicts())]


class FirstHits:
    """Of the rows of a window's gated kinds (:class:`analyzer.window_need.WindowNeed`), the ones a
    verdict reads: each rule's first matches in an incident, as many as it cites or needs to fire.

    Why: a gated kind's rows enter a window where some rule's detection holds, and a verbose attempt
    can hold a million such rows (a USB error every few lines), all of which the window held (a 994 MB
    log that is one attempt: 1.17 GB). A rule fires on a count of at least ``min_count`` and cites its
    first MAX_EVIDENCE_PER_RULE matches (:data:`CITE_ORDER`), so its first ``max`` of the two
    matches in each incident give the same verdict and evidence as all of them. Called with rows a
    stretch of time at a time, in time order (the rows without a time last), it counts what it kept
    per rule and incident, so what it keeps is bounded by the rules, not by the attempt. Rows of
    other kinds are all kept. The verdicts are those of every row (``tests/test_first_hits.py``, and
    every sample and the corpus whole and in parts in ``tests/test_parts.py``).
    """

    def __init__(self, failed: pl.DataFrame, past: pl.DataFrame, rules: tuple[Rule, ...], need: WindowNeed):
        self.failed, self.past = failed, past
        self.gated = frozenset(need.gated)
        operations = set(failed.get_column("operation").to_list())
        # (a rule about other operations than these incidents' matches nothing here: rules.loader)
        self.rules = tuple(r for r in rules if r.kinds is not None and r.kinds & self.gated
                           and (r.operations == OPERATIONS or operations & set(r.operations)))
        self.left: dict[tuple[str, int], int] = {}  # (rule id, incident) -> matches still to keep

    def __call__(self, rows: pl.DataFrame) -> pl.Series:
        """Which of ``rows`` (event columns; the next stretch of time) to keep."""
        kind = rows.get_column("kind").cast(pl.String)
        at = kind.is_in(sorted(self.gated))
        if not at.any():
            return pl.repeat(True, rows.height, eager=True)
        # a rule that has kept all it can in every incident reads nothing more, and a kind none of
        # whose rules reads more is not looked at: a long attempt's later stretches cost a test of kind
        live = tuple(r for r in self.rules if any(self.left.get((r.id, i), self._limit(r))
                                                   for i in range(self.failed.height)))
        kinds = self.gated & frozenset().union(*(r.kinds for r in live))
        keep = (~at).clone()
        tested = kind.is_in(sorted(kinds))
        if not kinds or not tested.any():
            return keep
        candidates = rows.filter(tested).with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_candidate"))
        window = _with_history(evidence_window(candidates, self.failed), self.failed, self.past)
        hits = rule_hits(window, live)
        kept: set[int] = set()
        for rule in live:
            if hits[rule.id].height == 0:
                continue
            limit = self._limit(rule)
            first = (hits[rule.id].sort(CITE_ORDER, nulls_last=True).group_by("incident", maintain_order=True)
                     .agg(pl.col("_candidate").head(limit)))
            for incident, taken in first.iter_rows():
                left = self.left.get((rule.id, incident), limit)
                kept.update(taken[:left])
                self.left[(rule.id, incident)] = max(0, left - len(taken))
        if kept:
            keep.scatter(tested.arg_true().gather(sorted(kept)), True)
        return keep

    @staticmethod
    def _limit(rule: Rule) -> int:
        """How many of a rule's first matches in an incident the verdict reads."""
        return max(MAX_EVIDENCE_PER_RULE, rule.min_count)
