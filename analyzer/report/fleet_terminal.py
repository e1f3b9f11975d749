"""The fleet part of the terminal report: a compact table when more than one PC was analysed.

Renders :func:`analyzer.fleet.summary` only (no computation of its own): one
row per PC with its verdict, then causes by count, factors the failing PCs
share and failures clustered in time.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..fleet import FAILURE_FREE
from .terminal import NARROW

LABELS = {
    "en": {"fleet": "Fleet", "causes": "Causes", "shared": "Shared by failing PCs", "clusters": "Failures close in time"},
    "ja": {"fleet": "PC一覧", "causes": "原因別", "shared": "失敗したPCの共通点", "clusters": "同時期の失敗"},
}
MAX_HOST_ROWS = 200


def render_fleet(analysis, console: Console, lang: str = "en", data: dict | None = None) -> None:
    """Print the fleet tables; nothing when there is one host or none."""
    data = data or analysis.fleet
    if data["host_count"] <= 1:
        return
    t = LABELS.get(lang, LABELS["en"])
    table = Table(title=f"{t['fleet']}: {data['host_count']} PCs, {data['failing_hosts']} with a failed restore",
                  title_justify="left", expand=False)
    # on a narrow console (an 80-column terminal) the computer names go under the host names and
    # the long names fold; a verdict id is never cut
    narrow = console.width < NARROW
    longest_id = max([len(h["verdict"]) for h in data["hosts"]] + [7])
    table.add_column("host" if not narrow else "host / computer", overflow="fold", min_width=12,
                     max_width=16 if narrow else None)
    if not narrow:
        table.add_column("computer", overflow="fold", min_width=8)
    table.add_column("verdict", min_width=longest_id, max_width=longest_id if narrow else None)
    table.add_column("failed", justify="right", no_wrap=True)
    table.add_column("codes", overflow="fold", min_width=4)
    table.add_column("last failure UTC", min_width=10, max_width=10 if narrow else None)
    if not narrow:
        table.add_column("unread", justify="right", no_wrap=True)
    for h in data["hosts"][:MAX_HOST_ROWS]:
        style = "" if h["verdict"] in FAILURE_FREE else ("yellow" if h["verdict"] == "undetermined" else "red")
        verdict = Text(h["verdict"], style=style)
        if h["confidence"] is not None:
            verdict.append(f" {h['confidence']:.2f}")
        computers = ", ".join(h["computers"])
        who = [h["host"], computers] if not narrow else [Text(h["host"]).append(f"\n{computers}" if computers else "", style="dim")]
        failed = f"{h['failed']}/{h['attempts']}"
        if narrow and h["unread"]:
            failed += f"\n{h['unread']} unread"
        table.add_row(*who, verdict, failed, ", ".join(str(c) for c in h["error_codes"]),
                      (h["last_failure"] or "").replace("T", " ")[:16], *([] if narrow else [str(h["unread"] or "")]))
    if len(data["hosts"]) > MAX_HOST_ROWS:
        table.caption = f"{len(data['hosts']) - MAX_HOST_ROWS} more PCs (use --format json for all)"
    console.print(table)
    if data["causes"]:
        causes = Table(title=t["causes"], title_justify="left", expand=False)
        for col in ("cause", "PCs", "incidents", "hosts"):
            causes.add_column(col, overflow="fold", justify="right" if col in ("PCs", "incidents") else "left")
        for c in data["causes"]:
            names = ", ".join(c["hosts"][:8]) + (f" (+{len(c['hosts']) - 8})" if len(c["hosts"]) > 8 else "")
            causes.add_row(c["cause"], str(c["host_count"]), str(c["incidents"]), names)
        console.print(causes)
    if data["shared_factors"]:
        shared = Table(title=t["shared"], title_justify="left", expand=False)
        for col in ("factor", "value", "failing PCs", "other PCs", "causes"):
            shared.add_column(col, overflow="fold")
        for s in data["shared_factors"][:10]:
            shared.add_row(s["factor"], s["value"], f"{s['failing_hosts']}/{s['of_failing']}",
                           f"{s['other_hosts']}/{s['of_other']}",
                           ", ".join(f"{k} {v}" for k, v in s["causes"].items()))
        console.print(shared)
    if data["time_clusters"]:
        clusters = Table(title=t["clusters"], title_justify="left", expand=False)
        for col in ("window", "from (UTC)", "PCs", "incidents", "causes"):
            clusters.add_column(col, overflow="fold")
        for c in data["time_clusters"][:10]:
            clusters.add_row(c["window"], c["start"].replace("T", " ").rstrip("Z")[:16], str(c["host_count"]),
                             str(c["incidents"]), ", ".join(f"{k} {v}" for k, v in c["causes"].items()))
        console.print(clusters)
    console.print()
