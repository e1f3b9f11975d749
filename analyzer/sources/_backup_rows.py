"""The event rows a backup folder gives (contract: one attempt per folder, damage beside it).

* The folder's **attempt** (attempt 1 of its Status.plist, operation ``backup``): a ``session_start``
  and a ``result`` at the Status ``Date``. ``finished`` is a success (``error_code`` 0) unless the
  folder says otherwise (a 0-byte or unreadable Manifest.plist, a leftover ``Snapshot/``, a missing or
  broken Manifest.db, missing payload files; §1.8 of the reference, in that order); anything else is
  a failure without a code: ``detail`` ``{"outcome":"failed","reason":…,"snapshot_state":…}``.
* **backup_damage** rows (``attempt`` null): what is wrong with the folder, ``detail.what`` one of
  :data:`DAMAGE`, dated like the folder (``detail.dated_by``).
* one **backup_info** row per folder: the device and the backup (for a per-device backup history).

A folder's rows are dated by its Status ``Date``, else Info's ``Last Backup Date``, else
Manifest's ``Date`` (all UTC), else, for a folder read in place, its owner file's modification
time (UTC too); a folder unpacked from a zip has no trustworthy modification time.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from . import _backup_plist as bp
from ._backup_db import DbScan
from ._backup_folder import Folder, db_scan

OPERATION = "backup"
DAMAGE = ("manifest_empty", "manifest_unreadable", "manifest_missing", "snapshot_leftover", "status_missing",
          "status_unreadable", "manifest_db_missing", "manifest_db_empty", "manifest_db_not_sqlite",
          "manifest_db_unreadable", "files_missing")


def compact(obj: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in obj.items() if v is not None}, separators=(",", ":"), ensure_ascii=False)


def folder_time(f: Folder) -> tuple[dt.datetime | None, str | None]:
    """When the folder's rows happened, and by what that is known (``dated_by``)."""
    for role, key, by in (("status", "Date", "status_date"), ("info", "Last Backup Date", "last_backup_date"),
                          ("manifest", "Date", "manifest_date")):
        when = bp.plist_time((f.data(role) or {}).get(key))
        if when is not None:
            return when, by
    owner = f.owner
    if owner is not None and not f.in_archive:
        try:
            return dt.datetime.fromtimestamp(owner.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None), "mtime"
        except (OSError, OverflowError, ValueError):
            pass
    return None, None


def base_row(when: dt.datetime | None, f: Folder | None = None, **cols: Any) -> dict[str, Any]:
    ident = bp.device_fields(f.data("info"), f.data("manifest")) if f else {}
    row = {"ts_wall": when, "ts_raw": bp.iso(when), "clock": "utc" if when else "none",
           "udid": ident.get("udid"), "serial": ident.get("serial")}
    row.update(cols)
    return row


def damage(f: Folder) -> list[dict[str, Any]]:
    """What is wrong with the folder that its owner reports, in the reference's order (§1.8), each
    with its own fields (what only Manifest.db can tell, its own source reports)."""
    out: list[dict[str, Any]] = []
    if f.manifest_plist != "ok":
        out.append({"what": f"manifest_{f.manifest_plist}"})
    if f.snapshot_files is not None:
        out.append({"what": "snapshot_leftover", "files": f.snapshot_files})
    if f.status_plist != "ok":
        out.append({"what": f"status_{f.status_plist}"})
    if not f.encrypted and f.db != "sqlite":
        out.append({"what": f"manifest_db_{f.db}"})
    return out


def missing_files(scan: DbScan | None) -> dict[str, Any] | None:
    if scan is None or not scan.missing:
        return None
    return {"what": "files_missing", "missing": scan.missing, "listed": scan.rows, "capped": scan.state == "capped" or None,
            "samples": [s["fileID"] for s in scan.samples]}


def attempt_rows(f: Folder) -> list[dict[str, Any]]:
    """The folder's attempt (session_start + result) and its damage rows, for its owner file."""
    status = f.data("status") or {}
    when, by = folder_time(f)
    scan = db_scan(f)
    found = damage(f)
    unreadable = scan is not None and scan.state in ("wrong_schema", "unreadable")
    rows: list[dict[str, Any]] = []
    if status:
        state = bp.text(status.get("SnapshotState"))
        start = {"snapshot_state": state, "backup_state": bp.text(status.get("BackupState")),
                 "is_full_backup": bp.flag(status.get("IsFullBackup")), "version": bp.text(status.get("Version")),
                 "dated_by": by}
        rows.append(base_row(when, f, kind="session_start", attempt=1, operation=OPERATION, subject="backup",
                             detail=compact(start),
                             message=f"Status.plist: SnapshotState={state}, IsFullBackup={start['is_full_backup']}"))
        overridden = ([d["what"] for d in found] + (["manifest_db_unreadable"] if unreadable else [])
                      + (["files_missing"] if missing_files(scan) else []))
        if state == "finished" and not overridden:
            result = dict(error_code=0, detail=compact({"snapshot_state": state}),
                          message="backup finished (SnapshotState finished, folder complete)")
        else:
            reason = "snapshot_unfinished" if state != "finished" else overridden[0]
            result = dict(error_code=None, message=f"backup not complete: {reason} (SnapshotState {state})",
                          detail=compact({"outcome": "failed", "reason": reason, "snapshot_state": state,
                                          "overridden_by": overridden or None}))
        rows.append(base_row(when, f, kind="result", attempt=1, operation=OPERATION, subject="backup", **result))
    for item in found:
        rows.append(base_row(when, f, kind="backup_damage", subject=item["what"],
                             detail=compact({**item, "dated_by": by}), message=_damage_text(item)))
    return rows


