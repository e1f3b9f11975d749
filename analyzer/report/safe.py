"""Text from the input made safe to show: control characters and bidi overrides made visible.

Why: a log line or a file name is the input's, not ours. An ESC starts a terminal escape sequence
(colours, a rewritten title, a cleared screen), a BEL rings, a carriage return overwrites what the
line said, and a right-to-left override (U+202E) shows ``gol.exe`` for ``exe.log``. The terminal
report and the HTML page show each such character as its escape (``\\x1b``, ``\\u202e``), whatever
the colour setting; the JSON document keeps them, escaped as JSON escapes them. Rich markup in
input text (``x[link=…]y.log``) is never interpreted: the reports put input text into
:class:`rich.text.Text`, which takes it literally, never into a string rich would parse.
"""

from __future__ import annotations

import re

#: C0 (except tab and line feed) and C1 controls, DEL, and the bidi embeddings, overrides,
#: isolates and marks.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text) -> str:
    """``text`` (any value; None is empty) with every unsafe character written as its escape."""
    return UNSAFE.sub(_visible, "" if text is None else str(text))

