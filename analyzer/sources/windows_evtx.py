"""Binary Windows event logs (.evtx), read with the Rust ``evtx`` parser.

Recognised by the ``ElfFile\\0`` magic only (never by extension).

Speed matters here (a helpdesk bundle holds tens of MB of .evtx): the Rust
parser renders each record as a JSON string and everything after that is
vectorised in polars, so no Python code runs per record except the iterator
itself (``list.extend`` over slices of it). System fields are cut out by literal search, a
byte slice and one split of that window (regexes only for records where that fails, e.g.
non-ASCII text); the
EventData/UserData object is cut at its key; stages that no record of the file
needs are left out of the plan; per-(provider, id) decisions are made once per
pair in :mod:`analyzer.winevent`, right after the System fields, so that the
per-field work (unnamed-Data renumbering, field decoding, subject) is done on
classified records only. The JSON is the parser's default shape (asking
for ``separate_json_attributes`` makes the Rust parse itself 60 % slower), so
``EventID`` may be ``{"#attributes":{"Qualifiers":…},"#text":7031}``.
A run's files are read together (:meth:`WindowsEvtx.parse_many`, used by
:func:`analyzer.ingest.parse_all`): one polars query per ~8 MB batch of files
instead of one per file, read in the calling thread while worker threads
normalise the batches read before, so that the Rust parse (which holds the GIL)
overlaps the polars work (which does not).
``benchmarks/bench_evtx.py`` measures all this against the bare parser.

Damaged files (reference/windows-formats.md §1): the header counters are
never trusted; the iterator raises once per unreadable chunk or record and can
continue, so each error becomes a located note (the chunk number when the
parser names it, and the record ids on either side of the gap) and every
readable record is kept.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import operator
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from .. import winevent
from ..model import Note, conform
from ._base import Input, Parsed, Source, add_note

try:  # the package is a hard dependency; guard so that a broken install is a note, not an import error
    from evtx import PyEvtxParser
except Exception:  # pragma: no cover - environment problem
    PyEvtxParser = None

MAGIC = b"ElfFile\x00"

#: Stop after this many errors in a row without a readable record (a garbage file cannot loop forever).
MAX_CONSECUTIVE_ERRORS = 10_000

_CHUNK_RE = re.compile(r"chunk number (\d+)")

#: :meth:`WindowsEvtx.parse_many` normalises files together in batches of about this many bytes of .evtx.
BATCH_FILE_BYTES = 8 << 20

#: parse_many reads in the calling thread and normalises in WORKERS - 1 threads, with at most
#: WORKERS batches read and not yet normalised (see there); 1 or OVERLAP False: one by one.
OVERLAP = True
WORKERS = 3

#: sys.setswitchinterval while parse_many's threads run (seconds; Python's default is 0.005).
SWITCH_INTERVAL = 0.0002

#: Records taken from the parser per ``list.extend`` (read_records). The reader holds the GIL
#: for a whole slice, so a normalising thread that wants it waits up to a slice: with 16 rather
#: than 256 the batched source went from a median 0.51 to 0.55 of bare iteration (11 rounds
#: side by side; 8 and 32 were within the noise of 16).
READ_SLICE = 16


#: One JSON token as the parser writes it (a string with its escapes, a number, a literal).
_TOKEN = r'"(?:[^"\\]|\\.)*"|null|true|false|-?[0-9][0-9.eE+-]*'


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


_NUMBERED_TEMP = ["_pos", "_head", "_rest", "_vals", "_tail", "_toks", "_new"]


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


#: How the parser starts (nearly) every record; the provider name follows it.
_STANDARD_START = ('{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},'
                   '"System":{"Provider":{"#attributes":{"Name":"')


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


#: System fields: fast byte-slice extraction, and the regex used where that gives nothing.
_SYSTEM_FIELDS = {
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


@functools.lru_cache(maxsize=1)
def _flatten_exprs() -> dict[str, list]:
    """The expression stages of :func:`flatten_json_records` (built once)."""
    j = pl.col("j")
    ed_at = j.str.find(',"EventData":', literal=True) + len(',"EventData":')
    # (searched for only where EventData is not there: a miss scans the whole record)
    ud_at = pl.when(ed_at.is_null()).then(j).str.find(',"UserData":', literal=True) + len(',"UserData":')
    # 1) where four System values start, 2) a window of the record there, 3) the window split at
    # its punctuation, 4) the values: the parser writes System in a fixed order, so Level follows
    # EventID, EventRecordID follows TimeCreated and Computer follows Channel, and each is in the
    # short window before it: three searches of the whole record (and none for the provider)
    # find all seven
    offsets = [
        _provider_start().alias("_at_provider"),
        _find('"EventID":').alias("_at_event_id"),
        _find('"SystemTime":"').alias("_at_time"),
        _find('"Channel":"').alias("_at_channel"),
        ed_at.alias("_ed_at"),
        ud_at.alias("_ud_at"),
        j.str.len_bytes().alias("_len"),
    ]
    slices = [
        _window(pl.col("_at_provider"), 128).alias("_w_provider"),
        _window(pl.col("_at_event_id"), 96).alias("_w_event_id"),
        _window(pl.col("_at_time"), 72).alias("_w_time"),
        _window(pl.col("_at_channel"), 224).alias("_w_channel"),
    ]

    # Each window is split at its JSON punctuation, once, and the values are taken from fixed
    # places, checked by the key or key prefix found beside them (a mismatch gives null, and the
    # regex fallback reads the record): one split costs less than the find + slice per value.
    #   event_id window: 7036,"Version":0,"Level":4,…
    #                or: {"#attributes":{"Qualifiers":16384},"#text":7036},"Version":0,"Level":4,…
    #   time window: 2023-01-14T18:18:52.410623Z"}},"EventRecordID":1234,…
    #   channel window: System","Computer":"PC01","Security":…
    # (the splits are columns of their own: an expression used twice is computed twice here)
    splits = [pl.col("_w_event_id").str.split_exact(",", 3).alias("_s_event_id"),
              pl.col("_w_time").str.split_exact('"', 3).alias("_s_time"),
              pl.col("_w_channel").str.split_exact('"', 4).alias("_s_channel"),
              pl.col("_w_event_id").str.starts_with("{").alias("_qualified")]

    def part(window: str, i: int) -> pl.Expr:
        return pl.col(f"_s_{window}").struct.field(f"field_{i}")
    plain = ~pl.col("_qualified")
    eid_value = pl.when(plain).then(part("event_id", 0)).otherwise(
        part("event_id", 1).str.strip_prefix('"#text":').str.strip_suffix("}"))
    # Level follows Version, which classic (Qualifiers) records often lack
    level = pl.coalesce([
        pl.when(plain).then(part("event_id", i)).otherwise(part("event_id", i + 1))
        .str.strip_prefix('"Level":').cast(pl.Int64, strict=False) for i in (2, 1)])
    record_ok = part("time", 2) == "EventRecordID"
    computer_ok = part("channel", 2) == "Computer"
    fast = [
        _string_value(pl.col("_w_provider")).alias("provider"),
        eid_value.cast(pl.Int64, strict=False).alias("event_id"),
        level.alias("level"),
        part("time", 0).alias("ts_raw"),
        pl.when(record_ok).then(part("time", 3)).str.strip_chars(":,").cast(pl.Int64, strict=False).alias("record"),
        part("channel", 0).alias("channel"),
        pl.when(computer_ok).then(part("channel", 4)).alias("computer"),
    ]
    # the EventData / UserData object: from after its key to before the closing "}}" of
    # Event and of the record (cut at ASCII structure, so always whole characters)
    at = pl.when(pl.col("_ed_at").is_null()).then(pl.col("_ud_at")).otherwise(pl.col("_ed_at"))
    payload = (pl.when(j.str.ends_with("}}")).then(j).cast(pl.Binary)
               .bin.slice(at, pl.col("_len") - at - 2).cast(pl.String, strict=False))
    cut = [payload.alias("data"), (pl.col("_ed_at").is_null() & pl.col("_ud_at").is_not_null()).alias("_is_ud")]
    cut_flags = [pl.col("data").str.contains('"Data":{"#text":', literal=True).alias("_haspos"),
                 (~pl.col("_is_ud") & pl.col("data").str.starts_with('{"#attributes":')).alias("_has_attributes")]
    # where the fast cut gave nothing (non-ASCII records, odd layouts), the regex decides: over
    # a column that holds only those records (null elsewhere, where the regexes cost nothing)
    slow = [pl.when(pl.any_horizontal([pl.col(name).is_null() for name in _SYSTEM_FIELDS])).then(j).alias("_slow")]
    fallback = [pl.when(pl.col(name).is_null()).then(pl.col("_slow").str.extract(rx, 1).cast(dtype, strict=False))
                .otherwise(pl.col(name)).alias(name) for name, (rx, dtype) in _SYSTEM_FIELDS.items()]
    d_ud = (pl.when(pl.col("_is_ud")).then(pl.col("data"))
            # {"Elem":{"#attributes":{…},fields}} -> {fields}
            .str.replace(r'^\{"[^"]*":\{(?:"#attributes":\{[^{}]*\},?)?', "{").str.strip_suffix("}"))
    # EventData's own attributes (e.g. Name="TMP_EVENT_…") are not fields
    has_attributes = pl.col("_has_attributes")
    d_ed = pl.when(has_attributes).then(pl.col("data")).str.replace(r'^\{"#attributes":\{[^{}]*\},?', "{")
    # (when/then chains, not coalesce: coalesce of string columns copies every string)
    data = pl.col("data")
    unwrap = [pl.when(pl.col("_is_ud")).then(d_ud).when(has_attributes).then(d_ed).otherwise(data).alias("data")]
    # the record header's id and time where the XML has none (the columns exist only then)
    header = [pl.when(pl.col("record").is_null()).then(pl.col("hid")).otherwise(pl.col("record")).alias("record"),
              pl.when(pl.col("ts_raw").is_null())
                .then(pl.when(pl.col("ts_raw").is_null()).then(pl.col("htime")).str.strip_suffix(" UTC"))
                .otherwise(pl.col("ts_raw")).alias("ts_raw")]
    # SystemTime as the parser writes it (2023-01-14T18:18:52.410623Z): whole seconds with the
    # fixed-width format (polars' fast path, 5x cheaper than %.f) plus the microseconds; any
    # other shape is null here and parsed by parse_utc in finish2
    ts = pl.col("ts_raw")
    shaped = (ts.str.len_bytes() == 27) & ts.str.ends_with("Z") & (ts.str.slice(19, 1) == ".")
    seconds = pl.when(shaped).then(ts).str.head(19).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)
    micros = pl.duration(microseconds=ts.str.slice(20, 6).str.to_integer(strict=False))
    finish = [pl.when(data.is_null() | ~data.str.starts_with("{")).then(pl.lit("{}")).otherwise(data).alias("data"),
              (seconds + micros).alias("ts_wall"),
              pl.lit("utc").alias("clock")]
    # System strings are JSON-escaped; unescape the rare ones that carry a backslash (a stage
    # that runs only when some record has one: ``_escaped``, found with the System values)
    escaped_flag = [pl.any_horizontal([pl.col(name).str.contains("\\", literal=True) for name in _ESCAPABLE])
                    .alias("_escaped")]
    unescape = []
    for name in _ESCAPABLE:
        col = pl.col(name)
        decoded = pl.concat_str([pl.lit('"'), pl.when(pl.col("_escaped")).then(col), pl.lit('"')]).str.json_decode(pl.String)
        unescape.append(pl.when(decoded.is_not_null()).then(decoded).otherwise(col).alias(name))
    finish2 = [pl.coalesce([pl.col("ts_wall"), parse_utc(pl.when(pl.col("ts_wall").is_null()).then(pl.col("ts_raw")))])
               .alias("ts_wall")]
    # generic rows keep the parser's shape (winevent: only classified rows' fields are read)
    positional = [[pl.when(pl.col("_full") & pl.col("_haspos")).then(pl.col("data")).alias("_pos")],
                  *_numbered_stages()]
    # the raw record frame's columns that a .evtx record never has
    raw_rest = [pl.lit(None, dtype=winevent.RAW_SCHEMA[name]).alias(name) for name in ("line", "message")]
    return {"raw_rest": raw_rest, "offsets": offsets, "slices": slices, "splits": splits, "fast": fast, "cut": cut, "cut_flags": cut_flags, "slow": slow,
            "fallback": fallback, "unwrap": unwrap,
            "header": header, "finish": finish, "finish2": finish2, "positional": positional,
            "escaped_flag": escaped_flag, "unescape": unescape}


_SYSTEM_NAMES = list(_SYSTEM_FIELDS)
_SLICE_TEMP = [f"_{w}_{name}" for w in ("at", "w") for name in ("provider", "event_id", "time", "channel")] + [
    "_s_event_id", "_s_time", "_s_channel", "_qualified"]


def flatten_json_records(texts: list[str], header_ids=None, header_times=None) -> pl.LazyFrame:
    """Turn evtx ``records_json`` strings into a lazy winevent raw record frame with the per-pair
    lookup columns (what :func:`analyzer.winevent.normalise_prepared` takes).

    Vectorised: System fields by literal search + slice (a regex where that fails), the
    EventData/UserData object cut out at its key, UserData's single element unwrapped. Once
    provider and event ID are known, winevent's per-pair lookup is joined on
    (:func:`analyzer.winevent.with_lookup`), and unnamed ``<Data>`` is renumbered "1", "2", …
    on classified records only (generic ones keep ``{"Data":{"#text":[…]}}``, see winevent).
    ``record`` is EventRecordID and the time TimeCreated/@SystemTime; the record-header id
    and time (``header_*``) only fill in when the XML lacks them.

    Two large queries per call, whatever the records: the System fields here (their values
    decide the per-pair lookup, whose own queries touch only the key columns), the rest
    returned lazy so that normalise_prepared runs it in its one query.
    Two stages run only when some record needs them (the header fill-in, a third query, and
    the unnamed-Data renumbering); ``header_ids``/``header_times`` may be given as lists or
    as functions that return them (called with the positions of the records that lack
    EventRecordID or SystemTime, if any).
    """
    frame = pl.DataFrame({"j": pl.Series("j", texts, dtype=pl.String)})
    st = _flatten_exprs()
    frame = winevent.collect(
        # (a masked string column shares the texts: only the 16-byte views are copied)
        frame.lazy().with_columns(pl.when(pl.col("j").str.len_bytes() == pl.col("j").str.len_chars())
                                  .then(pl.col("j")).cast(pl.Binary).alias("_bascii"))
        .with_columns(st["offsets"]).with_columns(st["slices"]).with_columns(st["splits"]).with_columns(st["fast"]).with_columns(st["cut"] + st["escaped_flag"])
        .with_columns(st["cut_flags"]).with_columns(st["slow"]).with_columns(st["fallback"])
        .drop(_SLICE_TEMP, "_slow", "j", "_bascii"))
    if frame.get_column("record").null_count() or frame.get_column("ts_raw").null_count():
        missing = frame.select(pl.arg_where(pl.col("record").is_null() | pl.col("ts_raw").is_null())).to_series().to_list()
        def at(values, dtype) -> pl.Series:
            if callable(values):
                values = values(missing)
            elif values is not None:
                values = [values[i] for i in missing]
            full = pl.Series([None] * len(texts), dtype=dtype)
            return full.scatter(missing, pl.Series(values, dtype=dtype)) if values is not None else full
        frame = winevent.collect(frame.lazy().with_columns(
            at(header_ids, pl.Int64).alias("hid"), at(header_times, pl.String).alias("htime"))
            .with_columns(st["header"]).drop("hid", "htime"))
    # provider and event_id are known: decide each pair's kind now, so that the stages below
    # and normalise do the per-field work on classified rows only
    lf = winevent.with_lookup(frame)
    lf = lf.with_columns(st["unwrap"])
    lf = lf.drop("_ed_at", "_ud_at", "_len", "_is_ud", "_has_attributes")
    lf = lf.with_columns(st["finish"]).with_columns(st["finish2"])
    if frame.get_column("_escaped").any():
        lf = lf.with_columns(st["unescape"])
    lf = lf.drop("_escaped")
    if frame.get_column("_haspos").any():
        for stage in st["positional"]:
            lf = lf.with_columns(stage)
        lf = lf.drop(_NUMBERED_TEMP)
    return lf.drop("_haspos").with_columns(st["raw_rest"])


def parse_utc(expr: pl.Expr) -> pl.Expr:
    """``2023-01-14T18:18:52.410623Z`` (evtx) / ``…06.8320000Z`` (wevtutil, 7 digits) / no fraction
    -> naive UTC datetime in µs (extra digits are truncated)."""
    return pl.coalesce([
        expr.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", strict=False),
        expr.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False),
        expr.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False),
    ])


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text[:300] if text else type(exc).__name__


def _size(item: Input) -> int:
    try:
        return item.size
    except OSError:  # _read reports it
        return 0


def plan_batches(items: list[Input], limit: int | None = None) -> list[list[tuple[int, Input]]]:
    """Cut ``items`` (in order) into batches of whole files of about ``limit``
    (:data:`BATCH_FILE_BYTES`) bytes for :meth:`WindowsEvtx.parse_many`. (Smaller batches at the
    start and end of a run, to shorten the pipeline's unoverlapped head and tail, were measured
    slower: a batch costs ~4 ms of fixed polars work, and one normalised while the reader runs
    waits for the GIL between its queries, ~20 ms even for a few hundred records.)"""
    limit = BATCH_FILE_BYTES if limit is None else limit
    batches: list[list[tuple[int, Input]]] = [[]]
    size = 0
    for i, item in enumerate(items):
        if size >= limit:
            batches.append([])
            size = 0
        batches[-1].append((i, item))
        size += _size(item)
    return batches


class WindowsEvtx(Source):
    name = "windows_evtx"
    description = "Windows binary event log (.evtx), any channel"
    binary = True

    def sniff(self, item: Input) -> bool:
        try:
            return item.head[:8] == MAGIC
        except Exception:  # noqa: BLE001 - sniffers never raise
            return False

    def parse(self, item: Input) -> Parsed:
        read = self._read(item)
        if isinstance(read, Parsed):
            return read
        return self._normalise_one(item, *read)

    def parse_many(self, items: list[Input]) -> list[Parsed | Exception]:
        """:meth:`parse` for several files at once: the same results, in the same order.

        The files are cut into batches of about :data:`BATCH_FILE_BYTES`; the records of a
        batch go through ONE flatten + normalise query, so the fixed polars cost (planning,
        materialising: 3-4 ms) is paid per batch instead of per file; each file's rows are
        then a zero-copy slice of the batch. Reports and notes stay per file. If a batch
        fails, each of its files is done on its own as :meth:`parse` would; where that
        raises, the exception takes the file's place in the result (``parse`` would have
        raised it).

        With :data:`OVERLAP`, a pipeline: the calling thread reads batch after batch while
        worker threads normalise the batches read before. The Rust parser holds the GIL while
        it builds record strings, polars releases it, so on two cores the reading runs while
        the polars work does (the parser hands the GIL over between slices of records, see
        read_records, and a short switch interval makes the hand-over prompt). Two normalising
        workers rather than one: a batch's polars work alternates with short GIL-bound Python
        steps, and the second worker fills those gaps. Measured on the corpus (idle 2-core
        machine): 0.41 of the bare parser's throughput with two threads each reading then
        normalising, 0.50-0.52 with this pipeline (and the classified-only work of winevent),
        0.46-0.57 (median about 0.51) with the window-based System fields and one normalise
        query per batch, 0.51-0.59 (median about 0.55) with one split per window and no test
        computed twice.
        """
        out: list = [None] * len(items)
        batches = plan_batches(items)
        if not (OVERLAP and WORKERS > 1 and len(batches) > 1 and (os.cpu_count() or 1) > 1):
            for batch in batches:
                self._read_and_normalise(batch, out)
            return out
        # a pipeline: this thread reads batch after batch while the workers normalise the ones
        # read before (at most WORKERS batches wait, so memory stays bounded)
        switch = sys.getswitchinterval()
        pending: collections.deque = collections.deque()
        try:
            # the reader holds the GIL for a slice of records at a time; a short switch interval
            # hands it back to a normalising thread as soon as its polars call returns
            sys.setswitchinterval(SWITCH_INTERVAL)
            with ThreadPoolExecutor(max_workers=WORKERS - 1, thread_name_prefix="evtx") as pool:
                for batch in batches:
                    read = self._read_batch(batch, out)
                    if read:
                        pending.append(pool.submit(self._normalise_batch, read, out))
                    while len(pending) >= WORKERS:
                        pending.popleft().result()
                while pending:
                    pending.popleft().result()
        finally:
            sys.setswitchinterval(switch)
        return out

    def _read_batch(self, batch: list[tuple[int, Input]], out: list) -> list:
        read = []
        for i, item in batch:
            got = self._read(item)
            if isinstance(got, Parsed):
                out[i] = got
            else:
                read.append((i, item, *got))
        return read

    def _read_and_normalise(self, batch: list[tuple[int, Input]], out: list) -> None:
        read = self._read_batch(batch, out)
        if read:
            self._normalise_batch(read, out)

    def _read(self, item: Input):
        """Read ``item``'s records: a finished :class:`Parsed` when there is nothing to
        normalise (unreadable header, no records), else ``(report, texts, records)``."""
        report = self.new_report(item)
        report.clock = {"clock": "utc", "source": "TimeCreated/@SystemTime"}
        try:
            records, errors = read_records(str(item.path))
        except Exception as exc:  # noqa: BLE001 - the header itself is unreadable
            add_note(report, Note(item.display, f"not a readable evtx file: {_describe(exc)}"))
            report.skipped = 1
            return Parsed(conform(None), report)
        texts = list(map(_DATA, records))
        for position, exc in errors:
            before = records[position - 1].get("event_record_id") if position > 0 else None
            after = records[position].get("event_record_id") if position < len(records) else None
            chunk = _CHUNK_RE.search(str(exc))
            what = f"chunk {chunk.group(1)}" if chunk else "a record"
            if before is not None and after is not None and after - before > 1:
                gap = f"records {before + 1}-{after - 1} lost" if after - before > 2 else f"record {before + 1} lost"
            elif before is not None:
                gap = f"after record {before}"
            elif after is not None:
                gap = f"before record {after}"
            else:
                gap = "no readable record around it"
            add_note(report, Note(item.display, f"{what} unreadable, skipped ({gap}): {_describe(exc)}",
                                  record=(before + 1) if before is not None else after))
        report.skipped = len(errors)
        report.records = len(texts)
        if not texts:
            if not errors:
                add_note(report, Note(item.display, "evtx file holds no records", severity="warning"))
            return Parsed(conform(None), report)
        # the record headers' ids and times are looked at only if some record's XML lacks them
        return report, texts, records

    def _normalise_one(self, item: Input, report, texts: list, records: list) -> Parsed:
        try:
            events = winevent.normalise_prepared(flatten_json_records(texts, *_header_columns([records])), format=self.name)
        except Exception as exc:  # noqa: BLE001 - a record shape the fast path did not foresee
            add_note(report, Note(item.display, f"fast reader failed ({_describe(exc)}); "
                                               "read record by record instead", severity="warning"))
            ids, times = _header_columns([records])
            events = winevent.normalise(slow_raw_frame(texts, ids(), times()), format=self.name)
        report.events = events.height
        return Parsed(events, report)

    def _normalise_batch(self, batch: list, out: list) -> None:
        texts: list = []
        for _, _, _, t, _ in batch:
            texts += t
        try:
            events = winevent.normalise_prepared(flatten_json_records(texts, *_header_columns([r for *_, r in batch])),
                                                 format=self.name)
            if events.height != len(texts):
                raise ValueError("row count changed")
        except Exception:  # noqa: BLE001 - one file's odd record must not change the others' path
            for i, item, report, t, r in batch:
                try:
                    out[i] = self._normalise_one(item, report, t, r)
                except Exception as exc:  # noqa: BLE001 - parse() would raise it; the caller reports it
                    out[i] = exc
            return
        offset = 0
        for i, item, report, t, _ in batch:
            part = events.slice(offset, len(t))
            offset += len(t)
            report.events = part.height
            out[i] = Parsed(part, report)


_DATA = operator.itemgetter("data")


def _header_columns(record_lists: list[list[dict]]):
    """(ids, times) of the record headers, as functions of the record positions (all if none
    given) for flatten_json_records, which asks only for the records that need them."""
    def flat():
        return itertools.chain.from_iterable(record_lists)

    def ids(positions: list[int] | None = None) -> list:
        records = list(flat())
        return [r.get("event_record_id") for r in (records if positions is None else map(records.__getitem__, positions))]

    def times(positions: list[int] | None = None) -> list:
        records = list(flat())
        return [r.get("timestamp") for r in (records if positions is None else map(records.__getitem__, positions))]
    return ids, times


def _payload_of(event: dict, numbered: bool = True) -> dict:
    """EventData/UserData as winevent's flat field object (the slow path's twin of the fast cut);
    unnamed Data renumbered "1", "2", … only if ``numbered`` (classified records)."""
    if isinstance(event.get("EventData"), dict):
        out: dict = {}
        for key, value in event["EventData"].items():
            if key == "#attributes":
                continue
            if numbered and key == "Data" and isinstance(value, dict) and "#text" in value:
                values = value["#text"] if isinstance(value["#text"], list) else [value["#text"]]
                for i, v in enumerate(values, 1):
                    out[str(i)] = v
            else:
                out[key] = value
        return out
    user = event.get("UserData")
    if isinstance(user, dict) and len(user) == 1:
        inner = next(iter(user.values()))
        if isinstance(inner, dict):
            return {k: v for k, v in inner.items() if k != "#attributes"}
    return {}


def slow_raw_frame(texts: list[str], header_ids: list, header_times: list) -> pl.DataFrame:
    """The raw record frame built record by record with ``json`` (about 10x slower). Used when
    the vectorised path fails, and by the tests as the reference the fast path must equal."""
    rows = []
    for text, hid, htime in zip(texts, header_ids, header_times):
        try:
            event = json.loads(text).get("Event") or {}
        except (ValueError, AttributeError):
            event = {}
        system = event.get("System") or {}
        provider = ((system.get("Provider") or {}).get("#attributes") or {}).get("Name")
        eid = system.get("EventID")
        if isinstance(eid, dict):
            eid = eid.get("#text")
        created = ((system.get("TimeCreated") or {}).get("#attributes") or {}).get("SystemTime")
        try:
            numbered = winevent.needs_fields(provider, int(eid))
        except (TypeError, ValueError):
            numbered = winevent.needs_fields(provider, None)
        rows.append({
            "record": system.get("EventRecordID", hid), "ts_raw": created or (htime or "").removesuffix(" UTC") or None,
            "clock": "utc", "channel": system.get("Channel"), "provider": provider, "event_id": eid,
            "level": system.get("Level"), "computer": system.get("Computer"),
            "data": json.dumps(_payload_of(event, numbered), ensure_ascii=False, separators=(",", ":")),
        })
    raw = winevent.raw_frame(rows)
    return raw.with_columns(parse_utc(pl.col("ts_raw")).alias("ts_wall"))


def read_records(path: str) -> tuple[list[dict], list[tuple[int, BaseException]]]:
    """All readable records of ``path`` and the errors met, each with the number of records read before it.

    ``list.extend`` keeps what it appended before the iterator raised, so the loop costs no
    Python work per record; after an error the same iterator carries on with the next record/chunk.
    """
    if PyEvtxParser is None:
        raise RuntimeError("the evtx package is not installed")
    parser = PyEvtxParser(path)
    it = parser.records_json()
    out: list[dict] = []
    errors: list[tuple[int, BaseException]] = []
    consecutive = 0
    while True:
        before = len(out)
        try:
            # in slices, so that another thread can take the GIL between them (one ``extend``
            # over the whole iterator holds it for the whole file; see parse_many)
            while True:
                start = len(out)
                out.extend(itertools.islice(it, READ_SLICE))
                if len(out) - start < READ_SLICE:
                    break
            break
        except StopIteration:  # pragma: no cover - extend swallows it
            break
        except Exception as exc:  # noqa: BLE001 - the parser raises RuntimeError (and others on odd input)
            consecutive = 0 if len(out) > before else consecutive + 1
            errors.append((len(out), exc))
            if consecutive >= MAX_CONSECUTIVE_ERRORS:
                errors.append((len(out), RuntimeError(f"gave up after {MAX_CONSECUTIVE_ERRORS} errors in a row")))
                break
    return out, errors


SOURCE = WindowsEvtx()
