"""Issue 15's report-side gaps: configuration found (hosts entries) shown above the timelines and
marked in the CSV, and network clusters (many PCs failing to reach Apple at once) in the fleet views."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer import analyze

from conftest import SAMPLES


# -- 2. configuration found (hosts entries): above the timeline, never on it ---------------------------
def _terminal(analysis, lang: str = "en", details: bool = True) -> str:
    import io

    from rich.console import Console

    from analyzer.report.terminal import render
    out = io.StringIO()
    render(analysis, Console(file=out, width=160, color_system=None), lang=lang, details=details)
    return out.getvalue()


@pytest.fixture(scope="module")
def hosts_pc():
    return analyze([str(SAMPLES / "pc_y25_3194_hosts_redirect")])


def test_terminal_lists_the_hosts_entry_as_configuration_above_the_timeline(hosts_pc):
    text = _terminal(hosts_pc)
    config, timeline = text.index("Configuration found (no time of its own"), text.index("Timeline:")
    assert config < timeline
    block = text[config:timeline]
    assert "gs.apple.com → 74.208.105.171 (a public address, not Apple's; on the signing path) ◀" in block
    assert "hosts:25" in block and "hosts file" in block
    assert "74.208.105.171" not in text[timeline:]   # not placed on the time axis
    ja = _terminal(hosts_pc, lang="ja")
    assert "見つかった設定" in ja and "署名の経路上" in ja


def test_html_shows_the_hosts_entry_as_configuration_before_the_chart(hosts_pc):
    from analyzer.report.html import render_html
    page = render_html(hosts_pc)
    config = page.index("Configuration found (no time of its own")
    assert config < page.index("<h3>Timeline</h3>")
    row = page[config:page.index("</table>", config)]
    assert 'class="cited"' in row and "hosts:25" in row and "gs.apple.com → 74.208.105.171" in row


def test_csv_marks_the_hosts_entry_as_not_timed(hosts_pc):
    import csv
    import io

    from analyzer.report.config_rows import UNTIMED
    from analyzer.report.csv_out import to_csv
    rows = list(csv.DictReader(io.StringIO(to_csv(hosts_pc))))
    (entry,) = [r for r in rows if r["kind"] == "hosts_entry"]
    assert (entry["ts_utc"], entry["line"], entry["subject"], entry["time_note"]) == ("", "25", "gs.apple.com", UNTIMED)
    assert {r["time_note"] for r in rows if r["kind"] != "hosts_entry"} == {""}


def test_the_verdict_cites_the_hosts_entry(hosts_pc):
    (incident,) = hosts_pc.incidents
    cited = [(Path(e["file"]).name, e.get("line")) for e in incident.evidence]
    assert ("hosts", 25) in cited


# -- 3. network clusters in the fleet views -------------------------------------------------------------
@pytest.fixture(scope="module")
def network_fleet(tmp_path_factory):
    """Three office PCs whose restores met the same signing-server outage (copies of pc_ae31: 503s in
    the same minutes), and one home PC with a hosts redirect weeks earlier."""
    import shutil
    root = tmp_path_factory.mktemp("fleet")
    for n in (1, 2, 3):
        shutil.copytree(SAMPLES / "pc_ae31_apple_server", root / f"office-pc{n}")
    shutil.copytree(SAMPLES / "pc_y25_3194_hosts_redirect", root / "home-pc")
    return analyze([str(root)])


def test_fleet_summary_clusters_the_network_failures(network_fleet):
    hour = [c for c in network_fleet.fleet["network_clusters"] if c["window"] == "hour"]
    assert [(c["start"], c["hosts"], c["causes"]) for c in hour] == [
        ("2026-03-02T16:00:00.000Z", ["office-pc1", "office-pc2", "office-pc3"], {"apple_server": 3})]


def test_fleet_terminal_and_html_show_the_network_clusters(network_fleet):
    from analyzer.report.html import render_html
    text = _terminal(network_fleet, details=False)
    table = text[text.index("Failing to reach Apple's servers at the same time"):text.index("Summary")]
    assert "same hour" in table and "2026-03-02 16:00" in table and "office-pc1, office-pc2, office-pc3" in table
    assert "home-pc" not in table
    summary = text[text.index("Summary"):]
    assert ("3 PCs failed to reach Apple's servers within minutes of each other (2026-03-02 16:25 UTC)"
            in " ".join(summary.split()))
    page = render_html(network_fleet, lang="ja")
    block = page[page.index("同時期に Apple のサーバーへ接続できなかった PC"):]
    assert "office-pc1, office-pc2, office-pc3" in block[:block.index("</table>")]


def test_fleet_network_clusters_get_their_csv_beside_the_timeline(network_fleet, tmp_path: Path):
    from analyzer.report.csv_out import write_csv
    written = write_csv(network_fleet, tmp_path / "t.csv")
    assert tmp_path / "t.fleet_network_clusters.csv" in written
    rows = pl.read_csv(tmp_path / "t.fleet_network_clusters.csv")
    assert rows.filter(pl.col("window") == "hour").get_column("hosts").to_list() == ["office-pc1, office-pc2, office-pc3"]


def test_failures_minutes_apart_are_one_burst_across_an_hour_boundary():
    """09:58, 10:03 and 10:11 on three PCs are one burst (each within 10 minutes of the one
    before), which hour buckets split in two; a PC 40 minutes later is not in it."""
    import datetime as dt
    from types import SimpleNamespace

    from analyzer.fleet import time_clusters

    at = lambda h, m: dt.datetime(2026, 3, 2, h, m, tzinfo=dt.timezone.utc)  # noqa: E731
    incidents = [SimpleNamespace(host=h, failed_at=t, cause="apple_server")
                 for h, t in (("pc1", at(9, 58)), ("pc2", at(10, 3)), ("pc3", at(10, 11)), ("pc4", at(10, 51)))]
    bursts = [c for c in time_clusters(incidents) if c["window"] == "burst"]
    assert [(c["start"], c["end"], c["hosts"]) for c in bursts] == [
        ("2026-03-02T09:58:00.000Z", "2026-03-02T10:11:00.000Z", ["pc1", "pc2", "pc3"])]
    hours = [c["hosts"] for c in time_clusters(incidents) if c["window"] == "hour"]
    assert hours == [["pc2", "pc3", "pc4"]]
