"""Is the iTunes that ran a restore older than the firmware it was asked to install?

The session header of a restore log names both (``itunes_version`` "12.4.3.1",
``payload_build`` "14A403"); which iTunes each firmware needs is data
(``data/itunes_minimums.toml``, every row with its public source), so a new pair is a new table
row. Versions are compared as numbers part by part (12.10 is newer than 12.9), never as text.

Three answers, never two: older, not older, or **unknown**. A build whose major has no row is
unknown — a firmware newer than every row does not inherit the newest row's requirement, because
that would call an old iTunes "fine" for a firmware nobody has checked. A host that is not iTunes
is unknown too: Finder's AMPDevicesAgent writes ``iTunes: iTunes 13.0.5.13`` and the Apple Devices
app has its own numbers, neither on iTunes' scale (iTunes stopped at 12.x; iPhones were first
restored by iTunes 7).
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

import polars as pl

TABLE = Path(__file__).resolve().parent / "data" / "itunes_minimums.toml"
#: Host versions on iTunes' own scale: [ITUNES_FIRST, ITUNES_AFTER_LAST). Anything else written
#: after "iTunes: iTunes" (AMPDevicesAgent 13.x, the Apple Devices app) is not compared.
ITUNES_FIRST, ITUNES_AFTER_LAST = "7", "13"
#: The processes whose header version is iTunes' own (session_start detail ``process``).
ITUNES_PROCESSES = ("iTunes",)
_BUILD = r"^\s*(\d+)([A-Z])"


def version_code(version: str | None) -> int | None:
    """``"12.5.1.21"`` -> 12_005_001 (major, minor, patch; the build number is ignored)."""
    found = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", version or "")
    if not found:
        return None
    major, minor, patch = (int(part or 0) for part in found.groups())
    return major * 1_000_000 + min(minor, 999) * 1_000 + min(patch, 999)


@functools.lru_cache(maxsize=1)
def _table_rows() -> tuple[tuple[int, str, str], ...]:
    """(build major, first train letter, oldest iTunes as written), ascending."""
    rows = tomllib.loads(TABLE.read_text(encoding="utf-8"))["minimum"]
    return tuple(sorted((int(r["build_major"]), str(r.get("from_letter", "A")), str(r["itunes"])) for r in rows))


def minimums() -> tuple[tuple[int, str, int], ...]:
    """(build major, first train letter, oldest iTunes as a version code), ascending."""
    return tuple((major, letter, version_code(text)) for major, letter, text in _table_rows())


def required_itunes(build: str | None) -> int | None:
    """The version code of the oldest iTunes that can restore ``build``; None when no row covers it
    (unknown: not "any iTunes will do")."""
    found = re.match(_BUILD, build or "")
    if not found:
        return None
    major, letter = int(found.group(1)), found.group(2)
    rows = [code for m, first, code in minimums() if m == major and first <= letter]
    return rows[-1] if rows else None


def is_itunes_host(version: str | None, process: str | None) -> bool:
    """Does this header version count on iTunes' scale (see the module docstring)?"""
    code = version_code(version)
    return (process in ITUNES_PROCESSES and code is not None
            and version_code(ITUNES_FIRST) <= code < version_code(ITUNES_AFTER_LAST))


def host_older_than_payload(itunes_version: str | None, payload_build: str | None,
                            process: str | None) -> bool | None:
    """True: the host iTunes is older than the build needs; False: it is not; None: unknown (no
    version, a build with no row, or a host that is not iTunes)."""
    needed = required_itunes(payload_build)
    if needed is None or not is_itunes_host(itunes_version, process):
        return None
    return version_code(itunes_version) < needed


def version_code_expr(version: pl.Expr) -> pl.Expr:
    """:func:`version_code` over a column of version texts (null where there is no version)."""
    parts = [version.str.extract(rx, 1).cast(pl.Int64, strict=False)
             for rx in (r"^\s*(\d+)", r"^\s*\d+\.(\d+)", r"^\s*\d+\.\d+\.(\d+)")]
    major, minor, patch = parts[0], parts[1].fill_null(0).clip(upper_bound=999), parts[2].fill_null(0).clip(upper_bound=999)
    return major * 1_000_000 + minor * 1_000 + patch


def required_itunes_expr(build: pl.Expr) -> pl.Expr:
    """The oldest iTunes (version text, as in the table) for a column of payload builds; null when
    no row covers the build (unknown)."""
    major = build.str.extract(_BUILD, 1).cast(pl.Int64, strict=False)
    letter = build.str.extract(_BUILD, 2)
    needed = pl.lit(None, dtype=pl.String)
    for row_major, first, text in _table_rows():  # ascending: the last row built is tested first
        needed = pl.when((major == row_major) & (letter >= first)).then(pl.lit(text)).otherwise(needed)
    return needed


def host_older_than_payload_expr(detail: pl.Expr) -> pl.Expr:
    """:func:`host_older_than_payload` over a column of session detail JSON (null where unknown)."""
    version = detail.str.json_path_match("$.itunes_version")
    code = version_code_expr(version)
    itunes = (detail.str.json_path_match("$.process").is_in(list(ITUNES_PROCESSES))
              & (code >= version_code(ITUNES_FIRST)) & (code < version_code(ITUNES_AFTER_LAST)))
    older = code < version_code_expr(required_itunes_expr(detail.str.json_path_match("$.payload_build")))
    return pl.when(itunes).then(older)
