"""Apple restore log: from grammar marker to event kind, subject, codes and identifiers.

Why a table of expressions per marker: the grammar says what a line *is*; this module says what it
*means* for the event schema. Rows are partitioned by marker and each partition gets its own small
set of polars expressions, so a million progress lines cost one vectorised pass, not a Python loop.
Markers absent from :data:`RULES` are kept as kind "generic" (never dropped).
"""

from __future__ import annotations

import functools

import polars as pl

from ..apple_usb import pid_mode_expr

#: Restore ``ProgressMsg`` operation names (reference §9, current numbering). Restore-protocol
#: versions < 14 shift the codes above 35 by one; the log does not say which protocol ran, so the
#: current table is used and the raw number stays in ``detail``.
OPERATIONS = {
    11: "Creating partition map", 12: "Creating filesystem", 13: "Restoring image", 14: "Verifying restore",
    15: "Checking filesystems", 16: "Mounting filesystems", 17: "Fixing up /var", 18: "Flashing firmware",
    19: "Updating baseband", 20: "Setting boot stage", 21: "Rebooting device", 22: "Shutdown device",
    23: "Turning on accessory power", 24: "Clearing persistent boot-args", 25: "Modifying persistent boot-args",
    26: "Installing root", 27: "Installing kernelcache", 28: "Waiting for NAND", 29: "Unmounting filesystems",
    30: "Setting date and time on device", 31: "Executing iBEC to bootstrap update",
    32: "Finalizing NAND epoch update", 33: "Checking for inappropriate bootable partitions",
    34: "Creating factory restore marker", 35: "Loading firmware data to flash", 36: "Requesting FUD data",
    37: "Removing activation record", 38: "Checking battery voltage", 39: "Waiting for battery to charge",
    40: "Closing modem tickets", 41: "Migrating data", 42: "Wiping storage device",
    43: "Sending Apple logo to device", 44: "Checking for uncollected logs", 46: "Clearing NVRAM",
    47: "Updating gas gauge software", 48: "Preparing for baseband update", 49: "Booting the baseband",
    50: "Creating system key bag", 51: "Updating IR MCU firmware", 52: "Resizing system partition",
    53: "Collecting updater output", 54: "Pairing Stockholm", 55: "Updating Stockholm", 56: "Updating SWDHID",
    57: "Certifying SEP", 58: "Updating NAND Firmware", 59: "Updating SE Firmware", 60: "Updating Savage",
    61: "Installing DeviceTree", 62: "Certifying Savage", 63: "Submitting Provinfo", 64: "Certifying Yonkers",
    65: "Updating Rose", 66: "Updating Veridian", 67: "Creating Protected Volume",
    68: "Resizing Main Filesystem Partition",
}

#: idevicerestore ``Status:`` texts → device StatusMsg code (restore-error-codes.md §4).
#: ("Verification Error" is status 0xFFFFFFFFFFFFFFFF, -1 as a signed 64-bit code.)
STATUS_TEXTS = {"Restore Finished": 0, "Verification Error": -1, "Disk Failure": 6, "Fail": 14,
                "Failed to mount filesystems.": 27, "Failed to load SEP Firmware.": 51,
                "Failed to recover FDR data.": 53, "X-Gold Baseband Update Failed. Defective Unit?": 1015}

#: How a log names a device mode → the schema's device_mode values.
MODES = {"BootedOS": "normal", "Normal": "normal", "Muxed": "normal", "Recovery": "recovery",
         "DFU": "dfu", "RestoreOS": "restore", "Restore": "restore", "WTF": "dfu"}

#: Lines that open an attempt's header (used with the body rule in _apple_session).
OPENERS = ("library_built", "itunes_version", "amd_version", "state_machine")
#: Header markers whose values make up session_start's detail.
HEADER = OPENERS + ("current_version", "payload_version", "behavior", "variant", "boot_image", "restore_uuid")
#: Markers that make up a result; one result row per attempt is built from them.
RESULT_PARTS = ("restore_completed", "failure_description", "depth_code", "agent_error", "restore_failed",
                "perform_failed", "unable_to_restore", "restore_succeeded")
#: Identity lines; consecutive ones form one device_identity block.
IDENTITY = ("device_info", "ecid_line", "serial_number", "serial_info", "chip_id", "board_id",
            "identity_other", "console_ecid", "ecid_found", "identified", "hardware_id")

c = pl.col


