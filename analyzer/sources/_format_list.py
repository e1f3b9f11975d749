"""Reading ``Get-WinEvent | Format-List`` text back into records: which lines belong to which
record and property, and undoing PowerShell's wrapping at the console width.

PowerShell's list writer pads every name to the longest plus `` : `` and wraps each line of a
value to the console width counted in cells (East Asian wide characters take two): by words
in the cultures it word-wraps (en, fr, de, it, pt, es: a line keeps the space after its last
word, a word longer than a line is cut) and by characters in the others. An empty line of a
value is written as the padding alone. The reader used by :mod:`.windows_powershell`.
"""

from __future__ import annotations

from ._windows_text import cells

#: The console widths Windows gives a new console (legacy and Windows 10+).
DEFAULT_WIDTHS = (80, 120)


def wrap_width(lines: list[str], shapes: list[str]) -> tuple[int, bool]:
    """The console width the file was wrapped at (0 when nothing shows that it was), and whether
    it was wrapped by words.

    The width *W* is the widest property or continuation line (in cells). A line that a
    continuation line follows shows a wrap when it is full (not even the next line's
    first character, which may be two cells wide, fitted within *W*: cut there) or could
    not have taken the next line's first word (a word wrap, when it ends with the space
    PowerShell leaves there; see :func:`_wrapped_by_words` otherwise). That is a strong
    sign when the line ends with that space, or fills a usual console width (80, 120); one
    strong sign or two weak ones make the file wrapped. A single weak sign is not taken: a message line that really ends near the
    widest line (a short file has few lines to measure *W* by) would otherwise be joined.
    """
    idx = [i for i, sh in enumerate(shapes) if sh in ("property", "continuation")]
    widths = {i: cells(lines[i]) for i in idx}
    width = max(widths.values(), default=0)
    if width < 60:
        return 0, False
    continued = [i for i in idx if i + 1 < len(shapes) and shapes[i + 1] == "continuation"]
    widest = [cells(lines[i + 1].lstrip(" ")[:1]) for i in continued if widths[i] == width]
    if widest and min(widest) == 2 and width + 1 in DEFAULT_WIDTHS:
        width += 1  # the widest lines all stopped one cell short of a wide character
    strong = weak = 0
    by_words = None
    for i in continued:
        rest = lines[i + 1].lstrip(" ")
        spaced = lines[i].endswith(" ")
        if widths[i] + cells(rest[:1]) > width:  # full: not even the next character fitted
            strong, weak = (strong + 1, weak) if spaced or width in DEFAULT_WIDTHS else (strong, weak + 1)
        elif widths[i] + (0 if spaced else 1) + cells(rest.split(" ", 1)[0]) > width:
            strong, weak = (strong + 1, weak) if spaced else (strong, weak + 1)
            by_words = by_words or spaced  # only a word wrap leaves a line short, with its space
    if not (strong or weak >= 2):
        return 0, False
    return width, by_words if by_words is not None else _wrapped_by_words(lines, idx, continued)


def _wrapped_by_words(lines: list[str], idx: list[int], continued: list[int]) -> bool:
    """Whether a wrapped file whose short lines do not say so was wrapped by words: not when some
    line still ends with a space (PowerShell's word wrap leaves one at every short line, so the
    copy kept them and none was wrapped by words), else by the script of the wrapped values:
    PowerShell wraps by words in the Western cultures and by characters in the East Asian ones,
    whose messages hold wide characters (among device ids and paths: one in twenty is enough)."""
    if any(lines[i].endswith(" ") for i in idx):
        return False
    text = "".join(lines[i].split(" : ", 1)[-1] + lines[i + 1] for i in continued).replace(" ", "")
    wide = cells(text) - len(text)
    return wide * 20 < len(text)


class FormatListReader:
    """Format-List records as the lines are walked: the record being built, the property whose
    value continues, and how each continuation line joins it (see :meth:`continuation`)."""

    def __init__(self, lines: list[str], width: int, by_words: bool = False):
        self.lines, self.width, self.by_words = lines, width, by_words  # width 0: not wrapped
        self.out: list[dict] = []
        self.current: dict | None = None
        self.prop: str | None = None
        self.parts: list[str] = []
        self.value_col = 0
        self.prev_cells = 0
        self.blanks = 0

    def close_prop(self) -> None:
        if self.current is not None and self.prop is not None:
            self.current["props"][self.prop] = "".join(self.parts)
        self.prop, self.parts = None, []

    def close_record(self) -> None:
        self.close_prop()
        if self.current is not None and self.current["props"]:
            self.out.append(self.current)
        self.current = None

    def property(self, i: int, name: str, value: str | None) -> None:
        """Line ``i`` is ``Name : value``. Every record lists the same properties in the same
        order, so a record starts where its first property comes again (or any name repeats);
        a blank line does not decide it, since a message can hold blank lines and PowerShell
        writes them as padding that an editor may strip."""
        current = self.current
        if current is None or name == current["first"] or name in current["props"] or name == self.prop:
            self.close_record()
            self.current = {"props": {}, "line": i + 1, "ordinal": len(self.out) + 1, "first": name}
        else:
            self.close_prop()
        self.blanks = 0
        self.prop = name
        raw_value = value or ""
        self.parts = [raw_value[1:] if raw_value.startswith(" ") else raw_value]
        self.value_col = self.lines[i].index(":") + 2
        self.prev_cells = cells(self.lines[i])

    def continuation(self, i: int, indent: str, text: str | None) -> None:
        """Line ``i`` continues the current property's value: a wrap undone, or a line break.

        After a full line the pieces join directly (a cut), except in a file wrapped by words
        where the word at the edge and the next line's first word together fit in a line: that
        was a word wrap whose trailing space a copy dropped, so one space goes back. After a
        word wrap: directly when PowerShell's trailing space is still there, else with a space.
        """
        width, prev = self.width, self.lines[i - 1]
        extra = " " * max(0, len(indent) - self.value_col)
        piece = extra + (text or "")
        first = piece.split(" ", 1)[0]
        if self.blanks or not width:
            self.parts.append("\n" * (self.blanks + 1) + piece)
        elif self.prev_cells + cells(piece[:1]) > width:  # full: not even the next character fitted
            joint = cells(prev.rsplit(" ", 1)[-1] + first)
            dropped_space = self.by_words and not extra and not prev.endswith(" ") and joint <= width - self.value_col
            self.parts.append(" " + piece if dropped_space else piece)
        elif not extra and prev.endswith(" ") and self.prev_cells + cells(first) > width:
            self.parts.append(piece)
        elif not extra and self.prev_cells + 1 + cells(first) > width:
            self.parts.append(" " + piece)
        else:
            self.parts.append("\n" + piece)
        self.blanks = 0
        self.prev_cells = cells(self.lines[i])
