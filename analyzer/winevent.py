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

Matching is on provider, event ID and field names, never on message text,
so it works on any Windows UI language (reference/windows-events.md).
"""

from __future__ import annotations

import polars as pl

from .model import conform

APPLE_VID = "05AC"

#: Processes whose crash or block is Apple-side evidence.
APPLE_PROCESSES = (
    "itunes.exe", "applemobiledeviceservice.exe", "applemobiledevicehelper.exe",
    "applemobiledeviceprocess.exe", "appledevices.exe", "ituneshelper.exe", "apsdaemon.exe",
)

#: Names of the Apple Mobile Device service (key and display name; the Store app's is unverified).
APPLE_SERVICES = ("apple mobile device service", "apple mobile device", "applemobiledeviceservice")

#: Providers of third-party security products (matched case-insensitively as substrings).
SECURITY_PRODUCTS = (
    "symantec", "norton", "mcafee", "kaspersky", "eset", "avast", "avg", "bitdefender", "sophos",
    "trend micro", "malwarebytes", "f-secure", "webroot", "panda", "comodo", "zonealarm", "windows defender",
)

# (provider substring, event ids, kind). First match wins; providers compared lower-case.
_KIND_TABLE: list[tuple[str, tuple[int, ...], str]] = [
    ("driverframeworks-usermode", (2003,), "device_connect"),
    ("driverframeworks-usermode", (2004, 2005, 2006, 2010, 10100), "driver_load"),
    ("driverframeworks-usermode", (2011, 10110, 10111, 10112, 10101), "driver_failure"),
    ("driverframeworks-usermode", (10000, 10001), "driver_install"),
    ("kernel-pnp", (400,), "driver_install"),
    ("kernel-pnp", (410,), "driver_load"),
    ("kernel-pnp", (401, 411, 219), "driver_failure"),
    ("userpnp", (20001, 20003), "driver_install"),
    ("service control manager", (7031, 7034, 7000, 7001, 7009, 7011, 7022, 7023, 7024, 7032), "service_crash"),
    ("service control manager", (7036,), "service_state"),
    ("microsoft-windows-ntfs", (142,), "disk_space"),
    ("srv", (2013,), "disk_space"),
    ("kernel-power", (41, 42, 105, 107, 109, 172, 506, 507), "power"),
    ("security-auditing", (5152, 5157, 5031), "firewall_block"),
    ("security-auditing", (5156, 5158), "firewall_allow"),
    ("firewall with advanced security", (2011,), "firewall_block"),
    ("firewall with advanced security", (2003, 2004, 2005, 2006, 2010, 2033, 2051, 2097, 2099), "firewall_config"),
    ("application error", (1000,), "app_crash"),
    ("application hang", (1002,), "app_crash"),
    ("windows error reporting", (1001,), "app_crash"),
]

RAW_SCHEMA: dict[str, pl.DataType] = {
    "record": pl.Int64, "line": pl.Int64, "ts_wall": pl.Datetime("us"), "ts_raw": pl.String,
    "clock": pl.String, "channel": pl.String, "provider": pl.String, "event_id": pl.Int64,
    "level": pl.Int64, "computer": pl.String, "data": pl.String, "message": pl.String,
}


def raw_frame(rows: list[dict] | pl.DataFrame) -> pl.DataFrame:
    """Bring a list of raw record dicts (or a frame) to RAW_SCHEMA."""
    if isinstance(rows, pl.DataFrame):
        frame = rows
    elif rows:
        frame = pl.DataFrame(rows, strict=False, infer_schema_length=None)
    else:
        frame = pl.DataFrame(schema=RAW_SCHEMA)
    cols = []
    for name, dtype in RAW_SCHEMA.items():
        cols.append(pl.col(name).cast(dtype, strict=False) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name))
    return frame.select(cols)


def _field(name: str) -> pl.Expr:
    return pl.col("data").str.json_path_match(f"$.{name}")


def _kind_expr() -> pl.Expr:
    prov = pl.col("provider").str.to_lowercase().fill_null("")
    eid = pl.col("event_id")
    expr = pl.lit("generic")
    for needle, ids, kind in reversed(_KIND_TABLE):
        expr = pl.when(prov.str.contains(needle, literal=True) & eid.is_in(list(ids))).then(pl.lit(kind)).otherwise(expr)
    minor = _field("RequestMinorCode").cast(pl.Int64, strict=False)
    major = _field("RequestMajorCode").cast(pl.Int64, strict=False)
    is_removal = prov.str.contains("driverframeworks-usermode", literal=True) & (eid == 2100) & (major == 27) & minor.is_in([2, 23])
    security = pl.any_horizontal([prov.str.contains(p, literal=True) for p in SECURITY_PRODUCTS])
    expr = pl.when(is_removal).then(pl.lit("device_disconnect")).otherwise(expr)
    return pl.when(security & (expr == "generic")).then(pl.lit("security_product")).otherwise(expr)


def _subject_expr() -> pl.Expr:
    """What the record is about: device instance, service, application or peer."""
    candidates = [
        _field("InstanceId"), _field("DeviceInstanceId"), _field("DeviceInstanceID"), _field("DeviceInstance"),
        _field("DriverName"), _field("ServiceName"), _field("param1"), _field("AppName"), _field("RuleName"),
        _field("Application"), _field("VolumeName"), _field("1"),
    ]
    return pl.coalesce(candidates)


def _scm_state_expr() -> pl.Expr:
    """SCM 7036 writes ``<service key>/<state>`` as UTF-16LE hex in Binary; the state digit
    (1 stopped, 4 running) is language independent, unlike param2's localised word."""
    return _field("Binary").str.to_uppercase().str.extract(r"2F00(3[0-9])00(?:0000)?$", 1).str.slice(1, 1).cast(pl.Int64, strict=False)