def last_true(mask: pl.Series) -> int | None:
    """The place of the last true value of the Boolean ``mask`` (None if there is none)."""
    return mask.len() - 1 - mask.reverse().arg_max() if mask.any() else None


def last_value(column: pl.Series):
    """The last non-null value of ``column`` (None if there is none), without copying it."""
    at = last_true(column.is_not_null())
    return None if at is None else column[at]


def attach(rows: pl.DataFrame, small: pl.DataFrame, on: str = "line") -> pl.DataFrame:
    """Left-join ``small`` onto ``rows`` by ``on`` without copying the wide frame through a join.

    The extracted frame carries every grammar field as a column; joining it whole is what made the
    first version slow. Here only the new columns are built: when ``rows`` is in ``on`` order (a
    log's rows are in line order) each of ``small``'s values is put at its row found by binary
    search, so the cost is the new columns, not a hash join over every line; otherwise a join of
    the key column alone.
    """
    keys = rows.get_column(on)
    values = [s for s in small.get_columns() if s.name != on]
    if small.height == 0 or rows.height == 0:
        return rows.with_columns([pl.lit(None, dtype=s.dtype).alias(s.name) for s in values])
    wanted = small.get_column(on)
    if wanted.len() == keys.len() and wanted.equals(keys):  # a value for every row (most rows of a log)
        return rows.with_columns(values)
    if keys.is_sorted() and _unique(wanted):
        at = keys.search_sorted(wanted, side="left")
        found = (at < keys.len()) & (keys.gather(at.clip(0, max(keys.len() - 1, 0))) == wanted)
        at = at.filter(found)
        placed = [pl.Series(s.name, [None], dtype=s.dtype).extend_constant(None, keys.len() - 1)
                  .scatter(at, s.filter(found)) for s in values]
        return rows.with_columns(placed)
    got = rows.select(on).join(small, on=on, how="left", maintain_order="left")
    return rows.with_columns(got.drop(on).get_columns())


def _unique(values: pl.Series) -> bool:
    """No value twice (what attach's binary search needs of the keys it places), found without
    hashing when the values are sorted, as they are when taken from rows in line order."""
    if values.len() < 2:
        return True
    if values.is_sorted():
        return bool((values.diff().slice(1) > 0).all())
    return bool(values.is_unique().all())


def _int(name: str) -> pl.Expr:
    return c(name).str.strip_chars().cast(pl.Int64, strict=False)


def _lit(text: str) -> pl.Expr:
    return pl.lit(text, dtype=pl.String)


def _json(**fields: pl.Expr) -> pl.Expr:
    """Compact JSON of the non-null fields (null when all are null)."""
    raw = pl.struct(**fields).struct.json_encode()
    cleaned = (raw.str.replace_all(r'"[A-Za-z_]+":null,', "")
               .str.replace_all(r',"[A-Za-z_]+":null', "")
               .str.replace_all(r'^\{"[A-Za-z_]+":null\}$', "{}"))
    return pl.when(cleaned == "{}").then(None).otherwise(cleaned)


def ecid_expr(text: pl.Expr) -> pl.Expr:
    """Any ECID spelling → one integer.

    ``0x…`` is hex; a 16-digit value with a leading zero (libirecovery, Windows USB paths) is hex, as
    is anything with a–f; otherwise decimal (idevicerestore). A decimal ECID never starts with 0, and
    16-digit decimal ECIDs exist, so the leading zero is what tells the two apart.
    """
    s = text.str.strip_chars()
    bare = s.str.strip_prefix("0x").str.strip_prefix("0X")
    is_hex = (s.str.starts_with("0x") | s.str.starts_with("0X") | s.str.contains("[A-Fa-f]")
              | ((s.str.len_chars() == 16) & s.str.starts_with("0")))
    return (pl.when(is_hex).then(bare.str.to_integer(base=16, strict=False))
            .otherwise(s.str.to_integer(base=10, strict=False)).cast(pl.UInt64, strict=False))


def hex_id(text: pl.Expr) -> pl.Expr:
    """Chip/board ids as ``0x`` + upper-case hex without leading zeros (``0x8027``, ``0xE``)."""
    digits = text.str.strip_chars().str.strip_prefix("0x").str.to_uppercase().str.strip_chars_start("0")
    return pl.when(text.is_null()).then(None).otherwise(pl.concat_str(_lit("0x"), pl.when(digits == "").then(_lit("0")).otherwise(digits)))


def _mode(name: str) -> pl.Expr:
    return c(name).replace_strict(MODES, default=None, return_dtype=pl.String)


