"""One check for every grammar: the vectorised fast path and Lark's reference parse agree.

For each line, both must give the same shape, the same marker and the same fields (shape and
marker fields alike), or both must refuse the line. Used by each source's property tests.
"""

from __future__ import annotations

import polars as pl
from lark.exceptions import LarkError

from analyzer.grammars import LineGrammar


def assert_fast_path_agrees(grammar: LineGrammar, lines: list[str], *, empty_message_ok: bool = False) -> None:
    """``empty_message_ok``: a known prefix followed by nothing is read by the fast path and
    refused by Lark (whose message terminals cannot be empty); accept that one difference."""
    uniq = sorted(set(lines))
    frame = grammar.extract(pl.Series("text", uniq, dtype=pl.String))
    names = {f for s in grammar.shapes for f in s.fields} | {f for m in grammar.markers for f in m.fields}
    for line, row in zip(uniq, frame.iter_rows(named=True)):
        try:
            ref = grammar.parse_reference(line)
        except LarkError:
            if empty_message_ok and row["shape"] is not None and row.get("message") == "":
                continue
            assert row["shape"] is None, f"fast path read a line Lark refuses: {line!r}"
            continue
        fast = (row["shape"], row["marker"], {f: row[f] for f in names if row.get(f) is not None})
        assert fast == ref, line
