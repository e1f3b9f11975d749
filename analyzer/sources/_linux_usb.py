"""Linux repair-bench logs: what the kernel's and usbmuxd's messages mean, and which device they are about.

Both Linux sources (:mod:`.linux_kernel_usb`, :mod:`.linux_usbmuxd`) read a file the same way, because
one file often holds both families (``journalctl -b``, ``usbmuxd -f -v`` next to ``dmesg``): their
grammars have the same line shapes, each line is routed to the family that wrote it (the kernel:
dmesg stamps and ``kernel:`` lines; usbmuxd: its own process, ``[HH:MM:SS.mmm][N]`` lines and libusb
lines), and the family's grammar reads its messages (:func:`._relay.read_messages`).

Meaning, per family, from tables of expressions per marker (:data:`KERNEL_RULES`, :data:`USBMUXD_RULES`):
arrivals are ``device_connect`` (kernel ``new … USB device number``, usbmuxd ``Connected to v2.0
device``), removals ``device_disconnect`` (``USB disconnect``, ``Removed device``, ``RX aborted due to
disconnect``), and trouble on the wire ``usb_io_error`` with the negative errno as ``error_code``
(``error -71`` EPROTO, libusb ``status=-71``, ``ret -110`` …; libusb's own error names as their libusb
codes). A libusb URB that was only cancelled (-2, -104) is not an error.

Which device: the kernel prints a device's vendor, product and serial on their own lines, tied to the
device by its port (``usb 1-1:``); usbmuxd prints the vendor/product at ``bus-address`` and the UDID at
``location 0x<bus><address>``. :func:`identities` carries them onto every line of that device's stay
on the port, so a connect or a removal says which device it was (vid/pid → device mode, UDID → ECID
and chip id). usbmuxd only ever opens Apple devices (vendor 05AC), and the libusb lines of these files
come from libimobiledevice's tools (usbmuxd, libirecovery), which do the same: their connect,
disconnect and I/O error lines are vendor 05AC.
"""

from __future__ import annotations

import polars as pl

from ..apple_usb import APPLE_VID, pid_mode_expr
from ._relay import json_of, lit, to_int, udid_ids

c = pl.col
KERNEL_SHAPES = ("stamp", "dmesg_t", "dmesg_h", "dmesg_delta")
#: Negative errno values seen in USB status fields, by name (Linux asm-generic/errno.h).
ERRNO = {-2: "ENOENT", -5: "EIO", -11: "EAGAIN", -12: "ENOMEM", -19: "ENODEV", -22: "EINVAL", -32: "EPIPE",
         -62: "ETIME", -63: "ENOSR", -70: "ECOMM", -71: "EPROTO", -75: "EOVERFLOW", -84: "EILSEQ",
         -104: "ECONNRESET", -108: "ESHUTDOWN", -110: "ETIMEDOUT", -115: "EINPROGRESS", -121: "EREMOTEIO"}
#: URB statuses that mean "cancelled on purpose" (unlinked), not a fault on the wire.
CANCELLED = (0, -2, -104)
#: libusb's error names (libusb.h, enum libusb_error) and their codes.
LIBUSB_ERRORS = {"LIBUSB_ERROR_IO": -1, "LIBUSB_ERROR_INVALID_PARAM": -2, "LIBUSB_ERROR_ACCESS": -3,
                 "LIBUSB_ERROR_NO_DEVICE": -4, "LIBUSB_ERROR_NOT_FOUND": -5, "LIBUSB_ERROR_BUSY": -6,
                 "LIBUSB_ERROR_TIMEOUT": -7, "LIBUSB_ERROR_OVERFLOW": -8, "LIBUSB_ERROR_PIPE": -9,
                 "LIBUSB_ERROR_INTERRUPTED": -10, "LIBUSB_ERROR_NO_MEM": -11, "LIBUSB_ERROR_NOT_SUPPORTED": -12,
                 "LIBUSB_ERROR_OTHER": -99}
#: usbmuxd's log levels (log.h: 0 fatal … 7 flood) and libusb's, on the Windows scale of ``level``.
MUX_LEVELS = {"0": 1, "1": 2, "2": 3, "3": 4, "4": 4, "5": 5, "6": 5, "7": 5}
LIBUSB_LEVELS = {"error": 2, "warning": 3, "info": 4, "debug": 5}


