"""The System fields of a .evtx record (provider, event ID, level, time, record ID, channel,
computer), cut out of the parser's JSON text as polars expression stages.

The parser writes System in a fixed order, so Level follows EventID, EventRecordID follows
TimeCreated and Computer follows Channel: three literal searches of the whole record (and
none for the provider, at a fixed offset on records that start the standard way) find where
four values start, a short window of the record after each is split once at its JSON
punctuation, and the seven values are taken from fixed places, each checked by the key found
beside it. That costs less than a regex, or a find and slice per value. Where the cut gives
nothing (non-ASCII records, odd layouts) a regex per field reads the record instead
(:data:`SYSTEM_FIELDS`). The stages are applied in order by
:func:`analyzer.sources._evtx_flatten.flatten_json_records`; polars runs these plans without
common-subexpression elimination, so every test used twice is a column of its own.
"""

from __future__ import annotations

import functools

import polars as pl

#: System fields: the regex used where the fast byte-slice extraction gives nothing.
SYSTEM_FIELDS = {
    "provider": (r'"Provider":\{"#attributes":\{[^{}]*?"Name":"((?:[^"\\]|\\.)*)"', pl.String),
    "event_id": (r'"EventID":(?:\{"#attributes":\{[^{}]*\},"#text":)?(\d+)', pl.Int64),
    "level": (r'"Level":(\d+)', pl.Int64),
    "ts_raw": (r'"SystemTime":"([^"]*)"', pl.String),
    "record": (r'"EventRecordID":(\d+)', pl.Int64),
    "channel": (r'"Channel":"((?:[^"\\]|\\.)*)"', pl.String),
    "computer": (r'"Computer":"((?:[^"\\]|\\.)*)"', pl.String),
}

#: The System strings that may carry JSON escapes (a backslash in a computer or provider name).
_ESCAPABLE = ("provider", "channel", "computer")

#: How the parser starts (nearly) every record; the provider name follows it.
_STANDARD_START = ('{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},'
                   '"System":{"Provider":{"#attributes":{"Name":"')

#: The working columns of the cut (offsets, windows, splits), dropped once the values are read.
TEMP_COLUMNS = [f"_{w}_{name}" for w in ("at", "w") for name in ("provider", "event_id", "time", "channel")] + [
    "_s_event_id", "_s_time", "_s_channel", "_qualified"]


def parse_utc(expr: pl.Expr) -> pl.Expr:
    """``2023-01-14T18:18:52.410623Z`` (evtx) / ``…06.8320000Z`` (wevtutil, 7 digits) / no fraction
    -> naive UTC datetime in µs (extra digits are truncated)."""
    return pl.coalesce([
        expr.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", strict=False),
        expr.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False),
        expr.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False),
    ])


def _window(start: pl.Expr, length: int) -> pl.Expr:
    """``length`` bytes of the record from ``start`` (a byte offset), as text. Only on ASCII
    records (``_bascii``: the record as bytes there, null elsewhere), so that a cut can never
    split a character; null elsewhere and where ``start`` is null, and callers fall back to a
    regex then. A byte slice (a view into the record) is 4x cheaper than ``str.slice``,
    which counts characters."""
    return pl.col("_bascii").bin.slice(start, length).cast(pl.String)


def _find(key: str) -> pl.Expr:
    """Byte offset just after the first ``key`` in the record text (null if absent)."""
    return pl.col("j").str.find(key, literal=True) + len(key)


def _provider_start() -> pl.Expr:
    """Where the provider name starts: on records that start the standard way at a fixed
    offset (no search), else after its key."""
    j = pl.col("j")
    key = '"Provider":{"#attributes":{"Name":"'
    searched = j.str.find(key, literal=True) + len(key)
    # (otherwise() is evaluated on every row, but a find that matches at once costs little)
    return pl.when(j.str.starts_with(_STANDARD_START)).then(pl.lit(len(_STANDARD_START), dtype=pl.Int64)).otherwise(searched)


