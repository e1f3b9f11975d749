"""The MBErrorDomain code table (``data/backup_error_codes.toml``) as the backup sources read it.

Why the cause is written into the rows: a backup's outer code names the cause far more directly than
a restore error does (105 is the backup drive, 208 a locked device), so the sources put the table's
cause and grade into the ``detail`` of every row that carries a code (``detail.cause``), and one
backup rule per cause reads it: the table stays the one place that says what a code means.
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

TABLE = Path(__file__).resolve().parents[1] / "data" / "backup_error_codes.toml"
DOMAIN = "MBErrorDomain"


def detail_json(**fields: Any) -> str | None:
    """A row's ``detail``: its known fields as compact JSON, or None when it has none (the backup
    sources' one spelling of it)."""
    clean = {k: v for k, v in fields.items() if v is not None}
    return json.dumps(clean, separators=(",", ":"), ensure_ascii=False) if clean else None


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


#: An MBErrorDomain code in any of the spellings the device's and the Mac's logs use: the tools'
#: ``(MBErrorDomain/105)``, an NSError dump's ``(MBErrorDomain:100)`` and NSError's description
#: ``Error Domain=MBErrorDomain Code=105 "…"``.
_ANY_CODE = re.compile(r'\(MBErrorDomain[/:](-?\d+)\)|Error Domain=MBErrorDomain Code=(-?\d+)(?: "([^"]*)")?')
_NOISE = re.compile(r"^[\s.,;:{}<>-]*(?:Underlying error:|UserInfo=\{?|NSUnderlyingError=|<NSError:0x[0-9a-fA-F]+)?[\s.,;:{}<>-]*|[\s.,;:{}<>(-]+$")


def chain(text: str | None) -> list[tuple[int, str]]:
    """(code, text) of every MBErrorDomain code in a message, outer first, whatever its spelling."""
    out: list[tuple[int, str]] = []
    text = text or ""
    pos = 0
    for m in _ANY_CODE.finditer(text):
        if m.group(1) is not None:
            said = _NOISE.sub("", text[pos:m.start()].split("Underlying error:")[-1])
            out.append((int(m.group(1)), said.strip().strip("'\"")))
        else:
            out.append((int(m.group(2)), m.group(3) or ""))
        pos = m.end()
    return out


def detail_rows(base: dict, links: list[tuple[int, str]]) -> list[dict]:
    """One ``failure_detail`` row per code of a chain, outer first (``detail.depth`` 0, 1, …), with
    the cause and grade the table gives it; ``base`` holds the line's own columns."""
    table = codes()
    keep = ("line", "ts_wall", "ts_raw", "clock", "attempt", "operation", "format", "provider", "computer", "message")
    rows = []
    for depth, (code, said) in enumerate(links):
        info = table.get(code, {})
        detail = {k: v for k, v in {"domain": DOMAIN, "depth": depth, "text": said[:300], "cause": info.get("cause"),
                                    "grade": info.get("grade")}.items() if v is not None}
        rows.append({**{k: base.get(k) for k in keep}, "kind": "failure_detail", "error_code": code,
                     "subject": f"{DOMAIN}/{code}", "detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False)})
    return rows
