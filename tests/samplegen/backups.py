"""Writes the backup sample PCs: a MobileSync backup folder each, and the PC's other side of the story.

Run ``python tests/samplegen/backups.py`` from the checkout to regenerate them (tests/test_backup_samples.py
checks the committed samples are what it writes: plists and text byte for byte, Manifest.db by its rows,
since SQLite writes its own version into the file). Plists with plistlib, Manifest.db with sqlite3,
Windows events as ``wevtutil qe /f:xml`` exports and one ``.evtx`` (tests/evtx_writer.py); every UDID,
serial, name and time is our own. Stories: docs/samples.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import plistlib
import shutil
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from evtx_writer import Record, write_evtx  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
T = dt.datetime
NS = "http://schemas.microsoft.com/win/2004/08/events/event"


# -- the backup folder ---------------------------------------------------------------------------
def file_id(domain: str, rel: str) -> str:
    return hashlib.sha1(f"{domain}-{rel}".encode()).hexdigest()


def payload_bytes(fid: str) -> bytes:
    return b"\x00\x01payload " + fid.encode() + b"\x00"


DEVICE = {"name": "Mika's iPhone", "type": "iPhone14,5", "version": "18.1", "build": "22B83", "itunes": "12.13.1"}
FILES = [("HomeDomain", "Library/SMS/sms.db"), ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0412.HEIC"),
         ("HomeDomain", "Library/Preferences/com.apple.MobileBackup.plist"),
         ("AppDomain-jp.example.notes", "Documents/notes.sqlite")]


def write_folder(root: Path, udid: str, serial: str, *, state: str, status_date: T, last_backup: T,
                 encrypted: bool = False, manifest_empty: bool = False, snapshot: int = 0, with_db: bool = True,
                 missing: int = 0, xml_info: bool = False, icloud: list[tuple[str, T]] | None = None) -> None:
    """One ``<UDID>/`` folder as Apple's software (or pymobiledevice3) leaves it."""
    root.mkdir(parents=True)
    bin_ = dict(fmt=plistlib.FMT_BINARY, sort_keys=True)
    (root / "Status.plist").write_bytes(plistlib.dumps(
        {"SnapshotState": state, "Date": status_date, "IsFullBackup": False, "BackupState": "new", "Version": "3.3",
         "UUID": hashlib.md5(udid.encode()).hexdigest().upper()}, **bin_))
    info = {"Build Version": DEVICE["build"], "Device Name": DEVICE["name"], "Display Name": DEVICE["name"],
            "GUID": hashlib.md5(serial.encode()).hexdigest().upper(), "Last Backup Date": last_backup,
            "Product Name": "iPhone 13", "Product Type": DEVICE["type"], "Product Version": DEVICE["version"],
            "Serial Number": serial, "Target Identifier": udid, "Target Type": "Device", "Unique Identifier": udid,
            "iTunes Version": DEVICE["itunes"]}
    (root / "Info.plist").write_bytes(plistlib.dumps(info, sort_keys=True) if xml_info else plistlib.dumps(info, **bin_))
    manifest = {"IsEncrypted": encrypted, "WasPasscodeSet": True, "Date": status_date, "Version": "10.0",
                "Lockdown": {"BuildVersion": DEVICE["build"], "DeviceName": DEVICE["name"], "ProductType": DEVICE["type"],
                             "ProductVersion": DEVICE["version"], "SerialNumber": serial, "UniqueDeviceID": udid}}
    (root / "Manifest.plist").write_bytes(b"" if manifest_empty else plistlib.dumps(manifest, **bin_))
    ids = [file_id(d, r) for d, r in FILES]
    if with_db:
        if encrypted:
            (root / "Manifest.db").write_bytes(hashlib.sha256(udid.encode()).digest() * 64)  # ciphertext, no header
        else:
            _write_db(root / "Manifest.db", ids)
    for i, fid in enumerate(ids):
        if i < len(ids) - missing:
            (root / fid[:2]).mkdir(exist_ok=True)
            data = _mobilebackup(icloud) if FILES[i][1].endswith("MobileBackup.plist") and icloud else payload_bytes(fid)
            (root / fid[:2] / fid).write_bytes(data)
    for i in range(snapshot):
        staged = hashlib.sha1(f"{udid}-staged-{i}".encode()).hexdigest()
        (root / "Snapshot" / staged[:2]).mkdir(parents=True, exist_ok=True)
        (root / "Snapshot" / staged[:2] / staged).write_bytes(payload_bytes(staged))