def family_expr() -> pl.Expr:
    """Which family wrote a line: "kernel", "usbmuxd" or null (another process of a journal)."""
    shape, proc = c("shape"), c("proc")
    libusb = c("message").str.contains(r"^\[[0-9a-fA-F]+\] libusb: ").fill_null(False)
    return (pl.when(shape.is_in(["usbmuxd_fg", "libusb_bare"]) | ((shape == "stamp") & libusb)).then(lit("usbmuxd"))
            .when(shape.is_in(list(KERNEL_SHAPES)) | (proc == "kernel")).then(lit("kernel"))
            .when(proc == "usbmuxd").then(lit("usbmuxd")))


def level_expr() -> pl.Expr:
    mux = pl.coalesce(c("rmux_level"), c("mux_level")).replace_strict(MUX_LEVELS, default=None, return_dtype=pl.Int32)
    lib = pl.coalesce(c("rlusb_level"), c("lusb_level")).replace_strict(LIBUSB_LEVELS, default=None, return_dtype=pl.Int32)
    return pl.coalesce(lib, mux)


def _errno_name(code: pl.Expr) -> pl.Expr:
    return code.replace_strict(ERRNO, default=None, return_dtype=pl.String)


def _with_errno(subject: pl.Expr, code: pl.Expr) -> pl.Expr:
    name = _errno_name(code)
    return pl.when(name.is_null()).then(subject).otherwise(pl.concat_str(subject, lit(" ("), name, lit(")")))


def _port(name: str = "kport") -> pl.Expr:
    """``usb1-port2`` → ``1-2``, ``1-1-port3`` → ``1-1.3``: the port path the device lines use."""
    p = c(name)
    return p.str.replace(r"^usb([0-9]+)-port([0-9]+)$", "$1-$2").str.replace(r"^(.+)-port([0-9]+)$", "$1.$2")


def _libusb_code(text: pl.Expr) -> pl.Expr:
    named = text.str.extract(r"(LIBUSB_ERROR_[A-Z_]+)", 1).replace_strict(LIBUSB_ERRORS, default=None, return_dtype=pl.Int64)
    return pl.coalesce(named, text.str.extract(r"^\s*(-?[0-9]+)\s*$", 1).cast(pl.Int64, strict=False))


def _kernel_rules() -> dict[str, dict]:
    usb, port = "usb_io_error", pl.concat_str(lit("usb "), _port())
    vid, pid = c("kvid").str.to_uppercase(), c("kpid").str.to_uppercase()
    found = dict(kind="generic", subject=pl.concat_str(port, lit(" found")), usb_vid=vid, usb_pid=pid, device_mode=pid_mode_expr(pid))
    return {
        "k_new": dict(kind="device_connect", subject=port,
                      detail=json_of(port=_port(), device_number=to_int("kdevnum"), speed=c("kspeed"), hcd=c("khcd"))),
        "k_found_bcd": {**found, "detail": json_of(bcd_device=c("kbcd").str.strip_chars())},
        "k_found": found,
        "k_strings": dict(kind="generic", subject=port),
        "k_product": dict(kind="generic", subject=port, detail=json_of(product=c("kproduct"))),
        "k_manufacturer": dict(kind="generic", subject=port, detail=json_of(manufacturer=c("kmanufacturer"))),
        "k_serial": dict(kind="generic", subject=port, detail=json_of(usb_serial=c("kserial"))),
        "k_disconnect": dict(kind="device_disconnect", subject=port, detail=json_of(port=_port(), device_number=to_int("kdevnum"))),
        "k_reset": dict(kind=usb, subject=pl.concat_str(port, lit(" reset")),
                        detail=json_of(port=_port(), device_number=to_int("kdevnum"), speed=c("kspeed"))),
        "k_error": dict(kind=usb, subject=_with_errno(c("kwhat"), to_int("kerrno")), error_code=to_int("kerrno"),
                        detail=json_of(port=_port())),
        "k_enumerate": dict(kind=usb, subject=lit("unable to enumerate USB device"), detail=json_of(port=_port())),
        "k_cable": dict(kind=usb, subject=lit("cannot enable port"), detail=json_of(port=_port())),
        "k_port_reset": dict(kind=usb, subject=_with_errno(lit("cannot reset port"), to_int("kerrno")), error_code=to_int("kerrno"),
                             detail=json_of(port=_port())),
        "k_usbfs": dict(kind=usb, subject=_with_errno(pl.concat_str(lit("USBDEVFS_"), c("kusbfs_op"), lit(" from "), c("kcmd")),
                                                      to_int("kerrno")),
                        error_code=to_int("kerrno"), detail=json_of(rqt=to_int("krqt"), rq=to_int("krq"), len=to_int("klen"))),
    }


