"""``analyze collect``: the evidence the location table names, gathered into one zip with a manifest.

A helpdesk asks for one file, not for a list of folders: the bundle holds each file found
(under ``files/<drive>/<path as on the PC>``, so an unpacked bundle is itself a triage copy that
``analyze`` recognises) and ``manifest.json``, which says for each file its original path, size,
modification time, SHA-256 and how it was obtained; every place looked at and not found; every
file that could not be read or was left out, with the reason; and of each backup folder, its
listing (the backup's content is never taken: only its metadata files).

Nothing is written under a root that is read: the bundle is refused there, and it is assembled
beside its final name and renamed into place only when complete. Files are read once, hashed while
they are copied, and never followed through a symbolic link (:mod:`analyzer.triage`). Live steps
(Windows event logs exported by ``wevtutil epl``, ``log show``, ``journalctl``) come from
:mod:`analyzer.collect_live` as files in a private folder and join the bundle the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .triage import Found, Root, Scan, scan
from .version import __version__

FORMAT = "analyzer-collection"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1 << 20
_SINCE = re.compile(r"^(\d+)\s*([dhm])$")


class CollectError(Exception):
    """A collection that cannot start (a usage error): the message says why, in one line."""


@dataclass(frozen=True)
class Obtained:
    """A file the live machine produced for the bundle (an exported event log, a command's output)."""

    path: Path
    member: str
    original: str
    how: str
    location: str
    kind: str


@dataclass
class Bundle:
    """The manifest being written, and what the caller reports (counts, problems)."""

    manifest: dict
    files: int = 0
    unreadable: list[dict] = field(default_factory=list)


def parse_since(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """``30d``, ``12h``, ``90m`` before now, or a day (``2026-03-01``, UTC): the oldest file kept."""
    if text is None:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    m = _SINCE.match(text.strip())
    if m:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[m.group(2)]
        return now - dt.timedelta(**{unit: int(m.group(1))})
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CollectError(f"--since {text!r}: give a duration (30d, 12h, 90m) or a day (YYYY-MM-DD)") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def check_out(out: Path, roots: list[Root]) -> None:
    """Refuse a bundle inside a folder being read: nothing is ever written into the evidence."""
    target = out.resolve()
    for root in roots:
        base = root.path.resolve()
        if target == base or base in target.parents:
            raise CollectError(f"--out {out}: inside the folder being collected ({root.path}); write it elsewhere")
    if not target.parent.is_dir():
        raise CollectError(f"--out {out}: no such folder {target.parent}")


def collect(roots: list[Root], out: Path, *, since: dt.datetime | None = None, redact: bool = False,
            obtained: list[Obtained] = (), failed: list[dict] = (), live: bool = False,
            host: str | None = None) -> Bundle:
    """Write the bundle ``out`` from the roots' locations (and ``obtained`` live files); see the module."""
    if not live:  # a live machine's bundle is written on its own disk, after its places were looked at
        check_out(out, roots)
    elif not out.resolve().parent.is_dir():
        raise CollectError(f"--out {out}: no such folder {out.resolve().parent}")
    found = scan(roots, since=since, live=live)
    manifest = _header(roots, since, live, host, redact)
    bundle = Bundle(manifest)
    redactor = _Scrub() if redact else None
    if redactor is not None:
        redactor.learn([(f.path, f.root.member(f.rel)) for f in found.found] + [(o.path, o.member) for o in obtained])
    partial = out.with_name(out.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            entries = [_add(zf, f.path, f.root.member(f.rel), f.root.original(f.rel), _how(f), f.location.id,
                            f.location.kind, bundle, redactor) for f in found.found]
            entries += [_add(zf, o.path, o.member, o.original, o.how, o.location, o.kind, bundle, redactor)
                        for o in obtained]
            manifest["files"] = [e for e in entries if e is not None]
            _listings(zf, found, redactor)
            _tail(manifest, found, bundle, failed)
            if redactor is not None:
                manifest = redactor.manifest(manifest)
                bundle.manifest = manifest
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        os.replace(partial, out)
    finally:
        if partial.exists():
            partial.unlink()
    return bundle


def _how(f: Found) -> str:
    return "copied (backup metadata file)" if f.location.take == "backup" else "copied"


def _header(roots: list[Root], since: dt.datetime | None, live: bool, host: str | None, redact: bool) -> dict:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "analyzer": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": host, "live": live, "since": since.isoformat() if since else None, "redacted": redact,
        "roots": [{"path": str(r.path), "os": r.os, "drive": r.drive or None, "profile": r.profile} for r in roots],
        "backups_policy": "backup folders: only Info.plist, Manifest.plist, Status.plist and Manifest.db are "
                          "taken, with a listing of the folder; the backup's content is never collected",
    }


def _tail(manifest: dict, found: Scan, bundle: Bundle, failed: list[dict]) -> None:
    manifest["not_found"] = found.missing
    manifest["unreadable"] = bundle.unreadable + list(failed)
    manifest["not_followed"] = [r for r in found.refused if "symbolic link" in r["reason"]]
    manifest["unreadable"] += [r for r in found.refused if "symbolic link" not in r["reason"]]
    manifest["older_than_since"] = found.old
    manifest["backups"] = found.backups
    kinds = sorted({e["kind"] for e in manifest["files"]} | ({"backup"} if found.backups else set()))
    manifest["kinds"] = {"present": kinds,
                         "missing": sorted({m["kind"] for m in found.missing} - set(kinds))}


def _listings(zf: zipfile.ZipFile, found: Scan, redactor: _Scrub | None) -> None:
    """Beside each backup's metadata files, the folder's whole listing (analyzer.sources._backup_db
    reads it instead of the payload that was not taken); the manifest keeps the first entries."""
    from .sources._backup_db import LISTING, LISTING_FORMAT

    for backup in found.backups:
        entries = backup.pop("all")
        member = f"{backup['member']}/{LISTING}"
        if redactor is not None:
            member = redactor.path(member)
        backup["listing_member"] = member
        text = json.dumps({"format": LISTING_FORMAT, "folder": backup["folder"], "entries": entries})
        zf.writestr(member, redactor.text(text) if redactor is not None else text)


def _add(zf: zipfile.ZipFile, path: Path, member: str, original: str, how: str, location: str, kind: str,
         bundle: Bundle, redactor: _Scrub | None) -> dict | None:
    """One file into the zip, hashed as it is copied; None (and an unreadable entry) when it cannot be."""
    started = False
    try:
        st = os.stat(path, follow_symlinks=False)
        info = zipfile.ZipInfo(member, date_time=_zip_time(st.st_mtime))
        info.compress_type = zipfile.ZIP_DEFLATED
        if redactor is not None:
            return _add_redacted(zf, path, info, original, how, location, kind, st, bundle, redactor)
        digest = hashlib.sha256()
        with open(path, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
            started = True
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
    except OSError as exc:
        entry = {"path": original, "location": location, "reason": exc.strerror or str(exc)}
        if started:
            entry["partial_member"] = member  # a read that failed midway: what was read is in the zip
        bundle.unreadable.append(entry)
        return None
    bundle.files += 1
    return {"member": member, "original_path": original, "size": st.st_size, "mtime": _iso(st.st_mtime),
            "sha256": digest.hexdigest(), "obtained": how, "location": location, "kind": kind}


def _add_redacted(zf, path: Path, info: zipfile.ZipInfo, original: str, how: str, location: str, kind: str,
                  st: os.stat_result, bundle: Bundle, redactor: _Scrub) -> dict | None:
    """With ``--redact``: a text file rewritten with tokens (UTF-8); a binary one left out, said why."""
    from .textio import decode, looks_binary

    raw = path.read_bytes()
    entry = {"original_path": original, "size": st.st_size, "mtime": _iso(st.st_mtime),
             "sha256": hashlib.sha256(raw).hexdigest(), "location": location, "kind": kind}
    if looks_binary(raw[:4096]):
        bundle.unreadable.append({**entry, "path": original,
                                  "reason": "binary file: cannot be redacted (collect without --redact to include it)"})
        return None
    text = redactor.text(decode(raw).text)
    data = text.encode("utf-8")
    info.filename = redactor.path(info.filename)
    zf.writestr(info, data)
    bundle.files += 1
    return {**entry, "member": info.filename, "obtained": how + ", redacted (UTF-8)",
            "member_sha256": hashlib.sha256(data).hexdigest()}


class _Scrub:
    """``--redact`` for a bundle: :class:`analyzer.redact.Redactor` over file text, paths and the manifest."""

    def __init__(self) -> None:
        from .redact import Redactor

        self.r = Redactor(os.environ.get("ANALYZER_REDACT_KEY"))

    def learn(self, files: list[tuple[Path, str]]) -> None:
        """First pass: every identifier of every text file and path, so that a value found in one file
        is replaced in all of them (a bare UDID in one log, named as such in another)."""
        from .textio import decode, looks_binary

        for path, member in files:
            self.path(member)
            try:
                with open(path, "rb") as fh:
                    raw = fh.read()
            except OSError:
                continue
            if not looks_binary(raw[:4096]):
                self.r.collect_text(decode(raw).text)

    def text(self, text: str) -> str:
        self.r.collect_text(text)
        return self.r.scrub(text)

    def path(self, member: str) -> str:
        parts = member.split("/")
        for i, part in enumerate(parts[:-1]):
            if part.lower() in ("users", "home") and i + 1 < len(parts) - 1:
                self.r.add("user", parts[i + 1])
        return self.r.scrub(member)

    def manifest(self, manifest: dict) -> dict:
        host = manifest.get("host")
        if host:
            self.r.add("host", host)
        text = json.dumps(manifest, ensure_ascii=False)
        self.r.collect_text(text.replace("\\\\", "\\"))
        return json.loads(self.r.scrub(text))


def _zip_time(mtime: float) -> tuple[int, int, int, int, int, int]:
    t = dt.datetime.fromtimestamp(max(mtime, 315532800))  # a zip cannot date a file before 1980
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _iso(mtime: float) -> str:
    return dt.datetime.fromtimestamp(mtime, dt.timezone.utc).isoformat()
