"""The verdict as the person at the PC reads it: the cause in words first, how sure as a word beside
its number, the few lines of evidence that decide it, what was ruled out, then what to do.

Why a module of its own: the terminal report and its fleet part both print it, and it is the one
place where ids become words for the verdict (cause names from ``data/causes.toml``, rule titles
from each rule, phrases for the kinds of Windows evidence). An id never appears in the verdict
without its label; the forensic detail (rule ids, every evidence row) is in ``--details``, the
JSON document and the HTML page.
"""

from __future__ import annotations

from pathlib import PurePath

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..rules import rule_by_id
from .i18n import Catalogue
from .safe import shown

#: Confidence bands, highest first: (lowest confidence of the band, its catalogue key).
BANDS = ((0.8, "very_likely"), (0.6, "fairly_sure"), (0.4, "possible"), (0.0, "weak"))
MAX_REASONS = 4
MAX_RULED_OUT = 3


def band(confidence: float, cat: Catalogue) -> str:
    """How sure, in a word (a named cause only: an undetermined verdict has no band)."""
    key = next(k for floor, k in BANDS if confidence >= floor)
    return cat[f"words.band_{key}"]


def where(item: dict) -> str:
    """``file:line`` or ``file #record``, the file's bare name (the full path is in the files table)."""
    name = PurePath(item["file"]).name if item.get("file") else "?"
    return f"{name}:{item['line']}" if item.get("line") is not None else f"{name} #{item.get('record')}"


def cause_line(inc: dict, cat: Catalogue) -> Text:
    """``Most likely cause: USB connection (cable, port or hub) — fairly sure (0.75)``, or for an
    undetermined verdict ``Cause: not determined — …`` with the leading candidate in words."""
    cause, confidence = inc["cause"]["id"], float(inc["cause"]["confidence"])
    line = Text()
    if cause == "undetermined":
        line.append(f"{cat['words.cause_undetermined']}", style="bold yellow")
        alts = inc.get("alternatives") or []
        if alts and alts[0]["confidence"] > 0:
            line.append(" " + cat.text("words.leading", cause=cat.cause(alts[0]["id"]),
                                       confidence=f"{alts[0]['confidence']:.2f}"))
        return line
    line.append(f"{cat['words.most_likely']}: ", style="bold")
    line.append(cat.cause(cause), style="bold red")
    line.append(f" — {band(confidence, cat)} ({confidence:.2f})")
    return line


def event_words(row: dict, cat: Catalogue) -> str | None:
    """What a PC-side row says, in words, where its kind says it (``Windows saw the Apple device
    removed without warning``, ``Apple Mobile Device Service stopped``); None where the row's own
    text is the best words (a restore-log line)."""
    kind, subject, code = str(row.get("kind")), row.get("subject") or "", row.get("error_code")
    if row.get("attempt") is not None or not str(row.get("format") or "").startswith("windows"):
        return None
    if kind == "device_disconnect":
        return cat["words.windows_removed_surprise" if code == 23 else "words.windows_removed"]
    if kind == "device_connect":
        return cat["words.windows_connected"]
    if kind == "service_state" and code in (1, 4):
        return cat.text("words.service_stopped" if code == 1 else "words.service_running", service=subject)
    if kind == "service_crash":
        return cat.text("words.service_crashed", service=subject or "?")
    if kind == "app_crash" and subject:
        return cat.text("words.app_crashed", program=subject)
    if kind == "driver_load":
        return cat["words.driver_loaded"]
    return None


def reasons(inc: dict, cat: Catalogue) -> list[str]:
    """The 2–4 lines that decide the verdict: each rule that fired for the verdict's cause, heaviest
    first, with the rows it cited (first source and how many more), then the failure line itself
    with the code the user saw. A rule that fired for another cause is not why (it is in --details
    and the JSON)."""
    by_rule: dict[str, list[dict]] = {}
    for e in inc["evidence"]:
        if e.get("rule"):
            by_rule.setdefault(e["rule"], []).append(e)
    cause, rules = inc["cause"]["id"], rule_by_id()
    own = [r for r in by_rule if cause == "undetermined" or getattr(rules.get(r), "cause", cause) == cause]
    own.sort(key=lambda r: -getattr(rules.get(r), "weight", 0.0))
    out = []
    for rule in own[:MAX_REASONS - 1]:
        rows = by_rule[rule]
        more = f" {cat.text('words.more_rows', n=len(rows) - 1)}" if len(rows) > 1 else ""
        out.append(f"{cat.rule_title(rule)} — {where(rows[0])}{more}")
    result = next((e for e in inc["evidence"] if e["kind"] == "result"), None)
    if result is not None:
        code = inc.get("error_code")
        text = (cat.text("words.ended_with", operation=cat.operation(inc.get("operation")), code=code)
                if code is not None else cat.text("words.ended_failed", operation=cat.operation(inc.get("operation"))))
        out.append(f"{text} — {where(result)}")
    return out[:MAX_REASONS]


