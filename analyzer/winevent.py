"""Windows event records, from whatever export they came in, normalised onto the event table.

Binary .evtx, XML exports and the text exports (wevtutil, Event Viewer
TSV/CSV, Get-WinEvent) all describe the same records. Each of those sources
only flattens its format into the *raw record frame* below; this module is the
one place that knows what an event ID means, so the meaning cannot drift
between formats.

Raw record frame (one row per record; every column optional except ``event_id``):

==============  ==========================  ======================================
column          type                        meaning
==============  ==========================  ======================================
record          Int64                       EventRecordID, or the ordinal in an export
line            Int64                       first line of the record in a text export
ts_wall         Datetime(us), naive         TimeCreated as written, no zone
ts_raw          String                      the original time text
clock           String                      "utc" (evtx, XML, ``Z``) or "local"
channel         String                      e.g. "System"
provider        String                      e.g. "Service Control Manager"
event_id        Int64
level           Int64
computer        String
data            String                      JSON object of the EventData/UserData
                                            fields by name; positional ``<Data>``
                                            values under keys "1", "2", … (the
                                            message template's %1, %2 …); SCM's
                                            ``<Binary>`` as "Binary" (hex)
message         String                      rendered message, if the export has one
==============  ==========================  ======================================

Only *classified* records are read field by field: those whose (provider, event ID) maps to
a kind in ``KIND_TABLE`` (:mod:`analyzer.winevent_kinds`), DriverFrameworks-UserMode 2100 (a
removal when its major/minor codes say so) and security products
(:func:`~analyzer.winevent_kinds.needs_fields`). For them the data fields are decoded and
``subject``, ``error_code`` etc. computed. Every other record is kept as a **generic** event
with its identity (record, times, channel, provider, event ID, level, computer, message) and
``detail`` = its ``data`` as given; ``subject`` is null; the Apple device columns are filled
only where the cheap ``vid_05ac|ecid:|srnm:`` hint fires (from ``data`` and the message). A
.evtx source may leave a generic record's unnamed ``<Data>`` as the parser wrote it,
``{"Data":{"#text":[v1,v2,…]}}`` (or ``{"Data":{"#text":v1}}``), instead of "1", "2", …
(:mod:`analyzer.sources.windows_evtx`); the XML and text exports number them always.

A source that already knows provider and event ID of every record may pass the
per-pair lookup columns (:func:`with_lookup`) in its raw frame, lazily; normalise then
does not compute them again.

Matching is on provider, event ID and field names, never on message text,
so it works on any Windows UI language (reference/windows-events.md). What each
(provider, event ID) means is in :mod:`analyzer.winevent_kinds`; this module applies it.
"""

from __future__ import annotations

import functools
import os

import polars as pl

from .apple import APPLE_SERVICES
from .apple_usb import pid_mode_expr
from . import winevent_network
from .model import EVENT_SCHEMA, conform
# needs_fields is read from here by the .evtx source
from .winevent_kinds import LOOKUP_COLUMNS, needs_fields, with_lookup


RAW_SCHEMA: dict[str, pl.DataType] = {
    "record": pl.Int64, "line": pl.Int64, "ts_wall": pl.Datetime("us"), "ts_raw": pl.String,
    "clock": pl.String, "channel": pl.String, "provider": pl.String, "event_id": pl.Int64,
    "level": pl.Int64, "computer": pl.String, "data": pl.String, "message": pl.String,
}


