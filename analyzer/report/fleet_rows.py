"""The fleet summary (analyzer.fleet.summary, already in the JSON document) as flat row tables.

Spreadsheets, Parquet readers and HTML tables want rows of scalars; the summary
nests lists and dicts. This module only reshapes: lists become "a, b" text,
dicts "key n" text. Every file renderer uses it, so the fleet summary reads the
same in every output format.
"""

from __future__ import annotations

from typing import Any

#: Table name -> key of the fleet summary it comes from.
TABLES = {"hosts": "hosts", "causes": "causes", "shared_factors": "shared_factors", "time_clusters": "time_clusters",
          "network_clusters": "network_clusters"}


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return value


def fleet_tables(fleet: dict | None) -> dict[str, list[dict[str, Any]]]:
    """{table name: rows} for the non-empty parts of a fleet summary; nothing for a single PC."""
    if not fleet or fleet.get("host_count", 0) < 2:
        return {}
    out = {}
    for name, key in TABLES.items():
        rows = [{k: _scalar(v) for k, v in row.items()} for row in fleet.get(key) or []]
        if rows:
            out[name] = rows
    return out