def items(marks: list[str], texts: list[str], style: str = "") -> Table:
    """A list whose wrapped lines stay under their text, not under the bullet (a hanging indent)."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for mark, text in zip(marks, texts):
        grid.add_row(Text(f"  {mark}"), Text(text, style=style))
    return grid


def _ruled_out(inc: dict, cat: Catalogue, undetermined: bool) -> list:
    """The causes weighed and set aside: those with some evidence, one line each in words; the
    ones with none counted in a line."""
    alts = inc.get("alternatives", [])[1 if undetermined else 0:]
    weighed = [a for a in alts if a["confidence"] > 0][:MAX_RULED_OUT]
    out: list = []
    if weighed:
        out.append(items(["•"] * len(weighed), [f"{cat.cause(a['id'])}: {a['why_not']}" for a in weighed]))
    rest = len(alts) - len(weighed)
    if rest:
        out.append(Text("  " + cat.text("words.more_ruled_out", n=rest), style="dim"))
    return out


def verdict_panel(inc: dict, cat: Catalogue) -> Panel:
    """One incident's verdict in words (``inc`` is :func:`analyzer.report.json_doc.incident_dict`)."""
    undetermined = inc["cause"]["id"] == "undetermined"
    colour = "yellow" if undetermined else "red"
    lines: list = [cause_line(inc, cat)]
    if inc.get("reported_time"):
        lines.append(Text(shown(inc["reported_time"]["text"]), style="dim"))
    if inc.get("code_meaning"):
        lines.append(Text(f"{cat['common.error']} {inc['error_code']}: {inc['code_meaning']}", style="dim"))
    if inc.get("space"):
        lines.append(Text(shown(inc["space"]["text"]), style="dim"))
    if inc.get("failed_at") and not inc.get("reported"):  # a reported one says where it was placed
        lines.append(Text(cat.text("words.when", at=inc["failed_at"].replace("T", " ").rstrip("Z")[:19]), style="dim"))
    why = reasons(inc, cat)
    if why:
        lines.append(Text(f"\n{cat['words.why']}:", style="bold"))
        lines.append(items(["•"] * len(why), [shown(r) for r in why]))
    ruled_out = _ruled_out(inc, cat, undetermined)
    if ruled_out:
        lines.append(Text(f"\n{cat['words.ruled_out']}:", style="bold"))
        lines.extend(ruled_out)
    if inc.get("missing"):
        lines.append(Text(f"\n{cat['terminal.missing']}:", style="bold"))
        lines.append(items(["-"] * len(inc["missing"]), inc["missing"]))
    if inc.get("remedy"):
        lines.append(Text(f"\n{cat['terminal.remedy']}:", style="bold"))
        lines.append(items([f"{i}." for i in range(1, len(inc["remedy"]) + 1)], inc["remedy"]))
    title = f"{cat['terminal.verdict']} — {shown(inc['host'])} — {shown(_what(inc, cat))}"
    return Panel(Group(*lines), title=Text(title), title_align="left", border_style=colour, expand=False)


def _what(inc: dict, cat: Catalogue) -> str:
    """What failed, for the panel's title: ``iTunes_restore.log, restore attempt 1``."""
    if inc.get("reported"):
        return inc["what"]
    name = PurePath(inc["file"]).name if inc.get("file") else "?"
    return f"{name}, {cat.operation(inc.get('operation'))} {cat['common.attempt']} {inc.get('attempt')}"


def backup_note(b: dict, cat: Catalogue) -> str:
    """What the history says beside a backup (terminal and HTML): superseded by a later finished one,
    how a run that named no device was tied to one, or that it could not be."""
    notes = []
    at = b.get("superseded_by")
    if at is not None:
        stamp = at.replace("T", " ")[:16] if isinstance(at, str) else at.strftime("%Y-%m-%d %H:%M")
        notes.append(cat.text("terminal.backup_superseded", at=stamp))
    if b.get("udid_from") in ("folder_written", "folder_named", "untied"):
        notes.append(cat[f"terminal.backup_{b['udid_from']}"])
    return "; ".join(notes)