def _string_value(cut: pl.Expr) -> pl.Expr:
    """A JSON string value from the text after its opening quote (null if it does not end there)."""
    return cut.str.head(cut.str.find('"', literal=True))


def _part(window: str, i: int) -> pl.Expr:
    """Piece ``i`` of a window split at its punctuation (see _splits)."""
    return pl.col(f"_s_{window}").struct.field(f"field_{i}")


def _ascii_bytes() -> list[pl.Expr]:
    """``_bascii``: the record as bytes where it is all ASCII (null elsewhere), for _window.
    (A masked string column shares the texts: only the 16-byte views are copied.)"""
    j = pl.col("j")
    return [pl.when(j.str.len_bytes() == j.str.len_chars()).then(j).cast(pl.Binary).alias("_bascii")]


def _offsets() -> list[pl.Expr]:
    """Where four System values start (the others are found in the windows after these)."""
    return [
        _provider_start().alias("_at_provider"),
        _find('"EventID":').alias("_at_event_id"),
        _find('"SystemTime":"').alias("_at_time"),
        _find('"Channel":"').alias("_at_channel"),
    ]


def _windows() -> list[pl.Expr]:
    return [
        _window(pl.col("_at_provider"), 128).alias("_w_provider"),
        _window(pl.col("_at_event_id"), 96).alias("_w_event_id"),
        _window(pl.col("_at_time"), 72).alias("_w_time"),
        _window(pl.col("_at_channel"), 224).alias("_w_channel"),
    ]


def _splits() -> list[pl.Expr]:
    """Each window split at its JSON punctuation, once; the values are then taken from fixed
    places, checked by the key or key prefix found beside them (a mismatch gives null, and the
    regex fallback reads the record):

    * event_id window: ``7036,"Version":0,"Level":4,…``
      or: ``{"#attributes":{"Qualifiers":16384},"#text":7036},"Version":0,"Level":4,…``
    * time window: ``2023-01-14T18:18:52.410623Z"}},"EventRecordID":1234,…``
    * channel window: ``System","Computer":"PC01","Security":…``

    (The splits are columns of their own: an expression used twice is computed twice here.)
    """
    return [pl.col("_w_event_id").str.split_exact(",", 3).alias("_s_event_id"),
            pl.col("_w_time").str.split_exact('"', 3).alias("_s_time"),
            pl.col("_w_channel").str.split_exact('"', 4).alias("_s_channel"),
            pl.col("_w_event_id").str.starts_with("{").alias("_qualified")]


def _values() -> list[pl.Expr]:
    """The seven System values from the split windows (null where a check fails)."""
    plain = ~pl.col("_qualified")
    eid_value = pl.when(plain).then(_part("event_id", 0)).otherwise(
        _part("event_id", 1).str.strip_prefix('"#text":').str.strip_suffix("}"))
    # Level follows Version, which classic (Qualifiers) records often lack
    level = pl.coalesce([
        pl.when(plain).then(_part("event_id", i)).otherwise(_part("event_id", i + 1))
        .str.strip_prefix('"Level":').cast(pl.Int64, strict=False) for i in (2, 1)])
    record_ok = _part("time", 2) == "EventRecordID"
    computer_ok = _part("channel", 2) == "Computer"
    return [
        _string_value(pl.col("_w_provider")).alias("provider"),
        eid_value.cast(pl.Int64, strict=False).alias("event_id"),
        level.alias("level"),
        _part("time", 0).alias("ts_raw"),
        pl.when(record_ok).then(_part("time", 3)).str.strip_chars(":,").cast(pl.Int64, strict=False).alias("record"),
        _part("channel", 0).alias("channel"),
        pl.when(computer_ok).then(_part("channel", 4)).alias("computer"),
    ]


