"""Root-cause rules: one small TOML file per rule, in an open condition language.

A rule says: when rows like *these* are found around a failed attempt, that is evidence for
cause *X* worth *weight* points (and, optionally, it explains away evidence for other causes).
Rules never print and never see files; :mod:`analyzer.diagnose` evaluates them over the
evidence window that :mod:`analyzer.correlate` builds.

The language (documented for rule authors in ``docs/rules.md``) is Sigma's idea in TOML:
named selections of ``field|modifier = value`` tests over any event column or ``detail``
field (:mod:`.fields`, :mod:`.modifiers`), combined by a ``condition`` with ``and``, ``or``,
``not`` and ``1 of``/``all of`` (:mod:`.condition`), plus a ``[correlation]`` table for what
only a failed attempt gives: the time relative to the failure and how many rows must match.
:mod:`.loader` reads the files and collects every error with its file and key.
"""

from __future__ import annotations

from functools import lru_cache

from ..causes import CAUSE_IDS
from .loader import RULES_DIR, Rule, RuleError, load_rules, parse_rule


@lru_cache(maxsize=1)
def default_rules() -> tuple[Rule, ...]:
    """The shipped rules (``analyzer/rules/*.toml``); raises when any of them has an error."""
    rules, errors = load_rules()
    if errors:
        raise ValueError("rule files have errors:\n" + "\n".join(str(e) for e in errors))
    return tuple(rules)


def rule_by_id() -> dict[str, Rule]:
    return {r.id: r for r in default_rules()}


__all__ = ["CAUSE_IDS", "RULES_DIR", "Rule", "RuleError", "default_rules", "load_rules", "parse_rule", "rule_by_id"]
