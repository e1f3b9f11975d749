"""Fake PCs for the collection tests: a file in every place the location table names, built from the
table itself (so a new row is tested without a new test), in a temporary folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from analyzer.locations import BACKUP_METADATA, Location, table

USER = "taro"
UDID = "00008030-001D35093EF2402E"
#: A concrete name for each ``*`` a table path may hold.
STARS = {"Users/*": f"Users/{USER}", "home/*": f"home/{USER}",
         "AppleInc.AppleDevices_*": "AppleInc.AppleDevices_nzyj5cx40ttqa",
         "AppleInc.iTunes_*": "AppleInc.iTunes_nzyj5cx40ttqa",
         "*.group.com.apple.configurator": "K36BKF7T3D.group.com.apple.configurator"}


def concrete(pattern: str) -> str:
    """A path that a table pattern matches: each ``*`` made a name, ``**/`` one folder."""
    for star, name in STARS.items():
        pattern = pattern.replace(star, name)
    return pattern.replace("**/", "sub/").replace("*", "x").replace("?", "a")


def example_files(loc: Location) -> list[str]:
    """Relative paths (from the drive or root) of files that stand for one location."""
    folder = concrete(loc.folder())
    join = lambda name: f"{folder}/{name}" if folder else name
    if loc.take == "backup":
        return [join(f"{UDID}/{name}") for name in BACKUP_METADATA]
    if loc.take == "eventlog":
        return [join(name) for name in loc.files()[:3]]
    return [join(concrete(g)) for g in loc.globs]


def build(root: Path, os_name: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file location of ``os_name`` under ``root`` (live-only commands excepted), with a backup's
    payload beside its metadata. Returns {relative path: sha256}."""
    made: dict[str, str] = {}
    for loc in table().for_os(os_name):
        if loc.take == "command" or loc.id in skip:
            continue
        for rel in example_files(loc):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = f"{loc.id} {rel}\n127.0.0.1 localhost\n".encode()
            path.write_bytes(data)
            made[rel] = hashlib.sha256(data).hexdigest()
        if loc.take == "backup":
            payload = root / concrete(loc.folder()) / UDID / "0a" / ("0a" + "1" * 38)
            payload.parent.mkdir(parents=True, exist_ok=True)
            payload.write_bytes(b"private photo bytes")
    return made


def listing(root: Path) -> list[tuple]:
    """Every path under root with its type, size, mtime and mode: to prove nothing changed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(Path(dirpath) / name)
            out.append((str(Path(dirpath, name).relative_to(root)), st.st_mode, st.st_size, st.st_mtime_ns))
    return sorted(out)