def _regex_fallback() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Where the fast cut gave nothing (non-ASCII records, odd layouts), the regex decides: over
    a column (``_slow``) that holds only those records (null elsewhere, where the regexes cost
    nothing). Two stages: the column, then the fields read from it."""
    slow = [pl.when(pl.any_horizontal([pl.col(name).is_null() for name in SYSTEM_FIELDS])).then(pl.col("j"))
            .alias("_slow")]
    fallback = [pl.when(pl.col(name).is_null()).then(pl.col("_slow").str.extract(rx, 1).cast(dtype, strict=False))
                .otherwise(pl.col(name)).alias(name) for name, (rx, dtype) in SYSTEM_FIELDS.items()]
    return slow, fallback


def _unescape() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """System strings are JSON-escaped; unescape the rare ones that carry a backslash. Two
    stages: ``_escaped`` (found with the System values), and the unescaping, which the caller
    runs only when some record has one."""
    escaped_flag = [pl.any_horizontal([pl.col(name).str.contains("\\", literal=True) for name in _ESCAPABLE])
                    .alias("_escaped")]
    unescape = []
    for name in _ESCAPABLE:
        col = pl.col(name)
        decoded = pl.concat_str([pl.lit('"'), pl.when(pl.col("_escaped")).then(col), pl.lit('"')]).str.json_decode(pl.String)
        unescape.append(pl.when(decoded.is_not_null()).then(decoded).otherwise(col).alias(name))
    return escaped_flag, unescape


def _header_fill() -> list[pl.Expr]:
    """The record header's id and time where the XML has none (``hid``/``htime`` exist only then)."""
    return [pl.when(pl.col("record").is_null()).then(pl.col("hid")).otherwise(pl.col("record")).alias("record"),
            pl.when(pl.col("ts_raw").is_null())
              .then(pl.when(pl.col("ts_raw").is_null()).then(pl.col("htime")).str.strip_suffix(" UTC"))
              .otherwise(pl.col("ts_raw")).alias("ts_raw")]


def _wall_time() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """``ts_wall`` (and ``clock``) from SystemTime as the parser writes it
    (2023-01-14T18:18:52.410623Z): whole seconds with the fixed-width format (polars' fast path,
    5x cheaper than %.f) plus the microseconds. Any other shape is null in the first stage and
    parsed by parse_utc in the second."""
    ts = pl.col("ts_raw")
    shaped = (ts.str.len_bytes() == 27) & ts.str.ends_with("Z") & (ts.str.slice(19, 1) == ".")
    seconds = pl.when(shaped).then(ts).str.head(19).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)
    micros = pl.duration(microseconds=ts.str.slice(20, 6).str.to_integer(strict=False))
    fast = [(seconds + micros).alias("ts_wall"), pl.lit("utc").alias("clock")]
    rest = [pl.coalesce([pl.col("ts_wall"), parse_utc(pl.when(pl.col("ts_wall").is_null()).then(pl.col("ts_raw")))])
            .alias("ts_wall")]
    return fast, rest


@functools.lru_cache(maxsize=1)
def stages() -> dict[str, list[pl.Expr]]:
    """The System stages by name (built once: building them costs more than running them on a
    small file), in the order flatten_json_records applies them: ascii, offsets, windows,
    splits, values, escaped_flag, slow, fallback; header_fill only where some record lacks
    EventRecordID or SystemTime; wall_time then wall_time_rest; unescape only where some
    record has an escape."""
    slow, fallback = _regex_fallback()
    escaped_flag, unescape = _unescape()
    wall_time, wall_time_rest = _wall_time()
    return {"ascii": _ascii_bytes(), "offsets": _offsets(), "windows": _windows(), "splits": _splits(),
            "values": _values(), "escaped_flag": escaped_flag, "slow": slow, "fallback": fallback,
            "header_fill": _header_fill(), "wall_time": wall_time, "wall_time_rest": wall_time_rest,
            "unescape": unescape}
