"""What ``--redact`` looks for: where identifiers stand in text, and every way one value may be spelt.

:mod:`analyzer.redact` does the replacing; this module knows two things about the evidence.

*Where an identifier stands*: the words, keys and path shapes around it (``ECID: 0x…``,
``C:\\Users\\<name>\\``, the last segment of a USB device instance path, a plist key, an event's
``<Computer>``), so a value is found in any text, not only in the columns that name it.
:func:`find` yields ``(kind, value)`` for each one.

*How one value is spelt elsewhere*: an ECID is one number, written in hex with or without ``0x``,
zero-padded to 16 digits, after a chip id in a UDID (``00008101-000A3D5C0E9B001E``, or without
the dash as a Windows instance path writes it) or in decimal; an IMEI or a phone number with or
without separators. Finding a value once is then enough: the redactor replaces every spelling of
it in every text, whichever spelling it was found in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Account names that identify nobody.
NOT_PERSONAL = {"public", "default", "default user", "all users", "shared", "guest", "defaultapppool", "system",
                "local service", "network service", "administrator", "admin", "root", "localsystem", "mobile",
                "n/a", "-", "none", "null", "%username%", "$user", "user", "username"}
#: What a field holds when it holds nothing: never an identifier ("udid: N/A").
PLACEHOLDERS = {"n/a", "na", "none", "null", "(null)", "nil", "unknown", "-", "--", "?", "0", "false", "true", "empty"}
NOT_DOMAINS = {"nt authority", "nt service", "window manager", "font driver host", "builtin", "iis apppool",
               "workgroup", "-", "n/a"}

_SEP = r"(?:\\{1,2}|/)"
_USER_DIRS = r"(?:users|documents and settings|docume~1|home)"
_NAME_CHAR = r"[^\\/:*?\"<>|\s,;'()\[\]{}]"
_KEYED = r"[\"']?\s*(?:[:=]\s*|</key>\s*<(?:string|integer)>)[\"']?"   # "Key: v", "key=v", "key":"v", plist
EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})")

#: (kind, lower-case words one of which the text must hold, pattern whose group 1 is the value).
_SIMPLE: list[tuple[str, tuple[str, ...], re.Pattern]] = [(kind, hints, re.compile(rx)) for kind, hints, rx in [
    # C:\Users\<name>\…, C:\Documents and Settings\<name>\…, /Users/<name>/, /home/<name>/, doubled \\ too
    ("user", ("users", "home", "docume"),
     r"(?i)" + _SEP + _USER_DIRS + _SEP + r"([^\\/:*?\"<>|\r\n\t]{1,64}?)(?=" + _SEP + ")"),
    ("user", ("users", "home", "docume"),   # a path that ends at a quote or prompt: "C:\Users\Mika Tanaka"
     r"(?i)" + _SEP + _USER_DIRS + _SEP + r"([^\\/:*?\"<>|\r\n\t]{1,64}?)(?=[\">])"),
    ("user", ("users", "home", "docume"),   # at the path's end: PS C:\Users\o'brien>, "/home/aoi"
     r"(?i)" + _SEP + _USER_DIRS + _SEP + rf"({_NAME_CHAR}(?:{_NAME_CHAR}|'(?={_NAME_CHAR})){{0,63}})"),
    ("user", ("user", "logname"), r"(?<![A-Za-z])(?:USERNAME|LOGNAME|USER)=\"?([^\s\"';,&\\/]{1,64})"),
    ("user", ("account name",), r"(?i)account ?name" + _KEYED + r"([^\s\"'<\\,;]{1,64})"),
    ("user", ("username",), r"(?i)<data name=['\"](?:subject|target)?username['\"]>([^<]{1,64})</data>"),
    ("domain", ("domain",), r"(?i)(?:account ?domain|userdomain)" + _KEYED + r"([^\s\"'<\\,;]{1,64})"),
    ("domain", ("domainname",), r"(?i)<data name=['\"](?:subject|target)?domainname['\"]>([^<]{1,64})</data>"),
    ("sid", ("s-1-5-21",), r"(?<![0-9A-Za-z-])(S-1-5-21(?:-[0-9]+){3,4})(?![0-9A-Za-z-])"),
    # ECID: 0x…, ecid:000…, ECID=123…, ApECID, the _ECID:…_ of a recovery-mode instance path, UniqueChipID
    ("ecid", ("ecid",), r"(?i)(?<![a-z])(?:ap_?)?ecid(?:[ _]?is)?" + r"(?:" + _KEYED + r"|[\s_#-]*)"
     + r"(0x[0-9a-f]{4,20}|[0-9a-f]{4,20})(?![0-9a-z])"),
    ("ecid", ("chip",), r"(?i)unique ?chip ?id" + _KEYED + r"(0x[0-9a-f]{4,20}|[0-9]{4,20})(?![0-9a-z])"),
    ("ecid", ("device",), r"(?i)\bdevice ([0-9a-f]{16}) \(udid"),
    # UDIDs: 40 hex digits (old style), <chip>-<ecid> (new style), and the new style without its dash
    ("udid", (), r"(?<![0-9A-Za-z])([0-9a-fA-F]{40})(?![0-9A-Za-z])"),
    ("udid", ("-",), r"(?<![0-9A-Za-z])([0-9a-fA-F]{8}-[0-9a-fA-F]{16})(?![0-9A-Za-z])"),
    ("udid", ("0000",), r"(?i)(?<![0-9a-z])(0000[0-9a-f]{4}00[0-9a-f]{14})(?![0-9a-z])"),
    ("udid", ("id",), r"(?i)(?:udid|unique ?device ?id|unique ?identifier|target ?identifier)" + _KEYED
     + r"([0-9a-f-]{24,48})"),
    # Serial Number: F2LX…, iSerialNumber 3 …, SerialNumber=…, "usb_serial": "…", serial number is …
    ("serial", ("serial",), r"(?i)(?<![a-z])(?:i?serial[ _]?(?:number|num|no)\.?"
     + r"(?:[\"']?\s*(?:[:=]|is)\s*|\s+(?:\d{1,3}\s+)?|</key>\s*<string>)|serial[\"']?\s*(?:[:=]|is)\s*)"
     + r"[\"'\[]?(?=[A-Za-z-]*\d)([A-Za-z0-9][A-Za-z0-9-]{5,39})(?![A-Za-z0-9])"),
    ("serial", ("srnm",), r"(?i)srnm:\[?([^\]\s_\[]{4,32})"),
    ("imei", ("imei",), r"(?i)(?<![a-z])imei(?: ?2)?(?:" + _KEYED + r"|\s+is\s+|\s*)"
     + r"(\d{2}[ -]?\d{6}[ -]?\d{6}[ -]?\d?)(?!\d)"),
    ("meid", ("meid",), r"(?i)(?<![a-z])meid(?:" + _KEYED + r"|\s+is\s+|\s*)([0-9a-f]{14})(?![0-9a-z])"),
    ("iccid", ("iccid",), r"(?i)(?<![a-z])iccid(?:" + _KEYED + r"|\s*)(\d{18,22})(?!\d)"),
    ("phone", ("phone",), r"(?i)phone[ _]?number" + _KEYED + r"(\+?[\d(][\d \t().-]{4,24}\d)"),
    # computer names: an event's <Computer>, "Computer: PC7", COMPUTERNAME=PC7, <Data Name='WorkstationName'>
    ("host", ("computer",), r"(?i)<computer>([^<\s]{1,255})</computer>"),
    ("host", ("computer", "machine", "workstation"),
     r"(?i)(?<![a-z])(?:computer(?:[ _]?name)?|(?:machine|workstation)[ _]?name)[\"']?\s*[:=]\s*[\"']?"
     r"([A-Za-z0-9][A-Za-z0-9._-]{0,254})"),
    ("host", ("workstationname",), r"(?i)<data name=['\"]workstationname['\"]>([^<\s]{1,255})</data>"),
]]

#: What :func:`find` needs before any of its patterns can match an ASCII text: one of these words
#: (lower case; the hints above, and the words find() itself tests), else a part of a match by the
#: patterns below (for the hints too common to test: "-", "0000", "id", and the hint-less 40-digit
#: UDID), which need no look-around. A text with none of them yields nothing (the redactor's
#: prefilter, :func:`analyzer.redact._may_hold`; a test holds these to the hints).
GATE_WORDS = tuple(sorted({h for _, hints, _ in _SIMPLE for h in hints} - {"-", "0000", "id"}
                          | {"user", "vid_", "name", "@"}))
GATE_PATTERNS = (r"[0-9a-fA-F]{40}", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{16}", r"(?i)0000[0-9a-f]{4}00[0-9a-f]{14}",
                 r"(?i)udid|unique ?device ?id|unique ?identifier|target ?identifier")

#: ``User Name: DOMAIN\name`` (Windows exports, Defender's "Detection User"): the domain and the user.
_ACCOUNT = re.compile(r"(?i)\buser(?: ?name)?\"?\s*[:=]\s*\"?([^\\\s:\"]{1,64})\\{1,2}([^\\\s,;\"]{1,64})")
#: The last segment of a USB device instance path (the device's iSerialNumber), in path or interface form.
_INSTANCE = re.compile(r"(?i)(?<![a-z])usb(?:\\{1,2}|#)vid_[0-9a-f]{4}&(?:amp;)?pid_[0-9a-f]{4}"
                       r"(?:&(?:amp;)?mi_[0-9a-f]{2})?(?:\\{1,2}|#)"
                       r"([^\\#\s\"'<>{}\[\]&,;]{4,128})(?=[\\#\s\"'<>{},;\]]|$)")
#: A device's name: "Mika's iPhone" names a person (plist, JSON detail and "Device Name:" text).
_DEVICE_NAME = [re.compile(rx) for rx in (
    r"(?i)<key>(?:device|display) ?name</key>\s*<string>([^<]{2,64})</string>",
    r"(?i)\"(?:device|display)_?name\"\s*:\s*\"((?:[^\"\\]|\\.){2,64})\"",
    r"(?im)(?<![a-z_])device ?name\s*[:=]\s*([^\"<>\r\n\t\\][^\"<>\r\n\t]{1,63}?)\s*$",
)]
_PHONE_IN_NAME = re.compile(r"\+?\d[\d \t().-]{5,22}\d")


def find(text: str) -> Iterator[tuple[str, str]]:
    """Every identifier the text shows by its context, as ``(kind, value)``."""
    low = text.lower()
    for kind, hints, rx in _SIMPLE:
        if not hints or any(h in low for h in hints):
            for m in rx.finditer(text):
                yield kind, m.group(1)
    if "user" in low:
        for m in _ACCOUNT.finditer(text):
            if m.group(1).lower() not in NOT_DOMAINS:
                yield "domain", m.group(1)
                yield "user", m.group(2)
    if "vid_" in low:
        for m in _INSTANCE.finditer(text):
            yield from _instance_segment(m.group(1))
    if "name" in low:
        for rx in _DEVICE_NAME:
            for m in rx.finditer(text):
                yield from device_name(m.group(1).replace('\\"', '"'))
    if "@" in text:
        for m in EMAIL.finditer(text):
            yield "email", m.group(1)


def _instance_segment(segment: str) -> Iterator[tuple[str, str]]:
    """A USB instance path's serial segment: a UDID in normal mode; in recovery/DFU mode
    ``CPID:…_ECID:…_SRNM:[…]``, whose ECID and serial the ``ecid``/``srnm`` patterns read."""
    segment = segment.rstrip(".:")
    if "ecid" in segment.lower() or "cpid" in segment.lower():
        return
    if udid_norm(segment):
        yield "udid", segment
    elif any(ch.isdigit() for ch in segment) and len(segment) >= 6:
        yield "serial", segment


def device_name(name: str) -> Iterator[tuple[str, str]]:
    """A device's name as a whole, and the e-mail addresses and phone numbers inside it."""
    name = name.strip()
    if len(name) < 3 or name.startswith("\\") or name.lower() in ("(null)", "null", "none", "n/a"):
        return
    yield "device", name
    for m in EMAIL.finditer(name):
        yield "email", m.group(1)
    for m in _PHONE_IN_NAME.finditer(name):
        if sum(ch.isdigit() for ch in m.group(0)) >= 7:
            yield "phone", m.group(0)


