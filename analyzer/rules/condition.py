"""The ``condition`` of a rule: named selections combined with ``and``, ``or``, ``not``,
parentheses, and Sigma's ``1 of name*`` / ``all of name*`` / ``1 of them`` / ``all of them``.

Precedence, loosest first: ``or``, ``and``, ``not`` (as in Sigma and Python). A hand-written
recursive-descent parser: the language is six tokens wide, and a parse error must name the
position for the rule author.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

import polars as pl

_TOKEN = re.compile(r"(\s+)|([()])|([A-Za-z_*][A-Za-z0-9_*]*)|(\d+)|(.)")


@dataclass(frozen=True)
class Condition:
    """A parsed condition: ``build(selections)`` gives the expression, ``names`` the selections it uses."""

    text: str
    tree: tuple

    def names(self, available: list[str]) -> set[str]:
        return _names(self.tree, available)

    def build(self, selections: dict[str, pl.Expr]) -> pl.Expr:
        return _build(self.tree, selections)

    def kinds(self, selection_kinds: dict[str, frozenset[str] | None]) -> frozenset[str] | None:
        """The event kinds a matching row can have (None: any), from each selection's own."""
        return _kinds(self.tree, selection_kinds)


def _tokens(text: str) -> list[tuple[str, int]]:
    """(token, 1-based column) pairs; ValueError at the first character no token starts with."""
    out = []
    for m in _TOKEN.finditer(text):
        if m.group(1):
            continue
        if m.group(5):
            raise ValueError(f"unexpected '{m.group(5)}' at column {m.start() + 1}")
        out.append((m.group(0), m.start() + 1))
    return out


class _Parser:
    def __init__(self, text: str):
        self.text, self.tokens, self.i = text, _tokens(text), 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> str:
        if self.i >= len(self.tokens):
            raise ValueError("the condition ends too early")
        self.i += 1
        return self.tokens[self.i - 1][0]

    def where(self) -> str:
        return f"column {self.tokens[self.i][1]}" if self.i < len(self.tokens) else "the end"

    def parse(self) -> tuple:
        if not self.tokens:
            raise ValueError("the condition is empty")
        tree = self.or_()
        if self.peek() is not None:
            raise ValueError(f"unexpected '{self.peek()}' at {self.where()}")
        return tree

    def or_(self) -> tuple:
        parts = [self.and_()]
        while self.peek() == "or":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else ("or", *parts)

    def and_(self) -> tuple:
        parts = [self.not_()]
        while self.peek() == "and":
            self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else ("and", *parts)

    def not_(self) -> tuple:
        if self.peek() == "not":
            self.take()
            return ("not", self.not_())
        return self.atom()

    def atom(self) -> tuple:
        where, token = self.where(), self.take()
        if token == "(":
            inner = self.or_()
            if self.peek() != ")":
                raise ValueError(f"missing ')' at {self.where()}")
            self.take()
            return inner
        if token in ("1", "all", "any") and self.peek() == "of":
            self.take()
            pattern = self.take()
            return ("any_of" if token in ("1", "any") else "all_of", pattern)
        if token in ("and", "or", "not", "of", ")") or token.isdigit() or "*" in token:
            raise ValueError(f"expected a selection name at {where}, found '{token}'")
        return ("sel", token)


def parse_condition(text: str) -> Condition:
    """Parse ``text``; ValueError with the position when it is not a condition."""
    return Condition(text, _Parser(text).parse())


def _matching(pattern: str, available: list[str]) -> list[str]:
    return list(available) if pattern == "them" else [n for n in available if fnmatch.fnmatchcase(n, pattern)]


def _names(tree: tuple, available: list[str]) -> set[str]:
    op = tree[0]
    if op == "sel":
        return {tree[1]}
    if op in ("any_of", "all_of"):
        found = _matching(tree[1], available)
        return set(found) if found else {tree[1]}
    return set().union(*(_names(t, available) for t in tree[1:]))


def _build(tree: tuple, selections: dict[str, pl.Expr]) -> pl.Expr:
    op = tree[0]
    if op == "sel":
        return selections[tree[1]]
    if op in ("any_of", "all_of"):
        parts = [selections[n] for n in _matching(tree[1], list(selections))]
        return pl.any_horizontal(parts) if op == "any_of" else pl.all_horizontal(parts)
    if op == "not":
        return ~_build(tree[1], selections)
    parts = [_build(t, selections) for t in tree[1:]]
    return pl.all_horizontal(parts) if op == "and" else pl.any_horizontal(parts)


def _meet(sets: list, union: bool):
    if union:
        return None if any(x is None for x in sets) else frozenset().union(*sets)
    known = [x for x in sets if x is not None]
    return frozenset.intersection(*known) if known else None


def _kinds(tree: tuple, kinds: dict[str, frozenset[str] | None]) -> frozenset[str] | None:
    op = tree[0]
    if op == "sel":
        return kinds[tree[1]]
    if op in ("any_of", "all_of"):
        return _meet([kinds[n] for n in _matching(tree[1], list(kinds))], union=op == "any_of")
    if op == "not":
        return None
    return _meet([_kinds(t, kinds) for t in tree[1:]], union=op == "or")
