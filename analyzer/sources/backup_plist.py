"""The plists of an iPhone backup folder, binary form: Status.plist, Info.plist, Manifest.plist and
the device's com.apple.MobileBackup.plist, each recognised by the keys it holds (never its name).

What each gives (:mod:`._backup_rows`; the folder as a whole is :mod:`._backup_folder`):

* the folder's owner (Status.plist, else Info.plist, else Manifest.plist) gives the folder's backup
  attempt and its damage rows, so that a folder with all its files is counted once;
* Info.plist gives the folder's ``backup_info`` row (the owner does, when there is no Info.plist);
* Manifest.plist gives a ``device_identity`` row (Lockdown, encryption, passcode);
* com.apple.MobileBackup.plist, given on its own, gives the device's iCloud backup errors
  (inside a backup folder Manifest.db finds it and gives them: see ``backup_manifest_db``).

Times are plist dates, UTC. The XML form is ``backup_plist_xml`` (the registry offers binary files
to binary sources only).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..model import Note, conform
from . import _backup_plist as bp
from . import _backup_rows as rows
from ._backup_folder import Folder, folder, owns
from ._base import Input, Parsed, Source, add_note

CLOCK = {"clock": "utc", "source": "plist dates (UTC)"}


class BackupPlist(Source):
    name: ClassVar[str] = "backup_plist"
    description: ClassVar[str] = "iPhone backup plists (Status, Info, Manifest, MobileBackup), binary"
    binary: ClassVar[bool] = True

    def sniff(self, item: Input) -> bool:
        return item.head.startswith(bp.BINARY_MAGIC) and bp.role_of(bp.load(item.raw)) is not None

    def parse(self, item: Input) -> Parsed:
        report = self.new_report(item)
        report.records = 1
        data = bp.load(item.raw)
        role = bp.role_of(data)
        if data is None or role is None:
            report.skipped = 1
            add_note(report, Note(item.display, "backup_plist_unreadable", record=1))
            return Parsed(conform(None), report)
        report.clock = dict(CLOCK)
        try:
            out = self._rows(item, role, data, report)
        except Exception as exc:  # noqa: BLE001 - safety net: the contract is "never raise"
            add_note(report, Note(item.display, "reading_unfinished", {"source": self.name, "error": f"{type(exc).__name__}: {exc}"}))
            out = []
        return Parsed(conform(rows.number(out, self.name)), report)

    def _rows(self, item: Input, role: str, data: dict[str, Any], report) -> list[dict[str, Any]]:
        if role == "mobilebackup":
            return rows.icloud_rows(data)
        f: Folder | None = folder(item.path.parent)
        out: list[dict[str, Any]] = []
        if role == "manifest":
            out.append(rows.manifest_row(data, f))
        if f is None:
            return out
        mine = owns(item.path, f)
        if role == "info" or (mine and "info" not in f.plists):
            out.append(rows.info_row(f))
        if mine:
            out.extend(rows.attempt_rows(f))
            when, by = rows.folder_time(f)
            add_note(report, Note(item.display, "backup_folder_rows", {"dated_by": by or "none"}, severity="info"))
        return out


SOURCE = BackupPlist()