def _device_obj_mode() -> pl.Expr:
    obj = c("device_obj")
    return (pl.when(obj.str.starts_with("Restore")).then(_lit("restore"))
            .when(obj.str.starts_with("Recovery")).then(_lit("recovery"))
            .when(obj.str.starts_with("DFU")).then(_lit("dfu")))


def _usb_path(**extra: pl.Expr) -> dict[str, pl.Expr]:
    """Identifiers inside a Windows USB instance path (vid/pid, and cpid/bdid/ecid/srnm when present)."""
    p = c("usb_path")
    pid = p.str.extract(r"(?i)pid_([0-9a-f]{4})", 1).str.to_uppercase()
    return dict(usb_vid=p.str.extract(r"(?i)vid_([0-9a-f]{4})", 1).str.to_uppercase(), usb_pid=pid,
                device_mode=pid_mode_expr(pid),
                ecid_text=p.str.extract(r"(?i)ecid:([0-9a-f]+)", 1), serial=p.str.extract(r"(?i)srnm:\[([^\]]*)\]", 1).str.to_uppercase(),
                chip_id=hex_id(p.str.extract(r"(?i)cpid:([0-9a-f]+)", 1)), board_id=hex_id(p.str.extract(r"(?i)bdid:([0-9a-f]+)", 1)),
                subject=p, **extra)


#: An error domain named inside a failure text: NSError's ``Domain=X Code=N`` or Apple's dialog form
#: ``[com.apple.MobileDevice.MobileRestore – 0xFCA (4042)]`` (reference restore-error-codes.md §1/§3).
_DOMAIN = r"(?:\bDomain=|\[)((?:com\.apple\.[A-Za-z0-9_.]+)|(?:[A-Za-z]+ErrorDomain))\b"


def _error_domain(text: pl.Expr) -> pl.Expr:
    return text.str.extract(_DOMAIN, 1)


def _op_name() -> pl.Expr:
    op = _int("operation")
    named = op.replace_strict(OPERATIONS, default=None, return_dtype=pl.String)
    host = pl.concat_str(_lit("host step "), c("operation"))
    restore = c("device_obj").str.starts_with("Restore")
    return pl.when(restore).then(pl.coalesce(named, pl.concat_str(_lit("operation "), c("operation")))).otherwise(host)