# -- spellings ------------------------------------------------------------------------------------

def ecid_values(text: str) -> list[int]:
    """The numbers an ECID's text may mean: ``0x…`` or hex letters are hex; all digits may be
    either (a 16-digit zero-padded hex ECID and a decimal one look alike), so both are kept."""
    t = text.strip().lower()
    try:
        if t.startswith("0x"):
            return [int(t, 16)]
        if re.search(r"[a-f]", t):
            return [int(t, 16)]
        return sorted({int(t, 10), int(t, 16)})
    except ValueError:
        return []


def udid_norm(text: str) -> str | None:
    """The one spelling of a UDID: 40 hex digits, or ``<8 chip>-<16 ecid>`` (the dash put back), upper case;
    None for anything else."""
    t = text.strip().upper()
    if re.fullmatch(r"[0-9A-F]{40}", t):
        return t
    bare = t.replace("-", "") if re.fullmatch(r"[0-9A-F]{8}-?[0-9A-F]{16}", t) else ""
    return f"{bare[:8]}-{bare[8:]}" if bare else None


def udid_ecid(norm: str) -> int | None:
    """The ECID a new-style UDID carries after its chip id."""
    return int(norm[9:], 16) if len(norm) == 25 else None


def ecid_literals(value: int) -> set[str]:
    """Spellings of an ECID the hex family in :func:`ecid_family` does not cover: decimal."""
    return {str(value)} if value >= 100_000 else set()


