"""What the terminal report says when a PC has no failed attempt: never "no failed restore" unless
a log that records restores (or backups) was read and showed none.

Why: after a missing path, an empty folder, a binary file, unrelated files, or Windows logs alone,
"No failed restore attempt found." reads as "the restore was fine". The report says instead what
was given, what was recognised and what was not, what the PC's own logs show of Apple's device and
service, and what to collect to answer the question.
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePath

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from ..correlate import device_activity_where
from .i18n import Catalogue
from .safe import shown
from .verdict_words import event_words, items

MAX_NAMES = 4
#: What the PC saw that can matter to a restore (arrivals, a running service, a loaded driver cannot).
SIGNS = ("device_disconnect", "service_crash", "app_crash")


def _names(files: list) -> str:
    names = [shown(PurePath(f.path).name) for f in files[:MAX_NAMES]]
    return ", ".join(names) + (f" (+{len(files) - MAX_NAMES})" if len(files) > MAX_NAMES else "")


def _pc_saw(analysis, host: str | None, cat: Catalogue) -> str | None:
    """What the PC's own logs show of Apple's device and software, counted by what it was."""
    counts: Counter = Counter()
    for name in ([host] if host is not None else analysis.hosts):
        for row in analysis.rows_where(device_activity_where(name), name).to_dicts():
            words, kind = event_words(row, cat), str(row["kind"])
            if words and (kind in SIGNS or (kind == "service_state" and row["error_code"] == 1)):
                counts[words] += 1
    return ", ".join(f"{w} ({n})" for w, n in counts.most_common(4)) or None


def _attempt_outcomes(attempts: list[dict], cat: Catalogue) -> str:
    counts = Counter(a["outcome"] for a in attempts)
    return ", ".join(f"{n} {cat.section('outcome').get(o, o)}" for o, n in counts.items())


def no_incident(analysis, host: str | None, console: Console, cat: Catalogue) -> None:
    """The statement for a PC (all PCs when ``host`` is None) without a failed attempt."""
    attempts = [a for a in analysis.attempts.to_dicts() if host is None or a["host"] == host]
    if attempts:
        console.print(Text(cat.text("words.no_failure", n=len(attempts), outcomes=_attempt_outcomes(attempts, cat)),
                           style="bold green"))
        return
    files = [f for f in analysis.files if host is None or f.host == host]
    recognised = [f for f in files if f.format]
    unread = [f for f in files if not f.format]
    lines: list = [Text(cat["words.no_operation_log"], style="bold yellow")]
    lines.append(Text(cat.text("words.given", n=len(files), names=_names(files) or "—")))
    if recognised:
        formats = ", ".join(sorted({f.format for f in recognised}))
        lines.append(Text(cat.text("words.recognised", n=len(recognised), formats=formats)))
    if unread:
        reasons = "; ".join(f"{shown(PurePath(f.path).name)}: {shown(cat.note(f.errors[0]) if f.errors else f.status)}"
                            for f in unread[:MAX_NAMES])
        more = f" (+{len(unread) - MAX_NAMES})" if len(unread) > MAX_NAMES else ""
        lines.append(Text(cat.text("words.not_recognised", n=len(unread), reasons=reasons + more)))
    saw = _pc_saw(analysis, host, cat)
    if saw:
        lines.append(Text(cat.text("words.pc_saw", what=saw)))
    lines.append(Text(f"\n{cat['words.collect']}:", style="bold"))
    collect = [cat["words.collect_restore_log"]]
    if not any(f.format and f.format.startswith("windows") for f in recognised):
        collect.append(cat["missing.windows_event_logs"])
    lines.append(items(["-"] * len(collect), collect))
    title = cat["words.nothing_title"] + (f" — {shown(host)}" if host else "")
    console.print(Panel(Group(*lines), title=Text(title), title_align="left", border_style="yellow", expand=False))
