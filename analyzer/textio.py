"""Turning the bytes a helpdesk hands over into text, without guessing silently.

Windows writes logs in UTF-16LE with BOM (PowerShell 5.1 redirection, Event
Viewer), UTF-8 with or without BOM (PowerShell 7, Apple logs), or the ANSI code
page (cp1252; cp932 on Japanese Windows). Sniffing order follows
reference/windows-formats.md: BOM, then UTF-16 by NUL pattern, then strict
UTF-8, then the East Asian ANSI code pages (cp932 with kana, cp949 with Hangul,
GBK or Big5 with ideographs: wevtutil and Event Viewer text saved on a Japanese,
Korean or Chinese Windows), else cp1252. Whatever was chosen is reported, and undecodable bytes are
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
    if _mostly_utf8(sample):
        return "utf-8"
    return _east_asian(sample) or "cp1252"


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few bad bytes (a crash mid-write, a pasted fragment) rather than a legacy code
    page: its well-formed multi-byte characters outnumber its bad sequences two to one. Text in a
    legacy code page almost never forms a valid multi-byte UTF-8 sequence, so one bad byte no longer
    re-encodes a whole UTF-8 file (and garbles its Japanese user names)."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - sample.decode("utf-8", errors="ignore").count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return good >= 2 * max(bad, 1)


def _kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff"


def _hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


#: The ANSI code pages of East Asian Windows, with the script that shows a decoding is right: Japanese
#: has kana, Korean Hangul; Chinese has neither, and its two code pages are told apart by which one
#: decodes the bytes at all (their lead and trail byte ranges differ) and, failing that, by which
#: gives more common ideographs.
_EAST_ASIAN = (("cp932", _kana), ("cp949", _hangul), ("gbk", _han), ("big5", _han))


def _in_words(text: str, script) -> bool:
    """True when the script's characters mostly stand next to each other, as words of that language
    do; Western text read in the wrong code page (``für`` as ``f黵``) gives lone ones amid Latin letters."""
    marks = [script(ch) for ch in text]
    lone = sum(1 for i, m in enumerate(marks) if m and not (i and marks[i - 1]) and not (i + 1 < len(marks) and marks[i + 1]))
    hits = sum(marks)
    return hits >= 2 and lone <= 0.4 * hits


def _east_asian(sample: bytes) -> str | None:
    """The East Asian code page ``sample`` (not UTF-8) is written in, or None."""
    scores = []
    for name, script in _EAST_ASIAN:
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        if _in_words(text, script):
            hits = sum(1 for ch in text if script(ch))
            scores.append((hits / max(1, sum(1 for ch in text if ord(ch) > 127)), name))
    if not scores:
        return None
    found = dict((n, share) for share, n in scores)
    if "cp932" in found:  # kana: Japanese (other code pages' bytes never decode to kana in cp932)
        return "cp932"
    if found.get("cp949", 0) >= 0.5:  # Korean text is mostly Hangul; Chinese bytes read as cp949 are not
        return "cp949"
    chinese = [(share, n) for share, n in scores if n in ("gbk", "big5")]
    return max(chinese or scores)[1]


#: Characters of a file's start that decide its line ends (see ``cr_ends_lines``).
LINE_END_SAMPLE = 1 << 16


def cr_ends_lines(start: str) -> bool:
    """Does a lone CR end a line in the file that starts with ``start``? Only in a file of CR
    line ends (no LF in its start: a classic Mac text, a tool's output converted that way)."""
    sample = start[:LINE_END_SAMPLE]
    return "\r" in sample and "\n" not in sample


def line_list(text: str) -> list[str]:
    """The lines of ``text`` as ``grep -n`` and ``sed -n Np`` number them: CRLF and LF end a line.
    A lone CR stays inside its line (a console's progress redraw, a damaged copy): counting it as
    a line end would shift every later line number away from what the examiner finds with the
    ordinary tools. Only a file of CR line ends is split at CRs (``cr_ends_lines``). One rule for
    the whole package: ``lines.LineSplitter`` applies it to a file read a piece at a time."""
    if cr_ends_lines(text):
        return text.split("\r")
    return text.replace("\r\n", "\n").split("\n")


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
    nuls = sample.count(0)
    if nuls > max(8, len(sample) // 200):
        return True  # a stray NUL or two (a crash while writing, a damaged copy) does not make text binary
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control > 0.1 * len(sample)
