"""The terminal report: coverage, a timeline per restore attempt, and a verdict panel.

Written for the person at the PC: the timeline shows only what matters (kinds declared
``timeline`` in :mod:`analyzer.kinds`), marks expected transitions as normal and the cited
evidence with ◀; configuration with no time of its own (a hosts entry) is listed above the timeline,
never placed on it. It renders what the lower stages decided (the attempts table with its
evidence window, the incidents worded by :func:`analyzer.report.json_doc.incident_dict`,
the device activity from :mod:`analyzer.correlate`) and computes nothing of its own. Every
word comes from the catalogue of the chosen language (:mod:`analyzer.report.i18n`). Colour
comes from rich and disappears when stdout is not a terminal.
"""

from __future__ import annotations

import os
from pathlib import PurePath

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..correlate import device_activity_where
from ..kinds import KIND_INFO, kinds_where
from .config_rows import config_rows, entry_words
from .console import NARROW, PIPE_WIDTH, stdout_console
from .fleet_terminal import render_fleet
from .i18n import Catalogue
from .json_doc import incident_dict
from .many import by_host, rest_text, shown_attempts
from .marks import counted_keys, with_counted
from .nothing_read import no_incident
from .safe import shown
from .shown_rows import Shown, fold
from .verdict_words import backup_note, event_words, verdict_panel

TIMELINE_KINDS = list(kinds_where(timeline=True))
MAX_ROWS = 60

__all__ = ["PIPE_WIDTH", "render", "stdout_console"]


def _short(text: str, limit: int = 70) -> str:
    """The first clause of a note, cut to fit a table cell (the full text is in JSON and on stderr)."""
    first = text.split(": ", 1)[0] if len(text) > limit else text
    return first if len(first) <= limit else first[: limit - 1] + "…"


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


def _where(row: dict) -> Text:
    name = shown(PurePath(row["file"]).name)  # the full path is in the title and the files table
    return Text(f"{name}:{row['line']}" if row.get("line") is not None else f"{name} #{row.get('record')}")


def _stamp(ts) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if ts else "?"


def _files_table(files: list, cat: Catalogue, width: int = PIPE_WIDTH) -> Table:
    by_host: dict[str, list] = {}
    for f in files:
        by_host.setdefault(f.host or "", []).append(f)
    roots, names = {}, {}
    for host, of_host in by_host.items():
        roots[host], rel = _folders([f.path for f in of_host])
        names.update({id(f): r for f, r in zip(of_host, rel)})
    title = cat["terminal.files"]
    if len(roots) == 1 and next(iter(roots.values())):
        title += f": {next(iter(roots.values()))}"
    table = Table(title=Text(shown(title)), title_justify="left", show_lines=False, expand=False)
    narrow = width < NARROW
    counts = ["counts"] if narrow else ["read", "events", "skipped", "unrecognised"]
    columns = (["host"] if len(by_host) > 1 else []) + ["file", "format", *counts, "notes"]
    for col in columns:
        numeric = col in counts
        table.add_column(cat[f"terminal.col_{col}"], justify="right" if numeric else "left", no_wrap=numeric,
                         overflow="fold", min_width=12 if col in ("host", "file", "notes") else None)
    for f in files:
        notes = "; ".join(_short(cat.note(n)) for n in f.errors[:2])
        if len(f.errors) > 2:
            notes += " " + cat.text("terminal.more_notes", n=len(f.errors) - 2)
        numbers = [str(f.records), str(f.events), str(f.skipped), str(f.unrecognised)]
        cells = [Text(shown(names[id(f)])), f.format or Text(cat["terminal.not_recognised"], style="yellow"),
                 *([" / ".join(numbers)] if narrow else numbers), Text(shown(notes))]
        table.add_row(*([Text(shown(f.host or ""))] if len(by_host) > 1 else []), *cells)
    return table


