"""The fleet part of the terminal report: one line per PC, what the failing PCs share, and at the
end, where the terminal leaves the reader, the answer in one paragraph.

Renders :func:`analyzer.fleet.summary` and the incidents' missing-evidence codes (no analysis of its
own). Verdicts are in words (the cause's name, how sure as a word); the ids are in the JSON
document. The per-PC detail (verdicts, files, clocks, timelines) is behind ``--details`` or
``--host NAME`` and is printed before this part, so the summary is always last.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..fleet import FAILURE_FREE
from .console import NARROW
from .i18n import Catalogue
from .safe import shown
from .verdict_words import band

MAX_HOST_ROWS = 200
MAX_ROWS = 8


def _table(title: str, columns: list[str], cat: Catalogue, right: tuple[str, ...] = ()) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for col in columns:
        table.add_column(cat[f"fleet.col_{col}"], overflow="fold", justify="right" if col in right else "left")
    return table


def verdict_words(host_row: dict, cat: Catalogue) -> Text:
    """A PC's verdict in words: the cause's name and how sure, or what there was to read."""
    verdict = host_row["verdict"]
    if verdict in FAILURE_FREE:
        return Text(cat[f"words.verdict_{verdict}"], style="green" if verdict == "ok" else "yellow")
    if verdict == "undetermined":
        return Text(cat["words.verdict_undetermined"], style="yellow")
    text = Text(cat.cause(verdict), style="red")
    if host_row["confidence"] is not None:
        text.append(f" — {band(host_row['confidence'], cat)} ({host_row['confidence']:.2f})", style="")
    return text


def _missing(analysis, cat: Catalogue) -> dict[str, str]:
    """Per PC, the evidence its verdicts said was missing, in short words; for a PC whose verdicts
    name none and whose evidence is Apple's log alone (:mod:`analyzer.coverage`), that, and the kinds
    a PC of its kind normally has that were not collected."""
    out: dict[str, list[str]] = {}
    for inc in analysis.incidents:
        for code in inc.missing:
            words = cat[f"words.missing_{code}"]
            if words not in out.setdefault(inc.host, []):
                out[inc.host].append(words)
    for row in analysis.fleet.get("evidence", []):
        # a verdict that rests on Apple's log alone says so (a PC with no such log says it in its verdict)
        if out.get(row["host"]) or row["caveat"] != "restore_log_only":
            continue
        kinds = ", ".join(cat[f"words.kind_{k}"] for k in row["missing"] if k != "apple_log")
        out[row["host"]] = [cat["words.restore_log_only"]] + ([cat.text("words.no_kinds", kinds=kinds)] if kinds else [])
    return {host: ", ".join(words) for host, words in out.items() if words}


def _hosts_table(analysis, data: dict, console: Console, cat: Catalogue) -> Table:
    table = Table(title=cat.text("fleet.fleet", hosts=data["host_count"], failing=data["failing_hosts"]),
                  title_justify="left", expand=False)
    narrow = console.width < NARROW
    # on a narrow console (an 80-column terminal) the PC and the codes get a fixed share and the
    # words fold; the computer names a PC's Windows logs record go under its name
    table.add_column(cat["fleet.col_host"], overflow="fold", min_width=10, max_width=16 if narrow else 34)
    table.add_column(cat["fleet.col_verdict"], overflow="fold", min_width=14)
    table.add_column(cat["fleet.col_codes"], overflow="fold", min_width=5, max_width=9 if narrow else 24)
    table.add_column(cat["fleet.col_last"], overflow="fold", min_width=10, max_width=10 if narrow else None)
    table.add_column(cat["fleet.col_missing"], overflow="fold", min_width=8)
    missing = _missing(analysis, cat)
    for h in data["hosts"][:MAX_HOST_ROWS]:
        codes = ", ".join(str(c) for c in h["error_codes"])
        if h["failed"] > 1:
            codes += f" ({cat.text('fleet.times', n=h['failed'])})"
        gaps = missing.get(h["host"], "")
        if h["unread"]:
            gaps = "; ".join(x for x in (gaps, cat.text("fleet.unread", n=h["unread"])) if x)
        who = Text(shown(h["host"]))
        if h["computers"]:
            who.append("\n" + shown(", ".join(h["computers"])), style="dim")
        table.add_row(who, verdict_words(h, cat), codes,
                      (h["last_failure"] or "").replace("T", " ")[:16], Text(gaps))
    if len(data["hosts"]) > MAX_HOST_ROWS:
        table.caption = cat.text("fleet.more_pcs", n=len(data["hosts"]) - MAX_HOST_ROWS)
    return table


def _hosts(names: list[str], limit: int = 6) -> str:
    return shown(", ".join(names[:limit]) + (f" (+{len(names) - limit})" if len(names) > limit else ""))


def _side_tables(data: dict, cat: Catalogue) -> list[Table]:
    """Causes by count, factors the failing PCs share, failures close in time, and those of them
    with a network cause (many PCs failing to reach Apple at once)."""
    out = []
    if data["causes"]:
        causes = _table(cat["fleet.causes"], ["cause", "pcs", "incidents", "hosts"], cat, right=("pcs", "incidents"))
        for c in data["causes"][:MAX_ROWS]:
            causes.add_row(cat.cause(c["cause"]), str(c["host_count"]), str(c["incidents"]), Text(_hosts(c["hosts"])))
        out.append(causes)
    if data["shared_factors"]:
        shared = _table(cat["fleet.shared"], ["factor", "value", "failing_pcs", "other_pcs"], cat)
        for s in data["shared_factors"][:MAX_ROWS]:
            shared.add_row(cat.section("fleet.factor").get(s["factor"], s["factor"]), Text(shown(s["value"])),
                           f"{s['failing_hosts']}/{s['of_failing']}", f"{s['other_hosts']}/{s['of_other']}")
        out.append(shared)
    if data["time_clusters"]:
        clusters = _table(cat["fleet.clusters"], ["window", "from", "pcs", "causes"], cat, right=("pcs",))
        for c in data["time_clusters"][:MAX_ROWS]:
            clusters.add_row(cat[f"fleet.window_{c['window']}"], c["start"].replace("T", " ").rstrip("Z")[:16],
                             str(c["host_count"]), ", ".join(f"{cat.cause(k)} {v}" for k, v in c["causes"].items()))
        out.append(clusters)
    if data.get("network_clusters"):
        out.append(_network_table(data["network_clusters"], cat))
    return out


def _network_table(clusters: list[dict], cat: Catalogue) -> Table:
    """Failures with a network cause (analyzer.fleet.NETWORK_CAUSES) that bunch in one hour or day
    across PCs: the network they share, or Apple's side, rather than each PC's own fault."""
    table = _table(cat["fleet.network_clusters"], ["window", "from", "pcs", "causes", "hosts"], cat, right=("pcs",))
    for c in clusters[:MAX_ROWS]:
        table.add_row(cat[f"fleet.window_{c['window']}"], c["start"].replace("T", " ").rstrip("Z")[:16], str(c["host_count"]),
                      ", ".join(f"{cat.cause(k)} {v}" for k, v in c["causes"].items()), Text(_hosts(c["hosts"])))
    return table


def _first_window(clusters: list[dict]) -> dict | None:
    """The cluster a summary names: the largest burst, else the largest hour."""
    for window in ("burst", "hour"):
        found = [c for c in clusters if c["window"] == window]
        if found:
            return found[0]
    return None


def _cluster_text(key: str, cluster: dict, cat: Catalogue) -> str:
    start, end = (cluster[k].replace("T", " ").rstrip("Z")[:16] for k in ("start", "end"))
    if cluster["window"] == "burst":  # one minute, or a span of minutes within the day it began
        when = start if end == start else start + cat["fleet.time_range_sep"] + (end[11:] if end[:10] == start[:10] else end)
        return cat.text(key + "_burst", n=cluster["host_count"], when=when)
    return cat.text(key, n=cluster["host_count"], start=start)


def summary_text(data: dict, cat: Catalogue) -> str:
    """The fleet's answer in one paragraph: how many PCs failed, the leading causes, what the
    failing PCs share, and when failures bunched."""
    verdicts = data["verdicts"]
    nothing = sum(verdicts.get(v, 0) for v in ("no_restore_log", "no_input"))
    parts = [cat.text("fleet.sum_hosts", hosts=data["host_count"], failing=data["failing_hosts"],
                      fine=verdicts.get("ok", 0) + verdicts.get("no_outcome", 0), nothing=nothing)]
    named = [c for c in data["causes"] if c["cause"] != "undetermined" and c["verdict_hosts"]]
    if named:
        lead = cat["fleet.sum_list_sep"].join(cat.text("fleet.sum_cause_item", cause=cat.cause(c["cause"]), n=c["verdict_hosts"])
                         for c in sorted(named, key=lambda c: -c["verdict_hosts"])[:3])
        parts.append(cat.text("fleet.sum_causes", causes=lead))
    if verdicts.get("undetermined"):
        parts.append(cat.text("fleet.sum_undetermined", n=verdicts["undetermined"]))
    shared = [s for s in data["shared_factors"] if s["other_hosts"] == 0]
    if shared:
        s = shared[0]
        parts.append(cat.text("fleet.sum_shared", factor=cat.section("fleet.factor").get(s["factor"], s["factor"]),
                              value=shown(s["value"]), n=s["failing_hosts"], of=s["of_failing"]))
    hours = _first_window(data["time_clusters"])
    network = _first_window(data.get("network_clusters", []))
    if hours and not (network and (network["start"], network["hosts"]) == (hours["start"], hours["hosts"])):
        parts.append(_cluster_text("fleet.sum_cluster", hours, cat))
    if network:  # the same PCs at the same time are said once, with what they have in common
        parts.append(_cluster_text("fleet.sum_network_cluster", network, cat))
    if nothing:
        parts.append(cat["fleet.sum_nothing"])
    return " ".join(parts).replace("。 ", "。")  # no space after an ideographic full stop


def render_fleet(analysis, console: Console, cat: Catalogue, data: dict | None = None, details: bool = False) -> None:
    """Print the fleet part; nothing when there is one host or none."""
    data = data or analysis.fleet
    if data["host_count"] <= 1:
        return
    console.print(_hosts_table(analysis, data, console, cat))
    for table in _side_tables(data, cat):
        console.print(table)
    console.print()
    console.print(Text(cat["fleet.summary"], style="bold"))
    console.print(Text(summary_text(data, cat)))
    if not details:
        console.print(Text(cat["fleet.details_hint"], style="dim"))
