"""A rule's text test against several values means "any of them", however it is computed.

``contains`` and equality over a list of texts run as one search on the field lower-cased once
(``modifiers._any_of_texts``) instead of one test per value; here both are held to the plain meaning,
value by value in Python, on generated texts (Unicode case included).
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings, strategies as st

from analyzer.rules.fields import STRING, Field
from analyzer.rules.modifiers import build

# (with KELVIN SIGN and CAPITAL I WITH DOT ABOVE, whose lower case is ASCII, and a full-width letter)
ALPHABET = st.sampled_from(list("abcikABCIK xyÉéßẞディスク:0\u212a\u0130\uff21"))
TEXTS = st.text(ALPHABET, max_size=12)


def _expected(texts: list[str | None], op: str, values: list[str], cased: bool) -> list[bool]:
    out = []
    for text in texts:
        if text is None:
            out.append(False)
            continue
        t = text if cased else text.lower()
        vs = values if cased else [v.lower() for v in values]
        out.append(any(v in t for v in vs) if op == "contains" else any(v == t for v in vs))
    return out


@settings(max_examples=600, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), TEXTS), max_size=20),
       values=st.lists(TEXTS, min_size=1, max_size=4), op=st.sampled_from(["contains", "eq"]), cased=st.booleans())
def test_any_of_several_texts(texts, values, op, cased):
    field = Field("message", pl.col("message"), STRING)
    modifiers = ([op] if op != "eq" else []) + (["cased"] if cased else [])
    got = pl.DataFrame({"message": pl.Series(texts, dtype=pl.String)}).select(build(field, modifiers, values)).to_series()
    assert got.to_list() == _expected(texts, op, values, cased)