def _clocks_table(files: list, cat: Catalogue) -> Table | None:
    """How each local-time file was put on UTC, and how far its events sit from other sources'
    (with its PC when the files are of more than one)."""
    rows = [f for f in files if f.clock.get("local_zone_method")]
    if not rows:
        return None
    hosts = len({f.host for f in files}) > 1
    table = Table(title=cat["terminal.clocks"], title_justify="left", expand=False)
    for col in (["host"] if hosts else []) + ["file", "clocks", "zone", "how", "skew"]:
        table.add_column(cat[f"terminal.col_{col}"], overflow="fold")
    for f in rows:
        c = f.clock
        zone = c["local_zone"] or "—"
        if c.get("bracket_zone") not in (None, "", c["local_zone"]):
            zone += ", " + cat.text("terminal.brackets", zone=c["bracket_zone"])
        skew = ", ".join(f"{PurePath(k).name} {v:+.3f}" for k, v in sorted(c.get("skew_s", {}).items()))
        style = "yellow" if c.get("local_zone_method") == "assumed" else ""
        how = "; ".join(part for part in (cat.clock_how(c), cat.date_order_how(c)) if part)
        table.add_row(*([Text(shown(f.host or ""))] if hosts else []), Text(shown(PurePath(f.path).name)),
                      "/".join(c.get("clocks", [])), Text(shown(zone)), Text(shown(how), style=style), Text(shown(skew)))
    return table


def _timeline(view: Shown, attempt: dict, cited: set[tuple], counted: set[tuple], cat: Catalogue,
              width: int = NARROW) -> Table:
    """One attempt's first rows (:class:`~analyzer.report.shown_rows.Shown`), removals marked as the
    verdict counted them (:mod:`analyzer.report.marks`), the rest and the progress subjects counted."""
    outcome = cat.section("outcome").get(attempt["outcome"], attempt["outcome"])
    title = f"{cat['terminal.timeline']}: {cat.what(attempt)} ({outcome})"
    narrow = width < NARROW
    table = Table(title=Text(shown(title)), title_justify="left", expand=False)
    table.add_column(cat["terminal.col_utc"], no_wrap=not narrow)
    if not narrow:
        table.add_column(cat["terminal.col_kind"], no_wrap=True)
    table.add_column(cat["terminal.col_event"], overflow="fold")
    if not narrow:
        table.add_column(cat["terminal.col_source"], overflow="fold")
    for r in with_counted(view.rows, counted).to_dicts():
        kind, text = str(r["kind"]), event_words(r, cat) or r["message"] or ""
        if r["expected"] is not None:
            text = f"{text}  ({cat['terminal.expected'] if r['expected'] else cat['terminal.unexpected']})"
        marker = " ◀" if (r["file"], r["line"], r["record"]) in cited else ""
        event = Text(shown(text[:200]) + marker, style="bold" if marker else "")
        if narrow:  # date over time of day; the kind and source under the event
            stamp = _stamp(r["ts_utc"]).replace(" ", "\n", 1)
            event.append("\n")
            event.append(kind, style=KIND_INFO[kind].style)
            event.append("  ")
            where = _where(r)
            where.stylize("dim")
            event.append_text(where)
            table.add_row(stamp, event)
        else:
            table.add_row(_stamp(r["ts_utc"]), Text(kind, style=KIND_INFO[kind].style), event, _where(r))
    if view.count > MAX_ROWS:
        table.caption = cat.text("terminal.more_rows", n=view.count - MAX_ROWS)
    if view.subjects:
        ops = view.subjects
        names = shown(", ".join(ops[:6]) + (", …" if len(ops) > 6 else ""))
        table.caption = Text(((table.caption or "") + "  " + cat.text("terminal.progress", n=len(ops), names=names)).strip())
    return table