def ecid_family(hex_digits: list[str]) -> str:
    """One pattern for every hex spelling of the given ECIDs: with or without ``0x``, any zero
    padding, and after an 8-digit chip id with or without a dash (group ``chip``)."""
    return rf"(?P<chip>[0-9a-fA-F]{{8}}-?)?(?:0[xX])?0*(?P<ehex>{trie_pattern([h.lower() for h in hex_digits])})"


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", text)


def digit_variants(kind: str, value: str) -> set[str]:
    """The digit strings one IMEI or phone number may be written as: an IMEI with and without its
    check digit; a phone number with its country code or with the trunk 0 instead."""
    d = digits_of(value)
    out = {d}
    if kind == "imei" and len(d) == 15:
        out.add(d[:14])
    if kind == "phone" and value.strip().startswith("+"):
        out.update("0" + d[n:] for n in (1, 2, 3) if len(d) - n >= 7)
    return {v for v in out if len(v) >= 7}


def digits_pattern(digits: str) -> str:
    """``digits`` with any separators a person or a tool puts between them (``+81 90-1234-5678``)."""
    return r"\+?" + r"[ \t().-]{0,2}".join(digits)


def trie_pattern(words: list[str]) -> str:
    """One pattern for many literal words, their common prefixes shared (``abc(?:d|ef)?``): Python's
    ``re`` tries the alternatives of ``a|b|…`` one by one at every position of a text, so thousands of
    host and user names cost thousands of tries per character; a trie costs one per character. At each
    branch the longer continuation is tried first, so the longest word that ends at a boundary wins."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_body(trie)


def _trie_body(node: dict) -> str:
    branches = [re.escape(ch) + _trie_body(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return (body if len(branches) > 1 else f"(?:{body})") + "?"
    return body
