"""Writes the two sample PCs whose verdict rests on the other attempts of the same device.

Run ``python tests/samplegen/attempt_history.py`` from the checkout to regenerate them (a test checks
the committed samples are what it writes); the logs are
macOS AMPDevicesAgent restore logs in the shape of ``restore_mac_two_attempts`` (header and bracket
times agree on a Mac), with our own ids, times and locations.

* ``pc_n14_port_change_fixed``: a 4013 on USB location 0x14100000 (the device drops off during
  "Restoring image"), then the same iPhone restores fine on 0x14200000: the first port or cable.
* ``pc_o15_same_failure_any_port``: the same iPad fails the same way (4014, back in Recovery while the
  restore OS was expected, during "Restoring image") on three different USB locations: the device.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _session(start: dt.datetime, pid: str, ecid: str, serial: str, location: str, ending: str) -> list[str]:
    t = start
    head = [f"{start:%Y-%m-%d %H:%M:%S}.000 AMPDevicesAgent[612:{pid}]: {m}" for m in (
        "restore library built Mar 20 2025 at 21:05:37", "iTunes: Apple Mobile Device version: 1763.100.3",
        "iTunes: Software payload version: 22E252", "iTunes: Using MobileRestore state machine")]
    body = []

    def say(seconds: float, message: str) -> None:
        nonlocal t
        t += dt.timedelta(seconds=seconds)
        body.append(f"[{t:%H:%M:%S}.{t.microsecond // 100:04d}] {message}")

    say(0.38, "Changing state from '(null)' to 'Restoring'")
    for line in ("=" * 82, "Device info:", "board configuration: (null)", "Board ID: 0xA", "Chip ID: 0x8103",
                 f"ECID: {ecid}", f"Serial Number: {serial}", f"USB Location: {location}", "USB Name: (null)",
                 "Starting State: Recovery", "=" * 82):
        say(0.0001, line)
    say(0.01, "requested restore behavior: Erase")
    say(2.2, "amai: tss_submit_job: HttpQueryInfo returned 200")
    say(0.01, "amai: AMAuthInstallRequestSendSync: received tss response (server version: 2.4.1)")
    say(0.3, "<Recovery Mode Device 0x600003b7e4a0>: operation 4 progress -1")
    say(2.7, "bootstrapping restore with iBEC")
    say(2.3, "<Recovery Mode Device 0x600003b7e4a0>: Recovery mode succeeded")
    say(0.6, "Recovery mode device disconnected")
    say(0.0003, "Device removed when in state Restoring, moving device to transition state")
    say(0.0001, "Changing state from 'Restoring' to 'Transitioning'")
    say(0.0001, "Creating a timer for 10 minutes")
    say(13.6, f"RestoreOS mode device connected with ECID: {ecid}")
    say(0.0002, "Transitioning device returned, continuing restore.")
    say(0.0001, "Changing state from 'Transitioning' to 'Restoring'")
    say(2.7, "<Restore Device 0x7f8e41d0a6b0>: operation 11 progress -1")
    say(0.5, "<Restore Device 0x7f8e41d0a6b0>: operation 12 progress -1")
    say(2.7, "<Restore Device 0x7f8e41d0a6b0>: operation 13 progress 0")
    say(120.0, "<Restore Device 0x7f8e41d0a6b0>: operation 13 progress 40")
    _ENDINGS[ending](say, ecid)
    return head + body


def _dropped(say, ecid) -> None:
    say(31.2, "RestoreOS mode device disconnected")
    say(0.0004, "Device removed when in state Restoring, moving device to transition state")
    say(0.0001, "Changing state from 'Restoring' to 'Transitioning'")
    say(0.0001, "Creating a timer for 10 minutes")
    say(22.3, f"Recovery mode device connected with ECID: {ecid}")
    say(0.002, "Unexpected device state 'Recovery' expected 'RestoreOS'")
    _end(say, 4013, "The device was disconnected during the restore.")


def _back_in_recovery(say, ecid) -> None:
    say(44.0, "RestoreOS mode device disconnected")
    say(0.0004, "Device removed when in state Restoring, moving device to transition state")
    say(0.0001, "Changing state from 'Restoring' to 'Transitioning'")
    say(0.0001, "Creating a timer for 10 minutes")
    say(19.8, f"Recovery mode device connected with ECID: {ecid}")
    say(0.002, "Unexpected device state 'Recovery' expected 'RestoreOS'")
    _end(say, 4014, "The device returned in recovery mode during the restore.")


def _restored(say, ecid) -> None:
    say(160.3, "<Restore Device 0x7f8e41d0a6b0>: operation 13 progress 100")
    say(48.6, "<Restore Device 0x7f8e41d0a6b0>: operation 18 progress -1")
    say(40.5, "<Restore Device 0x7f8e41d0a6b0>: Restore succeeded")
    say(0.0006, "Finished RestoreOS Restore Phase: Successful")
    say(1.4, "RestoreOS mode device disconnected")
    say(0.0003, "Device removed when in state Restoring, moving device to transition state")
    say(0.0001, "Changing state from 'Restoring' to 'Transitioning'")
    say(0.0001, "Creating a timer for 10 minutes")
    say(35.5, "device connected (isDFU = 0), registryID 0x100000b77")
    say(0.0004, "Transitioning device returned, continuing restore.")
    say(0.0001, "Changing state from 'Transitioning' to 'Restoring'")
    say(0.55, "Restore completed, status:0")
    say(0.0001, "Elapsed time (in seconds): 477")


def _end(say, code: int, text: str) -> None:
    say(0.005, f"Restore completed, status:{code}")
    say(0.0001, "Elapsed time (in seconds): 260")
    say(0.0001, "Failure Description:")
    say(0.0001, f"Depth:0 Code:{code} Error:{text}")
    say(0.0001, f"AMPDevicesAgent: Restore error {code}")


_ENDINGS = {"dropped": _dropped, "back_in_recovery": _back_in_recovery, "restored": _restored}


def write(folder: str, sessions: list[tuple]) -> None:
    (SAMPLES / folder).mkdir(exist_ok=True)
    (SAMPLES / folder / "AMPDevicesAgent_restore.log").write_text(render(sessions), encoding="utf-8")


def render(sessions: list[tuple]) -> str:
    lines: list[str] = []
    for start, pid, ecid, serial, location, ending in sessions:
        lines += _session(start, pid, ecid, serial, location, ending) + [""]
    return "\n".join(lines)


def definitions() -> dict[str, list[tuple]]:
    """Each sample folder and its sessions: (start, tid, ECID, serial, USB location, ending)."""
    day = dt.datetime(2025, 7, 8, 14, 2, 11)
    later = dt.datetime(2025, 8, 21, 10, 40, 5)
    return {"pc_n14_port_change_fixed": [
        (day, "2b11c", "0x3F2A9C41D0071E", "DX3QJ7M2PL", "0x14100000", "dropped"),
        (day + dt.timedelta(minutes=19), "2b7e0", "0x3F2A9C41D0071E", "DX3QJ7M2PL", "0x14200000", "restored"),
    ], "pc_o15_same_failure_any_port": [
        (later, "31a02", "0x1C77E2B90A5D2E", "F9TMK4W1QY", "0x14100000", "back_in_recovery"),
        (later + dt.timedelta(minutes=12), "31d6b", "0x1C77E2B90A5D2E", "F9TMK4W1QY", "0x14200000", "back_in_recovery"),
        (later + dt.timedelta(minutes=27), "3210f", "0x1C77E2B90A5D2E", "F9TMK4W1QY", "0x00100000", "back_in_recovery"),
    ]}


def main() -> None:
    for folder, sessions in definitions().items():
        write(folder, sessions)


if __name__ == "__main__":
    main()
