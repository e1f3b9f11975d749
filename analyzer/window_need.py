"""Which rows an evidence window needs at all, decided from the rules before any window is built.

A failed attempt's window holds its whole log, and a verbose attempt is millions of lines: on a log
that is one 2M-line attempt, the window's ``generic`` rows alone took 1.2 GB, for the two rules that
read that kind (``failure_text_*``), which look for a phrase in a few of them. So a kind is *gated*
when every rule that can match its rows decides on the row's own columns (its detection: event
columns and the derived fields computed from them): its rows enter a window only where some such
detection holds, and the rest could never be a hit. A kind enters whole when the verdict cites it
(the failing results, Apple's failure description), when the pairing of the PC's arrivals and
removals reads it (:func:`analyzer.correlate.mark_transitions`), or when some rule tests it through
what only a window has (``before_s``, the history facts, the incident's operation, ``expected``).
The hits, the evidence cited and the verdicts are the same either way; only rows no rule could
match are left out (``tests/test_window_need.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import polars as pl

from .frames import row_mask
from .model import EVENT_SCHEMA
from .rules import Rule
from .rules.fields import DERIVED, derived_columns

#: Kinds the verdict reads besides the rules' own: the failing result lines and the failure description.
CITED_KINDS = frozenset({"result", "failure_detail"})

#: Kinds whose rows the transition pairing reads (correlate.mark_transitions), whatever the rules say.
PAIRED_KINDS = frozenset({"device_connect", "device_disconnect"})

#: Event columns a gate may read: the row as the source wrote it. ``expected`` is set on the PC's
#: rows by the pairing, after a window's rows are read; ``operation`` in a window is the incident's.
_ROW_COLUMNS = frozenset(EVENT_SCHEMA) - {"expected", "operation"}


@dataclass(frozen=True)
class Gate:
    """How the rows of one gated kind are tested: the detections of the rules of that kind, on the
    columns they read, after the derived fields they read."""

    tests: tuple[pl.Expr, ...]
    derived: tuple[pl.Expr, ...]
    columns: tuple[str, ...]

    def hits(self, rows: pl.DataFrame) -> pl.Series:
        """Which of ``rows`` (of the gate's kind; its columns) some detection holds on."""
        return row_mask(rows.with_columns(self.derived), pl.any_horizontal(self.tests))


@dataclass(frozen=True)
class WindowNeed:
    """The rows an evidence window needs: those of ``kinds`` (every kind for None), where a kind
    of ``gates`` only at the rows its gate's tests hold on."""

    kinds: frozenset[str] | None
    gates: dict[str, Gate] = field(default_factory=dict)

    @property
    def gated(self) -> frozenset[str]:
        return frozenset(self.gates)

    def mask(self, frame: pl.DataFrame) -> pl.Series:
        """Which rows of ``frame`` (event columns) a window needs. A kind's tests run on that
        kind's rows only, on the columns they read (polars evaluates every branch of a ``when``:
        testing each row against every rule of every gated kind took 1.2 GB on a 2M-line attempt)."""
        if self.kinds is None:
            return pl.repeat(True, frame.height, eager=True)
        kind = frame.get_column("kind").cast(pl.String)
        wanted = kind.is_in(sorted(self.kinds - self.gated))
        at = kind.is_in(sorted(self.gated))
        if not at.any():
            return wanted
        wanted = wanted.clone()
        for name in kind.filter(at).unique().sort():
            gate = self.gates[name]
            positions = (kind == name).arg_true()
            rows = frame.select(gate.columns).gather(positions)
            wanted.scatter(positions, gate.hits(rows))
        return wanted


def _reads(rule: Rule) -> set[str] | None:
    """The row columns ``rule``'s detection reads, derived fields expanded; None when it reads
    something only a window has (then its kinds enter whole)."""
    if rule.detection is None:
        return None
    names = set(rule.detection.meta.root_names())
    for name in rule.derived:
        names.discard(name)
        builder = DERIVED[name][1]
        if builder is None:  # a column only the window has (before_s, the history facts)
            return None
        names |= set(builder().meta.root_names())
    return names if names <= _ROW_COLUMNS else None


@functools.lru_cache(maxsize=8)
def window_need(rules: tuple[Rule, ...]) -> WindowNeed:
    """What the evidence windows of ``rules`` need (see the module's docstring). Kept for the rule
    sets seen (4 ms to build; a fleet diagnoses PC after PC with the same rules)."""
    kinds = set(CITED_KINDS)
    for rule in rules:
        if rule.kinds is None:
            return WindowNeed(None)
        kinds |= rule.kinds
    whole = set(CITED_KINDS | PAIRED_KINDS)
    reads = {rule.id: _reads(rule) for rule in rules}
    for rule in rules:
        if reads[rule.id] is None:
            whole |= rule.kinds
    gates = {}
    for name in sorted(kinds - whole):
        testing = [rule for rule in rules if name in rule.kinds]
        columns = {"kind"}.union(*(reads[rule.id] for rule in testing))
        gates[name] = Gate(tuple(rule.detection for rule in testing),
                           tuple(derived_columns({d for rule in testing for d in rule.derived})),
                           tuple(c for c in EVENT_SCHEMA if c in columns))
    return WindowNeed(frozenset(kinds), gates)