@functools.cache
def _rules() -> dict[str, dict[str, pl.Expr | str]]:
    """marker (or shape, for a line whose message is no marker) → kind and column expressions.
    Built once per process (expressions are immutable): a fleet classifies thousands of small logs,
    and building the table cost a fifth of classifying one. Callers copy a rule before changing it."""
    usb = "usb_io_error"
    return {
        # header: generic rows; _apple_session turns the first of each attempt into session_start
        "library_built": dict(kind="generic", subject=_lit("restore library built")),
        "itunes_version": dict(kind="generic", subject=pl.concat_str(_lit("iTunes "), c("itunes_version"))),
        "amd_version": dict(kind="generic", subject=pl.concat_str(_lit("Apple Mobile Device "), c("amd_version"))),
        "current_version": dict(kind="generic", subject=pl.concat_str(_lit("current build "), c("current_build"))),
        "payload_version": dict(kind="generic", subject=pl.concat_str(_lit("payload build "), c("payload_build"))),
        "behavior": dict(kind="generic", subject=c("behavior")),
        "variant": dict(kind="generic", subject=c("variant")),
        "boot_image": dict(kind="generic", subject=pl.concat_str(c("boot_image"), _lit(" boot image"))),
        "restore_uuid": dict(kind="generic", subject=c("restore_uuid")),
        "state_machine": dict(kind="generic", subject=pl.concat_str(c("state_machine"), _lit(" state machine"))),
        # progress and phases
        "progress": dict(kind="progress", subject=_op_name(), device_mode=_device_obj_mode(),
                         detail=pl.concat_str(_lit('{"operation":'), _int("operation").cast(pl.String), _lit(',"progress":'),
                                              _int("progress").cast(pl.String),
                                              _lit(',"device":"'), c("device_obj"), _lit('"}'))),
        "device_outcome": dict(kind="phase", subject=c("outcome"), device_mode=_device_obj_mode()),
        "phase_finished": dict(kind="phase", subject=pl.concat_str(c("phase_name"), _lit(" Restore Phase: "), c("phase_result"))),
        "personalize_failed": dict(kind="phase", subject=_lit("personalization failed"),
                                   detail=_json(reason=c("personalize_reason").str.strip_prefix(": "))),
        "personalization_failed": dict(kind="phase", subject=_lit("personalization failed")),
        "bootstrapping": dict(kind="phase", subject=pl.concat_str(_lit("bootstrapping restore with "), c("bootstrap_with"))),
        "entering_recovery": dict(kind="phase", subject=_lit("entering recovery mode"), detail=_json(device=c("device_ptr"))),
        "removed_to_transition": dict(kind="phase", subject=_lit("moving device to transition state")),
        "create_timer": dict(kind="phase", subject=_lit("transition timer created"), detail=_json(minutes=_int("timer_minutes"))),
        "monitor_timer": dict(kind="phase", subject=_lit("transition timer created")),
        "transition_returned": dict(kind="phase", subject=_lit("transitioning device returned")),
        "disconnected_in_transition": dict(kind="phase", subject=_lit("device disconnected during transition")),
        "state_change": dict(kind="state_change", subject=pl.concat_str(c("from_state"), _lit("->"), c("to_state"))),
        "checkpoint": dict(kind="phase", subject=c("cp_rest").str.extract(r"^([A-Za-z0-9_]+)", 1),
                           error_code=c("cp_kind").str.extract(r"FAILURE:(-?[0-9]+)", 1).cast(pl.Int64, strict=False),
                           detail=_json(checkpoint=c("cp_kind").str.extract(r"^([A-Z]+)", 1), domain=c("cp_domain"), id=c("cp_id"))),
        "checkpoint_host": dict(kind="phase", subject=pl.coalesce(c("cp_host_id").str.extract(r"\(([^)]*)\)", 1), c("cp_host_id")),
                                detail=_json(checkpoint=c("cp_verb"), id=c("cp_host_id").str.extract(r"^(0x[0-9A-Fa-f]+)", 1))),
        # outcome parts (the per-attempt result row is assembled in _apple_session)
        "restore_completed": dict(kind="generic", subject=_lit("restore completed"), error_code=_int("status")),
        "depth_code": dict(kind="failure_detail", subject=pl.concat_str(_lit("Depth:"), c("depth")), error_code=_int("code"),
                           detail=_json(depth=_int("depth"), code=_int("code"), domain=_error_domain(c("error_text")),
                                        text=c("error_text").str.strip_chars())),
        "agent_error": dict(kind="generic", subject=pl.concat_str(c("agent"), _lit(" restore error")), error_code=_int("code")),
        "restore_failed": dict(kind="generic", subject=_lit("Restore failed"), error_code=_int("result_code"), device_mode=_device_obj_mode()),
        "perform_failed": dict(kind="generic", subject=_lit("AMRestorePerformRestoreModeRestoreWithError"), error_code=_int("result_code")),
        "unable_to_restore": dict(kind="generic", subject=_lit("unable to restore device")),
        "elapsed": dict(kind="generic", subject=_lit("elapsed time"), detail=_json(seconds=c("elapsed").cast(pl.Float64, strict=False))),
        # signing server
        "tss_server_error": dict(kind="tss_error", subject=pl.concat_str(_lit("status "), c("tss_status")),
                                 error_code=_int("tss_status"), detail=_json(text=c("tss_text"))),
        "tss_cached_error": dict(kind="tss_error", subject=pl.concat_str(_lit("cached server error "), c("tss_code")),
                                 error_code=_int("tss_code"), detail=_json(text=c("tss_text"))),
        "tss_failed_submission": dict(kind="tss_error", subject=c("tss_reason")),
        "tss_no_header": dict(kind="tss_error", subject=_lit("no response header")),
        # SendHttpRequest failed N: -1 no answer at all; an HTTP status (>= 100) is the server's own answer
        "tss_send_failed": dict(kind="tss_error", error_code=_int("http_error"),
                                subject=pl.when(_int("http_error") >= 100).then(pl.concat_str(_lit("HTTP status "), c("http_error")))
                                .otherwise(_lit("SendHttpRequest failed")),
                                detail=_json(http_status=pl.when(_int("http_error") >= 100).then(_int("http_error")))),
        "tss_send_http_failed": dict(kind="tss_error", subject=_lit("failed to send http request")),
        "tss_invalid_response": dict(kind="tss_error", subject=c("tss_bad_answer")),
        "tss_connection_attempt": dict(kind="tss_request", subject=_lit("TSS connection attempt"),
                                       detail=_json(attempt=_int("tss_try"), of=_int("tss_tries"))),
        "tss_socks_proxy": dict(kind="tss_request", subject=_lit("SOCKS proxy"), detail=_json(proxy=_lit("socks"))),
        # the server's clock: rules compare it with the row's own time (the PC's clock)
        "tss_http_date": dict(kind="tss_request", subject=_lit("server date"),
                              detail=_json(server_date=c("http_date").str.to_datetime("%a, %d %b %Y %H:%M:%S", strict=False)
                                           .dt.strftime("%Y-%m-%dT%H:%M:%SZ"))),
        "tss_http_ok": dict(kind="tss_request", subject=_lit("HttpQueryInfo"), error_code=_int("http_status")),
        "tss_received": dict(kind="tss_request", subject=_lit("tss response received"), detail=_json(server_version=c("server_version"))),
        "tss_probe": dict(kind="tss_request", subject=c("url"), detail=_json(host=c("url").str.extract(r"^[A-Za-z]+://([^/:?#]+)", 1))),
        "tss_probe_status": dict(kind="tss_request", subject=_lit("preflight"), error_code=_int("http_status"),
                                 detail=_json(status_text=c("status_text"))),
        "tss_debug_path": dict(kind="generic", subject=_lit("tss debug object"), detail=_json(path=c("debug_path"))),
        # USB I/O trouble: one row per occurrence so rules can count repetition
        "usb_control_transfer": dict(kind=usb, subject=_lit("USBControlTransfer"), error_code=_int("win_error"),
                                     detail=_json(usbd_status=c("usbd_status"))),
        "io_control_failed": dict(kind=usb, subject=_lit("AMDeviceIoControl"), error_code=_int("win_error"),
                                  detail=_json(usbd_status=c("usbd_status"))),
        "io_control_problem": dict(kind=usb, subject=c("ioctl_problem")),
        "get_device_id_failed": dict(kind=usb, subject=pl.concat_str(_lit("GetDeviceID failed for "), c("interface"))),
        "descriptor_failed": dict(kind=usb, subject=_lit("device descriptor"), error_code=_int("usb_error")),
        "command_failed": dict(kind=usb, subject=c("command"), error_code=_int("usb_error")),
        "device_request_failed": dict(kind=usb, subject=_lit("DeviceRequest"), error_code=c("hex_error").str.strip_prefix("0x").str.to_integer(base=16, strict=False),
                                      detail=_json(hex=c("hex_error"))),
        "recv_closed": dict(kind=usb, subject=_lit("device recv: connection closed")),
        "mux_refused": dict(kind="generic", subject=_lit("usbmux connect refused"), error_code=_int("errno")),
        # connect / disconnect (``expected`` is decided in _apple_session)
        "mode_disconnected": dict(kind="device_disconnect", subject=pl.concat_str(c("dev_mode"), _lit(" mode device")), device_mode=_mode("dev_mode")),
        "mode_connected": dict(kind="device_connect", subject=pl.concat_str(c("dev_mode"), _lit(" mode device")), device_mode=_mode("dev_mode"),
                               ecid_text=c("ecid")),
        "muxed_disconnected": dict(kind="generic", subject=_lit("muxed device disconnected"), ecid_text=c("ecid")),
        "rsd_disconnected": dict(kind="generic", subject=_lit("RSD disconnect (benign)"), ecid_text=c("ecid")),
        "registry_connected": dict(kind="generic", subject=_lit("IOKit device connected"),
                                   detail=_json(is_dfu=_int("is_dfu"), registry_id=c("registry_id"))),
        "timer_fired": dict(kind="device_disconnect", subject=_lit("transition timer fired")),
        "disappeared": dict(kind="device_disconnect", subject=_lit("disappeared during transition")),
        "unexpected_state": dict(kind="device_connect", subject=pl.concat_str(_lit("returned in "), c("got_state"), _lit(", expected "), c("want_state")),
                                 device_mode=_mode("got_state"), detail=_json(got=c("got_state"), expected=c("want_state"))),
        "detached": dict(kind="device_disconnect", subject=_lit("kAMDeviceDetached"), detail=_json(device=c("detached"))),
        "interface_arrival": dict(kind="device_connect", **_usb_path()),
        "interface_removal": dict(kind="device_disconnect", **_usb_path()),
        "open_dfu": dict(kind="generic", **_usb_path()),
        # identity
        "device_info": dict(kind="generic", subject=_lit("device info")),
        "ecid_line": dict(kind="generic", subject=_lit("ECID"), ecid_text=c("ecid")),
        "serial_number": dict(kind="generic", subject=_lit("serial"), serial=c("serial")),
        "chip_id": dict(kind="generic", subject=_lit("chip id"), chip_id=hex_id(c("chip_id"))),
        "board_id": dict(kind="generic", subject=_lit("board id"), board_id=hex_id(c("board_id"))),
        "identity_other": dict(kind="generic", subject=c("identity_key"), detail=_json(value=c("identity_value"))),
        # baseband
        "radio_error": dict(kind="baseband_error", subject=_lit("radio-error"), error_code=_int("radio_error")),
        "radio_error_string": dict(kind="baseband_error", subject=c("radio_text")),
        "radio_fatal": dict(kind="baseband_error", subject=_lit("fatal recovery mode radio error")),
        "radio_stop": dict(kind="baseband_error", subject=_lit("radio errors detected; stopping")),
    }


