"""The HTML timeline marks exactly what the verdict counts: an "unexpected disconnect" marker only for
rows the diagnosis called unexpected (the restore log's own, and the PC's removals paired with them),
never for a Windows removal during a planned mode transition."""

from __future__ import annotations

import html
import re

import pytest

from analyzer import analyze
from analyzer.report.html import render_html

from conftest import SAMPLES

DROP = re.compile(r'<g class="event[^"]*"><title>([^<]*)</title><polygon class="m drop"')


@pytest.fixture(scope="module")
def fleet_page():
    analysis = analyze([SAMPLES])
    return analysis, render_html(analysis)


def test_every_drop_marker_holds_only_rows_the_diagnosis_calls_unexpected(fleet_page):
    analysis, page = fleet_page
    groups = [html.unescape(g) for g in DROP.findall(page)]
    assert groups, "the samples hold unexpected disconnects"
    for group in groups:
        rows = [line for line in group.splitlines() if line[:2].isdigit()]
        assert rows and all(line.endswith("(UNEXPECTED)") for line in rows), group


def test_every_counted_disconnect_is_inside_a_drop_marker(fleet_page):
    analysis, page = fleet_page
    groups = [html.unescape(g) for g in DROP.findall(page)]
    for incident in analysis.incidents:
        for e in incident.evidence:
            if e["kind"] == "device_disconnect" and e.get("rule") and incident.failed_at is not None:
                stamp = e["ts"][11:23]
                assert any(stamp in g and e["text"][:60] in g for g in groups), (incident.host, e)


def test_pc_a1_draws_the_one_drop_its_verdict_counts_not_the_planned_removals():
    bundle = SAMPLES / "pc_a1_usb_surprise_removal"
    page = render_html(analyze([bundle]))
    assert page.count('class="m drop"') == 1
    # the Windows removals at the planned transitions (15:20) are drawn as transitions, not drops
    (group,) = [html.unescape(g) for g in DROP.findall(page)]
    assert "15:29:43.713" in group and "15:20:" not in group
    assert 'class="key drop"' in page  # the legend's sample is not a chart marker
