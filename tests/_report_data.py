"""Report test data: a small hand-made Analysis and a tiny restore log, both carrying hostile text.

Why both: the Analysis is built from an inline event table, so the report tests
do not depend on any parser; the restore log goes through the real CLI, so the
same hostile lines are also checked end to end.
"""

from __future__ import annotations

import datetime as dt

from analyzer.api import Analysis
from analyzer.diagnose import diagnose
from analyzer.model import FileReport, Note, conform

T0 = dt.datetime(2026, 3, 14, 9, 0, 0, tzinfo=dt.timezone.utc)
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x")'
HOSTILE = {FORMULA: 8, "+cmd|' /C calc'!A0": 42, "-2+3 @SUM(1)": 43, "@SUM(1,2)": 44, "\tTAB=1": 46, "\rCR": 47}


def _ev(s: float, kind: str, line: int | None = None, attempt: int | None = 1, file: str = "restore.log", **extra) -> dict:
    row = {"host": "pc1", "file": file, "line": line, "ts_utc": T0 + dt.timedelta(seconds=s), "kind": kind,
           "attempt": attempt, "format": "apple_restore" if attempt else "windows_evtx",
           "message": extra.pop("message", kind)}
    row.update(extra)
    return row


def synthetic_analysis() -> Analysis:
    """One failed attempt (error 4013 after an unexpected disconnect) with Windows evidence around it."""
    rows = [
        _ev(0, "session_start", 1, subject="Erase"), _ev(20, "phase", 2, subject="BootedOS"),
        _ev(40, "device_disconnect", 3, expected=True, message="BootedOS mode device disconnected"),
        _ev(55, "device_connect", 4, expected=True, message="Recovery mode device connected"),
        _ev(60, "state_change", 5, subject="Restoring"), _ev(61, "progress", 6, subject="Restoring image"),
        _ev(120, "device_disconnect", 7, expected=False, message="Device disconnected during transition"),
        _ev(130, "generic", 8, message=FORMULA),
        _ev(131, "state_change", 9, subject=SCRIPT, message=f"Changing state from 'Restoring' to '{SCRIPT}'"),
        _ev(720, "result", 10, error_code=4013, message=f"Depth:0 Code:4013 Error:{SCRIPT}"),
        _ev(100, "usb_io_error", attempt=None, file="System.evtx", record=42, message="+cmd|' /C calc'!A0",
            error_code=-1),
        _ev(90, "driver_failure", attempt=None, file="System.evtx", record=43, message="-2+3 @SUM(1)",
            subject="Apple Mobile Device USB Driver"),
        _ev(300, "service_crash", attempt=None, file="System.evtx", record=44, message="@SUM(1,2)"),
        _ev(-200, "disk_space", attempt=None, file="System.evtx", record=45, message="Low disk space on C:"),
        _ev(301, "power", attempt=None, file="System.evtx", record=46, message="\tTAB=1"),
        _ev(302, "power", attempt=None, file="System.evtx", record=47, message="\rCR"),
    ] + [_ev(400 + i * 0.5, "firewall_block", i, attempt=None, file="pfirewall.log", format="windows_firewall",
             message=f"DROP TCP 10.0.0.2 17.{i}.1.1") for i in range(1, 41)]
    rows.append({"host": "pc1", "file": "restore.log", "line": 11, "kind": "generic", "attempt": 1,
                 "format": "apple_restore", "message": "a line with no time"})
    events = conform(rows).sort(["host", "ts_utc", "file", "line", "record"], nulls_last=True)
    incidents, attempts = diagnose(events)
    files = [
        FileReport("restore.log", "apple_restore", size=900, encoding="utf-8", records=11, events=11, host="pc1"),
        FileReport("System.evtx", "windows_evtx", size=69632, records=7, events=6, skipped=1, host="pc1",
                   errors=[Note("System.evtx", "evtx_unreadable", {"error": f"bad chunk {SCRIPT}"}, record=7)]),
        FileReport("pfirewall.log", "windows_firewall", size=3000, records=40, events=40, host="pc1"),
        FileReport("notes.txt", None, size=20, host="pc1",
                   errors=[Note("notes.txt", "unrecognised_text", line=1)]),
    ]
    return Analysis(files=files, events=events, incidents=incidents, attempts=attempts, hosts=["pc1"])


#: A restore log in the iTunes/MobileRestore shape (dated header, bracketed body) with hostile lines.
RESTORE_LOG = f"""\
2025-02-14 14:47:05.213 [7412:1d3c]: restore library built Oct 17 2024 at 19:42:11
2025-02-14 14:47:05.213 [7412:1d3c]: iTunes: iTunes 12.13.5.3
2025-02-14 14:47:05.214 [7412:1d3c]: iTunes: Using MobileRestore state machine
[14:47:05.0231] Changing state from 'Idle' to 'Restoring'
[14:47:05.0241] requested restore behavior: Erase
[14:47:06.0000] {FORMULA}
[14:47:12.0412] Entering recovery mode
[14:47:13.0006] Finished BootedOS Restore Phase: Successful
[14:47:14.0531] BootedOS mode device disconnected
[14:47:14.0533] Device removed when in state Restoring, moving device to transition state
[14:47:14.0533] Changing state from 'Restoring' to 'Transitioning'
[14:47:26.0716] Recovery mode device connected with ECID: 0x1A2B3C4D5E6F07
[14:47:26.0718] Transitioning device returned, continuing restore.
[14:47:26.0719] Changing state from 'Transitioning' to '{SCRIPT}'
[14:50:01.0000] Device disconnected during transition
[14:50:44.0216] Depth:0 Code:4013 Error:{SCRIPT}
[14:50:44.0300] <Restore Device 0x1>: Restore failed (result = 4013)
"""