def _usbmuxd_rules() -> dict[str, dict]:
    usb = "usb_io_error"
    at = pl.concat_str(lit("usb "), c("mbus"), lit("-"), c("maddr"))
    device = pl.concat_str(lit("usbmux device "), c("mdevid"))
    location = pl.concat_str(lit("0x"), c("mloc"))
    vid, pid = c("mvid").str.to_uppercase(), c("mpid").str.to_uppercase()
    status = to_int("urb_status")
    level = pl.coalesce(c("rlusb_level"), c("lusb_level"))
    errno = c("ltext").str.extract(r"errno=([0-9]+)", 1).cast(pl.Int64, strict=False) * -1
    code = _libusb_code(c("merror"))

    def failed(lead: str) -> dict:
        return dict(kind=usb, subject=pl.concat_str(lit(lead), c("mfailed")), error_code=code,
                    detail=json_of(error=c("merror"), code_space=pl.when(code.is_not_null()).then(lit("libusb"))))

    return {
        "mux_start": dict(kind="service_state", subject=lit("usbmuxd"), error_code=pl.lit(4), detail=json_of(version=c("mux_version"))),
        "mux_stop": dict(kind="service_state", subject=lit("usbmuxd"), error_code=pl.lit(1), detail=json_of(state=c("mux_stop"))),
        "mux_found": dict(kind="generic", subject=pl.concat_str(at, lit(" found")), usb_vid=vid, usb_pid=pid, device_mode=pid_mode_expr(pid)),
        "mux_connecting": dict(kind="generic", subject=device, detail=json_of(location=location)),
        "mux_connected": dict(kind="device_connect", subject=device, udid=_udid(c("mserial")), **udid_ids(_udid(c("mserial"))),
                              detail=json_of(location=location, protocol=c("mver"))),
        "mux_removed": dict(kind="device_disconnect", subject=device, detail=json_of(location=location)),
        "mux_aborted": dict(kind=pl.when(c("mwhy") == "disconnect").then(lit("device_disconnect")).otherwise(lit(usb)),
                            subject=pl.concat_str(at, lit(" "), c("mdir"), lit(" aborted due to "), c("mwhy"))),
        "mux_xfer": dict(kind=usb, subject=pl.concat_str(at, lit(" "), c("mdir"), lit(" transfer "), c("mxfer"))),
        "mux_could_not": failed("Could not "),
        "mux_failed_to": failed("Failed to "),
        "mux_device_says": dict(kind="generic", subject=pl.concat_str(device, lit(" "), c("mdev_level")), detail=json_of(text=c("mtext"))),
        "lusb_urb": dict(kind=pl.when(status.is_in(list(CANCELLED))).then(lit("generic")).otherwise(lit(usb)),
                         subject=_with_errno(pl.concat_str(lit("urb status "), c("urb_status")), status),
                         error_code=pl.when(status != 0).then(status),
                         detail=json_of(function=c("lfunc"), urb_type=to_int("urb_type"), transferred=to_int("urb_len"),
                                        code_space=pl.when(status != 0).then(lit("errno")))),
        "lusb_completion": dict(kind="generic", subject=_with_errno(pl.concat_str(lit("completion status "), c("urb_status")), status),
                                error_code=pl.when(status != 0).then(status),
                                detail=json_of(function=c("lfunc"), transfer=c("lxfer"), urb=c("lurb"))),
        "lusb_func": dict(kind=pl.when((level == "error") & errno.is_not_null()).then(lit(usb)).otherwise(lit("generic")),
                          subject=c("lfunc"), error_code=pl.when(level == "error").then(errno),
                          detail=json_of(text=c("ltext").str.strip_chars())),
        "lusb_bare": dict(kind="generic", subject=c("lfunc")),
    }


def _udid(serial: pl.Expr) -> pl.Expr:
    """A device's USB serial as a UDID: 40 hex digits as written (lower case), or the new form
    ``XXXXXXXX-XXXXXXXXXXXXXXXX`` (upper case, the dash put back when the serial has none)."""
    s = serial.str.strip_chars()
    new = s.str.contains(r"^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{16}$").fill_null(False)
    old = s.str.contains(r"^[0-9A-Fa-f]{40}$").fill_null(False)
    bare = s.str.replace("-", "", literal=True).str.to_uppercase()
    return (pl.when(new).then(pl.concat_str(bare.str.slice(0, 8), lit("-"), bare.str.slice(8)))
            .when(old).then(s.str.to_lowercase()))


