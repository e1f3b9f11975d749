"""The terminal report: coverage, a timeline per restore attempt, and a verdict panel.

Written for the person at the PC: the timeline shows only what matters
(phases, transitions, disconnects, errors, the failure, Windows evidence in the
window), marks expected transitions as normal and the cited evidence with ◀.
Colour comes from rich and disappears when stdout is not a terminal.
"""

from __future__ import annotations

import os
from pathlib import PurePath

import polars as pl
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..diagnose import POST_S, PRE_S

LABELS = {
    "en": {"files": "Files read", "verdict": "Verdict", "cause": "Cause", "confidence": "confidence",
           "evidence": "Evidence", "ruled_out": "Considered", "remedy": "What to do", "missing": "To settle it, collect",
           "no_incident": "No failed restore attempt found.", "attempt": "attempt", "timeline": "Timeline",
           "device_activity": "Apple device activity outside restore attempts", "clocks": "Clocks (local times put on UTC)"},
    "ja": {"files": "読み込んだファイル", "verdict": "判定", "cause": "原因", "confidence": "確度",
           "evidence": "根拠", "ruled_out": "検討した他の原因", "remedy": "対処", "missing": "判定に必要なログ",
           "no_incident": "失敗した復元は見つかりませんでした。", "attempt": "試行", "timeline": "タイムライン",
           "device_activity": "復元以外の時間の Apple デバイスの動き", "clocks": "時計（現地時刻から UTC への換算）"},
}

STYLE = {
    "result": "bold", "device_disconnect": "yellow", "device_connect": "cyan", "usb_io_error": "yellow",
    "tss_error": "red", "baseband_error": "red", "service_crash": "red", "driver_failure": "red",
    "firewall_block": "magenta", "disk_space": "yellow", "app_crash": "red", "state_change": "blue",
    "phase": "green", "session_start": "bold green",
}

#: Kinds worth a timeline row (progress is summarised, generic rows are left out).
TIMELINE_KINDS = {"session_start", "phase", "state_change", "result", "device_identity", "device_connect",
                  "device_disconnect", "usb_io_error", "tss_request", "tss_error", "baseband_error", "driver_install",
                  "driver_failure", "service_state", "service_crash", "firewall_block", "disk_space", "app_crash",
                  "power", "security_product"}
MAX_ROWS = 60


def _short(text: str, limit: int = 70) -> str:
    """The first clause of a note, cut to fit a table cell (the full text is in JSON and on stderr)."""
    first = text.split(": ", 1)[0] if len(text) > limit else text
    return first if len(first) <= limit else first[: limit - 1] + "…"


#: Width of the report when stdout is not a terminal (a file, a pipe, a CI log) and COLUMNS is not
#: set: wide enough that paths and verdicts are not folded into columns of a few letters.
PIPE_WIDTH = 160


def stdout_console() -> Console:
    """The console the report is printed on: the terminal's width (and colour) on a terminal;
    elsewhere COLUMNS if set, else PIPE_WIDTH, and no colour."""
    probe = Console()
    if probe.is_terminal:
        return probe
    columns = os.environ.get("COLUMNS", "")
    return Console(width=int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH)


def _folders(paths: list[str]) -> tuple[str, list[str]]:
    """The folder the ``paths`` share and each path relative to it (for a table that names every
    file of a PC: ``System.evtx``, ``logs/iTunes.log``, not the same long prefix on every row)."""
    if not paths:
        return "", []
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in paths])
    except ValueError:  # absolute and relative paths mixed, or different drives
        return "", list(paths)
    return root, [os.path.relpath(p, root) if root else p for p in paths]


#: Below this console width the Files table puts its four counts in one column (80-column terminals).
NARROW = 120


def _files_table(analysis, t, width: int = PIPE_WIDTH) -> Table:
    by_host: dict[str, list] = {}
    for f in analysis.files:
        by_host.setdefault(f.host or "", []).append(f)
    roots, names = {}, {}
    for host, files in by_host.items():
        roots[host], rel = _folders([f.path for f in files])
        names.update({id(f): r for f, r in zip(files, rel)})
    title = t["files"]
    if len(roots) == 1 and next(iter(roots.values())):
        title += f": {next(iter(roots.values()))}"
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    narrow = width < NARROW
    counts = ("read / events\n/ skipped\n/ unrecognised",) if narrow else ("read", "events", "skipped", "unrecognised")
    columns = ["file", "format", *counts, "notes"]
    if len(by_host) > 1:
        columns.insert(0, "host")
    for col in columns:
        numeric = col in counts
        table.add_column(col, justify="right" if numeric else "left", no_wrap=numeric,
                         overflow="fold", min_width=12 if col in ("host", "file", "notes") else None)
    for f in analysis.files:
        notes = "; ".join(_short(n.message) for n in f.errors[:2])
        if len(f.errors) > 2:
            notes += f" (+{len(f.errors) - 2} more)"
        numbers = [str(f.records), str(f.events), str(f.skipped), str(f.unrecognised)]
        cells = [names[id(f)], f.format or Text("not recognised", style="yellow"),
                 *([" / ".join(numbers)] if narrow else numbers), notes]
        table.add_row(*([f.host or ""] if len(by_host) > 1 else []), *cells)
    return table