def _write_db(path: Path, ids: list[str]) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);"
                       "CREATE INDEX FilesDomainIdx ON Files(domain); CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);")
    conn.executemany("INSERT INTO Files VALUES (?, ?, ?, 1, NULL)", [(i, d, r) for i, (d, r) in zip(ids, FILES)])
    conn.commit()
    conn.close()


def db_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        return conn.execute("SELECT fileID, domain, relativePath, flags FROM Files ORDER BY fileID").fetchall()
    finally:
        conn.close()


def _mobilebackup(errors: list[tuple[str, T]]) -> bytes:
    return plistlib.dumps({"AccountEnabledDate": T(2023, 4, 2, 10, 0, 0), "BackupStateInfo": {
        "state": 2, "isCloud": True, "date": errors[-1][1],
        "errors": [{"localizedDescription": text, "date": when} for text, when in errors]}},
        fmt=plistlib.FMT_BINARY, sort_keys=True)


# -- Windows events (wevtutil qe /f:xml) ---------------------------------------------------------------
def event(provider: str, eid: int, level: int, when: T, rec: int, channel: str, computer: str,
          data: dict[str, str], guid: str = "") -> str:
    fields = "".join(f"<Data Name='{k}'>{_esc(v)}</Data>" for k, v in data.items())
    prov = f"<Provider Name='{provider}'{f' Guid={chr(39)}{guid}{chr(39)}' if guid else ''}/>"
    return (f"<Event xmlns='{NS}'><System>{prov}<EventID>{eid}</EventID><Version>0</Version><Level>{level}</Level>"
            f"<Task>0</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"
            f"<TimeCreated SystemTime='{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}0Z'/><EventRecordID>{rec}</EventRecordID>"
            f"<Correlation/><Execution ProcessID='4' ThreadID='88'/><Channel>{channel}</Channel><Computer>{computer}</Computer>"
            f"<Security/></System><EventData>{fields}</EventData></Event>")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_xml(path: Path, events: list[str]) -> None:
    path.write_text("\n".join(events) + "\n", encoding="utf-8")


def transcript(start: T, user: str, machine: str, lines: list[str]) -> str:
    """A PowerShell transcript (Start-Transcript) around a console run: the header gives the local start time."""
    stars = "**********************"
    head = [stars, "Windows PowerShell transcript start", f"Start time: {start:%Y%m%d%H%M%S}", f"Username: {machine}\\{user}",
            f"RunAs User: {machine}\\{user}", f"Machine: {machine} (Microsoft Windows NT 10.0.22631.0)", stars]
    return "\r\n".join(head + lines + [stars, "Windows PowerShell transcript end", stars]) + "\r\n"


def idb2_run(backup_dir: str, prompt: str, body: list[str]) -> list[str]:
    return [f"{prompt}idevicebackup2.exe backup \"{backup_dir}\"", f"Backup directory is \"{backup_dir}\"",
            "Started \"com.apple.mobilebackup2\" service on port 50412.", "Negotiated Protocol Version 2.1",
            "Starting backup...", "Backup will be unencrypted.", "Requesting backup from device...", *body]


# -- the sample PCs ------------------------------------------------------------------------------
def _pc(name: str) -> Path:
    path = SAMPLES / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


UDID_A, SERIAL_A = "00008110-001C39A24E41801E", "F4GZK7QXN1"
ROOT_WIN = r"C:\Users\kenta\Apple\MobileSync\Backup"


def pc_p16() -> None:
    pc = _pc("pc_p16_backup_disk_full")
    host = "DESK-KENTA-07"
    write_folder(pc / "Backup" / UDID_A, UDID_A, SERIAL_A, state="finished", status_date=T(2025, 10, 20, 19, 2, 41),
                 last_backup=T(2025, 10, 20, 19, 2, 38))
    run = idb2_run(ROOT_WIN, "PS C:\\Users\\kenta> ", [
        "Incremental backup mode.", "ErrorCode 105: Insufficient free disk space on drive to back up (MBErrorDomain/105)",
        "Received 0 files from device.", "Backup Failed (Error Code 105)."])
    (pc / "idevicebackup2_transcript.txt").write_bytes(transcript(T(2025, 11, 14, 9, 30, 5), "kenta", host, run).encode())
    write_xml(pc / "Ntfs_Operational.xml", [
        event("Microsoft-Windows-Ntfs", 142, 4, T(2025, 11, 14, 9, 26, 12, 402118), 5521,
              "Microsoft-Windows-Ntfs/Operational", host,
              {"VolumeGuid": "{5b0e8a31-2c4d-4f6e-9a7b-1d3c5e7f9a2b}", "VolumeNameLength": "2", "VolumeName": "C:",
               "IsBootVolume": "true", "LowestFreeSpaceInBytes": "412090368", "HighestFreeSpaceInBytes": "2147483648"},
              "{3FF37A1C-A68D-4D6E-8C9B-F79E8B16C482}")])
    write_xml(pc / "System_srv.xml", [event("srv", 2013, 3, T(2025, 11, 14, 9, 28, 44, 118002), 80431, "System", host,
                                            {"1": "C:", "2": "3"})])
    (pc / "idevicesyslog_transcript.txt").write_bytes(transcript(T(2025, 11, 14, 9, 29, 48), "kenta", host, device_syslog()).encode())


