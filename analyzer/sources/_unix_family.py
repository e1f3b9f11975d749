"""Which of the Mac and Linux text sources a file belongs to, decided once for all four.

Why one decision instead of four sniffers that each look for their own lines: these logs share
prefixes (a macOS ``system.log`` line and a Linux journal line are both ``Oct  2 08:35:55 host
proc[pid]: …``) and are mixed in what people hand over (``journalctl -b`` holds kernel and usbmuxd
lines; ``usbmuxd -f -v`` output interleaves libusb's). Each sniffer asks this module and claims the
file only when the answer is its own name, so exactly one of them can claim a file. Order of
precedence, on the first non-blank lines:

1. unified-log lines (``2025-01-02 03:04:05.123456-0700 …``, a ``log show`` header) → mac_unified_log;
2. Linux lines: with any kernel line among them (``dmesg`` stamps, ``dmesg -T``, a journal's
   ``kernel:`` lines) → linux_kernel_usb, which also reads the usbmuxd and libusb lines; else
   (usbmuxd or libusb lines only) → linux_usbmuxd;
3. Mac console lines (``10/02/16 8:35:55.972 AM proc[pid]:``, ``2016/10/02 08:35:55.972 proc[pid]:``),
   or BSD syslog lines naming an Apple process → mac_syslog.

A file the restore-log source claims is none of these (it can relay unified lines from the device).
"""

from __future__ import annotations

import functools
import re

from ._text import sniff_text
from .apple_restore import SOURCE as RESTORE

SNIFF_LINES = 80
_BSD = r"[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)? \S+ "
_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z) \S+ "

UNIFIED = re.compile(r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}[+-]\d{4} \S"
                     r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z][a-z ] [^\[\]]+\[\d+:[0-9a-fA-F]+\] "
                     r"|Timestamp +(?:Thread +Type|Ty +Process|\(process\)\[PID\]))")
KERNEL = re.compile(r"^(?:\[ *\d+\.\d+\] (?!\[[0-9a-f]+\] libusb)"
                    r"|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] "
                    r"|\[[A-Z][a-z]{2}\d{1,2} \d\d:\d\d\] |\[ *\+\d+\.\d+\] "
                    rf"|(?:{_BSD}|{_ISO})kernel: )")
USBMUXD = re.compile(r"^(?:\[\d\d:\d\d:\d\d\.\d{3}\]\[\d\] |\[ *\d+\.\d+\] \[[0-9a-f]+\] libusb: "
                     r"|libusb: (?:error|warning|info|debug) \[|\[timestamp\] \[threadID\] facility level"
                     rf"|(?:{_BSD}|{_ISO})?usbmuxd\[\d+\]: \[\d)")
#: A Console line names its process and pid (``iTunes[926]:``), which no Windows export's row does
#: (PowerShell's table view starts a row with a date and time too).
_PROC = r"[^\s\[\]][^\[\]]*\[\d+\](?: \([^)]*\))?: "
MAC_CONSOLE = re.compile(r"^(?:\d{1,2}/\d{1,2}/\d{2,4} \d{1,2}:\d\d:\d\d(?:\.\d+)? (?:AM|PM) " + _PROC +
                         r"|\d{1,2}/\d{1,2}/\d{2,4} \d\d:\d\d:\d\d(?:\.\d+)? " + _PROC +
                         r"|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? " + _PROC + ")")
MAC_BSD = re.compile(rf"^{_BSD}[^\[\]:]+\[\d+\](?: \([^)]*\))?: ")
#: Processes and words that make a BSD syslog file a Mac's (any one line naming one is enough).
APPLE_HINTS = re.compile(r"\b(?:iTunes|AMPDevicesAgent|AppleMobileBackup|AppleMobileSync|AppleMobileDeviceHelper|MobileDevice"
                         r"|AMDevice\w*|com\.apple\.[\w.]+|kernel\[0\]|syslogd|bootlog|BOOT_TIME|SyncServer|ath)\b")


def _enough(hits: int, total: int) -> bool:
    return hits >= 2 or (hits == 1 and total <= 2)


@functools.lru_cache(maxsize=64)
def family(head: str) -> str | None:
    """The source name for a decoded file head (see the module docstring), or None."""
    lines = [ln.rstrip("\r") for ln in head.splitlines()[: SNIFF_LINES * 4] if ln.strip()][:SNIFF_LINES]
    if not lines:
        return None
    total = len(lines)
    count = lambda rx: sum(1 for ln in lines if rx.match(ln))  # noqa: E731
    if _enough(count(UNIFIED), total):
        return "mac_unified_log"
    kernel, usbmuxd = count(KERNEL), count(USBMUXD)
    if _enough(kernel + usbmuxd, total):
        return "linux_kernel_usb" if kernel else "linux_usbmuxd"
    if _enough(count(MAC_CONSOLE), total):
        return "mac_syslog"
    bsd = [ln for ln in lines if MAC_BSD.match(ln)]
    if _enough(len(bsd), total) and any(APPLE_HINTS.search(ln) for ln in bsd):
        return "mac_syslog"
    return None


def claims(item, name: str) -> bool:
    """True when ``item`` (a :class:`~analyzer.sources.Input`) belongs to the source ``name``."""
    head = sniff_text(item)
    if head is None or family(head) != name:
        return False
    return not RESTORE.sniff(item)
