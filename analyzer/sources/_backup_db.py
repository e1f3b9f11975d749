"""Reading a backup's Manifest.db: read-only, bounded, and without trusting a single row.

Manifest.db (reference backup-and-network.md §1.6) indexes every file of the backup: ``Files(fileID,
domain, relativePath, flags, file)``; a regular file (``flags = 1``) is stored as
``<fileID[:2]>/<fileID>`` beside the database. What this module needs from it: how many of those
payload files are missing (an incomplete backup, §1.8 rule 5), and where the device's own backup
history (``HomeDomain``, ``Library/Preferences/com.apple.MobileBackup.plist``) is.

Why it is careful:

* ``sqlite3.connect(path)`` creates a missing file, and a normal open may write ``-shm``/``-wal``
  files: the database is opened as a URI with ``mode=ro&immutable=1`` (no file is created, locked
  or changed, a ``-wal`` beside it is not replayed), after the 16-byte ``SQLite format 3\\0`` header
  is checked;
* a ``DatabaseError`` does not mean "encrypted" (a missing table raises one too): encryption is
  what Manifest.plist says, and a database without the header is reported as such;
* a hostile file (another schema, a ``Files`` view or triggers, millions of rows, endless rows from a
  recursive view, ``../../x`` as a file ID or path, a damaged page) is reported,
  never followed: a file ID is used only when it is 40 hex digits, a path is never joined into a
  file name, rows are streamed and counted up to :data:`MAX_ROWS`, the query is stopped after
  :data:`MAX_STEPS` virtual-machine steps, and at most :data:`MAX_SAMPLES` missing files are named.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
MAX_ROWS = 2_000_000
MAX_STEPS = 400_000_000
MAX_SAMPLES = 5
#: The device's record of its backups (and iCloud backup errors) inside a backup (§1.9).
MOBILEBACKUP_DOMAIN = "HomeDomain"
MOBILEBACKUP_PATH = "Library/Preferences/com.apple.MobileBackup.plist"
MOBILEBACKUP_ID = hashlib.sha1(f"{MOBILEBACKUP_DOMAIN}-{MOBILEBACKUP_PATH}".encode()).hexdigest()
_FILE_ID = re.compile(r"^[0-9a-f]{40}$")
#: Written by ``analyze collect`` beside the metadata files of a backup whose content it does not take:
#: the folder's listing (names, sizes, folders), so that what is missing or left over is still known.
LISTING = ".analyzer-listing.json"
LISTING_FORMAT = "analyzer-backup-listing"
MAX_LISTING_BYTES = 256 << 20


def listing(root: Path) -> list[dict] | None:
    """The listing of a collected copy of a backup folder (``{"name", "size"}`` or ``{"name", "dir"}``
    entries, ``/``-separated), when ``root`` is one; None otherwise or when it cannot be read."""
    path = root / LISTING
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_LISTING_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != LISTING_FORMAT:
            return None
        return [e for e in data["entries"][:MAX_ROWS] if isinstance(e, dict) and isinstance(e.get("name"), str)]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass
class DbScan:
    """What one Manifest.db says. ``state``: ``read``, ``capped`` (stopped at a bound), ``not_sqlite``,
    ``wrong_schema`` or ``unreadable`` (``error`` says why)."""

    state: str
    error: str | None = None
    rows: int = 0                      # flags=1 rows read
    missing: int = 0                   # of them, payload file absent
    samples: list[dict] = field(default_factory=list)   # a few missing ones: fileID, domain, relativePath
    invalid_ids: int = 0               # rows whose fileID is not 40 hex digits (never used as a path)
    odd_paths: int = 0                 # rows whose relativePath climbs out (``..``) or is absolute
    mobilebackup: str | None = None    # fileID of com.apple.MobileBackup.plist, when listed
    unexpected: list[str] = field(default_factory=list)  # views and triggers, which Apple's never has


def has_header(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == SQLITE_HEADER
    except OSError:
        return False


def _uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro&immutable=1"


def present_payload(root: Path, limit: int = MAX_ROWS) -> set[str]:
    """The payload file names present under ``root/<xx>/`` (one directory listing per ``xx``, not a
    stat per row), at most ``limit`` of them."""
    found: set[str] = set()
    listed = listing(root)
    if listed is not None:  # a collected copy: the payload was listed, not taken
        for entry in listed:
            head, _, name = entry["name"].partition("/")
            if len(head) == 2 and name.startswith(head) and "/" not in name and not entry.get("dir"):
                found.add(name)
        return set(list(found)[:limit])
    try:
        subdirs = [e for e in os.scandir(root) if len(e.name) == 2 and e.is_dir(follow_symlinks=False)]
    except OSError:
        return found
    for sub in subdirs:
        try:
            for entry in os.scandir(sub.path):
                if len(found) >= limit:
                    return found
                if entry.name.startswith(sub.name):
                    found.add(entry.name)
        except OSError:
            continue
    return found


def _odd(path: object) -> bool:
    return isinstance(path, str) and (path.startswith(("/", "\\")) or ".." in re.split(r"[\\/]", path))


def scan(db: Path, root: Path) -> DbScan:
    """Count the flags=1 rows of ``db`` whose payload file is absent under ``root``. Never raises."""
    if not has_header(db):
        return DbScan("not_sqlite")
    try:
        conn = sqlite3.connect(_uri(db), uri=True)
    except sqlite3.Error as exc:
        return DbScan("unreadable", f"{type(exc).__name__}: {exc}")
    steps = [0]

    def guard() -> int:
        steps[0] += 1
        return 1 if steps[0] * 1000 > MAX_STEPS else 0

    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA query_only = ON")
        conn.set_progress_handler(guard, 1000)
        return _read(conn, root)
    except sqlite3.OperationalError as exc:
        state = "capped" if steps[0] * 1000 > MAX_STEPS else ("wrong_schema" if "no such" in str(exc) else "unreadable")
        return DbScan(state, f"{type(exc).__name__}: {exc}")
    except (sqlite3.Error, ValueError, OverflowError, MemoryError) as exc:
        return DbScan("unreadable", f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def _unexpected(conn: sqlite3.Connection) -> list[str]:
    """The views and triggers of the schema, at most MAX_SAMPLES named: Apple's Manifest.db has
    neither, so a ``Files`` view, or a trigger (never fired: the database is opened read-only),
    says the index is not what a backup wrote, whatever its rows say."""
    rows = conn.execute("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY rowid LIMIT ?",
                        (MAX_SAMPLES,))
    return [f"{kind} {str(name)[:60]}" for kind, name in rows]


def _read(conn: sqlite3.Connection, root: Path) -> DbScan:
    out = DbScan("read", unexpected=_unexpected(conn))
    present = present_payload(root)
    cursor = conn.execute("SELECT fileID, domain, relativePath FROM Files WHERE flags = 1")
    for file_id, domain, rel in cursor:
        out.rows += 1
        if out.rows > MAX_ROWS:
            out.rows -= 1
            out.state = "capped"
            break
        if _odd(rel):
            out.odd_paths += 1
        if not isinstance(file_id, str) or not _FILE_ID.match(file_id):
            out.invalid_ids += 1
            continue
        if file_id == MOBILEBACKUP_ID and domain == MOBILEBACKUP_DOMAIN and rel == MOBILEBACKUP_PATH:
            out.mobilebackup = file_id
        if file_id not in present:
            out.missing += 1
            if len(out.samples) < MAX_SAMPLES:
                out.samples.append({"fileID": file_id, "domain": str(domain)[:80], "relativePath": str(rel)[:160]})
    return out


def payload_path(root: Path, file_id: str) -> Path | None:
    """``root/<xx>/<fileID>`` for a well-formed file ID (40 hex digits), else None: never a path from a row."""
    return root / file_id[:2] / file_id if _FILE_ID.match(file_id or "") else None