#: The device's preflight in pc_p16 (backup-and-network.md §2.5): it goes on only when free > upload + 128 MiB.
P16_FREE, P16_UPLOAD = 409_337_856, 6_874_325_312


def device_syslog() -> list[str]:
    """idevicesyslog -p BackupAgent2 while idevicebackup2 ran (device local time = the PC's, London)."""
    short = P16_UPLOAD + 128 * 1024 * 1024 - P16_FREE
    lines = [("09:29:52", "", "Notice", "Scanning domains"),
             ("09:30:07", "", "Notice", "Starting to prepare for preflight"),
             ("09:30:07", "", "Notice", f"uploadSize:{P16_UPLOAD}({P16_UPLOAD}), uploadFileCount:18244"),
             ("09:30:07", "", "Notice", f"Free disk space on drive: {P16_FREE} ({P16_FREE / 1e9:.2f} GB)"),
             ("09:30:07", "", "Notice", f"Need extra space on host: {short}. Requesting host to purge now"),
             ("09:30:11", "(Accounts)", "Notice", '"The connection to ACDAccountStore was invalidated."'),
             ("09:30:11", "", "Notice", "Finished backup in 19.402s"),
             ("09:30:11", "", "Error", 'Failed to backup: Error Domain=MBErrorDomain Code=105 "Insufficient free disk space on drive to back up"')]
    out = ["PS C:\\Users\\kenta> idevicesyslog.exe -p BackupAgent2"]
    out += [f"Nov 14 {t} Mikas-iPhone BackupAgent2{sub}[1187] <{lvl}>: {msg}" for t, sub, lvl, msg in lines]
    return out + ["PS C:\\Users\\kenta> Stop-Transcript"]


def pc_q17() -> None:
    pc = _pc("pc_q17_backup_damaged")
    udid, serial = "00008101-000E4D2A1C38001E", "G7HQ2M1LQX"
    write_folder(pc / "Backup" / udid, udid, serial, state="finished", status_date=T(2025, 11, 12, 20, 41, 7),
                 last_backup=T(2025, 11, 12, 20, 41, 5), manifest_empty=True, snapshot=2, with_db=False)
    run = ["$ idevicebackup2 backup ~/backups/phone", "Backup directory is \"/home/aoi/backups/phone\"",
           "Started \"com.apple.mobilebackup2\" service on port 49822.", "Negotiated Protocol Version 2.1",
           "Reading Info.plist from backup.", "Starting backup...", "Backup will be unencrypted.",
           "Requesting backup from device...", "Incremental backup mode.",
           "ErrorCode 205: Error reading backup properties (MBErrorDomain/205). Underlying error: Error deserializing "
           "properties: Cannot parse a NULL or zero-length data (MBErrorDomain/11).",
           "Received 0 files from device.", "Backup Failed (Error Code 205)."]
    (pc / "idevicebackup2_console.txt").write_text("\n".join(run) + "\n", encoding="utf-8")


