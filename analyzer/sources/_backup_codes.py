"""The MBErrorDomain code table (``data/backup_error_codes.toml``) as the backup sources read it.

Why the cause is written into the rows: a backup's outer code names the cause far more directly than
a restore error does (105 is the backup drive, 208 a locked device), so the sources put the table's
cause and grade into the ``detail`` of every row that carries a code (``detail.cause``), and one
backup rule per cause reads it: the table stays the one place that says what a code means.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

TABLE = Path(__file__).resolve().parents[1] / "data" / "backup_error_codes.toml"
DOMAIN = "MBErrorDomain"


@lru_cache(maxsize=1)
def codes() -> dict[int, dict[str, Any]]:
    """MBErrorDomain code → its table entry (cause, grade, meaning per language, unverified)."""
    data = tomllib.loads(TABLE.read_text(encoding="utf-8"))
    return {entry["code"]: entry for entry in data["code"]}


def cause_expr(code: pl.Expr) -> pl.Expr:
    """The cause id the table gives ``code`` (null for codes it does not list)."""
    table = {k: v["cause"] for k, v in codes().items()}
    return code.replace_strict(table, default=None, return_dtype=pl.String)


def grade_expr(code: pl.Expr) -> pl.Expr:
    table = {k: v["grade"] for k, v in codes().items()}
    return code.replace_strict(table, default=None, return_dtype=pl.String)
