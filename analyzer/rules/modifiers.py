"""``field|modifier = value``: how one test of a selection becomes a polars expression.

Semantics follow Sigma where Sigma has an answer:

* no modifier is equality; a list of values is any-of (``|all`` makes it all-of);
* text comparisons (equality, ``contains``, ``startswith``, ``endswith``) ignore case unless
  ``|cased`` is added; ``re`` is a Rust-syntax regular expression taken as written (use
  ``(?i)`` to ignore case);
* a field that is missing (null) never matches, so ``not selection`` matches it.

Every problem (unknown modifier, a value of the wrong type, a bad regex or network) raises
``ValueError`` with a message meant for the rule author; the loader locates it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import polars as pl

from ..itunes_versions import version_code_expr
from .fields import BOOL, ENUM, FLOAT, INT, JSON, STRING, TIME, Field, resolve

TEXT_OPS = ("contains", "startswith", "endswith")
ORDER_OPS = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}
VERSION_OPS = {"version_lt": "__lt__", "version_lte": "__le__", "version_gt": "__gt__", "version_gte": "__ge__"}
OPERATORS = ("eq", "in", *TEXT_OPS, "re", *ORDER_OPS, "cidr", "exists", *VERSION_OPS)
FLAGS = ("all", "cased")
MODIFIERS = OPERATORS + FLAGS

_TEXTUAL = (STRING, JSON, ENUM)
_NUMERIC = (INT, FLOAT, JSON)


def _values(value: Any) -> list:
    return list(value) if isinstance(value, list) else [value]


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict)


def _ref(value: dict) -> pl.Expr:
    if set(value) != {"field"} or not isinstance(value["field"], str):
        raise ValueError("a field reference is written { field = \"name\" }")
    return resolve(value["field"]).expr


def _kind_of(v: Any) -> str:
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return STRING
    return type(v).__name__


def _check_regex(pattern: Any) -> str:
    if not isinstance(pattern, str):
        raise ValueError("re needs a string (a regular expression)")
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        raise ValueError(f"not a valid regular expression: {str(exc).splitlines()[1:3]}") from None
    return pattern


def _networks(values: list) -> list:
    out = []
    for v in values:
        try:
            out.append(ipaddress.ip_network(v, strict=False))
        except (TypeError, ValueError):
            raise ValueError(f"{v!r} is not an IP network like 17.0.0.0/8 or 2620:149::/32") from None
    return out


def _ipv4_number(expr: pl.Expr) -> pl.Expr:
    groups = expr.str.strip_chars().str.extract_groups(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
    octets = [groups.struct.field(str(i)).cast(pl.Int64, strict=False) for i in range(1, 5)]
    number = octets[0] * 16777216 + octets[1] * 65536 + octets[2] * 256 + octets[3]
    return pl.when(pl.all_horizontal([o <= 255 for o in octets])).then(number)


def _in_v6(networks: list):
    def test(text: str | None) -> bool:
        try:
            address = ipaddress.ip_address((text or "").strip().strip("[]").split("%")[0])
        except ValueError:
            return False
        return any(address.version == n.version and address in n for n in networks)
    return test


def _cidr(expr: pl.Expr, networks: list) -> list[pl.Expr]:
    tests = []
    v4 = [n for n in networks if n.version == 4]
    if v4:
        number = _ipv4_number(expr)
        tests.extend(number.is_between(int(n.network_address), int(n.broadcast_address)) for n in v4)
    v6 = [n for n in networks if n.version == 6]
    if v6:
        tests.append(expr.map_elements(_in_v6(v6), return_dtype=pl.Boolean, skip_nulls=True))
    return tests


def _equal(field: Field, v: Any, cased: bool) -> pl.Expr:
    kind = _kind_of(v)
    if field.type == ENUM:
        if v not in field.choices:
            raise ValueError(f"{v!r} is not one of {', '.join(field.choices)}")
        return field.expr == v
    if field.type == BOOL or (field.type == JSON and kind == BOOL):
        if kind != BOOL:
            raise ValueError(f"{field.name} is true or false, not {v!r}")
        return field.expr == v if field.type == BOOL else field.expr == ("true" if v else "false")
    if field.type in (INT, FLOAT) or (field.type == JSON and kind == "number"):
        if kind != "number":
            raise ValueError(f"{field.name} is a number, not {v!r}")
        return field.expr.cast(pl.Float64, strict=False) == float(v) if field.type == JSON else field.expr == v
    if field.type in (STRING, JSON):
        if kind != STRING:
            raise ValueError(f"{field.name} is text, not {v!r}")
        return field.expr == v if cased else field.expr.str.to_lowercase() == v.lower()
    raise ValueError(f"{field.name} ({field.type}) can only be tested with exists")


def _text(field: Field, op: str, v: Any, cased: bool) -> pl.Expr:
    if not isinstance(v, str):
        raise ValueError(f"{op} needs text, not {v!r}")
    expr = field.expr if cased else field.expr.str.to_lowercase()
    needle = v if cased else v.lower()
    if op == "contains":
        return expr.str.contains(needle, literal=True)
    return expr.str.starts_with(needle) if op == "startswith" else expr.str.ends_with(needle)


def _order(field: Field, op: str, v: Any) -> pl.Expr:
    if field.type not in _NUMERIC:
        raise ValueError(f"{op} compares numbers; {field.name} is {field.type}")
    if _is_ref(v):
        other = _ref(v).cast(pl.Float64, strict=False)
    elif _kind_of(v) == "number":
        other = pl.lit(float(v))
    else:
        raise ValueError(f"{op} needs a number or a field reference, not {v!r}")
    return getattr(field.expr.cast(pl.Float64, strict=False), ORDER_OPS[op])(other)


def _version(field: Field, op: str, v: Any) -> pl.Expr:
    if field.type not in (STRING, JSON):
        raise ValueError(f"{op} compares version texts; {field.name} is {field.type}")
    if _is_ref(v):
        other = _ref(v)
    elif isinstance(v, str) and re.match(r"^\s*\d+(\.\d+)*", v):
        other = pl.lit(v)
    else:
        raise ValueError(f"{op} needs a version like \"12.7\" or a field reference, not {v!r}")
    return getattr(version_code_expr(field.expr), VERSION_OPS[op])(version_code_expr(other))


def _split(modifiers: list[str]) -> tuple[str, set[str]]:
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        raise ValueError(f"unknown modifier '{unknown[0]}'; use one of {', '.join(MODIFIERS)}")
    ops = [m for m in modifiers if m in OPERATORS]
    if len(ops) > 1:
        raise ValueError(f"one operator per test, not {' and '.join(ops)}")
    return (ops[0] if ops else "eq"), {m for m in modifiers if m in FLAGS}


def _one(field: Field, op: str, v: Any, cased: bool) -> pl.Expr:
    if _is_ref(v) and op not in ORDER_OPS and op not in VERSION_OPS and op != "eq":
        raise ValueError(f"{op} takes values, not a field reference")
    if op in ("eq", "in"):
        return _ref(v) == field.expr if _is_ref(v) else _equal(field, v, cased)
    if op in TEXT_OPS:
        if field.type not in _TEXTUAL:
            raise ValueError(f"{op} works on text; {field.name} is {field.type}")
        return _text(field, op, v, cased)
    if op == "re":
        if field.type not in _TEXTUAL:
            raise ValueError(f"re works on text; {field.name} is {field.type}")
        return field.expr.str.contains(_check_regex(v))
    if op in ORDER_OPS:
        return _order(field, op, v)
    return _version(field, op, v)


def build(field: Field, modifiers: list[str], value: Any) -> pl.Expr:
    """The boolean expression (never null) for ``field|modifiers = value``."""
    op, flags = _split(modifiers)
    if op == "in" and not isinstance(value, list):
        raise ValueError("in needs a list of values")
    if isinstance(value, list) and not value:
        raise ValueError("an empty list matches nothing; leave the test out instead")
    if op == "exists":
        if not isinstance(value, bool):
            raise ValueError("exists takes true or false")
        return field.expr.is_not_null() if value else field.expr.is_null()
    if field.type == TIME:
        raise ValueError(f"{field.name} is a time; only exists applies (rules see time as before_s)")
    if op == "cidr":
        if field.type not in (STRING, JSON):
            raise ValueError(f"cidr works on addresses written as text; {field.name} is {field.type}")
        tests = _cidr(field.expr, _networks(_values(value)))
    else:
        tests = [_one(field, op, v, "cased" in flags) for v in _values(value)]  # (each value checked)
        shared = _any_of_texts(field, op, _values(value), flags)
        if shared is not None:
            return shared.fill_null(False)
    combined = pl.all_horizontal(tests) if "all" in flags else pl.any_horizontal(tests)
    return combined.fill_null(False)


def _any_of_texts(field: Field, op: str, values: list, flags: set[str]) -> pl.Expr | None:
    """``field`` contains / equals any of several texts, as one test on the field lower-cased once
    (None where that does not apply). Why: polars does not share subexpressions between the tests
    of a list, so each value lower-cased the whole column again; one multi-pattern search
    (Aho-Corasick) or one set lookup on the lower-cased column means the same."""
    if ("all" in flags or len(values) < 2 or field.type not in (STRING, JSON)
            or not all(isinstance(v, str) for v in values) or op not in ("contains", "eq", "in")):
        return None
    cased = "cased" in flags
    text = field.expr if cased else field.expr.str.to_lowercase()
    wanted = values if cased else [v.lower() for v in values]
    return text.str.contains_any(wanted) if op == "contains" else text.is_in(wanted)
