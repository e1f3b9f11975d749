"""Software known to interfere with connections (Killer, VPN adapters, TLS-inspecting suites):
which Windows service or device rows name it, from the table in ``data/network_software.toml``.

The names are data, not code (reference backup-and-network.md §6 grades each), so a product learnt
later is one table. Matching is on service and driver names (SCM 7045/7036 ``ServiceName``/
``param1``, ImagePath, setupapi section titles, INF and component ids), never on message text. A
matching row becomes kind ``network_software`` with ``software``, ``category`` and
``inspects_tls`` put first in its detail: a configuration finding (the rules weigh it weakly).
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from pathlib import Path

import polars as pl

#: The kinds a network-software row can be found among: service installs/states, device installs.
CANDIDATE_KINDS = ("service_state", "driver_install", "driver_load")


@functools.lru_cache(maxsize=1)
def table() -> tuple[dict, ...]:
    """The rows of data/network_software.toml."""
    path = Path(__file__).resolve().parent / "data" / "network_software.toml"
    return tuple(tomllib.loads(path.read_text(encoding="utf-8"))["software"])


@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[str, dict[str, str]]:
    """One case-insensitive alternation of every pattern (as words of their own), and for each
    pattern (lower case) the JSON fields it adds to a row's detail."""
    fields: dict[str, str] = {}
    for row in table():
        extra = json.dumps({"software": row["name"], "category": row["category"], "inspects_tls": row["inspects_tls"]},
                           separators=(",", ":"))[1:-1]
        for pattern in row["patterns"]:
            fields[pattern.lower()] = extra
    alternation = "|".join(re.escape(p) for p in sorted(fields, key=len, reverse=True))
    return r"(?i)(?:^|[^A-Za-z0-9])(" + alternation + r")(?:[^A-Za-z0-9]|$)", fields


def software_of(text: str | None) -> dict | None:
    """The table row ``text`` names, or None (for tests and callers outside polars)."""
    regex, _ = _patterns()
    found = re.search(regex, text or "")
    if not found:
        return None
    return next(r for r in table() if found.group(1).lower() in (p.lower() for p in r["patterns"]))


def retag(kind: pl.Expr, text: pl.Expr, detail: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(kind, detail) for rows whose ``text`` names network software: kind ``network_software`` and
    the software's fields first in ``detail`` (a JSON object or null); other rows unchanged."""
    regex, fields = _patterns()
    # the text searched and the detail rewritten only where they can change (null elsewhere, where
    # the regex and the strips cost nothing): a when/then computes its branches on every row
    matched = pl.when(kind.is_in(CANDIDATE_KINDS)).then(text).str.extract(regex, 1).str.to_lowercase()
    extra = matched.replace_strict(fields, default=None, return_dtype=pl.String)
    body = pl.when(extra.is_not_null()).then(detail).str.strip_chars().str.strip_prefix("{").str.strip_suffix("}")
    merged = (pl.when(body.is_null() | (body.str.strip_chars() == "")).then(pl.concat_str(pl.lit("{"), extra, pl.lit("}")))
              .otherwise(pl.concat_str(pl.lit("{"), extra, pl.lit(","), body, pl.lit("}"))))
    new_kind = pl.when(extra.is_not_null()).then(pl.lit("network_software")).otherwise(kind.cast(pl.String))
    return new_kind, pl.when(extra.is_not_null()).then(merged).otherwise(detail)
