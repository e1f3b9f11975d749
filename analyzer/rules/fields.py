"""What a rule may test: every event column, any field of the ``detail`` JSON, and a few
derived fields that only make sense next to a failed attempt.

A field name resolves to a :class:`Field`: the polars expression that reads it from the
evidence window (see :mod:`analyzer.correlate`) and its type, which decides how values are
compared and which modifiers are allowed. Keeping the vocabulary here, apart from the
modifiers and the condition parser, means a new column in the event schema is testable
by rules with no change at all, and a new derived field is one entry in ``DERIVED``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import polars as pl

from ..apple import about_apple
from ..itunes_versions import required_itunes_expr
from ..model import CLOCKS, EVENT_SCHEMA, KINDS

#: Value types a field can have (they decide comparisons and allowed modifiers).
STRING, ENUM, INT, FLOAT, BOOL, TIME, JSON = "string", "enum", "int", "float", "bool", "time", "json"

_INT_TYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


@dataclass(frozen=True)
class Field:
    """A resolved field: its name as written, how to read it, its type and, for enums, its values."""

    name: str
    expr: pl.Expr
    type: str
    choices: tuple[str, ...] = ()


def _column_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Enum) or dtype == pl.Categorical:
        return ENUM
    if dtype == pl.Boolean:
        return BOOL
    if any(dtype == t for t in _INT_TYPES):
        return INT
    if dtype in (pl.Float32, pl.Float64):
        return FLOAT
    if isinstance(dtype, pl.Datetime):
        return TIME
    return STRING


_ENUM_CHOICES = {"kind": KINDS, "clock": CLOCKS}

#: Derived fields: (type, expression builder, one line for the rule-language reference).
DERIVED: dict[str, tuple[str, Callable[[], pl.Expr], str]] = {
    "side": (ENUM, lambda: pl.when(pl.col("attempt").is_not_null()).then(pl.lit("attempt")).otherwise(pl.lit("pc")),
             "attempt: a row of the failed attempt's own log; pc: any other evidence of the same PC"),
    "apple": (BOOL, lambda: about_apple(),
              "the row is about Apple's device, driver, service or software (analyzer.apple.about_apple)"),
    "before_s": (FLOAT, lambda: pl.col("before_s"),
                 "seconds from the row to the failure (negative: after the failure)"),
    "required_itunes": (STRING, lambda: required_itunes_expr(pl.col("detail").str.json_path_match("$.payload_build")),
                        "the oldest iTunes that can restore the session's payload build (data/itunes_minimums.toml)"),
}
_DERIVED_CHOICES = {"side": ("attempt", "pc")}

#: A detail field name: words, spaces, dashes and dots (dots step into nested objects).
_DETAIL_NAME = re.compile(r"^[A-Za-z0-9_ -]+(?:\.[A-Za-z0-9_ -]+)*$")


def detail_path(name: str) -> str:
    """``"a.b-c"`` → ``$['a']['b-c']`` (bracket form, so dashes and spaces are plain names)."""
    return "$" + "".join(f"['{part}']" for part in name.split("."))


def resolve(name: str) -> Field:
    """The field called ``name``; raises ValueError with the accepted names when there is none."""
    if name in DERIVED:
        kind, build, _ = DERIVED[name]
        return Field(name, build(), kind, _DERIVED_CHOICES.get(name, ()))
    if name in EVENT_SCHEMA and name != "detail":
        dtype = EVENT_SCHEMA[name]
        kind = _column_type(dtype)
        expr = pl.col(name).cast(pl.String) if kind == ENUM else pl.col(name)
        return Field(name, expr, kind, _ENUM_CHOICES.get(name, ()))
    if name == "detail":
        return Field(name, pl.col("detail"), JSON)
    if name.startswith("detail."):
        sub = name[len("detail."):]
        if not _DETAIL_NAME.match(sub):
            raise ValueError(f"'{sub}' is not a detail field name (letters, digits, _, -, spaces; dots for nesting)")
        return Field(name, pl.col("detail").str.json_path_match(detail_path(sub)), JSON)
    known = ", ".join([c for c in EVENT_SCHEMA if c != "detail"] + list(DERIVED))
    raise ValueError(f"unknown field '{name}'; use an event column ({known}) or detail.<field>")
