"""Which kinds of evidence each PC's input held, and which it lacked.

A verdict is only as good as what was collected: "no event logs" means the verdict rests on the
restore log alone, and a helpdesk reading a fleet wants to know which PCs to ask again. The kinds are
the location table's (:data:`analyzer.locations.KINDS`), found here from the formats the files were
recognised as (content, not names), and compared with what a PC of that OS normally has. Missing
kinds and the caveat are codes, worded by the reports.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

#: The kind of evidence each source gives (sources not listed give none of these kinds).
KIND_OF = {
    "apple_restore": "apple_log", "apple_device_restore": "apple_log", "apple_asl": "apple_log",
    "windows_evtx": "event_log", "windows_event_xml": "event_log", "windows_wevtutil_text": "event_log",
    "windows_eventviewer_details": "event_log", "windows_eventviewer_table": "event_log",
    "windows_powershell": "event_log", "windows_powershell_table": "event_log",
    "windows_setupapi": "setupapi", "windows_firewall": "firewall", "hosts_file": "hosts",
    "backup_plist": "backup", "backup_plist_xml": "backup", "backup_manifest_db": "backup", "backup_tool": "backup",
    "backup_device_syslog": "backup",
    "mac_syslog": "system_log", "mac_unified_log": "system_log",
    "linux_usbmuxd": "system_log", "linux_kernel_usb": "system_log",
}
#: What a PC of each OS normally holds (a firewall log is off by default, a backup optional).
EXPECTED = {"windows": ("apple_log", "event_log", "setupapi", "hosts"),
            "macos": ("apple_log", "system_log", "hosts"),
            "linux": ("apple_log", "system_log"),
            None: ("apple_log", "event_log")}


def _os(formats: set[str]) -> str | None:
    if any(f.startswith("windows_") for f in formats) or "apple_asl" in formats:
        return "windows"
    if any(f.startswith("mac_") for f in formats):
        return "macos"
    if any(f.startswith("linux_") for f in formats):
        return "linux"
    return None


def coverage(files) -> dict[str, dict[str, Any]]:
    """Per host: the OS the evidence points at, the kinds present and missing, and a caveat code
    (``restore_log_only``: only Apple's logs; ``no_apple_log``: nothing says what the restore did)."""
    formats: dict[str, set[str]] = defaultdict(set)
    for f in files:
        if f.host is not None:
            formats[f.host]
            if f.format:
                formats[f.host].add(f.format)
    out = {}
    for host, found in sorted(formats.items()):
        os_name = _os(found)
        present = sorted({KIND_OF[f] for f in found if f in KIND_OF})
        missing = [k for k in EXPECTED[os_name] if k not in present]
        caveat = None
        if present == ["apple_log"]:
            caveat = "restore_log_only"
        elif "apple_log" not in present:
            caveat = "no_apple_log"
        out[host] = {"os": os_name, "present": present, "missing": missing, "caveat": caveat}
    return out
