"""Reading rule files: every problem collected and located by file and key, never the first only.

A rule author who mistypes three things gets three messages in one run, each naming the file
and the key (``detection.drop."detail.dst-ip|cidr"``), as pySigma does for Sigma rules.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..causes import CAUSE_IDS, UNDETERMINED
from ..correlate import OPERATIONS
from .condition import parse_condition
from .fields import DERIVED, field_names, resolve
from .modifiers import build

RULES_DIR = Path(__file__).resolve().parent
LANGS = ("en", "ja")
_TOP_KEYS = {"cause", "title", "why", "weight", "fires_on", "discounts", "operations", "remedy", "detection",
             "correlation"}
_CORRELATION_KEYS = {"when", "within", "min_count"}
_WHEN = ("before", "after", "any")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


class RuleError(ValueError):
    """A problem in a rule file, located by file and key."""

    def __init__(self, path: Path, key: str | None, message: str):
        self.path, self.key = path, key
        where = f"{path.name}" + (f", key '{key}'" if key else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, eq=False)
class Rule:
    """One loaded rule. ``matches`` is the whole row test (detection, time window) over the
    evidence window; the rule fires on an incident when at least ``min_count`` rows match."""

    id: str
    cause: str
    title: dict[str, str]
    why: dict[str, str]
    weight: float
    fires_on: tuple[str, ...]
    matches: pl.Expr
    min_count: int = 1
    #: The derived fields (rules.fields.DERIVED) the rule reads; the window must carry them as columns.
    derived: tuple[str, ...] = ()
    #: The event kinds a matching row can have (None: any): rows of other kinds are not tested at all.
    kinds: frozenset[str] | None = None
    when: str = "before"
    within_s: float | None = None
    condition: str = ""
    discounts: dict[str, float] = field(default_factory=dict)
    path: Path | None = None
    #: The operations whose incidents the rule can explain (all when the file does not say).
    operations: tuple[str, ...] = OPERATIONS
    #: Steps of its own (language → steps), shown instead of the cause's remedy when the rule is
    #: among those that decided the verdict: TLS inspection is security_software, but its fix is
    #: not the firewall's.
    remedy: dict[str, list[str]] = field(default_factory=dict)
    #: The detection alone, on the row's own columns (no time window, no operation): what
    #: :mod:`analyzer.window_need` gates a window's rows with.
    detection: pl.Expr | None = None


class _Errors:
    """Collects located errors for one file."""

    def __init__(self, path: Path, sink: list[RuleError]):
        self.path, self.sink, self.count = path, sink, 0

    def __call__(self, key: str | None, message: str) -> None:
        self.sink.append(RuleError(self.path, key, message))
        self.count += 1


def _texts(data: dict, key: str, required: tuple[str, ...], err: _Errors) -> dict[str, str]:
    value = data.get(key)
    if not isinstance(value, dict):
        err(key, f"required, a table of texts by language: {key}.en = \"…\", {key}.ja = \"…\"")
        return {}
    for lang in sorted(set(value) - set(LANGS)):
        err(f"{key}.{lang}", f"unknown language; use {', '.join(LANGS)}")
    for lang in LANGS:
        text = value.get(lang)
        if (lang in required or text is not None) and not (isinstance(text, str) and text.strip()):
            err(f"{key}.{lang}", "required, a non-empty string" if lang in required else "a non-empty string")
    return {k: v for k, v in value.items() if k in LANGS and isinstance(v, str)}


def _head(data: dict, err: _Errors) -> tuple[str, float, tuple[str, ...], dict[str, float]]:
    for key in sorted(set(data) - _TOP_KEYS):
        err(key, "unknown key")
    cause = data.get("cause")
    if not isinstance(cause, str) or cause not in CAUSE_IDS or cause == UNDETERMINED:
        err("cause", f"required, one of {', '.join(c for c in CAUSE_IDS if c != UNDETERMINED)}")
    weight = data.get("weight")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 10:
        err("weight", "required, a number in (0, 10]")
        weight = 0.0
    fires_on = data.get("fires_on")
    fires_on = [fires_on] if isinstance(fires_on, str) else fires_on
    if not isinstance(fires_on, list) or not fires_on or not all(isinstance(x, str) and x for x in fires_on):
        err("fires_on", "required, a list of samples/ bundle names")
        fires_on = []
    discounts = data.get("discounts", {})
    if not isinstance(discounts, dict) or any(k not in CAUSE_IDS or isinstance(v, bool) or not isinstance(v, (int, float))
                                              for k, v in discounts.items()):
        err("discounts", "a table of cause id = points")
        discounts = {}
    return str(cause), float(weight), tuple(fires_on), {k: float(v) for k, v in discounts.items()}


def _selection(name: str, body: Any, err: _Errors) -> pl.Expr | None:
    """One named selection: a table of tests (all must hold) or a list of such tables (any)."""
    where = f"detection.{name}"
    tables = body if isinstance(body, list) else [body]
    if not tables or not all(isinstance(t, dict) and t for t in tables):
        err(where, "a selection is a table of field tests, or a list of such tables")
        return None
    alternatives, ok = [], True
    for table in tables:
        tests = []
        for key, value in table.items():
            name_part, *modifiers = key.split("|")
            try:
                tests.append(build(resolve(name_part), modifiers, value))
            except ValueError as exc:
                err(f'{where}."{key}"', str(exc))
                ok = False
        alternatives.append(pl.all_horizontal(tests) if tests else pl.lit(False))
    return pl.any_horizontal(alternatives) if ok else None


def _derived(detection: dict) -> tuple[str, ...]:
    names: set[str] = set()
    for name, body in detection.items():
        if name != "condition":
            for table in body if isinstance(body, list) else [body]:
                names |= field_names(table) if isinstance(table, dict) else set()
    return tuple(sorted(n for n in names if n in DERIVED and DERIVED[n][1] is not None))


def _selection_kinds(body: Any) -> frozenset[str] | None:
    """The kinds a selection admits: each of its tables must name ``kind`` (no modifier), else any."""
    found: set[str] = set()
    for table in body if isinstance(body, list) else [body]:
        value = table.get("kind") if isinstance(table, dict) else None
        if value is None:
            return None
        found.update([value] if isinstance(value, str) else value)
    return frozenset(found)


def _detection(data: dict, err: _Errors) -> tuple[pl.Expr | None, str, frozenset[str] | None]:
    detection = data.get("detection")
    if not isinstance(detection, dict):
        err("detection", "required, a table of named selections and a condition")
        return None, "", None
    names = [k for k in detection if k != "condition"]
    if not names:
        err("detection", "needs at least one selection, e.g. [detection.drop] kind = \"firewall_block\"")
        return None, "", None
    text = detection.get("condition", names[0] if len(names) == 1 else None)
    if not isinstance(text, str):
        err("detection.condition", "required when there are several selections, e.g. \"a and not b\"")
        return None, "", None
    try:
        condition = parse_condition(text)
    except ValueError as exc:
        err("detection.condition", str(exc))
        return None, text, None
    used = condition.names(names)
    for missing in sorted(used - set(names)):
        err("detection.condition", f"names '{missing}', which is not a selection of this rule")
    for unused in sorted(set(names) - used):
        err(f"detection.{unused}", "not used by the condition")
    selections = {n: _selection(n, detection[n], err) for n in names}
    if any(s is None for s in selections.values()) or used - set(names):
        return None, text, None
    kinds = condition.kinds({n: _selection_kinds(detection[n]) for n in names})
    return condition.build(selections), text, kinds  # type: ignore[arg-type]


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    m = _DURATION.match(value) if isinstance(value, str) else None
    if not m or float(m.group(1)) <= 0:
        return None
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _correlation(data: dict, err: _Errors) -> tuple[str, float | None, int]:
    corr = data.get("correlation", {})
    if not isinstance(corr, dict):
        err("correlation", "a table: when, within, min_count")
        return "before", None, 1
    for key in sorted(set(corr) - _CORRELATION_KEYS):
        err(f"correlation.{key}", "unknown key")
    when = corr.get("when", "before")
    if when not in _WHEN:
        err("correlation.when", f"one of {', '.join(_WHEN)}")
    within = None
    if "within" in corr:
        within = _seconds(corr["within"])
        if within is None:
            err("correlation.within", "a positive duration: seconds, or text like \"90s\", \"15m\", \"2h\"")
    min_count = corr.get("min_count", 1)
    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        err("correlation.min_count", "a whole number ≥ 1")
        min_count = 1
    return str(when), within, min_count


def _timing(when: str, within: float | None) -> pl.Expr:
    before = pl.col("before_s")
    test = pl.lit(True)
    if when == "before":
        test = before >= 0
    elif when == "after":
        test = before < 0
    if within is not None:
        test = test & (before <= within)
    return test


def _remedy(data: dict, err: _Errors) -> dict[str, list[str]]:
    remedy = data.get("remedy", {})
    ok = isinstance(remedy, dict) and all(
        isinstance(v, list) and v and all(isinstance(x, str) and x for x in v) for v in remedy.values())
    if not ok or (remedy and not all(lang in remedy for lang in LANGS)):
        err("remedy", f"a table of step lists, one per language ({', '.join(LANGS)})")
        return {}
    return {k: list(v) for k, v in remedy.items()}


def _operations(data: dict, err: _Errors) -> tuple[str, ...]:
    ops = data.get("operations", list(OPERATIONS))
    ops = [ops] if isinstance(ops, str) else ops
    if not isinstance(ops, list) or not ops or any(o not in OPERATIONS for o in ops):
        err("operations", f"a list of operations, each one of {', '.join(OPERATIONS)}")
        return OPERATIONS
    return tuple(o for o in OPERATIONS if o in ops)


def parse_rule(path: Path, text: str, errors: list[RuleError]) -> Rule | None:
    """Parse one rule file; append every problem to ``errors`` (never stop at the first)."""
    err = _Errors(path, errors)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        err(None, f"not valid TOML: {exc}")
        return None
    cause, weight, fires_on, discounts = _head(data, err)
    title = _texts(data, "title", LANGS, err)
    why = _texts(data, "why", ("en",), err)
    detection, condition, kinds = _detection(data, err)
    when, within, min_count = _correlation(data, err)
    operations = _operations(data, err)
    remedy = _remedy(data, err)
    if err.count or detection is None:
        return None
    matches = (detection & _timing(when, within)).fill_null(False)
    if operations != OPERATIONS:  # in a window, ``operation`` is the incident's (diagnose)
        matches = matches & pl.col("operation").is_in(list(operations)).fill_null(False)
    detected = detection.fill_null(False)
    if kinds is not None:  # rows of other kinds are not even tested (a window holds many of them)
        of_kinds = pl.col("kind").cast(pl.String).is_in(sorted(kinds))
        matches = pl.when(of_kinds).then(matches).otherwise(False)
        detected = pl.when(of_kinds).then(detected).otherwise(False)
    return Rule(id=path.stem, cause=cause, title=title, why=why, weight=weight, fires_on=fires_on, matches=matches,
                min_count=min_count, derived=_derived(data["detection"]), kinds=kinds, when=when, within_s=within, condition=condition, discounts=discounts, path=path,
                operations=operations, remedy=remedy, detection=detected)


def load_rules(directory: Path | None = None) -> tuple[list[Rule], list[RuleError]]:
    """Load every ``*.toml`` rule in ``directory``; returns the good rules and all errors."""
    directory = directory or RULES_DIR
    rules: list[Rule] = []
    errors: list[RuleError] = []
    for path in sorted(directory.glob("*.toml")):
        if path.name.startswith("_"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(RuleError(path, None, f"cannot read: {exc}"))
            continue
        rule = parse_rule(path, text, errors)
        if rule is not None:
            rules.append(rule)
    return rules, errors
