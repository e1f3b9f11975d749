"""The device's restore log and idevicerestore's output: from marker to kind, subject, codes, ids.

Why a table beside :mod:`._apple_classify`'s: these markers belong to
``grammar/apple_device_restore.lark``; :func:`._apple_classify.classify` runs both tables, so a
marker the two grammars share (``checkpoint``, ``recv_closed``, ``mux_refused``) means the same in
a host log and in a device log.

Kinds chosen for the evidence, not the wording: the device losing its host (``recv(…) failed:
connection closed``, ``unable to read message size``) and ASR's ``Inappropriate ioctl for device``
(the image stream from the host broke off) are ``usb_io_error``; a failed checkpoint, ASR status or
image step is a ``phase`` carrying its code; the dozens of routine checkpoints and nvram
``restore-step-*`` updates of a healthy restore are ``progress`` / ``generic`` so that a timeline
shows the steps that went wrong.
"""

from __future__ import annotations

import polars as pl

from ._apple_classify import MODES, STATUS_TEXTS, _int, _json, _lit, _mode, _usb_path, hex_id
from ._tss_console import tss_rules

c = pl.col

#: nvram ``restore-step-*`` keys that hold a failed step's record (the others track every step).
STEP_FAILURE_KEYS = ("step-codes", "step-results", "step-error", "step-domains", "step-warnings")
#: ASR's wording for "the stream from the host broke off" (strerror(ENOTTY) on the device).
ASR_LINK_LOST = "Inappropriate ioctl for device"


def _hex_of_decimal(name: str) -> pl.Expr:
    """idevicerestore prints chip and board ids in decimal; the schema writes ``0x`` + hex."""
    return hex_id(c(name).cast(pl.Int64, strict=False).map_elements(lambda v: f"{v:X}", return_dtype=pl.String))


def _restore_step() -> dict[str, pl.Expr]:
    key, value = c("step_key"), c("step_value").str.strip_chars()
    failure = key.is_in(list(STEP_FAILURE_KEYS)) & ~value.is_in(["{}", ""])
    code = value.str.extract(r":(-?[0-9]+)\}+$", 1).cast(pl.Int64, strict=False)
    return dict(kind=pl.when(failure).then(_lit("phase")).otherwise(_lit("generic")),
                subject=pl.concat_str(_lit("restore-"), key),
                error_code=pl.when(key.is_in(["step-codes", "step-results"])).then(code),
                detail=_json(value=value))


def _checkpoint_id() -> dict[str, pl.Expr]:
    """``Checkpoint completed id: 0x65B (name) result=N`` and its started/WARNING/FAILURE forms."""
    rest = c("ck_rest")
    result = rest.str.extract(r"result=(-?[0-9]+)", 1).cast(pl.Int64, strict=False)
    name = rest.str.extract(r"^ \(([^)]*)\)", 1)
    failed = (c("ck_word") == "FAILURE") | (result.fill_null(0) != 0)
    return dict(kind=pl.when(failed).then(_lit("phase")).otherwise(_lit("progress")),
                subject=pl.coalesce(name, c("ck_hex")), error_code=result,
                detail=_json(checkpoint=c("ck_word"), id=c("ck_hex"),
                             text=rest.str.extract(r"result=-?[0-9]+: (.*)$", 1)))


