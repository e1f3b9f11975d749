"""``--redact``: the same analysis with personal and device identifiers replaced by stable tokens.

Redaction is a transformation of the :class:`~analyzer.api.Analysis` (events
frame, file reports, attempts, incidents, host list), applied once before any
renderer runs, so the terminal report, the JSON document and every file output
inherit it without knowing about it.

Two passes. *Collect*: the columns that hold one identifier each (host, computer,
udid, serial, ecid, a backup's device name) and everything the texts reveal by
context (:mod:`analyzer.redact_patterns`: every event text column, every file
report's path, clock and notes, every incident field). *Rewrite*: every text of
every part is scrubbed of every spelling of every collected value, so a value
found once, in any input and any shape, is gone from all outputs, stderr
included (its notes are the file reports').

What is replaced (structured columns and free text alike):

* ECIDs (``ECID-xxxxxxxx``) in every spelling: ``0x`` hex, bare hex, any zero
  padding (the 16 digits of ``ECID:`` in a recovery-mode instance path), decimal,
  any case; the ``ecid`` column keeps its integer type and holds the token's number;
* UDIDs (``UDID-…``): 40 hex digits (old style) or ``<chip>-<ecid>``, also without
  the dash as a USB device instance path writes it (``USB\\VID_05AC&PID_12A8\\00008101000A…``,
  ``\\\\?\\USB#VID_05AC&PID_12A8#…#{…}``); an ECID after any 8-digit chip id is one;
* serial numbers (``SERIAL-…``): the ``serial`` column, ``Serial Number:``, ``iSerialNumber``,
  ``SerialNumber=``, ``srnm:[…]``, a USB instance path's serial segment;
  IMEI (``IMEI-…``), MEID (``MEID-…``) and ICCID (``ICCID-…``) beside their names;
* user names (``USER-…``) in ``C:\\Users\\<name>``, ``Documents and Settings``,
  ``/Users/<name>``, ``/home/<name>`` (in file names and the reports' paths too),
  ``USERNAME=``, ``Account Name:``, Windows ``User Name: DOMAIN\\name`` (the domain
  becomes ``DOMAIN-…``), and user account SIDs (``SID-…``);
* host labels (a PC's folder may be named after its user) and the computer names
  the logs record (``HOST-…``, case-insensitive, so ``PC7`` and ``pc7`` get one
  token): an event's ``Computer``, ``Computer:``, ``COMPUTERNAME=``;
* what names the owner: the device's name (``DEVICE-…``: "Mika's iPhone" names a
  person), phone numbers (``PHONE-…``, with or without separators) and e-mail
  addresses (``EMAIL-…``), also inside a device name.

A value too short to be told from ordinary words (a host folder called ``1``) is
tokenised in its own column but not replaced in free text.

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
from collections.abc import Iterable, Iterator
from typing import Any

import polars as pl

from . import redact_patterns as rp
from .model import EVENT_COLUMNS
from .notes import map_strings
from .parts import tables_facts
from .spill import Tables

TOKEN_HEX = 8
PREFIX = {"ecid": "ECID", "udid": "UDID", "serial": "SERIAL", "user": "USER", "host": "HOST", "domain": "DOMAIN",
          "sid": "SID", "device": "DEVICE", "phone": "PHONE", "email": "EMAIL", "imei": "IMEI", "meid": "MEID",
          "iccid": "ICCID"}
#: Detail fields of the backup sources that name the owner (kind of token for each).
OWNER_FIELDS = {"device_name": "device", "display_name": "device", "phone_number": "phone"}
KEY_ENV = "ANALYZER_REDACT_KEY"
#: Kinds whose values are written with separators between digits; matched by their digits.
DIGIT_KINDS = ("imei", "phone", "iccid")
#: An ECID read from text must be at least this large (real ones are 0x1000000000 and up): "ECID face"
#: is not one. A value in the ``ecid`` column is tokenised whatever it is; spelt out in text only from here.
MIN_TEXT_ECID = 0x10000000
MIN_SPELT_ECID = 0x100000

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


def _normal(kind: str, value: str | int) -> str:
    """The one spelling a value's token is made from, so every spelling of it gets the same token."""
    if kind == "ecid":
        return f"{value:X}" if isinstance(value, int) else str(value).strip().upper()
    text = str(value).strip()
    if kind == "udid":
        return rp.udid_norm(text) or text.upper()
    if kind in DIGIT_KINDS:
        return rp.digits_of(text) or text
    return text.upper() if kind in ("serial", "meid") else text.lower()


