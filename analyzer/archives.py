"""Reading a ``.zip`` of one PC's logs safely, without trusting anything inside it.

A zip handed over by a user (or found in a fleet folder) is opened read-only and
its regular-file members are copied into a private temporary folder (mode 0700)
under names this module builds itself, so no member can land outside it:

* **names**: absolute names (``/x``, ``\\x``), drive letters (``C:x``), ``..``
  components and empty or control-character names are refused; every other
  component is reduced to ``[A-Za-z0-9._ -]``;
* **links and specials**: members whose Unix mode says symlink, device, FIFO or
  socket are refused, as are encrypted members;
* **zip bombs**: the sum of the declared uncompressed sizes is bounded
  (:data:`MAX_TOTAL_BYTES`), and so is each member's compression ratio
  (:data:`MAX_RATIO`, for members above :data:`RATIO_MIN_BYTES`); the bytes
  actually written are counted as well, because declared sizes can lie;
* **nesting**: a zip inside the archive is opened once (its members count
  against the same budget); a zip inside that one is refused.

Every refusal is a located :class:`~analyzer.model.Note` (``archive.zip!member``)
that ends up in the file list, and the rest of the archive is still read. An
archive that cannot be opened at all (not a zip, truncated, over budget) is one
:class:`~analyzer.model.FileReport` with the reason, and the rest of the fleet
is analysed as usual.
"""

from __future__ import annotations

import math
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import leftovers
from .arguments import ArgumentError
from .model import Note
from .notes import part

#: Archives are recognised by this suffix (case-insensitive); the content must be a zip too.
ARCHIVE_SUFFIXES = (".zip",)
#: Upper bound on the uncompressed bytes read from one archive (nested archives included).
MAX_TOTAL_BYTES = 4 << 30
#: Upper bound on one member's uncompressed/compressed ratio (text logs compress 5-30x).
MAX_RATIO = 200
#: Members smaller than this are exempt from the ratio check (tiny files compress oddly).
RATIO_MIN_BYTES = 1 << 20
#: Upper bound on the members of one archive.
MAX_MEMBERS = 100_000
#: How many archive levels may be opened: the archive itself and zips directly inside it.
MAX_DEPTH = 2

_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._ -]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20


def is_archive(path: Path | PurePosixPath) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_host(path: Path) -> str:
    """The host an archive stands for: its name without the suffix (``pc7.zip`` -> ``pc7``)."""
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return name


@dataclass
class Limits:
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: float = MAX_RATIO
    ratio_min_bytes: int = RATIO_MIN_BYTES
    members: int = MAX_MEMBERS
    depth: int = MAX_DEPTH


@dataclass
class Member:
    """One extracted member: where its bytes now are, and how to show it (``a.zip!dir/x.log``)."""

    path: Path
    display: str


@dataclass
class Extracted:
    """What came out of one archive: members to read, refusals, and a fatal reason if any."""

    archive: str
    members: list[Member] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    fatal: Note | None = None


class _Budget:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.declared = 0
        self.written = 0
        self.members = 0


class _OverBudget(Exception):
    """The archive as a whole is refused; ``why`` is the part of the ``archive_refused`` note that says why."""

    def __init__(self, why: dict):
        super().__init__(why["code"])
        self.why = why


def safe_member_name(name: str) -> str | None:
    """A relative POSIX path built from ``name``'s safe characters, or None when the name must be refused."""
    if not name or "\x00" in name or any(ord(c) < 32 for c in name):
        return None
    unified = name.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        return None
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    clean = []
    for part in parts:
        safe = _SAFE_CHARS.sub("_", part).strip(" ")
        if safe in ("", ".", ".."):
            safe = "_"
        clean.append(safe[:200])
    return "/".join(clean)


def _refusal(info: zipfile.ZipInfo, limits: Limits, where: str) -> Note | None:
    """The note refusing a member (located at ``where``), or None for a member that may be extracted."""
    mode = info.external_attr >> 16
    if mode:
        if stat.S_ISLNK(mode):
            return Note(where, "symlink_refused")
        kind = stat.S_IFMT(mode)
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            return Note(where, "special_file_refused")
    if info.flag_bits & 0x1:
        return Note(where, "encrypted_member_refused")
    if safe_member_name(info.filename) is None:
        return Note(where, "unsafe_member_name")
    if (info.file_size >= limits.ratio_min_bytes
            and info.file_size > limits.ratio * max(info.compress_size, 1)):
        return Note(where, "compression_ratio_refused",
                    {"ratio": round(info.file_size / max(info.compress_size, 1)), "limit": round(limits.ratio)})
    return None


def _unique(dest: Path, rel: str, used: set[str]) -> Path:
    candidate = rel
    n = 1
    while candidate.lower() in used:
        stem, dot, ext = rel.rpartition(".")
        candidate = f"{stem}~{n}.{ext}" if dot and stem else f"{rel}~{n}"
        n += 1
    used.add(candidate.lower())
    target = (dest / candidate).resolve()
    root = dest.resolve()
    if root not in target.parents:
        raise ValueError(f"member path escapes the extraction folder: {rel}")
    return target


