"""A backup's Manifest.db: the index of its files, read-only (see :mod:`._backup_db` for how).

Recognised by content: an SQLite database whose schema names the ``Files`` table, or an SQLite
database inside a backup folder (one whose plists are recognised; a hostile or damaged index is then
reported, not ignored). An encrypted backup's Manifest.db is encrypted whole and has no SQLite header:
it is recognised only as the file the format names ``Manifest.db`` in a backup folder whose
Manifest.plist says ``IsEncrypted``, and reported as encrypted, never as damage.

Rows: a ``backup_damage`` row ``files_missing`` (how many flags=1 files are absent, a few of their
file IDs) and, for a wrong schema or an unreadable database in an unencrypted backup,
``manifest_db_unreadable``; the device's iCloud backup errors from its com.apple.MobileBackup.plist
(found through the index, read only when its file ID is well formed), as ``icloud_error`` rows.
Dated like the rest of the folder (:func:`._backup_rows.folder_time`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..model import Note, conform
from . import _backup_plist as bp
from . import _backup_rows as rows
from ._backup_db import SQLITE_HEADER, DbScan, payload_path
from ._backup_folder import MANIFEST_DB, Folder, db_scan, folder
from ._base import Input, Parsed, Source, add_note

#: The icloud plist is read only up to this size (it is a few KiB).
MAX_MOBILEBACKUP_BYTES = 1 << 20


def _encrypted_db(item: Input) -> bool:
    f = folder(item.path.parent)
    return bool(f and f.encrypted and item.path.name == MANIFEST_DB and not item.head.startswith(SQLITE_HEADER))


class BackupManifestDb(Source):
    name: ClassVar[str] = "backup_manifest_db"
    description: ClassVar[str] = "iPhone backup Manifest.db (SQLite index of the backup's files)"
    binary: ClassVar[bool] = True

    def sniff(self, item: Input) -> bool:
        if item.head.startswith(SQLITE_HEADER):
            return b"CREATE TABLE Files" in item.head or folder(item.path.parent) is not None
        return _encrypted_db(item)

    def parse(self, item: Input) -> Parsed:
        report = self.new_report(item)
        report.records = 1
        f = folder(item.path.parent)
        if f is None or f.db_path.resolve() != item.path.resolve():
            add_note(report, Note(item.display, "backup_db_outside_folder", severity="warning", record=1))
            return Parsed(conform(None), report)
        if f.encrypted and not item.head.startswith(SQLITE_HEADER):
            add_note(report, Note(item.display, "backup_db_encrypted", severity="info", record=1))
            return Parsed(conform(None), report)
        report.clock = {"clock": "utc", "source": "the backup folder's plist dates (UTC)"}
        scan = db_scan(f)
        out: list[dict[str, Any]] = []
        if scan is not None:
            self._notes(item, scan, report)
            out = self._rows(f, scan)
        return Parsed(conform(rows.number(out, self.name)), report)

    def _notes(self, item: Input, scan: DbScan, report) -> None:
        d = item.display
        if scan.state in ("wrong_schema", "unreadable", "not_sqlite"):
            report.skipped = 1
            add_note(report, Note(d, "backup_db_unreadable", {"error": scan.error or scan.state}, record=1))
        if scan.state == "capped":  # rows past the bound were not read: the count is partial
            report.skipped = 1
            add_note(report, Note(d, "backup_db_capped", {"rows": scan.rows}, record=1))
        if scan.unexpected:
            add_note(report, Note(d, "backup_db_schema_unexpected", {"objects": ", ".join(scan.unexpected)},
                                  severity="warning", record=1))
        if scan.invalid_ids:
            add_note(report, Note(d, "backup_db_invalid_ids", {"count": scan.invalid_ids}, severity="warning"))
        if scan.odd_paths:
            add_note(report, Note(d, "backup_db_odd_paths", {"count": scan.odd_paths}, severity="warning"))

    def _rows(self, f: Folder, scan: DbScan) -> list[dict[str, Any]]:
        when, by = rows.folder_time(f)
        out = []
        if scan.state in ("wrong_schema", "unreadable"):
            item = {"what": "manifest_db_unreadable", "reason": scan.state, "error": scan.error, "dated_by": by}
            out.append(rows.base_row(when, f, kind="backup_damage", subject=item["what"], detail=rows.compact(item),
                                     message=f"Manifest.db cannot be read ({scan.state})"))
        files = rows.missing_files(scan)
        if files:
            out.append(rows.base_row(when, f, kind="backup_damage", subject="files_missing",
                                     detail=rows.compact({**files, "dated_by": by}),
                                     message=f"{scan.missing} of {scan.rows} files listed in Manifest.db are not in the folder"))
        out.extend(self._icloud(f, scan))
        return out

    def _icloud(self, f: Folder, scan: DbScan) -> list[dict[str, Any]]:
        path = payload_path(f.root, scan.mobilebackup) if scan.mobilebackup else None
        try:
            if path is None or path.is_symlink() or path.stat().st_size > MAX_MOBILEBACKUP_BYTES:
                return []
            data = bp.load(path.read_bytes())
        except OSError:
            return []
        return rows.icloud_rows(data) if bp.role_of(data) == "mobilebackup" else []


SOURCE = BackupManifestDb()
