"""Logs as people paste them: a margin on every line that is not part of the log.

A log quoted in a mail (``> ``), listed on a pastebin (``- ``), indented in a document or a ticket,
tailed by a tool that prefixes every line (``name:debug [syslog] ``), shown with a line-number
gutter (``12 | ``) or inside a table (a trailing `` |``) is still the log. :func:`detect` finds
such a margin from the lines a file starts with; :func:`strip` removes it from every line that
carries it, line for line, so line numbers keep pointing into the original file and every
original line is the margin plus the text the sources read. The file's report says what was
removed and which lines did not carry it.

Sniffing stays by content: :mod:`analyzer.ingest` keeps the margin only when it does not make a
recognised log unrecognised (``>>>`` opens setupapi sections; it is not a quote) and, for a
literal prefix of any other text than whitespace, quote, list and table marks or a gutter of
consecutive numbers (a ``relay`` prefix, not ``decorative``), only when the text without it is a
log some source recognises and the text with it is not.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .textio import line_list

#: Marks a document, a mail or a list puts before quoted lines.
DECORATION = re.compile(r"^[ \t>|#*+\-]+$")
#: A line-number gutter: digits, then a separator, then the line.
GUTTER = re.compile(r"^[ \t]*(\d{1,7})(?:[ \t]*[:|.)\]][ \t]?|[ \t]+)")
#: A trailing table cell border (`` |``, `` | |``).
TABLE_SUFFIX = re.compile(r"(?:[ \t]*\|)+[ \t]*$")
#: Lines looked at to decide (the head of the file).
SAMPLE_LINES = 400
#: Lines at each edge of the sample that may lack a quote or relay prefix (a mail's "On … wrote:").
EDGE_EXCEPTIONS = 3


@dataclass(frozen=True)
class Margin:
    """What to remove from each line: a literal ``prefix`` or a numeric ``gutter``, and a table
    ``suffix``. ``decorative`` margins are removed whatever the text is; relay prefixes only
    when that makes the file recognisable."""

    prefix: str = ""
    gutter: bool = False
    suffix: bool = False
    decorative: bool = True

    def describe(self) -> dict:
        return {"prefix": self.prefix, "gutter": self.gutter, "suffix": self.suffix}


def _lines(text: str) -> list[str]:
    return line_list(text)


def _content(lines: list[str]) -> list[tuple[int, str]]:
    """Lines with text of their own: not blank, and not a quote or list mark alone (``>``)."""
    return [(i, line) for i, line in enumerate(lines) if line.strip() and not DECORATION.match(line.strip())]


def _only_edges(missing: list[int], content: list[tuple[int, str]]) -> bool:
    """True when the lines lacking a margin are a few at the start or the end, none in between."""
    if not missing:
        return True
    order = [i for i, _ in content]
    head = set(order[:EDGE_EXCEPTIONS])
    tail = set(order[-EDGE_EXCEPTIONS:])
    return all(i in head or i in tail for i in missing) and len(order) - len(missing) >= max(2, len(missing))


def _carries(line: str, prefix: str) -> bool:
    return line.startswith(prefix) or line.strip() == prefix.strip()  # ``>`` alone: a quoted blank line


def _shared_start(texts: list[str]) -> str:
    """The longest start shared by all of ``texts`` but at most EDGE_EXCEPTIONS lines at either end
    (fewest left out first, and never more than are left in)."""
    n = len(texts)
    for left_out in range(2 * EDGE_EXCEPTIONS + 1):
        if n - left_out < max(2, left_out):
            break
        found = [os.path.commonprefix(texts[k:n - (left_out - k)])
                 for k in range(max(0, left_out - EDGE_EXCEPTIONS), min(left_out, EDGE_EXCEPTIONS) + 1)]
        best = max(found, key=len, default="")
        if best:
            return best
    return ""


def _prefix(content: list[tuple[int, str]]) -> tuple[str, bool] | None:
    """The prefix the content lines share, and whether it is decorative; None when there is none.

    Whitespace must be on every line. Quote, list and relay prefixes may be missing from a few
    lines at the edges (a mail's "On … wrote:"), never from lines in between.
    """
    texts = [line for _, line in content]
    common = _shared_start(texts)
    marks = re.match(r"^[ \t>|#*+\-]*", common).group(0)
    if marks and not marks.strip():
        return (marks, True) if all(line.startswith(marks) for line in texts) else None
    if marks:  # a quote or list mark and one space after it: further indentation is the log's own
        end = len(marks.rstrip(" \t"))
        candidate, decorative = marks[:end + 1] if marks[end:end + 1] in (" ", "\t") else marks[:end], True
    else:
        cut = max(common.rfind(" "), common.rfind("\t"))
        candidate, decorative = (common[:cut + 1] if cut >= 0 else ""), False
    if not candidate.strip():
        return None
    missing = [i for i, line in content if not _carries(line, candidate)]
    return (candidate, decorative) if _only_edges(missing, content) else None


def _gutter(content: list[tuple[int, str]]) -> bool:
    numbers = []
    for _, line in content:
        m = GUTTER.match(line)
        if not m:
            return False
        numbers.append(int(m.group(1)))
    steps = sum(1 for a, b in zip(numbers, numbers[1:]) if b == a + 1)
    return len(numbers) >= 3 and steps >= 0.9 * (len(numbers) - 1)


def detect(text: str) -> Margin | None:
    """The margin of ``text`` (the head of a file is enough), or None when its lines have none."""
    content = _content(_lines(text)[:SAMPLE_LINES])
    if len(content) < 2:
        return None
    suffix = all(TABLE_SUFFIX.search(line) for _, line in content)
    if suffix:
        content = [(i, TABLE_SUFFIX.sub("", line)) for i, line in content]
    if _gutter(content):
        return Margin(gutter=True, suffix=suffix)
    found = _prefix(content)
    if found is None:
        return Margin(suffix=True) if suffix else None
    prefix, decorative = found
    return Margin(prefix=prefix, suffix=suffix, decorative=decorative)


def _strip_line(line: str, margin: Margin) -> tuple[str, bool]:
    """The line without the margin, and whether it carried the margin."""
    out, had = line, True
    if margin.suffix:
        out, n = TABLE_SUFFIX.subn("", out)
        had = had and bool(n)
    if margin.gutter:
        m = GUTTER.match(out)
        out, had = (out[m.end():], had) if m else (out, False)
    elif margin.prefix:
        if out.startswith(margin.prefix):
            out = out[len(margin.prefix):]
        elif _carries(out, margin.prefix):
            out = ""
        else:
            had = False
    return out, had


def strip(text: str, margin: Margin) -> tuple[str, list[int]]:
    """``text`` without ``margin`` on every line that has it (line endings become ``\\n``, the
    number of lines is kept), and the 1-based numbers of the non-blank lines that lacked it."""
    lines = _lines(text)
    out, lacking = [], []
    for number, line in enumerate(lines, 1):
        stripped, had = _strip_line(line, margin)
        out.append(stripped)
        if not had and line.strip():
            lacking.append(number)
    return "\n".join(out), lacking