def rule_key() -> pl.Expr:
    """Which rule applies: the marker, else the whole-line shape."""
    marker = c("marker")
    return pl.when(marker.is_not_null() & (marker != "other")).then(marker).otherwise(c("shape"))


OUT_COLUMNS = {"kind": pl.String, "subject": pl.String, "error_code": pl.Int64, "detail": pl.String,
               "device_mode": pl.String, "ecid_text": pl.String, "udid": pl.String, "serial": pl.String,
               "chip_id": pl.String, "board_id": pl.String, "usb_vid": pl.String, "usb_pid": pl.String}


def _outputs(rules: dict, key: str) -> list[pl.Expr]:
    """The OUT_COLUMNS expressions of ``key``'s rule (nulls where it sets none)."""
    spec = dict(rules.get(key, {}))
    kind = spec.pop("kind", "generic")
    spec["kind"] = kind if isinstance(kind, pl.Expr) else _lit(kind)
    return [(spec[name] if spec.get(name) is not None else pl.lit(None)).cast(dtype, strict=False).alias(name)
            for name, dtype in OUT_COLUMNS.items()]


def _by_rule(frame: pl.DataFrame, rules: dict, keys: list[str]) -> pl.DataFrame:
    """Each rule's expressions on its own rows (one partition per rule, taken apart in one call),
    stitched back in line order: on a big log an expression runs on its rule's rows only."""
    groups = frame.select("line", "_rule_id", *_read_columns(rules, keys, frame.columns)).partition_by(
        "_rule_id", as_dict=True, include_key=False, maintain_order=True)
    parts = [groups[(key,)].select("line", *_outputs(rules, key)) for key in keys]
    return pl.concat(parts, how="vertical").sort("line")


