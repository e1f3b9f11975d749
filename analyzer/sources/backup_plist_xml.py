"""The plists of an iPhone backup folder in XML form (idevicebackup2 writes Info.plist as XML):
read exactly as :mod:`.backup_plist` reads the binary form, recognised by the same keys."""

from __future__ import annotations

from typing import ClassVar

from . import _backup_plist as bp
from ._base import Input
from .backup_plist import BackupPlist

#: Keys of which one must appear in the head before the whole plist is parsed (a cheap first test).
_HEAD_KEYS = tuple(f"<key>{k}</key>" for k in ("SnapshotState", "Lockdown", "IsEncrypted", "Last Backup Date",
                                                 "iTunes Version", "Target Identifier", "BackupStateInfo",
                                                 "Build Version", "Device Name"))


class BackupPlistXml(BackupPlist):
    name: ClassVar[str] = "backup_plist_xml"
    description: ClassVar[str] = "iPhone backup plists (Status, Info, Manifest, MobileBackup), XML"
    binary: ClassVar[bool] = False

    def sniff(self, item: Input) -> bool:
        head = item.head_text
        return ("<plist" in head[:2048] and any(k in head for k in _HEAD_KEYS)
                and bp.role_of(bp.load(item.raw)) is not None)


SOURCE = BackupPlistXml()
