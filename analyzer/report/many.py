"""What a report shows of a PC with many attempts, one by one.

Why: a repair bench's restore log holds thousands of attempts. The JSON, CSV and Parquet outputs
keep every one; a person reading the terminal or the HTML report needs the latest failures in full
and the rest counted, not ten thousand verdict boxes (90k lines) or a 100 MB page whose every
section scans the PC's events again. Each report picks with the same rule, so what the terminal
shows is what the HTML shows.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl

from .i18n import Catalogue

#: Attempts (and incidents) of one PC a report shows one by one.
MAX_SHOWN = 25


def pick(items: list[Any], failed=lambda item: True) -> tuple[list[Any], list[Any]]:
    """(shown, not shown) of one PC's attempts or incidents, each list in the given order: all of
    them up to MAX_SHOWN; beyond, the latest ``failed`` ones, then the latest others, MAX_SHOWN in all."""
    if len(items) <= MAX_SHOWN:
        return list(items), []
    bad = [i for i, item in enumerate(items) if failed(item)]
    keep = set(bad[-MAX_SHOWN:])
    others = [i for i in range(len(items)) if i not in keep]
    room = MAX_SHOWN - len(keep)
    keep.update(others[len(others) - room:] if room > 0 else [])
    return ([item for i, item in enumerate(items) if i in keep],
            [item for i, item in enumerate(items) if i not in keep])


def by_host(items: list[Any], host_of, failed=lambda item: True) -> tuple[list[Any], dict[str, list[Any]]]:
    """:func:`pick` per PC: every PC's shown items in the given order, and each PC's rest."""
    hosts: dict[str, list[Any]] = {}
    for item in items:
        hosts.setdefault(host_of(item), []).append(item)
    shown_ids, rest = set(), {}
    for host, mine in hosts.items():
        shown, left = pick(mine, failed)
        shown_ids.update(id(item) for item in shown)
        if left:
            rest[host] = left
    return [item for item in items if id(item) in shown_ids], rest


def shown_attempts(table: pl.DataFrame, shown: list[dict]) -> pl.DataFrame:
    """The rows of the attempts ``table`` that are ``shown`` (attempt dicts, as :func:`by_host`
    gives them): the ones whose timelines a report reads."""
    keys = pl.DataFrame([(a["host"], a["file"], a["attempt"]) for a in shown], orient="row",
                        schema={"host": pl.String, "file": pl.String, "attempt": pl.Int32})
    return table.join(keys, on=["host", "file", "attempt"], how="semi", nulls_equal=True)


def rest_text(rest: list[dict], cat: Catalogue) -> str:
    """One line for what is not shown: how many, how many failed, and the failed ones by cause and
    code (``rest`` are attempt or incident dicts with ``outcome``/``cause`` and ``error_code``)."""
    failed = [r for r in rest if r.get("outcome", "failed") == "failed"]
    counts = Counter((r.get("cause"), r.get("error_code")) for r in failed)
    parts = [cat.text("many.cause_count", cause=cat.cause(cause) if cause else cat["many.no_cause"],
                      code="" if code is None else f" {code}", n=n)
             for (cause, code), n in counts.most_common(5)]
    return cat.text("many.not_shown", n=len(rest), failed=len(failed),
                    causes=cat["fleet.sum_list_sep"].join(parts) if parts else "-", shown=MAX_SHOWN)
