"""Which rows of the evidence windows each rule matches, computed so that a rule tests only rows it
could match.

A window holds every row of a failed attempt's log and of the PC around it — on a bench log,
hundreds of thousands — while a rule is about one or two event kinds. Each rule therefore sees the
window's rows of its kinds only (the window is split by kind once), with the derived fields it reads
computed on those rows only; a rule that names no kind sees them all. polars evaluates both branches
of a ``when``, so restricting by filtering, not masking, is what saves the work.
"""

from __future__ import annotations

import collections

import polars as pl

from .frames import SMALL_ROWS, rows_where
from .rules import Rule
from .rules.fields import derived_columns


def _rows_of_kinds(window: pl.DataFrame, parts: dict[str, pl.DataFrame], kinds: frozenset[str] | None) -> pl.DataFrame:
    if kinds is None:
        return window
    frames = [parts[k] for k in sorted(kinds) if k in parts]
    return pl.concat(frames, how="vertical") if frames else window.head(0)


def rule_hits(window: pl.DataFrame, rules: tuple[Rule, ...]) -> dict[str, pl.DataFrame]:
    """rule id → the window rows it matches (with the window's ``incident`` column)."""
    parts = {str(key[0]): frame for key, frame in window.partition_by("kind", as_dict=True).items()}
    hits = {}
    for rule in rules:
        rows = _rows_of_kinds(window, parts, rule.kinds)
        if rows.height:
            rows = rows_where(rows.with_columns(derived_columns(rule.derived)), rule.matches)
        hits[rule.id] = rows
    return hits


def fired_rules(hits: dict[str, pl.DataFrame], rules: tuple[Rule, ...]) -> dict[int, list[Rule]]:
    """incident → the rules whose matches there reach their ``min_count``, in rule order."""
    counts: dict[int, dict[str, int]] = {}
    for rule in rules:
        for incident, n in _per_incident(hits[rule.id]).items():
            counts.setdefault(incident, {})[rule.id] = n
    return {incident: [r for r in rules if by_rule.get(r.id, 0) >= r.min_count] for incident, by_rule in counts.items()}


def _per_incident(rows: pl.DataFrame) -> dict[int, int]:
    """incident → how many of ``rows`` are in its window. Counted in Python below SMALL_ROWS: a
    group_by query costs ~0.3 ms whatever the rows, and this runs once per rule."""
    if rows.height == 0:
        return {}
    if rows.height <= SMALL_ROWS:
        return dict(collections.Counter(rows.get_column("incident").to_list()))
    return dict(rows.group_by("incident").len().iter_rows())