def _copy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: _Budget) -> int:
    """Stream one member to ``target``, stopping at its declared size and at the budget."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zf.open(info) as src, open(target, "xb") as out:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            budget.written += len(chunk)
            if written > info.file_size or budget.written > budget.limits.total_bytes:
                raise _OverBudget(part("member_expands"))
            out.write(chunk)
    return written


def _extract_into(zf: zipfile.ZipFile, display: str, dest: Path, depth: int, budget: _Budget,
                  result: Extracted, used: set[str]) -> None:
    limits = budget.limits
    infos = zf.infolist()
    budget.members += len(infos)
    if budget.members > limits.members:
        raise _OverBudget(part("too_many_members", limit=limits.members))
    declared = sum(i.file_size for i in infos if not i.is_dir())
    budget.declared += declared
    if budget.declared > limits.total_bytes:
        raise _OverBudget(part("declares_too_much", size=budget.declared, limit=limits.total_bytes))
    for info in infos:
        if info.is_dir():
            continue
        where = f"{display}!{info.filename}"
        refusal = _refusal(info, limits, where)
        if refusal:
            result.notes.append(refusal)
            continue
        rel = safe_member_name(info.filename)
        assert rel is not None
        if is_archive(PurePosixPath(rel)):
            if depth + 1 >= limits.depth:
                result.notes.append(Note(where, "nested_too_deep", {"levels": limits.depth - 1}))
                continue
            holder = _unique(dest / "z", rel, set())
            try:
                _copy(zf, info, holder, budget)
                with zipfile.ZipFile(holder) as inner:
                    sub = holder.with_name(holder.name + ".d")
                    sub.mkdir(parents=True, exist_ok=True)
                    _extract_into(inner, where, sub, depth + 1, budget, result, set())
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                    RuntimeError, ValueError) as exc:
                result.notes.append(Note(where, "nested_archive_unreadable", {"error": f"{type(exc).__name__}: {exc}"}))
            finally:
                holder.unlink(missing_ok=True)
            continue
        target = _unique(dest / "f", rel, used)
        try:
            _copy(zf, info, target, budget)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                RuntimeError, ValueError) as exc:
            result.notes.append(Note(where, "member_unreadable", {"error": f"{type(exc).__name__}: {exc}"}))
            target.unlink(missing_ok=True)
            continue
        result.members.append(Member(target, where))


def extract(archive: Path, dest: Path, display: str | None = None, limits: Limits | None = None) -> Extracted:
    """Copy ``archive``'s safe members under ``dest`` (which must exist and be private). Never raises."""
    display = display or str(archive)
    limits = limits or Limits()
    result = Extracted(archive=display)
    budget = _Budget(limits)
    try:
        with zipfile.ZipFile(archive) as zf:
            _extract_into(zf, display, dest, 0, budget, result, set())
    except _OverBudget as exc:
        result.fatal = Note(display, "archive_refused", {"why": exc.why})
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        result.fatal = Note(display, "archive_unreadable", {"error": f"{type(exc).__name__}: {exc}"})
    if result.fatal:
        # nothing half-read is analysed: a refused archive contributes only its note
        for member in result.members:
            member.path.unlink(missing_ok=True)
        result.members = []
    result.members.sort(key=lambda m: m.display)
    return result


def private_dir(prefix: str = "analyzer-zip-") -> Path:
    """A fresh temporary folder only this user can read (mkdtemp creates it with mode 0700),
    locked while in use; first, folders of this naming left by killed runs are removed
    (:mod:`analyzer.leftovers`: an unpacked bundle is evidence that must not pile up)."""
    leftovers.sweep_dirs(prefix)
    return leftovers.held_dir(prefix)


def sweep_dead(prefix: str = "analyzer-zip-") -> None:
    """Remove what dead runs or workers unpacked (a worker ended outright cannot clean up)."""
    leftovers.sweep_dirs(prefix)


def remove_dir(path: Path) -> None:
    leftovers.release_dir(path)


def env_limits() -> Limits:
    """Limits, overridable by ANALYZER_ZIP_MAX_BYTES / ANALYZER_ZIP_MAX_RATIO (for unusually large
    bundles). A value that is not a positive number raises :class:`~analyzer.arguments.ArgumentError`
    (a ValueError) naming the variable: a typo must not silently leave the default limit in place."""
    limits = Limits()
    for name, attr, kind, what in (("ANALYZER_ZIP_MAX_BYTES", "total_bytes", int, "a whole number of bytes"),
                                   ("ANALYZER_ZIP_MAX_RATIO", "ratio", float, "a number")):
        text = os.environ.get(name, "").strip()
        if not text:
            continue
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value <= 0:
            raise ArgumentError(name, text, f"{what} above 0")
        setattr(limits, attr, value)
    return limits
