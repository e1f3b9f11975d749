"""The property lists of an iPhone backup folder: loading them safely and telling them apart by content.

A MobileSync backup folder (``<UDID>/``, reference backup-and-network.md §1) holds three plists the
host and the device write: ``Status.plist`` (the device's state of the last backup), ``Info.plist``
(the host's record of the device) and ``Manifest.plist`` (the backup's properties). They come binary
(``bplist00``) or as XML, under any name a user gives them, so each is recognised by the keys it
holds, never by its file name (:func:`role_of`). The device's own backup history,
``com.apple.MobileBackup.plist`` (§1.9), is recognised the same way.

plistlib gives naive datetimes that are UTC; :func:`plist_time` keeps them naive (``ts_wall``, clock
``utc``). Loading never raises: what cannot be read is ``None`` and the caller says why.
"""

from __future__ import annotations

import datetime as dt
import plistlib
from typing import Any

#: What a plist may start with (after whitespace for XML).
BINARY_MAGIC = b"bplist00"
XML_MARKS = (b"<?xml", b"<!DOCTYPE plist", b"<plist")
#: A plist larger than this is not read (Info.plist with app data runs to a few MiB; the cap bounds hostile input).
MAX_PLIST_BYTES = 64 << 20

#: role -> (keys of which one must be present, keys that confirm it); by content, never by name.
_ROLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("status", ("SnapshotState",), ("BackupState", "IsFullBackup", "Date", "Version", "UUID")),
    ("manifest", ("Lockdown", "BackupKeyBag", "ManifestKey"), ("IsEncrypted", "Version", "Date", "WasPasscodeSet")),
    ("info", ("Last Backup Date", "iTunes Version", "Target Identifier"),
     ("Unique Identifier", "Product Type", "Device Name", "Serial Number", "Build Version", "Target Type")),
    ("mobilebackup", ("BackupStateInfo",), ()),
)
ROLES = tuple(r for r, _, _ in _ROLES)


def looks_like_plist(head: bytes) -> bool:
    """Could these first bytes start a plist (binary, or XML with a plist mark near the start)?"""
    if head.startswith(BINARY_MAGIC):
        return True
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512]
    return start.startswith(XML_MARKS) and b"<plist" in head[:2048]


def load(raw: bytes) -> dict[str, Any] | None:
    """The top-level dictionary of a plist, or None (not a plist, damaged, too large, not a dict)."""
    if not raw or len(raw) > MAX_PLIST_BYTES or not looks_like_plist(raw[:4096]):
        return None
    try:
        data = plistlib.loads(raw)
    except Exception:  # noqa: BLE001 - plistlib raises many types on hostile input (InvalidFileException, ValueError, ...)
        return None
    return data if isinstance(data, dict) else None


def role_of(data: dict[str, Any] | None) -> str | None:
    """Which backup plist ``data`` is ("status", "manifest", "info", "mobilebackup"), by its keys."""
    if not data:
        return None
    for role, needed, confirming in _ROLES:
        if any(k in data for k in needed) and (not confirming or any(k in data for k in confirming)):
            return role
    return None


def plist_time(value: Any) -> dt.datetime | None:
    """A plist date as a naive UTC datetime (plistlib's own form), None for anything else."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    return None


def text(value: Any, limit: int = 200) -> str | None:
    """A plist value as short text for a row (strings, numbers, booleans), None for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)[:limit]
    return None


def flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def device_fields(info: dict[str, Any] | None, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """Device identity from Info.plist, else Manifest.plist's Lockdown: udid, serial, name, product, versions."""
    info = info or {}
    lockdown = (manifest or {}).get("Lockdown")
    lockdown = lockdown if isinstance(lockdown, dict) else {}

    def pick(info_key: str, lockdown_key: str) -> str | None:
        return text(info.get(info_key)) or text(lockdown.get(lockdown_key))

    udid = pick("Unique Identifier", "UniqueDeviceID") or text(info.get("Target Identifier"))
    return {
        "udid": udid,
        "serial": pick("Serial Number", "SerialNumber"),
        "device_name": pick("Device Name", "DeviceName"),
        "product_type": pick("Product Type", "ProductType"),
        "product_version": pick("Product Version", "ProductVersion"),
        "build_version": pick("Build Version", "BuildVersion"),
        "itunes_version": text(info.get("iTunes Version")),
    }


def iso(value: dt.datetime | None) -> str | None:
    """A plist date as ISO text with a ``Z`` (they are UTC), for ``detail`` and ``ts_raw``."""
    return value.isoformat() + "Z" if value is not None else None
