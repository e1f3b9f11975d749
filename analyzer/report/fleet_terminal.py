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
from .console import NARROW
from .i18n import Catalogue

MAX_HOST_ROWS = 200


def _table(title: str, columns: list[str], cat: Catalogue, right: tuple[str, ...] = ()) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for col in columns:
        table.add_column(cat[f"fleet.col_{col}"], overflow="fold", justify="right" if col in right else "left")
    return table


def render_fleet(analysis, console: Console, cat: Catalogue, data: dict | None = None) -> None:
    """Print the fleet tables; nothing when there is one host or none."""
    data = data or analysis.fleet
    if data["host_count"] <= 1:
        return
    table = Table(title=cat.text("fleet.fleet", hosts=data["host_count"], failing=data["failing_hosts"]),
                  title_justify="left", expand=False)
    # on a narrow console (an 80-column terminal) the computer names go under the host names and
    # the long names fold; a verdict id is never cut
    narrow = console.width < NARROW
    longest_id = max([len(h["verdict"]) for h in data["hosts"]] + [7])
    table.add_column(cat["fleet.col_host" if not narrow else "fleet.col_host_computer"], overflow="fold",
                     min_width=12, max_width=16 if narrow else None)
    if not narrow:
        table.add_column(cat["fleet.col_computer"], overflow="fold", min_width=8)
    table.add_column(cat["fleet.col_verdict"], min_width=longest_id, max_width=longest_id if narrow else None)
    table.add_column(cat["fleet.col_failed"], justify="right", no_wrap=True)
    table.add_column(cat["fleet.col_codes"], overflow="fold", min_width=4)
    table.add_column(cat["fleet.col_last"], min_width=10, max_width=10 if narrow else None)
    if not narrow:
        table.add_column(cat["fleet.col_unread"], justify="right", no_wrap=True)
    for h in data["hosts"][:MAX_HOST_ROWS]:
        style = "" if h["verdict"] in FAILURE_FREE else ("yellow" if h["verdict"] == "undetermined" else "red")
        verdict = Text(h["verdict"], style=style)
        if h["confidence"] is not None:
            verdict.append(f" {h['confidence']:.2f}")
        computers = ", ".join(h["computers"])
        who = [h["host"], computers] if not narrow else [Text(h["host"]).append(f"\n{computers}" if computers else "", style="dim")]
        failed = f"{h['failed']}/{h['attempts']}"
        if narrow and h["unread"]:
            failed += "\n" + cat.text("fleet.unread", n=h["unread"])
        table.add_row(*who, verdict, failed, ", ".join(str(c) for c in h["error_codes"]),
                      (h["last_failure"] or "").replace("T", " ")[:16], *([] if narrow else [str(h["unread"] or "")]))
    if len(data["hosts"]) > MAX_HOST_ROWS:
        table.caption = cat.text("fleet.more_pcs", n=len(data["hosts"]) - MAX_HOST_ROWS)
    console.print(table)
    if data["causes"]:
        causes = _table(cat["fleet.causes"], ["cause", "pcs", "incidents", "hosts"], cat, right=("pcs", "incidents"))
        for c in data["causes"]:
            names = ", ".join(c["hosts"][:8]) + (f" (+{len(c['hosts']) - 8})" if len(c["hosts"]) > 8 else "")
            causes.add_row(c["cause"], str(c["host_count"]), str(c["incidents"]), names)
        console.print(causes)
    if data["shared_factors"]:
        shared = _table(cat["fleet.shared"], ["factor", "value", "failing_pcs", "other_pcs", "causes"], cat)
        for s in data["shared_factors"][:10]:
            shared.add_row(s["factor"], s["value"], f"{s['failing_hosts']}/{s['of_failing']}",
                           f"{s['other_hosts']}/{s['of_other']}",
                           ", ".join(f"{k} {v}" for k, v in s["causes"].items()))
        console.print(shared)
    if data["time_clusters"]:
        clusters = _table(cat["fleet.clusters"], ["window", "from", "pcs", "incidents", "causes"], cat)
        for c in data["time_clusters"][:10]:
            clusters.add_row(c["window"], c["start"].replace("T", " ").rstrip("Z")[:16], str(c["host_count"]),
                             str(c["incidents"]), ", ".join(f"{k} {v}" for k, v in c["causes"].items()))
        console.print(clusters)
    console.print()
