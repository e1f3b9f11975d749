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
from ..correlate import OPERATIONS
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

#: Derived fields: (type, expression builder, one line for the rule-language reference). They are
#: computed once per evidence window as columns of their own (:func:`derived_columns`), however many
#: rules read them; a builder of None names a column the evidence window already has.
DERIVED: dict[str, tuple[str, Callable[[], pl.Expr] | None, str]] = {
    "side": (ENUM, lambda: pl.when(pl.col("attempt").is_not_null()).then(pl.lit("attempt")).otherwise(pl.lit("pc")),
             "attempt: a row of the failed attempt's own log; pc: any other evidence of the same PC"),
    "apple": (BOOL, lambda: about_apple(),
              "the row is about Apple's device, driver, service or software (analyzer.apple.about_apple)"),
    "before_s": (FLOAT, None,
                 "seconds from the row to the failure (negative: after the failure)"),
    "later_success": (BOOL, None, "a later attempt of the same device (ECID) on this PC succeeded (analyzer.history)"),
    "later_success_moved": (BOOL, None, "... and it ran on another USB location than this failed one"),
    "same_failure_moved": (INT, None, "how many other attempts of the same device failed with the same code at the same "
                                      "step on another USB location"),
    "reported": (BOOL, None, "the incident was opened from what the user reported (--symptom/--at), not from a failure line"),
    "operation": (ENUM, None, "the incident's operation: restore, update, backup or icloud (in an evidence window every row "
                              "carries its incident's, whatever the row itself was part of)"),
    "required_itunes": (STRING, lambda: required_itunes_expr(detail_field("payload_build")),
                        "the oldest iTunes that can restore the session's payload build (data/itunes_minimums.toml); null: unknown"),
}
_DERIVED_CHOICES = {"side": ("attempt", "pc"), "operation": OPERATIONS}

#: A detail field name: words, spaces, dashes and dots (dots step into nested objects).
_DETAIL_NAME = re.compile(r"^[A-Za-z0-9_ -]+(?:\.[A-Za-z0-9_ -]+)*$")


def detail_path(name: str) -> str:
    """``"a.b-c"`` → ``$['a']['b-c']`` (bracket form, so dashes and spaces are plain names)."""
    return "$" + "".join(f"['{part}']" for part in name.split("."))


def detail_field(name: str) -> pl.Expr:
    """The detail JSON's field ``name`` (dots step into objects) as text, null where absent.

    JSON is decoded only in rows whose text holds the last key in quotes: a literal search costs a
    fraction of a decode, and most rows of a window carry other fields.
    """
    key = f'"{name.rsplit(".", 1)[-1]}"'
    detail = pl.col("detail")
    return pl.when(detail.str.contains(key, literal=True)).then(detail.str.json_path_match(detail_path(name)))


def resolve(name: str) -> Field:
    """The field called ``name``; raises ValueError with the accepted names when there is none."""
    if name in DERIVED:
        kind, _, _ = DERIVED[name]
        return Field(name, pl.col(name), kind, _DERIVED_CHOICES.get(name, ()))
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
        return Field(name, detail_field(sub), JSON)
    known = ", ".join([c for c in EVENT_SCHEMA if c != "detail"] + list(DERIVED))
    raise ValueError(f"unknown field '{name}'; use an event column ({known}) or detail.<field>")


def derived_columns(names) -> list[pl.Expr]:
    """The expressions that add the derived fields ``names`` to an evidence window."""
    return [build().alias(name) for name in sorted(set(names)) if (build := DERIVED[name][1]) is not None]


def field_names(table: dict) -> set[str]:
    """The fields a selection table reads: its keys' field parts and its field references."""
    names = {key.split("|", 1)[0] for key in table}
    for value in table.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, dict) and isinstance(v.get("field"), str):
                names.add(v["field"])
    return names
