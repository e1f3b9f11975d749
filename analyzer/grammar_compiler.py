"""From a Lark grammar's own rule and terminal tables to the fast path's regexes (see
:mod:`analyzer.grammars` for the conventions a grammar follows and what the regexes are for), and,
for a line shape whose fields sit at fixed places before its message, how to cut it by position
(:func:`slice_plan`).

Kept apart from the loader so each stays short: this module knows Lark's tables, the loader knows
files, caches and polars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Lark is imported only when a grammar is compiled (a cache miss)
    from lark import Lark


class GrammarConventionError(ValueError):
    """A grammar file breaks the conventions the fast-path compiler relies on."""


_TERMINAL_DEF = re.compile(r"^\s*([A-Z][A-Z0-9_]*)(?:\.-?\d+)?\s*:", re.MULTILINE)
_IMPORT = re.compile(r"^\s*%import\s+\S+?\.([A-Z][A-Z0-9_]*)\b|^\s*%import\s+\S+\s+\(([^)]*)\)", re.MULTILINE)


def _named_terminals(text: str) -> set[str]:
    names = set(_TERMINAL_DEF.findall(text))
    for single, group in _IMPORT.findall(text):
        if single:
            names.add(single)
        for name in group.split(","):
            name = name.strip()
            if name and name.isupper():
                names.add(name)
    return names


@dataclass(frozen=True)
class Shape:
    """One way a line can look (e.g. dated header line, bracket line)."""

    name: str
    regex: str
    fields: tuple[str, ...]
    has_message: bool


@dataclass(frozen=True)
class Marker:
    """One message the format knows (e.g. ``operation N progress M``)."""

    name: str
    priority: int
    regex: str
    literal: str | None
    fields: tuple[str, ...]


class _Compiler:
    def __init__(self, name: str, parser: Lark, named: set[str]):
        self.name = name
        self.rules: dict[str, list] = {}
        for rule in parser.rules:
            self.rules.setdefault(rule.origin.name, []).append(rule)
        self.patterns = {t.name: t.pattern for t in parser.terminals}
        self.named = named

    def fail(self, rule: str, why: str) -> GrammarConventionError:
        return GrammarConventionError(f"grammar/{self.name}.lark, rule '{rule}': {why}")

    def sequence(self, expansion, owner: str, fields: list[str], prefix: str, stop_at_message: bool = False) -> tuple[str, bool, list[str]]:
        """Regex for a flat expansion; returns (regex, ends_with_message, literals)."""
        from lark.grammar import NonTerminal, Terminal

        parts: list[str] = []
        literals: list[str] = []
        has_message = False
        for sym in expansion:
            if has_message:
                raise self.fail(owner, "'message' must be the last symbol of a line shape")
            if isinstance(sym, Terminal):
                pattern = self.patterns[sym.name]
                rx = pattern.to_regexp()
                if sym.name in self.named:
                    fname = sym.name.lower()
                    if fname in fields:
                        raise self.fail(owner, f"terminal {sym.name} appears twice; give each occurrence its own name")
                    fields.append(fname)
                    parts.append(f"(?P<{prefix}{fname}>{rx})")
                else:
                    parts.append(f"(?:{rx})")
                    if pattern.type == "str" and not pattern.flags:
                        literals.append(pattern.value)
                    elif pattern.type == "re" and not pattern.flags:
                        literals.extend(required_literals(pattern.value))
            elif isinstance(sym, NonTerminal):
                if sym.name == "message" and stop_at_message:
                    parts.append(f"(?P<{prefix}message>.*)")
                    has_message = True
                    continue
                alts = self.rules.get(sym.name)
                if not alts:
                    raise self.fail(owner, f"unknown rule {sym.name}")
                if len(alts) == 1:
                    rx, _, lits = self.sequence(alts[0].expansion, owner, fields, prefix)
                    literals.extend(lits)
                    parts.append(rx)
                else:
                    sub = []
                    for alt in alts:
                        rx, _, _ = self.sequence(alt.expansion, owner, fields, prefix)
                        sub.append(rx)
                    parts.append("(?:" + "|".join(sub) + ")")
        return "".join(parts), has_message, literals

    def compile(self) -> tuple[list[Shape], list[Marker]]:
        from lark.grammar import NonTerminal

        if "line" not in self.rules:
            raise self.fail("line", "a line grammar needs a rule named 'line'")
        shapes: list[Shape] = []
        for i, alt in enumerate(self.rules["line"]):
            if not alt.alias:
                raise self.fail("line", f"alternative {i + 1} needs an alias (-> shape_name)")
            fields: list[str] = []
            rx, has_msg, _ = self.sequence(alt.expansion, f"line -> {alt.alias}", fields, f"s{i}_", stop_at_message=True)
            shapes.append(Shape(alt.alias, rx, tuple(fields), has_msg))
        markers: list[Marker] = []
        for alt in self.rules.get("message", []):
            if len(alt.expansion) != 1 or not isinstance(alt.expansion[0], NonTerminal):
                raise self.fail("message", "each alternative must be a single marker rule")
            mname = alt.expansion[0].name
            mrules = self.rules[mname]
            priority = max((r.options.priority or 0) for r in mrules)
            fields: list[str] = []
            if len(mrules) == 1:
                rx, _, lits = self.sequence(mrules[0].expansion, mname, fields, "f_")
            else:
                subs, lits = [], None
                for r in mrules:
                    sub_fields: list[str] = []
                    srx, _, slits = self.sequence(r.expansion, mname, sub_fields, "f_")
                    subs.append(srx)
                    lits = slits if lits is None else [x for x in lits if x in slits]
                    for f in sub_fields:
                        if f not in fields:
                            fields.append(f)
                rx = "(?:" + "|".join(subs) + ")"
                if len(set(fields)) != len(fields) or any(rx.count(f"(?P<f_{f}>") > 1 for f in fields):
                    raise self.fail(mname, "alternatives of a marker may not repeat a field name")
                lits = lits or []
            literal = max(lits, key=len) if lits else None
            markers.append(Marker(mname, priority, rx, literal.strip() or None if literal else None, tuple(fields)))
        markers.sort(key=lambda m: -m.priority)
        return shapes, markers


@dataclass(frozen=True)
class SlicePlan:
    """How to read a shape by position: ``head`` (the regex of everything before the message,
    anchored at the start), each field's (name, first character, characters), and where the
    message starts."""

    head: str
    fields: tuple[tuple[str, int, int], ...]
    message: int


def slice_plan(shape: Shape, index: int) -> SlicePlan | None:
    """A :class:`SlicePlan` for ``shape`` (the ``index``-th of its grammar) when it is a head of
    fixed width followed by its message: every part before ``(?P<message>.*)`` matches a fixed
    number of characters, and every field is a top-level group of it. Then the whole-line regex
    ``^head(?P<message>.*)$`` matches exactly the lines whose start matches ``^head`` (a line holds
    no line end, which ``.`` alone would not match), and each field is a slice. None otherwise."""
    suffix = f"(?P<s{index}_message>.*)"
    if not shape.has_message or not shape.regex.endswith(suffix):
        return None
    head = shape.regex[: -len(suffix)]
    try:
        parsed = re._parser.parse(head)  # type: ignore[attr-defined]
    except (re.error, AttributeError):
        return None
    names = {gid: name for name, gid in parsed.state.groupdict.items()}
    fields, at = [], 0
    for item in parsed.data:
        low, high = re._parser.SubPattern(parsed.state, [item]).getwidth()  # type: ignore[attr-defined]
        if low != high:
            return None
        op, av = item
        if op is re._constants.SUBPATTERN and av[0] is not None:  # type: ignore[attr-defined]
            name = names.get(av[0], "")
            if not name.startswith(f"s{index}_"):
                return None
            fields.append((name[len(f"s{index}_"):], at, low))
        at += low
    if len(fields) != len(shape.fields) or len(names) != len(fields):
        return None  # a field inside another group: not a top-level slice
    return SlicePlan("^" + head, tuple(fields), at)


def required_literals(regex: str) -> list[str]:
    """Texts every match of ``regex`` contains: runs of plain characters at its top level (or in
    a plain group there), never inside a repeat, an alternative or a class. Why: a marker is tried
    only on the messages holding its longest literal, and a marker written as a regex terminal
    (``/(?:[A-Za-z_]+: )*tss_submit_job/``) gave none but its punctuation (``:``), which nearly every
    message holds."""
    try:
        parsed = re._parser.parse(regex)  # type: ignore[attr-defined]
    except (re.error, AttributeError):
        return []
    if parsed.state.flags & re.IGNORECASE:  # (?i) at the start: a literal may match in another case
        return []
    runs: list[str] = []
    _literal_runs(parsed.data, runs, [""])
    return [r for r in runs if r]


def _literal_runs(items, runs: list[str], current: list[str]) -> None:
    """Append to ``runs`` the plain-character runs of ``items`` (a parsed regex sequence)."""
    constants = re._constants  # type: ignore[attr-defined]
    for op, av in items:
        if op is constants.LITERAL:
            current[0] += chr(av)
        elif op is constants.SUBPATTERN and not av[1] and not av[2]:  # a group, no inline flags
            _literal_runs(av[3].data, runs, current)
        else:  # anything else may match other texts: the run ends here
            runs.append(current[0])
            current[0] = ""
    runs.append(current[0])
    current[0] = ""
