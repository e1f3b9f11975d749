"""A model of how PowerShell lays out ``Format-List`` output, for making test inputs.

It follows PowerShell's list writer (ListWriter.cs, StringManipulationHelper): labels padded
to the longest name plus `` : ``, each line of a value wrapped to the field's width in console
cells, by words in the cultures PowerShell word-wraps (en, fr, de, it, pt, es; a word longer
than a line is cut, and a line keeps the space after its last word) and by characters in the
others; an empty line of a value is written as the padding alone; a blank line between
records and two before the first. It is a model for tests, not PowerShell's code.
"""

from __future__ import annotations

import re
import unicodedata


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cut(text: str, room: int, out: list[str], line: str) -> str:
    """Characters of ``text`` appended to ``line``, starting a new line whenever ``room`` is full."""
    for ch in text:
        if cells(line + ch) > room:
            out.append(line)
            line = ""
        line += ch
    return line


def wrap(value_line: str, room: int, word_wrap: bool) -> list[str]:
    if cells(value_line) <= room:
        return [value_line]
    out: list[str] = []
    if not word_wrap:
        out.append(_cut(value_line, room, out, ""))
        return out
    line = ""
    for word in [w for w in re.findall(r"[^ ]* ?", value_line) if w]:
        if cells(word) > room:
            line = _cut(word, room, out, line)
        elif cells(line) + cells(word) > room:
            out.append(line)
            line = word
        else:
            line += word
    out.append(line)
    return out


def format_list(records: list[dict[str, str]], width: int, word_wrap: bool = True) -> str:
    """``records`` (property name -> value, in order) as Format-List would write them at ``width``."""
    label_width = max(len(name) for rec in records for name in rec) + 3
    room = width - label_width
    lines = ["", ""]
    for rec in records:
        for name, value in rec.items():
            for k, value_line in enumerate(value.split("\n")):
                prefix = name.ljust(label_width - 3) + " : " if k == 0 else " " * label_width
                for j, piece in enumerate(wrap(value_line, room, word_wrap)):
                    lines.append((prefix if j == 0 else " " * label_width) + piece)
        lines.append("")
    lines.append("")
    return "\r\n".join(lines)
