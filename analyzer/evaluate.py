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

from .frames import SMALL_ROWS, row_mask, rows_where
from .rules import Rule
from .rules.fields import derived_columns


def _kind_rows(window: pl.DataFrame) -> dict[str, pl.Series]:
    """kind → the positions of the window's rows of that kind, in window order."""
    positions = window.select(pl.col("kind").cast(pl.String), pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"))
    return {kind: rows for kind, rows in positions.group_by("kind").agg("_i").iter_rows() if kind is not None}


def _positions(window: pl.DataFrame, by_kind: dict, kinds: frozenset[str] | None) -> pl.Series:
    """The positions of the window's rows a rule of ``kinds`` tests: those kinds in sorted order,
    each in window order (every row for None)."""
    if kinds is None:
        return pl.Series("_i", range(window.height), dtype=pl.UInt32)
    parts = [pl.Series("_i", by_kind[k], dtype=pl.UInt32) for k in sorted(kinds) if k in by_kind]
    return pl.concat(parts) if parts else pl.Series("_i", [], dtype=pl.UInt32)


def _read_columns(window: pl.DataFrame, rule: Rule, derived: list[pl.Expr]) -> list[str]:
    """The window columns ``rule`` reads, itself or through its derived fields."""
    names = set(rule.matches.meta.root_names()) - {expr.meta.output_name() for expr in derived}
    for expr in derived:  # (a derived field may read a window column of its own name)
        names |= set(expr.meta.root_names())
    return [name for name in window.columns if name in names] or window.columns[:1]


def rule_hits(window: pl.DataFrame, rules: tuple[Rule, ...]) -> dict[str, pl.DataFrame]:
    """rule id → the window rows it matches (with the window's ``incident`` column, and the
    derived fields the rule reads).

    A rule is tested on the columns it reads, taken at the rows of its kinds; only the rows it
    matches are then taken whole. (Splitting the window by kind copied it whole first, the
    largest allocation of a bench log's diagnosis.) A small window is split by kind all the same:
    there the copy costs nothing and the fewer polars calls are faster (a PC's 45 rules: 2.5 ms)."""
    if window.height <= SMALL_ROWS:
        return _small_window_hits(window, rules)
    by_kind = _kind_rows(window)
    hits = {}
    for rule in rules:
        positions = _positions(window, by_kind, rule.kinds)
        if positions.len() == 0:
            hits[rule.id] = window.head(0)
            continue
        derived = derived_columns(rule.derived)
        tested = window.select(_read_columns(window, rule, derived))
        if rule.kinds is not None:
            tested = tested.gather(positions)
        if "kind" in tested.columns and tested.schema["kind"] != pl.String:
            # a rule reads kind as text, in several places: cast once here, and those casts do nothing
            tested = tested.with_columns(pl.col("kind").cast(pl.String))
        tested = tested.with_columns(derived)
        mask = row_mask(tested, rule.matches)
        rows = window.gather(positions.filter(mask))
        if derived:
            rows = rows.with_columns(tested.select(expr.meta.output_name() for expr in derived).filter(mask))
        hits[rule.id] = rows
    return hits


def _small_window_hits(window: pl.DataFrame, rules: tuple[Rule, ...]) -> dict[str, pl.DataFrame]:
    """:func:`rule_hits` on a window split by kind once, each rule filtering its kinds' rows."""
    parts = {str(key[0]): frame for key, frame in window.partition_by("kind", as_dict=True).items()}
    hits = {}
    for rule in rules:
        if rule.kinds is None:
            rows = window
        else:
            frames = [parts[k] for k in sorted(rule.kinds) if k in parts]
            rows = pl.concat(frames, how="vertical") if frames else window.head(0)
        hits[rule.id] = rows_where(rows.with_columns(derived_columns(rule.derived)), rule.matches) if rows.height else rows
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
