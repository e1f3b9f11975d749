"""Reading a Mac log, for both Mac sources: messages and their meaning; each source adds its times.

``mac_syslog`` (system.log, Console copies) and ``mac_unified_log`` (``log show``) differ in their line
prefixes only. Their messages are read with ``grammar/mac_syslog.lark``'s markers: the relay prefixes
both put in front of a message (``(MobileDevice) ``, ``[subsystem:category] ``, ``tid:4217 - ``,
AppleMobileBackup's ``568:2955|file.c:function| ``) are unwrapped, MobileDevice's and AppleMobileBackup's
own messages get the meaning of :data:`MAC_RULES`, and whatever is left is read with the restore log's
markers (:func:`._relay.apple_layer`): ``BootedOS mode device disconnected`` here is what it is in an
iTunes restore log.

MobileDevice's notifications follow the restore log's reading: ``_AMMuxedDeviceDisconnected`` is the
muxed-level notice (generic, as ``Muxed device disconnected`` is in restore logs; the mode-level
``… mode device disconnected`` beside it is the disconnect), ``_AMMuxed…DeviceConnected`` is an arrival
in normal mode, and a call failing with ``kAMDDeviceDisconnectedError`` is a consequence of the device
leaving (generic, with its UDID), not a second disconnect. The Mac's own USB host controller says when
a device was enumerated on a port or torn down (``AppleUSBHostPort::terminateDevice: destroying
0x05ac/12a8/…``): the PC-side arrival and removal, with vendor and product (so the device mode).
"""

from __future__ import annotations

import polars as pl

from .. import grammars
from ..apple_usb import pid_mode_expr
from . import _mac_backup
from ._base import Input
from ._relay import apply_rules, finish, json_of, lit, read_messages, to_int, udid_ids
from ._text import GrammarLineSource
from ._unix_family import claims

c = pl.col
MESSAGES = "mac_syslog"
#: A UDID inside a message: 40 hex digits, or ``XXXXXXXX-XXXXXXXXXXXXXXXX``.
UDID_RX = r"\b([0-9a-fA-F]{40}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{16})\b"
#: Unified-log message types (default style names, compact abbreviations) on the Windows ``level`` scale.
LEVELS = {"Fault": 1, "Fa": 1, "Error": 2, "Er": 2, "E ": 2, "Default": 4, "Df": 4, "Info": 4, "I ": 4,
          "Debug": 5, "Db": 5}


def _mac_rules() -> dict[str, dict]:
    func = c("md_func")
    connected = func.str.contains(r"^_AMMuxed\w*DeviceConnected$").fill_null(False)
    disconnected = func.str.contains("DeviceDisconnected").fill_null(False)
    udid = c("amd_text").str.extract(UDID_RX, 1)
    udid = pl.when(udid.str.len_chars() == 40).then(udid.str.to_lowercase()).otherwise(udid.str.to_uppercase())
    pid = c("hpid").str.to_uppercase()
    host = dict(subject=pl.concat_str(c("usb_host_port"), lit(" "), c("hname")), usb_vid=c("hvid").str.to_uppercase(), usb_pid=pid,
                device_mode=pid_mode_expr(pid), detail=json_of(port=c("usb_host_port"), bcd_device=c("hrev"), speed=c("hspeed")))
    return {
        "md_entered": dict(kind=pl.when(connected).then(lit("device_connect")).otherwise(lit("generic")),
                           subject=pl.when(connected).then(lit("muxed device connected"))
                           .when(disconnected).then(lit("muxed device disconnected")).otherwise(func),
                           device_mode=pl.when(connected).then(lit("normal")),
                           detail=json_of(function=func, mux_device=to_int("mux_device"))),
        "amd_error": dict(kind="generic", subject=pl.concat_str(c("md_call"), lit(": "), c("amd_error")), udid=udid,
                          **udid_ids(udid), detail=json_of(error=c("amd_error"), text=c("amd_text"))),
        "thread_message": dict(kind="generic", subject=c("md_call"), detail=json_of(text=c("thread_text"))),
        "socket_error": dict(kind="usb_io_error", subject=pl.concat_str(lit("Socket"), c("sock_op"), lit(": "), c("sock_text")),
                             error_code=to_int("sock_errno"), detail=json_of(what=c("sock_what"), text=c("sock_text"))),
        "mb_error": dict(kind="generic", subject=pl.concat_str(lit("MBErrorDomain/"), c("mb_code")), error_code=to_int("mb_code"),
                         detail=json_of(text=c("mb_text").str.strip_chars())),
        "boot_time": dict(kind="power", subject=lit("boot"), detail=json_of(boot_time=to_int("boot_epoch"))),
        "usb_host_enumerated": dict(kind="device_connect", **host),
        "usb_host_destroying": {**host, "kind": "device_disconnect",
                                "detail": json_of(port=c("usb_host_port"), bcd_device=c("hrev"), reason=c("hreason"))},
    }


MAC_RULES = {**_mac_rules(), **_mac_backup.rules()}


class MacSource(GrammarLineSource):
    """A Mac text log; subclasses set ``name`` (their grammar) and implement :meth:`times`."""

    def sniff(self, item: Input) -> bool:
        return claims(item, self.name)

    def times(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:  # pragma: no cover - interface
        """Add ts_wall, ts_raw and clock (and record the file's date decisions in ``report.clock``)."""
        raise NotImplementedError

    def events(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        rows = rows.with_columns(pl.when(c("message").is_not_null()).then(lit("mac")).alias("family"))
        messages = grammars.load(MESSAGES)
        rows = read_messages(rows, {"mac": messages}, self.name)
        fields = sorted({f for m in messages.markers for f in m.fields} - set(rows.columns))
        rows = rows.with_columns([pl.lit(None, dtype=pl.String).alias(f) for f in fields]).with_columns(c("marker").alias("rule"))
        for name in ("proc", "uproc", "host", "type", "ctype", "thread", "tid", "sender", "pid", "upid"):
            if name not in rows.columns:
                rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias(name))
        rows = self.times(rows, item, report)
        local = apply_rules(rows, MAC_RULES)
        rows = rows.with_columns(
            pl.coalesce(c("proc"), c("uproc")).alias("provider"), c("host").alias("computer"),
            pl.coalesce(c("type"), c("ctype")).replace_strict(LEVELS, default=None, return_dtype=pl.Int32).alias("level"),
            json_of(sender=pl.coalesce(c("sender_name"), c("sender").str.strip_chars().str.strip_prefix("(").str.strip_suffix(")")),
                    subsystem=c("subsystem"), thread=pl.coalesce(c("md_tid"), c("bk_tid"), c("tid"), c("thread")),
                    where=c("bk_where")).alias("context"))
        procs = rows.select("line", pl.coalesce(c("pid"), c("upid")).alias("pid"), "marker", "mbh_code")
        return _mac_backup.attempts(finish(rows, local, self.name), procs)
