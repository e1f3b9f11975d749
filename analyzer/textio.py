"""Turning the bytes a helpdesk hands over into text, without guessing silently.

Windows writes logs in UTF-16LE with BOM (PowerShell 5.1 redirection, Event
Viewer), UTF-8 with or without BOM (PowerShell 7, Apple logs), or the ANSI code
page (cp1252; cp932 on Japanese Windows). Sniffing order follows
reference/windows-formats.md: BOM, then UTF-16 by NUL pattern, then strict
UTF-8, then cp932 when the bytes decode as Shift-JIS with Japanese characters,
else cp1252. Whatever was chosen is reported, and undecodable bytes are
replaced (never dropped) and counted.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    replaced: int  # how many undecodable byte sequences became U+FFFD


def _utf16_guess(raw: bytes) -> str | None:
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) / 2
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def detect_encoding(raw: bytes) -> str:
    """Name the encoding of ``raw`` (a head or a whole file)."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"  # codec consumes the BOM
    if raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    guess = _utf16_guess(raw)
    if guess:
        return guess
    sample = raw[:HEAD_BYTES]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is still UTF-8.
        if exc.start >= len(sample) - 3 and len(raw) > len(sample):
            return "utf-8"
    try:
        text = sample.decode("cp932")
        if any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text):
            return "cp932"
    except UnicodeDecodeError:
        pass
    return "cp1252"


def decode(raw: bytes, encoding: str | None = None) -> Decoded:
    """Decode a whole file, replacing (and counting) what cannot be decoded."""
    enc = encoding or detect_encoding(raw)
    text = raw.decode(enc, errors="replace")
    replaced = text.count("\ufffd") - (raw.decode(enc, errors="ignore").count("\ufffd") if "\ufffd" in text else 0)
    if text.startswith("\ufeff"):
        text = text[1:]
    return Decoded(text=text, encoding=enc, replaced=max(replaced, 0))


def looks_binary(raw: bytes) -> bool:
    """True for data that is not text in any encoding we read (NULs without a UTF-16 pattern)."""
    sample = raw[:4096]
    if not sample:
        return False
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_guess(sample):
        return False
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control > 0.1 * len(sample)
