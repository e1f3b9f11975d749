"""Is the iTunes that ran a restore older than the firmware it was asked to install?

The session header of a restore log names both (``itunes_version`` "12.4.3.1",
``payload_build`` "14A403"); which iTunes each firmware needs is data
(``data/itunes_minimums.toml``), so a new pair is a new table row. Versions are compared as
numbers part by part (12.10 is newer than 12.9), never as text.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

import polars as pl

TABLE = Path(__file__).resolve().parent / "data" / "itunes_minimums.toml"


def version_code(version: str | None) -> int | None:
    """``"12.5.1.21"`` -> 12_005_001 (major, minor, patch; the build number is ignored)."""
    found = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", version or "")
    if not found:
        return None
    major, minor, patch = (int(part or 0) for part in found.groups())
    return major * 1_000_000 + min(minor, 999) * 1_000 + min(patch, 999)


@functools.lru_cache(maxsize=1)
def _table_rows() -> tuple[tuple[int, str], ...]:
    """(build major, oldest iTunes as written in the table), newest firmware first."""
    rows = tomllib.loads(TABLE.read_text(encoding="utf-8"))["minimum"]
    return tuple(sorted(((int(r["build_major"]), str(r["itunes"])) for r in rows), reverse=True))


def minimums() -> tuple[tuple[int, int], ...]:
    """(build major, oldest iTunes as a version code), newest firmware first."""
    return tuple((major, version_code(text)) for major, text in _table_rows())


def required_itunes(build: str | None) -> int | None:
    """The version code of the oldest iTunes that can restore ``build``, None if no row covers it."""
    found = re.match(r"\s*(\d+)[A-Z]", build or "")
    if not found:
        return None
    major = int(found.group(1))
    return next((code for build_major, code in minimums() if major >= build_major), None)


def host_older_than_payload(itunes_version: str | None, payload_build: str | None) -> bool:
    code, needed = version_code(itunes_version), required_itunes(payload_build)
    return code is not None and needed is not None and code < needed


def version_code_expr(version: pl.Expr) -> pl.Expr:
    """:func:`version_code` over a column of version texts (null where there is no version)."""
    parts = [version.str.extract(rx, 1).cast(pl.Int64, strict=False)
             for rx in (r"^\s*(\d+)", r"^\s*\d+\.(\d+)", r"^\s*\d+\.\d+\.(\d+)")]
    major, minor, patch = parts[0], parts[1].fill_null(0).clip(upper_bound=999), parts[2].fill_null(0).clip(upper_bound=999)
    return major * 1_000_000 + minor * 1_000 + patch


def required_itunes_expr(build: pl.Expr) -> pl.Expr:
    """The oldest iTunes (version text, as in the table) for a column of payload builds; null when
    no row covers the build."""
    build_major = build.str.extract(r"^\s*(\d+)[A-Z]", 1).cast(pl.Int64, strict=False)
    needed = pl.lit(None, dtype=pl.String)
    for major, text in reversed(_table_rows()):  # the newest row is tested last, so it wins
        needed = pl.when(build_major >= major).then(pl.lit(text)).otherwise(needed)
    return needed


def host_older_than_payload_expr(detail: pl.Expr) -> pl.Expr:
    """:func:`host_older_than_payload` over a column of detail JSON (null where it cannot say)."""
    version = version_code_expr(detail.str.json_path_match("$.itunes_version"))
    return version < version_code_expr(required_itunes_expr(detail.str.json_path_match("$.payload_build")))