def raw_frame(rows: list[dict] | pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Bring a list of raw record dicts (or a frame) to RAW_SCHEMA. A LazyFrame stays lazy."""
    if isinstance(rows, (pl.DataFrame, pl.LazyFrame)):
        frame = rows
    elif rows:
        frame = pl.DataFrame(rows, strict=False, infer_schema_length=None)
    else:
        frame = pl.DataFrame(schema=RAW_SCHEMA)
    names = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    cols = []
    for name, dtype in RAW_SCHEMA.items():
        cols.append(pl.col(name).cast(dtype, strict=False) if name in names else pl.lit(None, dtype=dtype).alias(name))
    if all(name in names for name in LOOKUP_COLUMNS):  # precomputed by the source (see with_lookup)
        cols += [pl.col(name) for name in LOOKUP_COLUMNS]
    return frame.select(cols)


#: The data fields normalise reads. They are decoded from ``data`` in ONE vectorised JSON pass
#: (``json_path_match`` per field re-parses every row and cost 10x the evtx parse itself).
_FIELD_NAMES = (
    "RequestMinorCode", "RequestMajorCode", "InstanceId", "DeviceInstanceId", "DeviceInstanceID", "DeviceInstance",
    "DriverName", "ServiceName", "param1", "AppName", "RuleName", "Application", "VolumeName", "1", "6", "Binary",
    "InstallStatus", "AddServiceStatus", "Status", "FinalStatus", "param2", "param3",
    *winevent_network.FIELDS, *winevent_network.POSITIONAL,
    "Process Name", "Path", "Threat Name",
)


def _fcol(name: str) -> str:
    return f"_f_{name}"


def _field(name: str) -> pl.Expr:
    if name in _FIELD_NAMES:
        return pl.col(_fcol(name))
    return pl.col("data").str.json_path_match(f"$.{name}")


def _decode_stages(fast: bool = True) -> list[list[pl.Expr]]:
    """Stages that add one ``_f_<name>`` String column per name in _FIELD_NAMES (top-level keys
    of ``data``) on classified rows (``_full``; null on the others), and ``_hint``.

    Numbers and booleans come out as their JSON text, as ``json_path_match`` gives them; only
    rows that mention one of the names are decoded. With ``fast`` the JSON is decoded once per
    row; a row whose field is an object/array (or whose data is not JSON) makes that decoder
    refuse the whole column, so :func:`normalise` retries with ``fast=False``
    (``json_path_match`` per field: slow, same result).
    """
    # only classified rows (``_full``, see needs_fields) are decoded
    full = pl.when(pl.col("_full")).then(pl.col("data"))
    hinted = pl.when(full.str.contains_any([f'"{n}":' for n in _FIELD_NAMES])).then(pl.col("data"))
    # can this row carry Apple IDs at all (data or rendered message)? see normalise
    apple = _has_apple_hint(pl.col("data")) | _has_apple_hint(pl.col("message"))
    if fast:
        struct = hinted.str.json_decode(pl.Struct({n: pl.String for n in _FIELD_NAMES}))
        return [[apple.alias("_hint"), struct.alias("_f")],
                [pl.col("_f").struct.field(n).alias(_fcol(n)) for n in _FIELD_NAMES]]
    return [[apple.alias("_hint")] + [hinted.str.json_path_match(f"$.{n}").alias(_fcol(n)) for n in _FIELD_NAMES]]


def _subject_expr() -> pl.Expr:
    """What the record is about: device instance, service, application or peer."""
    candidates = [
        _field("InstanceId"), _field("DeviceInstanceId"), _field("DeviceInstanceID"), _field("DeviceInstance"),
        _field("DriverName"), _field("ServiceName"), _field("param1"), _field("AppName"), _field("RuleName"),
        _field("Application"), _field("VolumeName"), _field("1"),
        # Defender / Controlled Folder Access: the process, else the path (its "file:_" prefix off)
        _field("Process Name"), _field("Path").str.strip_prefix("file:_"),
    ]
    return pl.coalesce(candidates)


#: A device instance ID inside rendered text (language independent), without trailing punctuation:
#: printable ASCII but quotes, comma, semicolon and angle brackets, so that a Korean or Japanese
#: particle written right after it ("…[C39ZK8QRN72M]에") is not taken with it.
_INSTANCE_IN_TEXT = (r"((?:USB|HID|SWD|ACPI|PCI|ROOT|USBSTOR|BTHENUM|WPDBUSENUMROOT|SCSI)\\"
                     r"[\x21\x23-\x26\x28-\x2B\x2D-\x3A\x3D\x3F-\x7E]*[\x21\x23-\x26\x28-\x2B\x2D\x2F-\x3A\x3D\x3F-\x7E])")


def _subject_from_message(msg: pl.Expr | None = None) -> pl.Expr:
    """Fallback for exports that carry only the rendered message (wevtutil text, Event Viewer
    TSV/CSV, Get-WinEvent): a device instance ID, a known Apple service name, or for crash
    reports the first ``*.exe`` in the text. These tokens are not localised."""
    msg = pl.col("message") if msg is None else msg
    services = "|".join(sorted((s.replace(" ", r"\s") for s in APPLE_SERVICES), key=len, reverse=True))
    exe = msg.str.extract(r"(?i)([A-Za-z0-9_.-]+\.exe)\b", 1)
    return pl.coalesce([
        msg.str.extract(_INSTANCE_IN_TEXT, 1),
        pl.when(pl.col("kind").is_in(["app_crash", "security_block"])).then(exe).otherwise(pl.lit(None, dtype=pl.String)),
        msg.str.extract(f"(?i)({services})", 1),
    ])


def _scm_state_expr() -> pl.Expr:
    """SCM 7036 writes ``<service key>/<state>`` as UTF-16LE hex in Binary; the state digit
    (1 stopped, 4 running) is language independent, unlike param2's localised word."""
    # The state is at the end: "…2F003<d>00" or "…2F003<d>000000", so only the last 12
    # characters are searched (not the whole hex of every SCM record).
    digit = _field("Binary").str.tail(12).str.extract(r"(?i)2F003([0-9])00(?:0000)?$", 1)
    return digit.cast(pl.Int64, strict=False)


#: How the queries here are run. polars' default optimiser + streaming engine made these
#: string-heavy plans 3-6x slower (measured on the evtx corpus); the plans are already
#: written stage by stage, so there is nothing for the optimiser to gain.
_ENGINE = os.environ.get("ANALYZER_POLARS_ENGINE", "in-memory")


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    """Run a lazy query the fast way for these plans (see _ENGINE)."""
    return lf.collect(engine=_ENGINE, optimizations=pl.QueryOptFlags.none())


#: Cheap (Aho-Corasick, case-insensitive) test for text that can hold Apple USB IDs, an ECID or a
#: serial; the costly regexes below only run on rows that pass it.
_APPLE_HINTS = ["vid_05ac", "ecid:", "srnm:"]
#: The same test as one ASCII-case-insensitive regex (``-u``: exactly ``contains_any(...,
#: ascii_case_insensitive=True)``): the regex engine's SIMD literal search is 4x faster here.
_APPLE_HINT_RE = "(?i-u)" + "|".join(_APPLE_HINTS)


def _has_apple_hint(col: pl.Expr) -> pl.Expr:
    """True where ``col`` can hold Apple IDs (see _APPLE_HINTS); False on nulls."""
    return col.str.contains(_APPLE_HINT_RE).fill_null(False)


def _apple_ids(col: pl.Expr) -> list[pl.Expr]:
    """usb_vid, usb_pid, ECID hex, serial from ``col`` (first match in the text)."""
    return [
        col.str.extract(r"(?i)VID_(05AC)&(?:amp;)?PID_[0-9A-F]{4}", 1).str.to_uppercase(),
        col.str.extract(r"(?i)VID_05AC&(?:amp;)?PID_([0-9A-F]{4})", 1).str.to_uppercase(),
        col.str.extract(r"(?i)ecid:([0-9a-f]{16})", 1),
        col.str.extract(r"(?i)srnm:\[([^\]]+)\]", 1).str.to_uppercase(),
    ]


_KEEP = ["record", "line", "ts_wall", "ts_raw", "clock", "channel", "provider", "event_id", "level", "computer",
         "kind", "subject", "usb_vid", "usb_pid", "ecid", "serial", "device_mode", "error_code", "detail", "message",
         "expected"]


@functools.lru_cache(maxsize=2)
def _stages(fast: bool = True) -> tuple[list[pl.Expr], ...]:
    """The expression stages of :func:`normalise` after the lookup join (built once: building
    them costs more than running them on a small file). ``fast``: see _decode_stages."""
    minor = _field("RequestMinorCode").cast(pl.Int64, strict=False)
    major = _field("RequestMajorCode").cast(pl.Int64, strict=False)
    # DFUM 2100 = the host received a PnP request (major 27; minor 23 surprise removal, 2 removal).
    # Its 2102 (the same request finished, a few ms later, same instance) stays generic: counting
    # both would make every removal two (iphone-pc corpus: each 2100 has its 2102).
    is_removal = pl.col("_dfum") & (pl.col("event_id") == 2100) & (major == 27) & minor.is_in([2, 23])
    # (columns of their own where an expression would be used more than once: these plans run
    # without common-subexpression elimination)
    status_hex = pl.coalesce([_field("InstallStatus"), _field("AddServiceStatus"), _field("Status"), _field("FinalStatus")])
    s_kind = [pl.when(is_removal).then(pl.lit("device_disconnect")).otherwise(pl.col("_kind")).alias("kind"),
              status_hex.alias("_status_hex")]
    # (the common candidates once, in their own stage: expressions are not shared otherwise)
    s_subject = [_subject_expr().alias("subject")]
    subject = pl.col("subject")
    s_subject1 = [
        pl.when(pl.col("_wer")).then(pl.coalesce([_field("6"), subject]))
          # SCM templates whose service name is not %1: 7009/7011 (%1 is a timeout in ms), 7032 (%3)
          .when(pl.col("_scm") & pl.col("event_id").is_in([7009, 7011])).then(pl.coalesce([_field("param2"), subject]))
          .when(pl.col("_scm") & (pl.col("event_id") == 7032)).then(pl.coalesce([_field("param3"), subject]))
          .otherwise(subject).alias("subject")]
    # generic rows: the message is read only where the Apple hint fired (for the IDs below)
    s_subject2 = [pl.coalesce([pl.col("subject"), _subject_from_message(
        pl.when(pl.col("_full") | pl.col("_hint")).then(pl.col("message")))]).alias("subject")]
    # "subject then data" searched as one text; only rows that pass the cheap hint test are
    # searched at all (the blob is null elsewhere). ``_hint`` already tested data (and message,
    # which cannot make the ID regexes match in subject+data: they need a hint substring).
    hint = pl.col("_hint") | _has_apple_hint(pl.col("subject"))
    s_blob = [pl.when(hint).then(pl.concat_str([pl.col("subject").fill_null(""), pl.col("data")], separator=" "))
              .alias("_blob")]
    vid, pid, ecid_hex, serial = _apple_ids(pl.col("_blob"))
    s_ids = [
        vid.alias("usb_vid"),
        pid.alias("usb_pid"),
        ecid_hex.str.to_integer(base=16, strict=False).cast(pl.UInt64, strict=False).alias("ecid"),
        serial.alias("serial"),
    ]
    mode = pid_mode_expr(pl.col("usb_pid"))
    status_hex = pl.col("_status_hex")
    status = (pl.when(status_hex.str.starts_with("0x")).then(status_hex.str.slice(2).str.to_integer(base=16, strict=False))
              .otherwise(status_hex.str.to_integer(base=10, strict=False)))
    s_rest = [
        mode.alias("device_mode"),
        pl.when(pl.col("kind").is_in(["driver_install", "driver_failure", "driver_load"])).then(status)
          .when(pl.col("kind") == "device_disconnect").then(minor)
          .when(pl.col("kind") == "service_state").then(_scm_state_expr())
          .otherwise(pl.lit(None, dtype=pl.Int64)).alias("error_code"),
        # Defender writes paths as "file:_C:\\…": the prefix is no part of the path
        pl.when(pl.col("kind") == "security_block")
          .then(pl.col("data").str.replace_all('"Path":"file:_', '"Path":"', literal=True))
          .otherwise(pl.col("data")).alias("detail"),
        # a generic record is about nothing in particular (see the module docstring)
        pl.when(pl.col("kind") != "generic").then(pl.col("subject")).alias("subject"),
        # "<provider> <event id>" where there is no rendered message (built once per pair: _msg)
        pl.when(pl.col("message").is_null()).then(pl.col("_msg")).otherwise(pl.col("message")).alias("message"),
        pl.lit(None, dtype=pl.Boolean).alias("expected"),
    ]
    return (*_decode_stages(fast), s_kind, s_subject, s_subject1, s_subject2, s_blob, s_ids, s_rest,
            *winevent_network.stages())


@functools.lru_cache(maxsize=1)
def _final() -> list[pl.Expr]:
    # every column of the event table, in its order and type, inside the query: conform() then
    # has nothing left to do
    return [pl.col(k).cast(dtype, strict=False) if k in _KEEP else pl.lit(None, dtype=dtype).alias(k)
            for k, dtype in EVENT_SCHEMA.items()]


def normalise(raw: pl.DataFrame | pl.LazyFrame, *, format: str | None = None) -> pl.DataFrame:
    """Turn a raw record frame (eager or lazy) into event-table rows (vectorised).

    Per-record work is all in polars: everything keyed on provider/event ID is decided once
    per distinct pair and joined on (unless the source did it, see with_lookup), and the data
    fields of the classified rows are decoded in one JSON pass. ``format``, if given, fills
    the ``format`` column (saves the caller a pass).
    """
    raw = raw_frame(raw)
    if "_full" not in (raw.collect_schema() if isinstance(raw, pl.LazyFrame) else raw.schema):
        raw = with_lookup(collect(raw) if isinstance(raw, pl.LazyFrame) else raw)
    return normalise_prepared(raw.lazy(), format=format)


def normalise_prepared(raw: pl.LazyFrame, *, format: str | None = None) -> pl.DataFrame:
    """:func:`normalise` for a lazy frame that already has every RAW_SCHEMA column (typed) and
    the LOOKUP_COLUMNS: ONE query, whatever the frame holds. (Each query costs ~0.5 ms of
    planning, and the Python between queries holds the GIL, which a .evtx reader thread needs;
    so stages that change nothing on a frame, e.g. the Apple-ID regexes where no record has a
    hint, run anyway: on all-null columns they cost less than a query.) A lazy ``raw`` (e.g.
    the evtx flattening) runs in the same query.
    """
    def plan(fast: bool) -> pl.LazyFrame:
        lf = raw.with_columns(pl.col("data").fill_null("{}"))
        for stage in _stages(fast):
            lf = lf.with_columns(stage)
        lf = lf.select(_final())
        return lf if format is None else lf.with_columns(pl.lit(format, dtype=pl.String).alias("format"))
    try:
        return conform(collect(plan(fast=True)))
    except Exception:  # noqa: BLE001 - see _decode_stages
        return conform(collect(plan(fast=False)))