def normalise(raw: pl.DataFrame) -> pl.DataFrame:
    """Turn a raw record frame into event-table rows (vectorised; one pass of expressions)."""
    frame = raw_frame(raw)
    if frame.height == 0:
        return conform(None)
    frame = frame.with_columns(
        pl.col("data").fill_null("{}"),
        _kind_expr().alias("kind"),
    )
    wer = pl.col("provider").str.to_lowercase().str.contains("windows error reporting", literal=True)
    frame = frame.with_columns(
        pl.when(wer).then(pl.coalesce([_field("6"), _subject_expr()])).otherwise(_subject_expr()).alias("subject"))
    text_blob = pl.concat_str([pl.col("subject").fill_null(""), pl.col("data")], separator=" ")
    vid_pid = text_blob.str.extract(r"(?i)VID_(05AC)&(?:amp;)?PID_[0-9A-F]{4}", 1).str.to_uppercase()
    pid = text_blob.str.extract(r"(?i)VID_05AC&(?:amp;)?PID_([0-9A-F]{4})", 1).str.to_uppercase()
    ecid_hex = text_blob.str.extract(r"(?i)ecid:([0-9a-f]{16})", 1)
    serial = text_blob.str.extract(r"(?i)srnm:\[([^\]]+)\]", 1).str.to_uppercase()
    frame = frame.with_columns(
        vid_pid.alias("usb_vid"),
        pid.alias("usb_pid"),
        ecid_hex.str.to_integer(base=16, strict=False).cast(pl.UInt64, strict=False).alias("ecid"),
        serial.alias("serial"),
    )
    pid_int = pl.col("usb_pid").str.to_integer(base=16, strict=False)
    mode = (pl.when(pid_int.is_in([0x1280, 0x1281, 0x1282, 0x1283])).then(pl.lit("recovery"))
            .when(pid_int.is_in([0x1227, 0x1222])).then(pl.lit("dfu"))
            .when(pid_int.is_between(0x1290, 0x12BF)).then(pl.lit("normal"))
            .otherwise(pl.lit(None, dtype=pl.String)))
    status_hex = pl.coalesce([_field("InstallStatus"), _field("AddServiceStatus"), _field("Status"), _field("FinalStatus")])
    status = (pl.when(status_hex.str.starts_with("0x")).then(status_hex.str.slice(2).str.to_integer(base=16, strict=False))
              .otherwise(status_hex.str.to_integer(base=10, strict=False)))
    minor = _field("RequestMinorCode").cast(pl.Int64, strict=False)
    frame = frame.with_columns(
        mode.alias("device_mode"),
        pl.when(pl.col("kind").is_in(["driver_install", "driver_failure", "driver_load"])).then(status)
          .when(pl.col("kind") == "device_disconnect").then(minor)
          .when(pl.col("kind") == "service_state").then(_scm_state_expr())
          .otherwise(pl.lit(None, dtype=pl.Int64)).alias("error_code"),
    )
    frame = frame.with_columns(
        pl.col("data").alias("detail"),
        pl.col("event_id").cast(pl.Int32, strict=False),
        pl.col("level").cast(pl.Int32, strict=False),
        pl.col("message").fill_null(pl.concat_str([pl.col("provider").fill_null("?"), pl.lit(" "), pl.col("event_id").cast(pl.String)])),
        pl.lit(None, dtype=pl.Boolean).alias("expected"),
    )
    keep = ["record", "line", "ts_wall", "ts_raw", "clock", "channel", "provider", "event_id", "level", "computer",
            "kind", "subject", "usb_vid", "usb_pid", "ecid", "serial", "device_mode", "error_code", "detail", "message",
            "expected"]
    return conform(frame.select(keep))


def is_apple_service(subject: pl.Expr) -> pl.Expr:
    low = subject.str.to_lowercase().fill_null("")
    return pl.any_horizontal([low.str.contains(name, literal=True) for name in APPLE_SERVICES])


def is_apple_process(text: pl.Expr) -> pl.Expr:
    low = text.str.to_lowercase().fill_null("")
    return pl.any_horizontal([low.str.contains(name, literal=True) for name in APPLE_PROCESSES])