def _read_columns(rules: dict, keys: list[str], columns: list[str]) -> list[str]:
    """The columns that the rules of ``keys`` read (other than ``line``)."""
    needed: set[str] = set()
    for key in keys:
        for expr in rules.get(key, {}).values():
            if isinstance(expr, pl.Expr):
                needed.update(expr.meta.root_names())
    return sorted(needed & set(columns) - {"line", "_rule_id"})


def classify(frame: pl.DataFrame, extra: dict[str, dict[str, pl.Expr | str]] | None = None) -> pl.DataFrame:
    """Add kind/subject/error_code/detail/identifier columns to recognised rows (in line order).

    ``extra`` adds the rules of another grammar's markers (a source whose grammar shares some markers
    with this one); a rule's ``kind`` is a kind name or an expression giving one (irecv_event_cb
    reports both directions with one marker).
    Each rule runs on a narrow slice (its rows, only the columns its expressions read), and the
    narrow results are stitched back by line: the extracted frame is wide (every field of every
    marker), and copying it per rule would cost more than the expressions themselves.
    """
    rules = {**_rules(), **(extra or {})}
    frame = frame.with_columns(rule_key().alias("rule"))
    keys = frame.get_column("rule").unique().sort().to_list()
    frame = frame.with_columns(pl.col("rule").cast(pl.Enum(keys)).alias("_rule_id"))
    out = _by_rule(frame, rules, keys).with_columns(ecid_expr(c("ecid_text")).alias("ecid_value"))
    clash = [n for n in out.columns if n != "line" and n in frame.columns]  # grammar fields replaced by their normalised form
    return pl.concat([frame.drop("_rule_id", *clash), out.drop("line")], how="horizontal")
