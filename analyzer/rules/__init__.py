"""Root-cause rules: one small TOML file per rule, loaded with every error collected.

A rule says: when events like *these* are found around a failed attempt, that
is evidence for cause *X* worth *weight* points (and, optionally, it explains
away evidence for other causes). Rules never print and never see files; they
are matched against the correlated evidence by :mod:`analyzer.diagnose`.

File shape (``<id>.toml``, the id is the file stem)::

    cause = "usb_connection"           # one of CAUSE_IDS
    title = "Device dropped off USB outside a mode transition"
    why = "one line a helpdesk can read: why this points at the cause"
    weight = 3.0                       # evidence points for the cause
    fires_on = ["restore_4013_usb_drop"]  # the samples/ bundles it must fire on (and no others)
    discounts = { security_software = 1.0 }   # optional: points taken from other causes
    [match]                            # every key present must hold for an event
    kind = ["device_disconnect"]       # event kinds (model.KINDS)
    side = "apple"                     # apple | windows | any
    expected = false                   # for connect/disconnect
    error_code = [94]                  # any of these codes
    subject = "(?i)apple mobile device"   # regexes (Rust syntax) on these columns
    message = "..."
    detail = "..."
    provider = "(?i)^srv$"             # regex on the Windows provider (or the logging process)
    event_id = [2013]                  # Windows event ids
    apple_device = true                # usb_vid is 05AC (or the row is from an Apple log)
    apple_process = true               # subject/detail names an Apple process or service
    when = "before"                    # before | after | any, relative to the failure
    within_s = 900                     # only events at most this long before the failure
    min_count = 1                      # how many matching events are needed
    nonzero_code = true                # error_code present and not 0 (a failed install, ...)
    detail_field = "LowestFreeSpaceInBytes"   # a numeric field of the detail JSON ...
    below = 10_000_000_000             # ... that must be below (or ``above``) this value
    host_older_than_payload = true     # the session's iTunes predates its firmware (data/itunes_minimums.toml)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..model import KINDS

CAUSE_IDS = (
    "usb_connection", "apple_usb_driver", "security_software", "unsigned_firmware",
    "host_storage", "outdated_host_software", "device_hardware", "undetermined",
)

RULES_DIR = Path(__file__).resolve().parent

_TOP_KEYS = {"cause", "title", "why", "weight", "fires_on", "discounts", "match"}
_MATCH_KEYS = {"kind", "side", "expected", "error_code", "subject", "message", "detail", "apple_device",
               "apple_process", "when", "within_s", "min_count", "format", "nonzero_code", "detail_field",
               "below", "above", "provider", "event_id", "host_older_than_payload"}


class RuleError(ValueError):
    """A problem in a rule file, located by file and key."""

    def __init__(self, path: Path, key: str | None, message: str):
        self.path, self.key = path, key
        where = f"{path.name}" + (f", key '{key}'" if key else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Match:
    kind: tuple[str, ...] = ()
    side: str = "any"
    expected: bool | None = None
    error_code: tuple[int, ...] = ()
    subject: str | None = None
    message: str | None = None
    detail: str | None = None
    format: str | None = None
    provider: str | None = None
    event_id: tuple[int, ...] = ()
    apple_device: bool = False
    apple_process: bool = False
    when: str = "before"
    within_s: float | None = None
    min_count: int = 1
    nonzero_code: bool = False
    detail_field: str | None = None
    below: float | None = None
    above: float | None = None
    host_older_than_payload: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    cause: str
    title: str
    why: str
    weight: float
    fires_on: tuple[str, ...]
    match: Match
    discounts: dict[str, float] = field(default_factory=dict)
    path: Path | None = None


def _check_regex(path: Path, key: str, value, errors: list[RuleError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(RuleError(path, key, "must be a string (a regular expression)"))
        return None
    try:
        re.compile(value)
    except re.error as exc:
        errors.append(RuleError(path, key, f"not a valid regular expression: {exc}"))
        return None
    return value


def parse_rule(path: Path, text: str, errors: list[RuleError]) -> Rule | None:
    """Parse one rule file; append every problem to ``errors`` (never stop at the first)."""
    before = len(errors)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        errors.append(RuleError(path, None, f"not valid TOML: {exc}"))
        return None
    for key in sorted(set(data) - _TOP_KEYS):
        errors.append(RuleError(path, key, "unknown key"))
    fires_on = data.get("fires_on")
    fires_on = [fires_on] if isinstance(fires_on, str) else fires_on
    if not isinstance(fires_on, list) or not fires_on or not all(isinstance(x, str) and x for x in fires_on):
        errors.append(RuleError(path, "fires_on", "required, a list of samples/ bundle names"))
    for key in ("cause", "title", "why"):
        if not isinstance(data.get(key), str) or not data.get(key):
            errors.append(RuleError(path, key, "required, a non-empty string"))
    if data.get("cause") not in CAUSE_IDS and isinstance(data.get("cause"), str):
        errors.append(RuleError(path, "cause", f"unknown cause id {data['cause']!r}; use one of {', '.join(CAUSE_IDS)}"))
    weight = data.get("weight")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 10:
        errors.append(RuleError(path, "weight", "required, a number in (0, 10]"))
    discounts = data.get("discounts", {})
    if not isinstance(discounts, dict) or any(k not in CAUSE_IDS or not isinstance(v, (int, float)) for k, v in discounts.items()):
        errors.append(RuleError(path, "discounts", "a table of cause id = points"))
        discounts = {}
    raw = data.get("match")
    if not isinstance(raw, dict):
        errors.append(RuleError(path, "match", "required, a table"))
        raw = {}
    for key in sorted(set(raw) - _MATCH_KEYS):
        errors.append(RuleError(path, f"match.{key}", "unknown key"))
    kinds = raw.get("kind", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    for k in kinds:
        if k not in KINDS:
            errors.append(RuleError(path, "match.kind", f"unknown event kind {k!r}"))
    event_ids = raw.get("event_id", [])
    event_ids = [event_ids] if isinstance(event_ids, int) else event_ids
    if not isinstance(event_ids, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in event_ids):
        errors.append(RuleError(path, "match.event_id", "integers only"))
        event_ids = []
    codes = raw.get("error_code", [])
    codes = [codes] if isinstance(codes, int) else codes
    if not all(isinstance(c, int) for c in codes):
        errors.append(RuleError(path, "match.error_code", "integers only"))
    side = raw.get("side", "any")
    if side not in ("apple", "windows", "any"):
        errors.append(RuleError(path, "match.side", "apple, windows or any"))
    when = raw.get("when", "before")
    if when not in ("before", "after", "any"):
        errors.append(RuleError(path, "match.when", "before, after or any"))
    min_count = raw.get("min_count", 1)
    if not isinstance(min_count, int) or min_count < 1:
        errors.append(RuleError(path, "match.min_count", "a whole number ≥ 1"))
    within = raw.get("within_s")
    if within is not None and (not isinstance(within, (int, float)) or within <= 0):
        errors.append(RuleError(path, "match.within_s", "a positive number of seconds"))
    expected = raw.get("expected")
    if expected is not None and not isinstance(expected, bool):
        errors.append(RuleError(path, "match.expected", "true or false"))
    field_name = raw.get("detail_field")
    bounds = {k: raw.get(k) for k in ("below", "above") if raw.get(k) is not None}
    if field_name is not None and (not isinstance(field_name, str) or not field_name.replace("_", "").isalnum()):
        errors.append(RuleError(path, "match.detail_field", "a field name of the event detail (letters, digits, _)"))
    if bool(field_name) != bool(bounds):
        errors.append(RuleError(path, "match.detail_field", "detail_field goes with below and/or above"))
    for key, value in bounds.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(RuleError(path, f"match.{key}", "a number"))
    for key in ("apple_device", "apple_process", "nonzero_code", "host_older_than_payload"):
        if key in raw and not isinstance(raw[key], bool):
            errors.append(RuleError(path, f"match.{key}", "true or false"))
    regexes = {k: _check_regex(path, f"match.{k}", raw.get(k), errors) for k in ("subject", "message", "detail", "format", "provider")}
    if len(errors) > before:
        return None
    match = Match(kind=tuple(kinds), side=side, expected=expected, error_code=tuple(codes), when=when,
                  event_id=tuple(event_ids),
                  within_s=within, min_count=min_count, apple_device=bool(raw.get("apple_device", False)),
                  apple_process=bool(raw.get("apple_process", False)), nonzero_code=bool(raw.get("nonzero_code", False)),
                  detail_field=field_name, below=bounds.get("below"), above=bounds.get("above"),
                  host_older_than_payload=bool(raw.get("host_older_than_payload", False)), **regexes)
    return Rule(id=path.stem, cause=data["cause"], title=data["title"], why=data["why"], weight=float(weight),
                fires_on=tuple(fires_on), match=match, discounts={k: float(v) for k, v in discounts.items()}, path=path)


def load_rules(directory: Path | None = None) -> tuple[list[Rule], list[RuleError]]:
    """Load every ``*.toml`` rule in ``directory``; returns the good rules and all errors."""
    directory = directory or RULES_DIR
    rules: list[Rule] = []
    errors: list[RuleError] = []
    for path in sorted(directory.glob("*.toml")):
        if path.name.startswith("_"):
            continue
        rule = parse_rule(path, path.read_text(encoding="utf-8"), errors)
        if rule is not None:
            rules.append(rule)
    return rules, errors