def _config_table(analysis, host: str, cited: set[tuple], cat: Catalogue) -> Table | None:
    """The PC's configuration found (hosts entries): no time, so above the timeline, never on it."""
    rows = config_rows(analysis, host)
    if not rows:
        return None
    table = Table(title=Text(cat["config.title"]), title_justify="left", expand=False)
    for col in ("what", "entry", "source"):
        table.add_column(cat[f"config.col_{col}"], overflow="fold")
    for r in rows[:MAX_ROWS]:
        marker = " ◀" if (r["file"], r["line"], r["record"]) in cited else ""
        table.add_row(cat[f"config.{r['kind']}"], Text(shown(entry_words(r, cat)) + marker, style="bold" if marker else ""),
                      _where(r))
    return table


def _size(n: int | None) -> str:
    if n is None:
        return ""
    return f"{n / 1e9:,.1f} GB" if n >= 1e9 else (f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB")


def _backups_table(analysis, cat: Catalogue, host: str | None = None) -> Table | None:
    """Each device's backups, oldest first: when, how it ended, code, encryption, size (one PC's
    when ``host`` is given)."""
    rows = analysis.backups if host is None else analysis.backups.filter(pl.col("host") == host)
    if rows.height == 0:
        return None
    table = Table(title=cat["terminal.backups"], title_justify="left", expand=False)
    hosts = len(analysis.hosts) > 1 and host is None
    for col in (["host"] if hosts else []) + ["device", "started", "outcome", "code", "encrypted", "size", "source", "note"]:
        table.add_column(cat[f"terminal.col_backup_{col}"], overflow="fold")
    for b in rows.to_dicts():
        device = " ".join(x for x in (b["device_name"], f"({b['udid']})" if b["udid"] else None) if x) or "?"
        outcome = cat.section("outcome").get(b["outcome"], b["outcome"])
        size = _size(b["size_bytes"])
        encrypted = {True: cat["common.yes"], False: cat["common.no"]}.get(b["encrypted"], "")
        style = "red" if b["outcome"] == "failed" else ""
        table.add_row(*([Text(shown(b["host"] or ""))] if hosts else []), Text(shown(device)), _stamp(b["started_at"]),
                      Text(outcome, style=style), "" if b["error_code"] is None else str(b["error_code"]),
                      encrypted, size, Text(shown(PurePath(b["file"]).name)), Text(backup_note(b, cat), style="dim"))
    return table


def _device_activity(analysis, host: str, cat: Catalogue) -> Table | None:
    """What Windows saw of Apple's device and software on one PC outside its restore attempts."""
    rows = analysis.rows_where(device_activity_where(host), host)
    if rows.height == 0:
        return None
    table = Table(title=Text(shown(f"{cat['terminal.device_activity']}: {host}")), title_justify="left", expand=False)
    for col in ("utc", "kind", "event", "source"):
        table.add_column(cat[f"terminal.col_{col}"], no_wrap=col in ("utc", "kind"), overflow="fold")
    for r in rows.head(MAX_ROWS).to_dicts():
        kind = str(r["kind"])
        words, what = event_words(r, cat), r["subject"] or r["message"] or ""
        what = f"{words}: {what}" if words and r["subject"] else (words or what)
        table.add_row(_stamp(r["ts_utc"]), Text(kind, style=KIND_INFO[kind].style), Text(shown(what[:160])), _where(r))
    if rows.height > MAX_ROWS:
        table.caption = cat.text("terminal.more_rows", n=rows.height - MAX_ROWS)
    return table


def _details(analysis, host: str | None, console: Console, cat: Catalogue) -> None:
    """The forensic detail of one PC (all PCs when ``host`` is None): clocks, each attempt's
    timeline, and what Windows saw outside the attempts."""
    files = [f for f in analysis.files if host is None or f.host == host]
    clocks = _clocks_table(files, cat)
    if clocks is not None:
        console.print()
        console.print(clocks)
    incidents = [i for i in analysis.incidents if host is None or i.host == host]
    cited = {(e["file"], e.get("line"), e.get("record")) for i in incidents for e in i.evidence}
    counted = counted_keys(incidents)
    causes = {(i.host, i.file, i.attempt): i.cause for i in incidents}
    attempts = [{**a, "cause": causes.get((a["host"], a["file"], a["attempt"]))}
                for a in analysis.attempts.to_dicts() if host is None or a["host"] == host]
    attempts, rest = by_host(attempts, lambda a: a["host"], lambda a: a["outcome"] == "failed")
    # of the rows near the shown attempts, each one's first of the kinds a timeline shows, read a piece at a time
    kinds = pl.col("kind").cast(pl.String).is_in(TIMELINE_KINDS)
    first = fold(analysis.timeline_pieces(shown_attempts(analysis.attempts, attempts), TIMELINE_KINDS),
                 attempts, kinds, MAX_ROWS)
    for name, left in rest.items():
        console.print()
        console.print(Text(f"{shown(name)}: {rest_text(left, cat)}", style="yellow"))
    configs: dict[str, Table | None] = {}  # (each PC's read once, not once per attempt)
    for attempt in attempts:
        if attempt["host"] not in configs:
            configs[attempt["host"]] = _config_table(analysis, attempt["host"], cited, cat)
        config = configs[attempt["host"]]
        if config is not None:
            console.print()
            console.print(config)
        console.print()
        console.print(_timeline(first.of(attempt), attempt, cited, counted, cat, console.width))
    for name in ([host] if host is not None else analysis.hosts):
        activity = _device_activity(analysis, name, cat)
        if activity is not None:
            console.print()
            console.print(activity)


def _verdicts(analysis, host: str | None, console: Console, cat: Catalogue) -> None:
    """One PC's verdicts in words, or what it had to read when it has none."""
    incidents = [i for i in analysis.incidents if host is None or i.host == host]
    chosen, rest = by_host(incidents, lambda i: i.host)
    for name, left in rest.items():
        rows = [{"cause": i.cause, "error_code": i.error_code} for i in left]
        console.print(Text(f"{shown(name)}: {rest_text(rows, cat)}", style="yellow"))
    for incident in chosen:
        console.print(verdict_panel(incident_dict(incident, cat), cat))
    if not incidents:
        no_incident(analysis, host, console, cat)


def render_pc(analysis, host: str | None, console: Console, cat: Catalogue, details: bool) -> None:
    """One PC's report: its verdicts in words first, then what was read, then (``details``) the
    clocks, timelines and device activity, or a line saying how to see them."""
    _verdicts(analysis, host, console, cat)
    console.print()
    console.print(_files_table([f for f in analysis.files if host is None or f.host == host], cat, console.width))
    backups = _backups_table(analysis, cat, host)
    if backups is not None:
        console.print()
        console.print(backups)
    if details:
        _details(analysis, host, console, cat)
    elif analysis.attempts.height or analysis.event_count:
        console.print(Text(cat["words.details_hint"], style="dim"))


def render(analysis, console: Console, lang: str = "en", details: bool = False, hosts: list[str] = ()) -> None:
    """The terminal report. One PC: its verdicts first (:func:`render_pc`). A fleet: one line per PC,
    the causes, shared factors and time clusters, ending with a summary; before it, the full report
    of each PC named in ``hosts``, or with ``details`` every PC's verdicts and then one files table,
    one clocks table (each with its PC), the timelines and the device activity."""
    cat = Catalogue(lang)
    if len(analysis.hosts) <= 1:
        render_pc(analysis, None, console, cat, details)
        return
    for host in hosts:
        console.print(Text(shown(host), style="bold underline"))
        render_pc(analysis, host, console, cat, details=True)
        console.print()
    if details and not hosts:
        for host in analysis.hosts:
            _verdicts(analysis, host, console, cat)
        console.print()
        console.print(_files_table(analysis.files, cat, console.width))
        backups = _backups_table(analysis, cat)
        if backups is not None:
            console.print()
            console.print(backups)
        _details(analysis, None, console, cat)
        console.print()
    render_fleet(analysis, console, cat, details=details or bool(hosts))
