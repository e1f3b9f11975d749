"""The console the terminal report is printed on, and the width below which tables go compact.

Shared by the single-PC and fleet parts of the terminal report (a module of its own, so
neither imports the other for it).
"""

from __future__ import annotations

import os

from rich.console import Console

#: Width of the report when stdout is not a terminal (a file, a pipe, a CI log) and COLUMNS is not
#: set: wide enough that paths and verdicts are not folded into columns of a few letters.
PIPE_WIDTH = 160

#: Below this console width the tables put several counts in one column (80-column terminals), and the
#: timeline puts each row's kind and source under its event, so the event keeps most of the line (four
#: columns left it 13 characters at 80, and broke words mid-token).
NARROW = 120


def stdout_console() -> Console:
    """The terminal's width (and colour) on a terminal; elsewhere COLUMNS if set, else
    PIPE_WIDTH, and no colour. Markup is off: file names and log text are printed as written (a
    file named ``[/x].log`` or a log line holding ``[bold]`` is text, never a style or a MarkupError);
    the report styles with ``Text`` objects."""
    probe = Console(markup=False)
    if probe.is_terminal:
        return probe
    columns = os.environ.get("COLUMNS", "")
    return Console(markup=False, width=int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH)
