"""The EventData / UserData object of a .evtx record as winevent's ``data`` column: polars
expression stages over the parser's JSON text.

The object is cut out of the record at its key (ASCII structure, so always whole characters)
rather than decoded: the JSON stays the parser's own text, nothing is re-escaped, and records
that nobody reads field by field cost one search. UserData's single element is unwrapped and
EventData's own attributes dropped, so both give the flat field object winevent reads. Unnamed
``<Data>`` (``"Data":{"#text":[a,b]}``) is renumbered ``"1":a,"2":b`` only on classified records
(:func:`analyzer.winevent_kinds.needs_fields`); generic ones keep the parser's shape, which
winevent accepts. :func:`analyzer.sources._evtx_flatten.payload_of` is the record-by-record twin.
"""

from __future__ import annotations

import functools

import polars as pl

#: One JSON token as the parser writes it (a string with its escapes, a number, a literal).
_TOKEN = r'"(?:[^"\\]|\\.)*"|null|true|false|-?[0-9][0-9.eE+-]*'

#: Working columns dropped once the object is unwrapped (the cut) and renumbered (the rest).
CUT_TEMP = ["_ed_at", "_ud_at", "_len", "_is_ud", "_has_attributes"]
NUMBERED_TEMP = ["_pos", "_head", "_rest", "_vals", "_tail", "_toks", "_new"]


def _numbered_stages() -> list[list[pl.Expr]]:
    """Rewrite ``"Data":{"#text":[a,b]}`` / ``"Data":{"#text":a}`` (unnamed <Data>) as ``"1":a,"2":b``.

    Expression stages over a ``_pos`` column that holds ``data`` only on rows with unnamed
    Data and null elsewhere (so the other rows cost nothing). The values stay the JSON
    tokens the parser wrote, so nothing is re-escaped.
    """
    parts = pl.col("_pos").str.split_exact('"Data":{"#text":', 1)
    s1 = [parts.struct.field("field_0").alias("_head"), parts.struct.field("field_1").alias("_rest")]
    s2 = [pl.col("_rest").str.extract(r'^(\[(?:"(?:[^"\\]|\\.)*"|[^\]"])*\]|' + _TOKEN + r")\}", 1).alias("_vals")]
    s3 = [pl.col("_rest").str.slice(pl.col("_vals").str.len_chars() + 1).alias("_tail"),
          pl.col("_vals").str.extract_all(_TOKEN).alias("_toks")]
    members = pl.col("_toks").list.eval(
        pl.concat_str([pl.lit('"'), (pl.int_range(pl.len()) + 1).cast(pl.String), pl.lit('":'), pl.element()])
    ).list.join(",")
    s4 = [pl.concat_str([pl.col("_head"), members, pl.col("_tail")]).alias("_new")]
    # an empty list leaves a dangling comma: {,"Binary":null} / {"a":1,}
    fixed = (pl.when(pl.col("_toks").list.len() == 0)
             .then(pl.col("_new").str.replace(r"^\{,", "{").str.replace(r",\}$", "}")).otherwise(pl.col("_new")))
    ok = pl.col("_vals").is_not_null() & pl.col("_tail").is_not_null()
    s5 = [pl.when(ok).then(fixed).otherwise(pl.col("data")).alias("data")]
    return [s1, s2, s3, s4, s5]


def _offsets() -> list[pl.Expr]:
    """Where the object starts (after its key) and the record's length."""
    j = pl.col("j")
    ed_at = j.str.find(',"EventData":', literal=True) + len(',"EventData":')
    # (searched for only where EventData is not there: a miss scans the whole record)
    ud_at = pl.when(ed_at.is_null()).then(j).str.find(',"UserData":', literal=True) + len(',"UserData":')
    return [ed_at.alias("_ed_at"), ud_at.alias("_ud_at"), j.str.len_bytes().alias("_len")]


def _cut() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The object, from after its key to before the closing "}}" of Event and of the record,
    and (second stage) what it holds: unnamed Data, EventData attributes."""
    j = pl.col("j")
    at = pl.when(pl.col("_ed_at").is_null()).then(pl.col("_ud_at")).otherwise(pl.col("_ed_at"))
    payload = (pl.when(j.str.ends_with("}}")).then(j).cast(pl.Binary)
               .bin.slice(at, pl.col("_len") - at - 2).cast(pl.String, strict=False))
    cut = [payload.alias("data"), (pl.col("_ed_at").is_null() & pl.col("_ud_at").is_not_null()).alias("_is_ud")]
    flags = [pl.col("data").str.contains('"Data":{"#text":', literal=True).alias("_haspos"),
             (~pl.col("_is_ud") & pl.col("data").str.starts_with('{"#attributes":')).alias("_has_attributes")]
    return cut, flags


def _unwrap() -> list[pl.Expr]:
    """UserData's single element unwrapped, EventData's own attributes dropped."""
    d_ud = (pl.when(pl.col("_is_ud")).then(pl.col("data"))
            # {"Elem":{"#attributes":{…},fields}} -> {fields}
            .str.replace(r'^\{"[^"]*":\{(?:"#attributes":\{[^{}]*\},?)?', "{").str.strip_suffix("}"))
    # EventData's own attributes (e.g. Name="TMP_EVENT_…") are not fields
    has_attributes = pl.col("_has_attributes")
    d_ed = pl.when(has_attributes).then(pl.col("data")).str.replace(r'^\{"#attributes":\{[^{}]*\},?', "{")
    # (when/then chains, not coalesce: coalesce of string columns copies every string)
    return [pl.when(pl.col("_is_ud")).then(d_ud).when(has_attributes).then(d_ed).otherwise(pl.col("data")).alias("data")]


@functools.lru_cache(maxsize=1)
def stages() -> dict[str, list]:
    """The payload stages by name (built once), in the order flatten_json_records applies them:
    offsets, cut, flags; unwrap after the per-pair lookup; empty (``{}`` where there is no
    object); numbered (a list of stages) only where some record has unnamed Data."""
    cut, flags = _cut()
    data = pl.col("data")
    empty = [pl.when(data.is_null() | ~data.str.starts_with("{")).then(pl.lit("{}")).otherwise(data).alias("data")]
    # generic rows keep the parser's shape (winevent: only classified rows' fields are read)
    numbered = [[pl.when(pl.col("_full") & pl.col("_haspos")).then(pl.col("data")).alias("_pos")],
                *_numbered_stages()]
    return {"offsets": _offsets(), "cut": cut, "flags": flags, "unwrap": _unwrap(), "empty": empty,
            "numbered": numbered}