def _clocks_table(analysis, t) -> Table | None:
    """How each local-time file was put on UTC, and how far its events sit from other sources'."""
    rows = [f for f in analysis.files if f.clock.get("local_zone")]
    if not rows:
        return None
    table = Table(title=t["clocks"], title_justify="left", expand=False)
    for col in ("file", "clocks", "zone used", "how it was found", "skew to other sources (s)"):
        table.add_column(col, overflow="fold")
    for f in rows:
        c = f.clock
        zone = c["local_zone"] + (f", brackets {c['bracket_zone']}" if c.get("bracket_zone") not in (None, c["local_zone"]) else "")
        skew = ", ".join(f"{PurePath(k).name} {v:+.3f}" for k, v in sorted(c.get("skew_s", {}).items()))
        style = "yellow" if c.get("local_zone_how", "").startswith("assumed") else ""
        table.add_row(PurePath(f.path).name, "/".join(c.get("clocks", [])), zone,
                      Text(c.get("local_zone_how", ""), style=style), skew)
    return table


def _timeline(analysis, attempt: dict, cited: set[tuple], t) -> Table:
    ev = analysis.events
    start, end = attempt["started_at"], attempt["failed_at"] or attempt["ended_at"]
    own = (pl.col("file") == attempt["file"]) & (pl.col("attempt") == attempt["attempt"])
    near = (pl.col("attempt").is_null() & pl.col("ts_utc").is_between(
        start - pl.duration(seconds=PRE_S), end + pl.duration(seconds=POST_S)))
    rows = ev.filter((pl.col("host") == attempt["host"]) & (own | near)
                     & pl.col("kind").cast(pl.String).is_in(list(TIMELINE_KINDS)))
    title = f"{t['timeline']}: {attempt['file']} — {t['attempt']} {attempt['attempt']} ({attempt['outcome']})"
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("UTC", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("event", overflow="fold")
    table.add_column("source", overflow="fold")
    shown = rows.head(MAX_ROWS)
    for r in shown.to_dicts():
        key = (r["file"], r["line"], r["record"])
        kind = str(r["kind"])
        text = r["message"] or ""
        if r["expected"] is True:
            text = f"{text}  (expected: mode transition)"
        elif r["expected"] is False:
            text = f"{text}  (UNEXPECTED)"
        marker = " ◀" if key in cited else ""
        name = PurePath(r["file"]).name  # the full path is in the title and the files table
        where = f"{name}:{r['line']}" if r["line"] is not None else f"{name} #{r['record']}"
        ts = r["ts_utc"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if r["ts_utc"] else "?"
        table.add_row(ts, Text(kind, style=STYLE.get(kind, "")), Text(text[:200] + marker,
                      style="bold" if marker else ""), where)
    if rows.height > MAX_ROWS:
        table.caption = f"{rows.height - MAX_ROWS} more rows (use --format json for all)"
    progress = ev.filter((pl.col("host") == attempt["host"]) & own & (pl.col("kind") == "progress"))
    if progress.height:
        ops = progress.get_column("subject").drop_nulls().unique(maintain_order=True).to_list()
        table.caption = ((table.caption or "") + f"  progress: {len(ops)} operations ({', '.join(ops[:6])}"
                         + (", …" if len(ops) > 6 else "") + ")").strip()
    return table


def _verdict(incident, t) -> Panel:
    lines: list = []
    colour = "red" if incident.cause != "undetermined" else "yellow"
    head = Text()
    head.append(f"{t['cause']}: ", style="bold")
    head.append(incident.cause, style=f"bold {colour}")
    head.append(f"   {t['confidence']} {incident.confidence:.2f}")
    if incident.error_code is not None:
        head.append(f"   error {incident.error_code}")
    lines.append(head)
    if incident.code_meaning:
        lines.append(Text(f"error {incident.error_code}: {incident.code_meaning} (grade {incident.code_grade})", style="dim"))
    lines.append(Text(f"\n{t['evidence']}:", style="bold"))
    for e in incident.evidence:
        name = PurePath(e["file"]).name
        where = f"{name}:{e['line']}" if "line" in e else f"{name} #{e.get('record')}"
        rule = f"  ({e['rule']})" if e.get("rule") else ""
        lines.append(Text(f"  {e['ts']}  {where}  [{e['kind']}] {e['text'][:140]}{rule}"))
    lines.append(Text(f"\n{t['ruled_out']}:", style="bold"))
    for alt in incident.alternatives[:5]:
        lines.append(Text(f"  {alt['id']} ({alt['confidence']:.2f}): {alt['why_not']}"))
    if incident.missing:
        lines.append(Text(f"\n{t['missing']}:", style="bold"))
        lines.extend(Text(f"  - {m}") for m in incident.missing)
    lines.append(Text(f"\n{t['remedy']}:", style="bold"))
    lines.extend(Text(f"  {i}. {step}") for i, step in enumerate(incident.remedy, 1))
    title = f"{t['verdict']} — {incident.host} — {incident.file} {t['attempt']} {incident.attempt}"
    return Panel(Group(*lines), title=title, border_style=colour, expand=False)


#: Kinds shown on a PC's device-activity timeline (outside restore attempts).
DEVICE_KINDS = ["device_connect", "device_disconnect", "driver_install", "driver_failure", "service_crash",
                "service_state", "app_crash"]


def _device_activity(analysis, host: str, t) -> Table | None:
    """Apple device and Apple service activity of one PC outside its restore attempts.

    This is what Windows saw on its own: the iPhone plugged in and removed, Apple
    driver installs, the Apple Mobile Device Service stopping or crashing.
    """
    from ..winevent import is_apple_process, is_apple_service

    ev = analysis.events
    text = pl.concat_str([pl.col("subject").fill_null(""), pl.col("message").fill_null("")], separator=" ")
    apple = (pl.col("usb_vid") == "05AC") | is_apple_service(pl.col("subject")) | is_apple_process(text)
    rows = ev.filter((pl.col("host") == host) & pl.col("attempt").is_null()
                     & pl.col("kind").cast(pl.String).is_in(DEVICE_KINDS) & apple)
    if rows.height == 0:
        return None
    table = Table(title=f"{t['device_activity']}: {host}", title_justify="left", expand=False)
    for col in ("UTC", "kind", "event", "source"):
        table.add_column(col, no_wrap=col in ("UTC", "kind"), overflow="fold")
    for r in rows.head(MAX_ROWS).to_dicts():
        name = PurePath(r["file"]).name
        where = f"{name}:{r['line']}" if r["line"] is not None else f"{name} #{r['record']}"
        ts = r["ts_utc"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if r["ts_utc"] else "?"
        kind = str(r["kind"])
        what = r["subject"] or r["message"] or ""
        if kind == "device_disconnect" and r["error_code"] == 23:
            what = f"surprise removal: {what}"
        table.add_row(ts, Text(kind, style=STYLE.get(kind, "")), what[:160], where)
    if rows.height > MAX_ROWS:
        table.caption = f"{rows.height - MAX_ROWS} more rows (use --format json for all)"
    return table


def render(analysis, console: Console, lang: str = "en") -> None:
    t = LABELS.get(lang, LABELS["en"])
    if len(analysis.hosts) > 1:
        from .fleet_terminal import render_fleet

        render_fleet(analysis, console, lang=lang)
    console.print(_files_table(analysis, t, console.width))
    clocks = _clocks_table(analysis, t)
    if clocks is not None:
        console.print()
        console.print(clocks)
    cited = {(e["file"], e.get("line"), e.get("record")) for i in analysis.incidents for e in i.evidence}
    by_attempt = {(i.host, i.file, i.attempt): i for i in analysis.incidents}
    for attempt in analysis.attempts.to_dicts():
        console.print()
        console.print(_timeline(analysis, attempt, cited, t))
        incident = by_attempt.get((attempt["host"], attempt["file"], attempt["attempt"]))
        if incident:
            console.print(_verdict(incident, t))
    for host in analysis.hosts:
        activity = _device_activity(analysis, host, t)
        if activity is not None:
            console.print()
            console.print(activity)
    if not analysis.incidents:
        console.print()
        console.print(t["no_incident"])