def pc_r18() -> None:
    pc = _pc("pc_r18_backup_usb_drop")
    host, udid, serial = "LT-SATO-3", "00008120-0016A4E03C91401E", "H2LX9V7PQR"
    write_folder(pc / "Backup" / udid, udid, serial, state="uploading", status_date=T(2025, 11, 14, 13, 5, 10),
                 last_backup=T(2025, 11, 14, 13, 5, 8), snapshot=3)
    inst = "USB\\VID_05AC&PID_12A8\\00008120-0016A4E03C91401E"
    write_xml(pc / "DriverFrameworks-UserMode.xml", [
        event("Microsoft-Windows-DriverFrameworks-UserMode", 2100, 4, T(2025, 11, 14, 13, 6, 31, 250113), 9120,
              "Microsoft-Windows-DriverFrameworks-UserMode/Operational", host,
              {"LifetimeId": "{0C6F2A11-4B7E-4D5A-8E21-9A3B7C1D5E60}", "InstanceId": inst, "RequestMajorCode": "27",
               "RequestMinorCode": "23", "Argument1": "0x0", "Argument2": "0x0", "Argument3": "0x0", "Argument4": "0x0",
               "Status": "0"})])


def pc_s19() -> None:
    pc = _pc("pc_s19_backup_defender")
    host, udid, serial = "PC-FRONTDESK", "00008030-001D35A41E52802E", "J8KD3N2WXT"
    write_folder(pc / "Backup" / udid, udid, serial, state="uploading", status_date=T(2025, 11, 15, 10, 20, 3),
                 last_backup=T(2025, 11, 15, 10, 20, 1), snapshot=1)
    staged = r"C:\Users\front\Apple\MobileSync\Backup\00008030-001D35A41E52802E\Snapshot\6e\6e2f0c9a81d4b3e7f5a2c1d0e9b8a7f6e5d4c3b2"
    chan = "Microsoft-Windows-Windows Defender/Operational"
    prov = "Microsoft-Windows-Windows Defender"
    write_evtx(pc / "Defender_Operational.evtx", [
        Record(provider=prov, event_id=1117, level=4, time=T(2025, 11, 15, 10, 21, 14, 531004), record_id=2291,
               channel=chan, computer=host, guid="{11CD958A-C507-4EF3-B3F2-5FD9DFBD2C78}",
               data={"Product Name": "Microsoft Defender Antivirus", "Product Version": "4.18.25090.3009",
                     "Detection ID": "{6A1F0D22-93B4-4C71-A0E5-2B8D7C4E9F13}", "Detection Time": "2025-11-15T10:21:13.912Z",
                     "Threat ID": "2147735505", "Threat Name": "Trojan:Win32/Wacatac.C!ml", "Severity Name": "Severe",
                     "Category Name": "Trojan", "Path": f"file:_{staged}",
                     "Process Name": r"C:\Program Files\Common Files\Apple\Mobile Device Support\AppleMobileBackup.exe",
                     "Detection User": f"{host}\\front", "Action Name": "Quarantine", "Error Code": "0x00000000",
                     "Error Description": "The operation completed successfully. "}),
        Record(provider=prov, event_id=1123, level=3, time=T(2025, 11, 15, 10, 21, 40, 77120), record_id=2292,
               channel=chan, computer=host, guid="{11CD958A-C507-4EF3-B3F2-5FD9DFBD2C78}",
               data={"Product Name": "Microsoft Defender Antivirus", "Product Version": "4.18.25090.3009",
                     "ID": "{AAC1F14E-6C5D-4B8A-9B31-7E2F0D4C1A58}", "Detection Time": "2025-11-15T10:21:39.998Z",
                     "User": f"{host}\\front", "Path": staged.replace("Snapshot\\6e", "Snapshot\\a1"),
                     "Process Name": r"C:\Program Files\iTunes\iTunes.exe", "Security intelligence Version": "1.441.112.0",
                     "Engine Version": "1.1.25090.3", "Product Version ": "4.18.25090.3009"})])


def pc_t20() -> None:
    pc = _pc("pc_t20_backup_device_locked")
    udid, serial = "00008110-0009B1D43E2A801E", "K3PW8R5TZL"
    write_folder(pc / "Backup" / udid, udid, serial, state="finished", status_date=T(2025, 9, 30, 21, 15, 2),
                 last_backup=T(2025, 9, 30, 21, 14, 58))
    run = idb2_run(r"D:\iPhoneBackup", "PS D:\\> ", [
        "*** Waiting for passcode to be entered on the device ***", "Incremental backup mode.",
        "ErrorCode 208: Device locked (MBErrorDomain/208)", "Received 0 files from device.", "Backup Failed (Error Code 208)."])
    (pc / "idevicebackup2_transcript.txt").write_bytes(transcript(T(2025, 11, 16, 18, 2, 40), "yui", "HOME-PC", run).encode())


