"""The one answer to "is this event about Apple's device or software?".

Rules (the derived field ``apple``), the transition pairing, the device-activity table and the
fleet's driver factors all need it; one definition means a name learnt later (a new service
name of the Apple Devices app, a driver file) is added once and every consumer agrees.

A row is about Apple when its USB vendor is Apple's (05AC, see :mod:`analyzer.apple_usb`), or
when its subject, detail or message names an Apple process, the Apple Mobile Device service or
Apple's USB driver.
"""

from __future__ import annotations

import re

import polars as pl

from .apple_usb import APPLE_VID

#: Processes whose crash or block is Apple-side evidence.
APPLE_PROCESSES = (
    "itunes.exe", "applemobiledeviceservice.exe", "applemobiledevicehelper.exe",
    "applemobiledeviceprocess.exe", "appledevices.exe", "ituneshelper.exe", "apsdaemon.exe",
)

#: Names of the Apple Mobile Device service (key and display name; the Store app's is unverified).
APPLE_SERVICES = ("apple mobile device service", "apple mobile device", "applemobiledeviceservice")

#: Apple's USB driver (usbaapl64.sys / usbaapl.inf), the vendor id as Windows writes it in paths, and
#: the provider name Windows records for Apple's driver packages.
APPLE_DRIVER_NAMES = ("usbaapl", f"vid_{APPLE_VID.lower()}", "apple, inc", "apple inc.")

APPLE_NAMES = APPLE_PROCESSES + APPLE_SERVICES + APPLE_DRIVER_NAMES


#: One case-insensitive alternation of APPLE_NAMES: the regex engine scans each text once for all of
#: them (and no lower-case copy of the text is made), some twenty times faster than one search per name.
APPLE_NAMES_RE = "(?i)" + "|".join(re.escape(name) for name in APPLE_NAMES)


def names_apple(text: pl.Expr) -> pl.Expr:
    """True where ``text`` names an Apple process, service or driver (case-insensitive, never null)."""
    return text.str.contains(APPLE_NAMES_RE).fill_null(False)


def about_apple() -> pl.Expr:
    """True for event-table rows about Apple's device or software (never null)."""
    named = [names_apple(pl.col(column)) for column in ("subject", "detail", "message")]
    return ((pl.col("usb_vid") == APPLE_VID).fill_null(False) | pl.any_horizontal(named)).alias("apple")
