"""``--redact``: the same analysis with personal and device identifiers replaced by stable tokens.

Redaction is a transformation of the :class:`~analyzer.api.Analysis` (events
frame, file reports, attempts, incidents, host list), applied once before any
renderer runs, so the terminal report, the JSON document and every file output
inherit it without knowing about it.

What is replaced, wherever it appears (structured columns and free text alike):

* ECIDs (``ECID-xxxxxxxx``) in every spelling: ``0x`` hex, bare hex, the
  16-digit form of USB instance paths, decimal; the ``ecid`` column keeps its
  integer type and holds the token's number (``0x`` + the token's hex digits);
* UDIDs (``UDID-…``): 40 hex digits or ``<chip>-<ecid>``;
* serial numbers (``SERIAL-…``): the ``serial`` column, ``Serial Number:``
  lines, ``srnm:[…]`` in USB instance paths;
* user names (``USER-…``) in ``C:\\Users\\<name>``, ``Documents and Settings``,
  ``/Users/<name>``, ``/home/<name>`` and Windows ``User Name: DOMAIN\\name``
  (the domain becomes ``DOMAIN-…``), and user account SIDs (``SID-…``);
* host labels and the computer names the logs record (``HOST-…``, case-insensitive,
  so ``PC7`` and ``pc7`` get one token);
* what a backup folder says about its owner: the device's name (``DEVICE-…``: "Mika's iPhone"
  names a person) and phone number (``PHONE-…``) from its plists, and e-mail addresses
  (``EMAIL-…``) wherever they appear (an Apple ID in a log line or a device name).

Tokens are an HMAC-SHA256 of the value under a key: per run (random) unless the
user gives one (``ANALYZER_REDACT_KEY``), so the same value gets the same token
within a run, and across runs only when the key is reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from typing import Any

import polars as pl

from .notes import map_strings

TOKEN_HEX = 8
PREFIX = {"ecid": "ECID", "udid": "UDID", "serial": "SERIAL", "user": "USER", "host": "HOST", "domain": "DOMAIN",
          "sid": "SID", "device": "DEVICE", "phone": "PHONE", "email": "EMAIL"}
#: Detail fields of the backup sources that name the owner (kind of token for each).
OWNER_FIELDS = {"device_name": "device", "display_name": "device", "phone_number": "phone"}
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})")
KEY_ENV = "ANALYZER_REDACT_KEY"

#: Account names that identify nobody.
NOT_PERSONAL = {"public", "default", "default user", "all users", "shared", "guest", "defaultapppool", "system",
                "local service", "network service", "administrator", "admin", "root", "localsystem"}
NOT_DOMAINS = {"nt authority", "nt service", "window manager", "font driver host", "builtin", "iis apppool"}

_SEP = r"(?:\\{1,2}|/)"
_USER_PATH = [
    # C:\Users\<name>\…, C:\Documents and Settings\<name>\…, C:\DOCUME~1\<name>\…, also with doubled backslashes
    re.compile(r"(?i)(?:[a-z]:)?" + _SEP + r"(?:users|documents and settings|docume~1)" + _SEP
               + r"([^\\/:*?\"<>|\r\n\t]{1,64}?)(?=" + _SEP + ")"),
    re.compile(r"(?i)(?:[a-z]:)" + _SEP + r"(?:users|documents and settings|docume~1)" + _SEP
               + r"([^\\/:*?\"<>|\s,;'()\[\]]{1,64})"),
    re.compile(r"(?<![A-Za-z0-9_.-])/(?:Users|home)/([^/\s:*?\"<>|,;'()\[\]]{1,64})"),
]
_ACCOUNT = re.compile(r"(?i)\buser(?: ?name)?\"?\s*[:=]\s*\"?([^\\\s:\"]{1,64})\\{1,2}([^\\\s,;\"]{1,64})")
#: Windows account SIDs of real users (S-1-5-21-…); well-known SIDs (S-1-5-18 …) stay.
_SID = re.compile(r"(?<![0-9A-Za-z-])(S-1-5-21(?:-[0-9]+){3,4})(?![0-9A-Za-z-])")
_ECID_TEXT = [
    re.compile(r"(?i)\becid(?: is)?\s*[:=#]?\s*(0x[0-9a-f]{4,20}|[0-9a-f]{4,20})(?![0-9a-z])"),
    re.compile(r"(?i)\bdevice ([0-9a-f]{16}) \(udid"),
]
_UDID_TEXT = [
    re.compile(r"(?<![0-9A-Za-z])([0-9a-fA-F]{40})(?![0-9A-Za-z])"),
    re.compile(r"(?<![0-9A-Za-z])([0-9a-fA-F]{8}-[0-9a-fA-F]{16})(?![0-9A-Za-z])"),
    re.compile(r"(?i)\budid\s*[:=]\s*([0-9a-f-]{16,48})"),
]
_SERIAL_TEXT = [
    re.compile(r"(?i)\bserial(?: number)?(?: is|\s*[:=])\s*\[?([A-Z0-9]{8,20})\]?"),
    re.compile(r"(?i)srnm:\[([^\]\s]{4,32})\]"),
]

#: String event columns that hold codes, not free text; every other String column is scanned and rewritten.
CODE_COLUMNS = ("format", "ts_raw", "usb_vid", "usb_pid", "device_mode", "chip_id", "board_id", "channel")
#: Event columns that hold one identifier each, mapped straight to a token.
EXACT_COLUMNS = {"host": "host", "computer": "host", "udid": "udid", "serial": "serial"}


def new_key(given: str | bytes | None = None) -> bytes:
    """The HMAC key: the one given, else ``$ANALYZER_REDACT_KEY``, else random for this run."""
    if given is None:
        given = os.environ.get(KEY_ENV) or None
    if given is None:
        return os.urandom(32)
    return given.encode("utf-8") if isinstance(given, str) else given


def _ecid_from_text(text: str) -> int | None:
    t = text.lower()
    try:
        if t.startswith("0x"):
            return int(t, 16)
        if re.search(r"[a-f]", t) or len(t) == 16:
            return int(t, 16)
        return int(t, 10)
    except ValueError:
        return None


def _ecid_spellings(value: int) -> set[str]:
    hx = f"{value:X}"
    out = {hx, f"0x{hx}", f"{value:016X}", f"0x{value:016X}", str(value)}
    return {s for s in out if len(s.removeprefix("0x")) >= 6}


class Redactor:
    """Collects identifiers from an analysis, then rewrites every text with their tokens."""

    def __init__(self, key: bytes | str | None = None):
        self.key = new_key(key)
        self.literals: dict[str, str] = {}     # lower-cased spelling -> token
        self.ecids: dict[int, int] = {}        # value -> token number
        self._regex: re.Pattern | None = None
        self._cache: dict[str, str] = {}

    # -- tokens -------------------------------------------------------------------------------
    def token(self, kind: str, value: str | int) -> str:
        norm = str(value).strip()
        norm = norm.upper() if kind in ("ecid", "udid", "serial") else norm.lower()
        digest = hmac.new(self.key, f"{kind}\x00{norm}".encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX]
        return f"{PREFIX[kind]}-{digest}"

    def add(self, kind: str, value: str | int | None) -> None:
        if value is None or value == "":
            return
        if kind == "ecid":
            number = value if isinstance(value, int) else _ecid_from_text(str(value))
            if number is None:
                return
            token = self.token("ecid", f"{number:X}")
            self.ecids[number] = int(token.split("-", 1)[1], 16)
            for spelling in _ecid_spellings(number):
                self.literals.setdefault(spelling.lower(), token)
            if not isinstance(value, int) and len(str(value)) >= 4:
                self.literals.setdefault(str(value).lower(), token)
            self._regex = None
            return
        text = str(value).strip()
        if not text or (kind == "user" and text.lower() in NOT_PERSONAL) or (kind == "domain" and text.lower() in NOT_DOMAINS):
            return
        if text.lower() not in self.literals:
            self.literals[text.lower()] = self.token(kind, text)
            self._regex = None

    def collect_text(self, text: str | None) -> None:
        """Find identifiers in free text by their context (paths, 'ECID:', 'Serial Number:' …)."""
        if not text:
            return
        for rx in _USER_PATH:
            for m in rx.finditer(text):
                self.add("user", m.group(1))
        for m in _ACCOUNT.finditer(text):
            if m.group(1).lower() not in NOT_DOMAINS:
                self.add("domain", m.group(1))
                self.add("user", m.group(2))
        for m in _SID.finditer(text):
            self.add("sid", m.group(1))
        for rx in _ECID_TEXT:
            for m in rx.finditer(text):
                self.add("ecid", m.group(1))
        for rx in _UDID_TEXT:
            for m in rx.finditer(text):
                self.add("udid", m.group(1))
        for rx in _SERIAL_TEXT:
            for m in rx.finditer(text):
                self.add("serial", m.group(1))
        if "@" in text:
            for m in _EMAIL.finditer(text):
                self.add("email", m.group(1))

    # -- rewriting ---------------------------------------------------------------------------
    def _compiled(self) -> re.Pattern | None:
        if self._regex is None and self.literals:
            alternatives = sorted(self.literals, key=lambda s: (-len(s), s))
            body = "|".join(re.escape(a) for a in alternatives)
            self._regex = re.compile(f"(?<![0-9A-Za-z])(?:{body})(?![0-9A-Za-z])", re.IGNORECASE)
            self._cache = {}
        return self._regex

    def scrub(self, text: Any) -> Any:
        if not isinstance(text, str) or not text:
            return text
        rx = self._compiled()
        if rx is None:
            return text
        hit = self._cache.get(text)
        if hit is None:
            hit = rx.sub(lambda m: self.literals[m.group(0).lower()], text)
            if len(self._cache) < 200_000:
                self._cache[text] = hit
        return hit

    def exact(self, kind: str, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        return self.literals.get(value.strip().lower()) or self.token(kind, value)


def _strings(frame: pl.DataFrame, columns: Iterable[str]) -> Iterable[str]:
    for col in columns:
        if col in frame.columns and frame.schema[col] == pl.String:
            yield from frame.get_column(col).drop_nulls().unique().to_list()


def _note_texts(note) -> list[str]:
    return [note.file, note.message, note.excerpt or ""]


def _redact_frame(frame: pl.DataFrame, r: Redactor, text_cols: Iterable[str], exact: dict[str, str]) -> pl.DataFrame:
    exprs = []
    for col in frame.columns:
        if col in exact and frame.schema[col] == pl.String:
            values = frame.get_column(col).drop_nulls().unique().to_list()
            mapping = {v: r.exact(exact[col], v) for v in values}
            exprs.append(pl.col(col).replace(mapping) if mapping else pl.col(col))
        elif col in text_cols and frame.schema[col] == pl.String:
            values = frame.get_column(col).drop_nulls().unique().to_list()
            mapping = {v: r.scrub(v) for v in values}
            mapping = {k: v for k, v in mapping.items() if k != v}
            exprs.append(pl.col(col).replace(mapping) if mapping else pl.col(col))
        elif col == "ecid" and r.ecids:
            exprs.append(pl.col(col).replace(r.ecids).cast(frame.schema[col]))
        else:
            exprs.append(pl.col(col))
    return frame.select(exprs)


def _scrub_obj(value: Any, r: Redactor) -> Any:
    if isinstance(value, str):
        return r.scrub(value)
    if isinstance(value, list):
        return [_scrub_obj(v, r) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub_obj(v, r) for v in value)
    if isinstance(value, dict):
        return {k: _scrub_obj(v, r) for k, v in value.items()}
    return value


def _scrubbed_fields(obj, r: Redactor, keep: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(obj):
        if f.name in keep or not f.init:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, (str, list, tuple, dict)):
            out[f.name] = _scrub_obj(value, r)
    return out


def _collect_owner(events: pl.DataFrame, r: Redactor) -> None:
    """The device names and phone numbers a backup folder records (``backup_info`` rows' detail)."""
    rows = events.filter(pl.col("kind") == "backup_info").get_column("detail").drop_nulls()
    for name, kind in OWNER_FIELDS.items():
        for value in rows.str.json_path_match(f"$.{name}").drop_nulls().unique().to_list():
            if len(value.strip()) >= 3:
                r.add(kind, value)


def redact(analysis, key: bytes | str | None = None, redactor: Redactor | None = None):
    """A redacted copy of ``analysis`` (the original is left as it was)."""
    r = redactor or Redactor(key)
    events = analysis.events
    # 1. collect: structured identifiers, then everything that free text reveals
    for host in analysis.hosts:
        r.add("host", host)
    for f in analysis.files:
        r.add("host", f.host)
    for inc in analysis.incidents:
        r.add("host", inc.host)
    if events.height:
        for name, kind in (("host", "host"), ("computer", "host"), ("udid", "udid"), ("serial", "serial")):
            for value in events.get_column(name).drop_nulls().unique().to_list():
                r.add(kind, value)
        for value in events.get_column("ecid").drop_nulls().unique().to_list():
            r.add("ecid", int(value))
        _collect_owner(events, r)
    text_columns = [c for c in events.columns if c not in CODE_COLUMNS]
    texts: list[str] = list(_strings(events, text_columns))
    for f in analysis.files:
        texts.append(f.path)
        for n in f.errors:
            texts.extend(_note_texts(n))
    for inc in analysis.incidents:
        texts.append(inc.file)
        texts.extend(e.get("text", "") for e in inc.evidence)
        texts.extend(e.get("file", "") for e in inc.evidence)
    for text in texts:
        r.collect_text(text)

    # 2. rewrite (every text field, so fields added later are covered too; ids and enums are kept)
    files = []
    for f in analysis.files:
        errors = [dataclasses.replace(n, file=r.scrub(n.file), params=map_strings(n.params, r.scrub),
                                      excerpt=r.scrub(n.excerpt))
                  for n in f.errors]
        changes = _scrubbed_fields(f, r, keep=("format", "encoding", "errors", "host"))
        files.append(dataclasses.replace(f, host=r.exact("host", f.host), errors=errors, **changes))
    incidents = []
    for inc in analysis.incidents:
        changes = _scrubbed_fields(inc, r, keep=("cause", "rules", "code_grade", "host"))
        incidents.append(dataclasses.replace(inc, host=r.exact("host", inc.host), **changes))
    new_events = _redact_frame(events, r, text_columns, EXACT_COLUMNS) if events.height else events
    attempts = analysis.attempts
    if attempts is not None and attempts.height:
        attempts = _redact_frame(attempts, r, ("file",), {"host": "host"})
    hosts = sorted({r.exact("host", h) for h in analysis.hosts})
    return dataclasses.replace(analysis, files=files, events=new_events, incidents=incidents, attempts=attempts,
                               hosts=hosts)