def _damage_text(item: dict[str, Any]) -> str:
    what = item["what"]
    texts = {"manifest_empty": "Manifest.plist is 0 bytes: the backup died before the device sent its properties",
             "manifest_unreadable": "Manifest.plist cannot be read as a property list",
             "manifest_missing": "no Manifest.plist in the backup folder",
             "snapshot_leftover": f"a Snapshot/ folder is left over ({item.get('files')} files): an interrupted backup",
             "status_missing": "no Status.plist in the backup folder", "status_empty": "Status.plist is 0 bytes",
             "status_unreadable": "Status.plist cannot be read as a property list",
             "manifest_db_missing": "no Manifest.db in an unencrypted backup",
             "manifest_db_empty": "Manifest.db is 0 bytes",
             "manifest_db_link": "Manifest.db is a link (not followed: it may point out of the evidence)", "manifest_db_not_sqlite": "Manifest.db is not an SQLite database",
             "manifest_db_unreadable": f"Manifest.db cannot be read ({item.get('reason')})",
             "files_missing": f"{item.get('missing')} of {item.get('listed')} files listed in Manifest.db are not in the folder"}
    return texts.get(what, what)


def info_row(f: Folder, when_from: str = "info") -> dict[str, Any]:
    """The folder's backup_info row: device, versions, encryption, last backup date, state, size."""
    info = f.data("info") or {}
    ident = bp.device_fields(info, f.data("manifest"))
    last = bp.plist_time(info.get("Last Backup Date"))
    when = last or folder_time(f)[0]
    detail = {k: ident[k] for k in ("device_name", "product_type", "product_version", "build_version", "itunes_version")}
    detail.update(last_backup_date=bp.iso(last), is_encrypted=f.encrypted,
                  snapshot_state=bp.text((f.data("status") or {}).get("SnapshotState")), size_bytes=f.size_bytes)
    name = ident.get("device_name") or "device"
    return base_row(when, f, kind="backup_info", subject=ident.get("udid") or name, detail=compact(detail),
                    message=f"backup of {name} ({ident.get('product_type')}, iOS {ident.get('product_version')})")


def manifest_row(data: dict[str, Any], f: Folder | None) -> dict[str, Any]:
    """Manifest.plist's own facts: the device at backup time (Lockdown), encryption, passcode."""
    ident = bp.device_fields(None, data)
    when = bp.plist_time(data.get("Date"))
    detail = {"is_encrypted": bp.flag(data.get("IsEncrypted")), "was_passcode_set": bp.flag(data.get("WasPasscodeSet")),
              "manifest_version": bp.text(data.get("Version")), "device_name": ident["device_name"],
              "product_type": ident["product_type"], "product_version": ident["product_version"],
              "build_version": ident["build_version"]}
    row = base_row(when, None, kind="device_identity", subject="Manifest.plist Lockdown", detail=compact(detail),
                   message=f"backup manifest: encrypted={detail['is_encrypted']}, device {ident['product_type']}")
    row.update(udid=ident["udid"], serial=ident["serial"])
    return row


def icloud_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The device's record of its iCloud backups (com.apple.MobileBackup.plist, BackupStateInfo.errors[])."""
    info = data.get("BackupStateInfo")
    if not isinstance(info, dict):
        return []
    errors = info.get("errors")
    rows = []
    for entry in errors if isinstance(errors, list) else []:
        if not isinstance(entry, dict):
            continue
        when = bp.plist_time(entry.get("date"))
        text = bp.text(entry.get("localizedDescription"), 300)
        detail = {"state": bp.text(info.get("state")), "is_cloud": bp.flag(info.get("isCloud")),
                  "domain": bp.text(entry.get("domain")), "code": entry.get("code") if isinstance(entry.get("code"), int) else None}
        rows.append({"ts_wall": when, "ts_raw": bp.iso(when), "clock": "utc" if when else "none", "kind": "icloud_error",
                     "operation": "icloud", "subject": text, "error_code": detail["code"], "detail": compact(detail),
                     "message": text or "iCloud backup error"})
    return rows


def number(rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """Give each row its format and an ordinal ``record`` (a plist has no lines)."""
    for i, row in enumerate(rows, 1):
        row.update(format=fmt, record=i)
    return rows