def pc_u21() -> None:
    pc = _pc("pc_u21_backup_amds_crash")
    host, udid, serial = "WS-ACCT-112", "00008101-0011C2A83E40001E", "L9QF4T6MWB"
    write_folder(pc / "Backup" / udid, udid, serial, state="uploading", status_date=T(2025, 11, 17, 8, 45, 30),
                 last_backup=T(2025, 11, 17, 8, 45, 27), snapshot=2)
    scm = "{555908d1-a6d7-4695-8e1e-26931d2012f4}"
    write_xml(pc / "System_AMDS.xml", [
        event("Service Control Manager", 7031, 2, T(2025, 11, 17, 8, 47, 2, 904311), 120933, "System", host,
              {"param1": "Apple Mobile Device Service", "param2": "1", "param3": "60000", "param4": "1",
               "param5": "Restart the service"}, scm),
        event("Service Control Manager", 7036, 4, T(2025, 11, 17, 8, 48, 3, 10442), 120934, "System", host,
              {"param1": "Apple Mobile Device Service", "param2": "running"}, scm)])


def pc_v22() -> None:
    pc = _pc("pc_v22_backup_success")
    write_folder(pc / "Backup" / UDID_A, UDID_A, SERIAL_A, state="finished", status_date=T(2025, 11, 18, 22, 10, 4),
                 last_backup=T(2025, 11, 18, 22, 10, 1), xml_info=True,
                 icloud=[("The last backup could not be completed.", T(2025, 11, 16, 3, 12, 40))])


def pc_w23() -> None:
    pc = _pc("pc_w23_backup_encrypted")
    udid, serial = "00008120-001A2B3C4D5E601E", "M5RT7Y2KQP"
    write_folder(pc / "Backup" / udid, udid, serial, state="finished", status_date=T(2025, 11, 19, 7, 58, 12),
                 last_backup=T(2025, 11, 19, 7, 58, 9), encrypted=True)


def pc_x24() -> None:
    pc = _pc("pc_x24_backup_old_snapshot_trap")
    udid, serial = "00008030-000A61C23E88402E", "N2XC8V4BJD"
    write_folder(pc / "Backup" / f"{udid}-20241103-101500", udid, serial, state="uploading",
                 status_date=T(2024, 11, 3, 10, 15, 0), last_backup=T(2024, 11, 3, 10, 14, 57), snapshot=2)
    write_folder(pc / "Backup" / udid, udid, serial, state="finished", status_date=T(2025, 10, 28, 19, 40, 21),
                 last_backup=T(2025, 10, 28, 19, 40, 18))
    run = idb2_run(r"C:\Users\ren\Apple\MobileSync\Backup", "PS C:\\Users\\ren> ", [
        "Incremental backup mode.", "ErrorCode 105: Insufficient free disk space on drive to back up (MBErrorDomain/105)",
        "Received 0 files from device.", "Backup Failed (Error Code 105)."])
    (pc / "idevicebackup2_transcript.txt").write_bytes(transcript(T(2025, 11, 20, 12, 0, 18), "ren", "REN-LAPTOP", run).encode())


def tool_samples() -> None:
    """Backup tools' output on its own (source samples)."""
    pc = _pc("backup_idevicebackup2_console")
    run = idb2_run("/Users/sora/Backups", "% ", [
        "Full backup mode.", "[==================================================] 100% Finished",
        "Received 1843 files from device.", "Backup Successful."])
    (pc / "idevicebackup2_console.txt").write_text("\n".join(run) + "\n", encoding="utf-8")
    pc = _pc("backup_pymobiledevice3_console")
    name = "pymobiledevice3.services.mobilebackup2"
    lines = ["$ pymobiledevice3 backup2 backup --full ./backups",
             f"2025-11-21 14:03:09 bench-07 {name}[52817] INFO Starting backup of 00008110-001C39A24E41801E",
             "Traceback (most recent call last):",
             '  File "/opt/pmd3/lib/python3.12/site-packages/pymobiledevice3/services/device_link.py", line 61, in dl_loop',
             "pymobiledevice3.exceptions.PyMobileDevice3Exception: Device link error: {'ErrorCode': 212, 'ErrorDescription': "
             "'Unable to backup until Setup is finished (MBErrorDomain/212).', 'MessageName': 'Response'}"]
    (pc / "pymobiledevice3_console.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


ALL = (pc_p16, pc_q17, pc_r18, pc_s19, pc_t20, pc_u21, pc_v22, pc_w23, pc_x24, tool_samples)

if __name__ == "__main__":
    for make in ALL:
        make()