def device_rules() -> dict[str, dict[str, pl.Expr | str]]:
    """marker → kind and column expressions, for the markers of ``apple_device_restore.lark``."""
    usb = "usb_io_error"
    ck_code = _int("ck_code")
    hw = c("hw_key")
    return {
        # the device's own log
        "checkpoint_note": dict(kind="generic", subject=pl.concat_str(c("cp_word"), _lit(": "), c("cp_text"))),
        "restore_step": _restore_step(),
        "asr_progress": dict(kind="progress", subject=pl.concat_str(_lit("ASR "), c("asr_phase").str.to_lowercase()),
                             detail=_json(percent=_int("asr_percent"))),
        "asr_status": dict(kind=pl.when(c("asr_status").str.starts_with("fail")).then(_lit("phase")).otherwise(_lit("generic")),
                           subject=pl.concat_str(_lit("ASR status: "), c("asr_status").str.replace_all("\t", " "))),
        "asr_could_not": dict(kind=pl.when(c("asr_reason").str.contains(ASR_LINK_LOST, literal=True)).then(_lit(usb))
                              .otherwise(_lit("phase")),
                              subject=pl.concat_str(_lit("ASR could not restore: "), c("asr_reason"))),
        "asr_checksum": dict(kind="phase", subject=_lit("ASR checksum failed")),
        "image_failed": dict(kind="phase", subject=c("image_step"), error_code=_int("image_error"),
                             detail=_json(failed_to_restore=c("image_what"))),
        "message_size": dict(kind=usb, subject=_lit("device: unable to read message size"), error_code=_int("size_error")),
        "waiting_host": dict(kind="phase", subject=_lit("waiting for the host to start the restore")),
        # idevicerestore: the run and the device
        "banner": dict(kind="generic", subject=pl.concat_str(_lit("idevicerestore "), c("tool_version"))),
        "found_device": dict(kind="phase", subject=pl.concat_str(_lit("found device in "), c("mode"), _lit(" mode")),
                             device_mode=_mode("mode")),
        "console_ecid": dict(kind="generic", subject=_lit("ECID"), ecid_text=c("ecid")),
        "ecid_found": dict(kind="generic", subject=_lit("ECID"), ecid_text=c("ecid")),
        "identified": dict(kind="generic", subject=_lit("identified device"),
                           detail=_json(board_config=c("board_config"), product_type=c("product_type"))),
        "serial_info": dict(kind="generic", subject=_lit("serial"), serial=c("serial")),
        "hardware_id": dict(kind="generic", subject=hw, ecid_text=pl.when(hw == "UniqueChipID").then(c("hw_value")),
                            chip_id=pl.when(hw == "ChipID").then(_hex_of_decimal("hw_value")),
                            board_id=pl.when(hw == "BoardID").then(_hex_of_decimal("hw_value"))),
        "irecv_event": dict(kind=pl.when(c("irecv_event") == "disconnected").then(_lit("device_disconnect"))
                            .otherwise(_lit("device_connect")),
                            subject=c("irecv_event"), ecid_text=c("irecv_ecid"), udid=c("udid"),
                            device_mode=c("irecv_event").str.extract(r"in ([A-Za-z]+) mode", 1).str.to_titlecase()
                            .replace_strict(MODES, default=None, return_dtype=pl.String),
                            detail=_json(callback=c("event_cb"))),
        "win_irecv": dict(kind="device_connect", **_usb_path(detail=_json(location=c("location")))),
        "waiting": dict(kind="phase", subject=pl.concat_str(_lit("waiting for device to "), c("wait_for"))),
        # idevicerestore: what the device reported, and how the run ended
        "status": dict(kind="phase", subject=pl.concat_str(_lit("status: "), c("status_text")),
                       error_code=c("status_text").replace_strict(STATUS_TEXTS, default=None, return_dtype=pl.Int64)),
        "unhandled_status": dict(kind="phase", subject=_lit("unhandled status"), error_code=_int("status_code")),
        "checkpoint_done": dict(kind=pl.when(ck_code.fill_null(0) != 0).then(_lit("phase")).otherwise(_lit("progress")),
                                subject=pl.concat_str(_lit("checkpoint "), c("ck_number")), error_code=ck_code),
        "checkpoint_id": _checkpoint_id(),
        "unable_to_restore": dict(kind="generic", subject=_lit("unable to restore device")),
        "device_failed_restore_mode": dict(kind="generic", subject=_lit("device failed to enter restore mode")),
        "run_failed": dict(kind="generic", subject=_lit("RESTORE FAILED")),
        "run_done": dict(kind="generic", subject=_lit("DONE")),
        "entered_restore": dict(kind="phase", subject=_lit("device entered restore mode"), udid=c("udid_word"),
                                device_mode=_lit("restore")),
        "previous_log": dict(kind="generic", subject=_lit("previous restore log follows")),
        "product_version": dict(kind="generic", subject=pl.concat_str(_lit("product version "), c("product_version"))),
        "product_build": dict(kind="generic", subject=pl.concat_str(_lit("product build "), c("product_build"))),
        "console_variant": dict(kind="generic", subject=c("console_variant")),
        "restore_op": dict(kind="progress", subject=c("op_name"), detail=_json(operation=_int("operation"))),
        "console_error": dict(kind="phase", subject=c("error_text")),
        # idevicerestore: the signing exchange and curl's errors (the host's network)
        **tss_rules(),
    }