RULES = {**_kernel_rules(), **_usbmuxd_rules()}


# -- which device ----------------------------------------------------------------------------------------
def _device_key() -> pl.Expr:
    """The key of the device a line is about: kernel ``k:<port>``, usbmuxd ``m:<bus>-<address>``."""
    loc = c("mloc").str.to_integer(base=16, strict=False)
    from_loc = pl.concat_str((loc // 65536).cast(pl.String), lit("-"), (loc % 65536).cast(pl.String))
    said = c("mfailed").str.extract(r"device ([0-9]+-[0-9]+)", 1)  # "Could not open device 1-3: …"
    mux = pl.coalesce(pl.concat_str(c("mbus"), lit("-"), c("maddr")), from_loc, said)
    return (pl.when(c("family") == "kernel").then(pl.concat_str(lit("k:"), _port()))
            .when(c("family") == "usbmuxd").then(pl.concat_str(lit("m:"), mux)))


def identities(rows: pl.DataFrame, local: pl.DataFrame) -> pl.DataFrame:
    """``local`` (the rule table's columns) with each device's vid/pid/serial/UDID carried onto every
    line of its stay: a stay on a key opens at the kernel's ``new … device`` or usbmuxd's ``Found new
    device`` line and lasts until the next one on the same key."""
    keyed = rows.select("line", "family", "marker", _device_key().alias("_key")).join(
        local.select("line", "usb_vid", "usb_pid", "udid", "kind"), on="line", how="left")
    keyed = keyed.join(rows.select("line", "kserial"), on="line", how="left") if "kserial" in rows.columns else \
        keyed.with_columns(pl.lit(None, dtype=pl.String).alias("kserial"))
    opens = c("marker").is_in(["k_new", "mux_found"]).fill_null(False).cast(pl.Int32)
    keyed = keyed.filter(c("_key").is_not_null()).sort("line").with_columns(opens.cum_sum().over("_key").alias("_stay"))
    serial = c("kserial").str.strip_chars()
    ids = keyed.group_by("_key", "_stay").agg(
        c("usb_vid").drop_nulls().first().alias("_vid"), c("usb_pid").drop_nulls().first().alias("_pid"),
        pl.coalesce(c("udid"), _udid(serial)).drop_nulls().first().alias("_udid"),
        serial.str.extract(r"ECID:([0-9A-Fa-f]+)", 1).drop_nulls().first().alias("_ecid"),
        serial.str.extract(r"CPID:([0-9A-Fa-f]+)", 1).drop_nulls().first().alias("_cpid"),
        serial.str.extract(r"SRNM:\[([^\]]+)\]", 1).drop_nulls().first().alias("_srnm"))
    tied = keyed.join(ids, on=["_key", "_stay"], how="left").select("line", "_vid", "_pid", "_udid", "_ecid", "_cpid", "_srnm")
    out = local.join(tied, on="line", how="left").join(rows.select("line", "family"), on="line", how="left")
    out = out.with_columns(((c("family") == "usbmuxd") & c("kind").is_in(["device_connect", "device_disconnect", "usb_io_error"]))
                           .alias("_mux")).drop("family")
    ecid_udid = udid_ids(c("udid"))
    out = out.with_columns(
        pl.coalesce(c("usb_vid"), c("_vid"), pl.when(c("_mux")).then(lit(APPLE_VID))).alias("usb_vid"),
        pl.coalesce(c("usb_pid"), c("_pid")).alias("usb_pid"), pl.coalesce(c("udid"), c("_udid")).alias("udid"),
        pl.coalesce(c("serial"), c("_srnm").str.to_uppercase()).alias("serial"))
    out = out.with_columns(
        pl.coalesce(c("device_mode"), pid_mode_expr(c("usb_pid"))).alias("device_mode"),
        pl.coalesce(c("ecid_text"), pl.concat_str(lit("0x"), c("_ecid")), ecid_udid["ecid_text"]).alias("ecid_text"),
        pl.coalesce(c("chip_id"), pl.concat_str(lit("0x"), c("_cpid").str.to_uppercase().str.strip_chars_start("0")),
                    ecid_udid["chip_id"]).alias("chip_id"))
    return out.drop("_vid", "_pid", "_udid", "_ecid", "_cpid", "_srnm", "_mux").sort("line")