def _spelt_in_text(kind: str, text: str) -> bool:
    """Whether a value is distinctive enough to be replaced in free text: a host folder called "1" or
    "pc" is tokenised in its own column, but every "1" in a log line is not its name."""
    if text.isdigit() and len(text) < 6:
        return False
    return len(text) >= (2 if kind == "user" else 3)


class Redactor:
    """Collects identifiers from an analysis, then rewrites every text with their tokens."""

    def __init__(self, key: bytes | str | None = None):
        self.key = new_key(key)
        self.literals: dict[str, str] = {}     # lower-cased spelling -> token
        self.ecids: dict[int, int] = {}        # value -> token number (the ecid column)
        self.ecid_tokens: dict[int, str] = {}  # value -> token, for the values spelt out in text
        self.digits: dict[str, str] = {}       # digits of an IMEI/phone number spelling -> token
        self._regex: re.Pattern | None = None
        self._cache: dict[str, str] = {}

    # -- tokens -------------------------------------------------------------------------------
    def token(self, kind: str, value: str | int) -> str:
        norm = _normal(kind, value)
        digest = hmac.new(self.key, f"{kind}\x00{norm}".encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX]
        return f"{PREFIX[kind]}-{digest}"

    def add(self, kind: str, value: str | int | None) -> None:
        if value is None or value == "":
            return
        if kind == "ecid":
            for number in ([value] if isinstance(value, int) else rp.ecid_values(str(value))):
                self._add_ecid(int(number), from_text=not isinstance(value, int))
            return
        text = str(value).strip()
        low = text.lower()
        if (not text or low in rp.PLACEHOLDERS or (kind == "user" and low in rp.NOT_PERSONAL)
                or (kind == "domain" and low in rp.NOT_DOMAINS)):
            return
        norm = rp.udid_norm(text) if kind in ("udid", "serial") else None
        if norm:
            self._add_udid(text, norm)
        elif kind in DIGIT_KINDS:
            token = self.token(kind, text)
            for digits in rp.digit_variants(kind, text):
                self.digits.setdefault(digits, token)
                self._regex = None
        elif low not in self.literals and _spelt_in_text(kind, text):
            self.literals[low] = self.token(kind, text)
            if low.upper() != text.upper():  # "İ".lower() is "i" + a combining dot: keep it as written too
                self.literals[text] = self.literals[low]
            self._regex = None

    def _add_ecid(self, number: int, from_text: bool) -> None:
        if number < 0 or number >= 1 << 64 or (from_text and number < MIN_TEXT_ECID) or number in self.ecids:
            return
        token = self.token("ecid", number)
        self.ecids[number] = int(token.split("-", 1)[1], 16)
        if number >= MIN_SPELT_ECID:
            self.ecid_tokens[number] = token
            for spelling in rp.ecid_literals(number):
                self.literals.setdefault(spelling, token)
            self._regex = None

    def _add_udid(self, text: str, norm: str) -> None:
        token = self.literals.get(norm.lower()) or self.token("udid", norm)
        for spelling in (norm, norm.replace("-", ""), text):
            self.literals.setdefault(spelling.lower(), token)
        ecid = rp.udid_ecid(norm)
        if ecid is not None:
            self._add_ecid(ecid, from_text=True)
        self._regex = None

    def collect_text(self, text: str | None) -> None:
        """Find identifiers in free text by their context (paths, 'ECID:', 'Serial Number:' …)."""
        if text:
            for kind, value in rp.find(text):
                self.add(kind, value)

    # -- rewriting ---------------------------------------------------------------------------
    def _compiled(self) -> re.Pattern | None:
        if self._regex is None and (self.literals or self.ecid_tokens or self.digits):
            parts = []
            if self.literals:
                parts.append("(?P<lit>" + rp.trie_pattern(list(self.literals)) + ")")
            if self.ecid_tokens:
                parts.append("(?P<ecid>" + rp.ecid_family([f"{n:x}" for n in self.ecid_tokens]) + ")")
            if self.digits:
                ordered = sorted(self.digits, key=lambda s: (-len(s), s))
                parts.append("(?P<dig>" + "|".join(rp.digits_pattern(d) for d in ordered) + ")")
            self._regex = re.compile(f"(?<![0-9A-Za-z])(?:{'|'.join(parts)})(?![0-9A-Za-z])", re.IGNORECASE)
            self._cache = {}
        return self._regex

    def _replacement(self, m: re.Match) -> str:
        found = m.groupdict()
        if found.get("lit"):
            return self.literals.get(found["lit"].lower()) or self._literal_token(found["lit"])
        if found.get("ecid"):
            number = int(found["ehex"], 16)
            if found["chip"]:  # the ECID inside a UDID: the whole UDID is one identifier
                norm = f"{found['chip'][:8].upper()}-{number:016X}"
                return self.literals.get(norm.lower()) or self.token("udid", norm)
            return self.ecid_tokens[number]
        return self.digits[rp.digits_of(found["dig"])]

    def _literal_token(self, spelt: str) -> str:
        """The token of a literal matched case-insensitively whose ``lower()`` is not its key: Unicode
        case folding lets ``re`` match letters ``lower()`` keeps apart (the long s, the Kelvin sign)."""
        return next((token for low, token in self.literals.items()
                     if re.fullmatch(re.escape(low), spelt, re.IGNORECASE)), spelt)

    def may_change(self, text: pl.Expr) -> pl.Expr:
        """True where :meth:`scrub` may change a text (a superset, in polars): an ASCII text holding a
        spelling of a collected identifier (case aside), or any digit when digit spellings (IMEI,
        phone numbers, with separators between their digits) were collected; every non-ASCII text
        (Unicode case folding can match what an ASCII test would not)."""
        words = [*self.literals, *(f"{n:x}" for n in self.ecid_tokens)]
        parts = [text.str.len_bytes() != text.str.len_chars()]
        if words:
            parts.append(text.str.contains_any(words, ascii_case_insensitive=True))
        if self.digits:
            parts.append(text.str.contains("[0-9]"))
        return pl.any_horizontal(parts).fill_null(False)

    def scrub(self, text: Any) -> Any:
        if not isinstance(text, str) or not text:
            return text
        rx = self._compiled()
        if rx is None:
            return text
        hit = self._cache.get(text)
        if hit is None:
            hit = rx.sub(self._replacement, text)
            if len(self._cache) < 200_000:
                self._cache[text] = hit
        return hit

    def exact(self, kind: str, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        norm = rp.udid_norm(value) if kind in ("udid", "serial") else None
        if norm:
            return self.literals.get(norm.lower()) or self.token("udid", norm)
        return self.literals.get(value.strip().lower()) or self.token(kind, value)


def _strings(frame: pl.DataFrame, columns: Iterable[str]) -> Iterable[str]:
    """The distinct texts of ``columns`` in which :func:`~analyzer.redact_patterns.find` can find
    something (:func:`_may_hold`): the others would only cost its Python loop (an 800k-line log:
    153k texts, 4.2 s)."""
    for col in columns:
        if col in frame.columns and frame.schema[col] == pl.String:
            yield from _distinct(frame, col, _may_hold)


def _distinct(frame: pl.DataFrame, col: str, keep) -> list[str]:
    """The distinct non-null texts of ``col`` for which the polars test ``keep(pl.col(col))`` holds."""
    values = frame.get_column(col).drop_nulls().unique()
    return values.filter(values.to_frame().select(keep(pl.col(col))).to_series()).to_list()


def _may_hold(text: pl.Expr) -> pl.Expr:
    """True where :func:`~analyzer.redact_patterns.find` may find an identifier: a text with a gate
    word or a gate pattern (:data:`~analyzer.redact_patterns.GATE_WORDS`), and every text that is not
    ASCII (where Unicode case folding can make a pattern match what an ASCII test would not)."""
    gate = "|".join(f"(?:{p})" for p in rp.GATE_PATTERNS)
    return ((text.str.len_bytes() != text.str.len_chars())
            | text.str.contains_any(list(rp.GATE_WORDS), ascii_case_insensitive=True)
            | text.str.contains(gate))


def _texts(value: Any) -> Iterator[str]:
    """Every string inside a value: str, list, tuple, dict (keys too) and dataclass fields (notes)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from _texts(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(k)
            yield from _texts(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _texts(getattr(value, f.name))


def _redact_frame(frame: pl.DataFrame, r: Redactor, text_cols: Iterable[str], exact: dict[str, str]) -> pl.DataFrame:
    exprs = []
    for col in frame.columns:
        if col in exact and frame.schema[col] == pl.String:
            values = frame.get_column(col).drop_nulls().unique().to_list()
            mapping = {v: r.exact(exact[col], v) for v in values}
            exprs.append(pl.col(col).replace(mapping) if mapping else pl.col(col))
        elif col in text_cols and frame.schema[col] == pl.String:
            mapping = {v: r.scrub(v) for v in _distinct(frame, col, r.may_change)}
            mapping = {k: v for k, v in mapping.items() if k != v}
            exprs.append(pl.col(col).replace(mapping) if mapping else pl.col(col))
        elif col == "ecid" and r.ecids:
            exprs.append(pl.col(col).replace(r.ecids).cast(frame.schema[col]))
        else:
            exprs.append(pl.col(col))
    return frame.select(exprs)


#: A dict key that is a field name, never rewritten (``local_zone_method``, ``skew_s``).
_CODE_KEY = re.compile(r"[a-z][a-z0-9_]*")


def _scrub_obj(value: Any, r: Redactor) -> Any:
    if isinstance(value, str):
        return r.scrub(value)
    if isinstance(value, list):
        return [_scrub_obj(v, r) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub_obj(v, r) for v in value)
    if isinstance(value, dict):  # keys too (a clock's skew_s is keyed by file path), but not code-like ones
        return {(k if not isinstance(k, str) or _CODE_KEY.fullmatch(k) else r.scrub(k)): _scrub_obj(v, r)
                for k, v in value.items()}
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
    """The device names and phone numbers a backup folder records (``backup_info`` rows' detail), and
    the device's name its own syslog prints before each process (a backup run's ``session_start``)."""
    rows = events.filter((pl.col("kind") == "backup_info") | ((pl.col("kind") == "session_start")
                                                              & (pl.col("format") == "backup_device_syslog"))
                         ).get_column("detail").drop_nulls()
    for name, kind in OWNER_FIELDS.items():
        for value in rows.str.json_path_match(f"$.{name}").drop_nulls().unique().to_list():
            for found_kind, found in (rp.device_name(value) if kind == "device" else [(kind, value)]):
                r.add(found_kind, found)


def _event_frames(analysis) -> Iterator[pl.DataFrame]:
    """The run's rows, a file at a time while they are files (:class:`analyzer.spill.Tables`)."""
    held = analysis.__dict__.get("_events")
    if isinstance(held, Tables):
        for _, frame in held.each_frame():
            yield frame
    else:
        yield analysis.events


def _collect(analysis, r: Redactor, text_columns: list[str]) -> None:
    """Every identifier the analysis holds: the columns that name one, then what any text reveals."""
    for host in [*analysis.hosts, *(f.host for f in analysis.files), *(i.host for i in analysis.incidents)]:
        r.add("host", host)
    texts: dict[str, None] = {}
    for events in _event_frames(analysis):
        if not events.height:
            continue
        for name, kind in EXACT_COLUMNS.items():
            for value in events.get_column(name).drop_nulls().unique().to_list():
                r.add(kind, value)
        for value in events.get_column("ecid").drop_nulls().unique().to_list():
            r.add("ecid", int(value))
        _collect_owner(events, r)
        texts.update(dict.fromkeys(_strings(events, text_columns)))
    for item in [*analysis.files, *analysis.incidents]:
        texts.update(dict.fromkeys(_texts(item)))
    if analysis.attempts is not None and analysis.attempts.height:
        texts.update(dict.fromkeys(_strings(analysis.attempts, ("file",))))
    for text in texts:
        r.collect_text(text)


def redact(analysis, key: bytes | str | None = None, redactor: Redactor | None = None):
    """A redacted copy of ``analysis`` (the original is left as it was). Rows still on disk
    (:class:`analyzer.spill.Tables`) are read and redacted a file at a time into files of their own."""
    r = redactor or Redactor(key)
    held = analysis.__dict__.get("_events")
    text_columns = [c for c in EVENT_COLUMNS if c not in CODE_COLUMNS]
    _collect(analysis, r, text_columns)
    # rewrite every text field, so fields added later are covered too; ids and enums are kept
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
    attempts = analysis.attempts
    if attempts is not None and attempts.height:
        attempts = _redact_frame(attempts, r, ("file",), {"host": "host"})
    hosts = sorted({r.exact("host", h) for h in analysis.hosts})
    if isinstance(held, Tables):
        new_events = held.mapped(lambda frame: _redact_frame(frame, r, text_columns, EXACT_COLUMNS) if frame.height
                                 else frame, lambda host: r.exact("host", host))
        # what the reports need of the rows, found again from the redacted files
        facts, backups = tables_facts(new_events, attempts)
        return dataclasses.replace(analysis, files=files, events=new_events, incidents=incidents, attempts=attempts,
                                   hosts=hosts, facts=facts, host_backups=backups)
    events = analysis.events
    new_events = _redact_frame(events, r, text_columns, EXACT_COLUMNS) if events.height else events
    # (facts and backups the PCs computed hold unredacted names: they are found again from the rows)
    return dataclasses.replace(analysis, files=files, events=new_events, incidents=incidents, attempts=attempts,
                               hosts=hosts, facts=None, host_backups=None)
