"""Apple's USB identifiers: vendor 05AC and which product ids mean which device mode.

One table for every source (restore logs, setupapi, Windows event records), in a
Python and a polars form built from the same constants, so a PID learnt later is
added once. Reference: windows-events.md §1 (usb.ids, usbmuxd, libirecovery).
"""

from __future__ import annotations

import polars as pl

APPLE_VID = "05AC"
RECOVERY_PIDS = (0x1280, 0x1281, 0x1282, 0x1283)
DFU_PIDS = (0x1227, 0x1222)            # DFU, and WTF mode
NORMAL_PID_RANGE = (0x1290, 0x12BF)    # iPhone/iPad normal mode; the restore OS uses the same range


def pid_mode(pid: str | None) -> str | None:
    """``"recovery"``, ``"dfu"``, ``"normal"`` or None for a 4-hex-digit product id."""
    try:
        value = int(pid, 16) if pid else None
    except ValueError:
        return None
    if value in RECOVERY_PIDS:
        return "recovery"
    if value in DFU_PIDS:
        return "dfu"
    if value is not None and NORMAL_PID_RANGE[0] <= value <= NORMAL_PID_RANGE[1]:
        return "normal"
    return None


def pid_mode_expr(pid: pl.Expr) -> pl.Expr:
    """:func:`pid_mode` as a polars expression over a column of hex product ids."""
    value = pid.str.to_integer(base=16, strict=False)
    return (pl.when(value.is_in(list(RECOVERY_PIDS))).then(pl.lit("recovery"))
            .when(value.is_in(list(DFU_PIDS))).then(pl.lit("dfu"))
            .when(value.is_between(*NORMAL_PID_RANGE)).then(pl.lit("normal"))
            .otherwise(pl.lit(None, dtype=pl.String)))
