"""The HTML report in a real headless Chromium: loads offline, draws its chart, runs no injected script.

Needs Debian's ``chromium`` package and the ``playwright`` Python package (its
own browser download is not used). Without them the test is skipped with the
reason, unless ``ANALYZER_REQUIRE_BROWSER=1`` (CI), which makes that a failure.
``ANALYZER_CHROMIUM`` may point at another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analyzer.report.html import render_html

from _report_data import SCRIPT, synthetic_analysis
from conftest import SAMPLES

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need(message: str):
    if os.environ.get("ANALYZER_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; ANALYZER_REQUIRE_BROWSER=1 makes this an error")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    """Yield a function that opens a file in Chromium and returns what the page did."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright is not installed (pip install playwright; no browser download needed)")
    chromium = os.environ.get("ANALYZER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).is_file():
        _need(f"Chromium not found at {chromium} (apt-get install chromium)")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium, args=ARGS, headless=True,
            viewport={"width": 1280, "height": 900}, service_workers="block")

        def open_file(path: Path, screenshot: Path, full_page: bool = True) -> dict:
            """A long page (the samples fleet) is shot at the viewport: a full-page shot of it takes
            longer than playwright's 30 s on a busy machine."""
            page = context.new_page()
            seen = {"requests": [], "console": [], "errors": [], "dialogs": []}
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("console", lambda m: seen["console"].append((m.type, m.text)))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(200)
            seen["page"] = page
            page.screenshot(path=str(screenshot), full_page=full_page)
            return seen

        yield open_file
        context.close()


def check_offline_and_clean(seen: dict, url: str) -> None:
    assert seen["requests"] == [url], "the page must make no request but its own file"
    assert [c for c in seen["console"] if c[0] in ("error", "warning")] == []
    assert seen["errors"] == [] and seen["dialogs"] == []


def chart_facts(page) -> dict:
    return page.evaluate("""() => {
        const svgs = [...document.querySelectorAll('svg.timeline')];
        const first = svgs[0];
        const box = first ? first.getBoundingClientRect() : {width: 0, height: 0};
        return {charts: svgs.length,
                shapes: first ? first.querySelectorAll('rect,circle,polygon,path,line').length : 0,
                markers: document.querySelectorAll('svg.timeline .failure-marker line').length,
                markerWidth: (() => { const m = document.querySelector('svg.timeline .failure-marker');
                                      return m ? m.getBoundingClientRect().height : 0; })(),
                width: box.width, height: box.height,
                scripts: document.querySelectorAll('script').length,
                text: document.body.innerText};
    }""")


def test_synthetic_report_renders_offline_and_keeps_script_text_inert(browser_page, tmp_path: Path):
    html = tmp_path / "synthetic.html"
    html.write_text(render_html(synthetic_analysis()), encoding="utf-8")
    shot = tmp_path / "synthetic.png"
    seen = browser_page(html, shot)
    check_offline_and_clean(seen, html.as_uri())
    facts = chart_facts(seen["page"])
    assert facts["charts"] == 1 and facts["markers"] == 1 and facts["markerWidth"] > 100
    assert facts["shapes"] > 30 and facts["width"] > 700 and facts["height"] > 200
    assert facts["scripts"] == 0 and SCRIPT in facts["text"]
    assert "USB connection (cable, port or hub)" in facts["text"]
    assert shot.stat().st_size > 20_000


def test_4013_sample_report_draws_its_failure(browser_page, tmp_path: Path):
    bundle = SAMPLES / "restore_4013_usb_drop"
    if not bundle.is_dir():
        pytest.skip("samples/restore_4013_usb_drop not present")
    from analyzer.api import analyze

    analysis = analyze([bundle])
    html = tmp_path / "restore_4013.html"
    html.write_text(render_html(analysis), encoding="utf-8")
    seen = browser_page(html, tmp_path / "restore_4013.png")
    check_offline_and_clean(seen, html.as_uri())
    facts = chart_facts(seen["page"])
    assert facts["charts"] == analysis.attempts.height >= 1
    assert facts["markers"] == len(analysis.incidents) >= 1
    assert facts["shapes"] > 20
    assert "4013" in facts["text"]


def test_samples_report_from_the_cli_renders_with_its_charts(browser_page, tmp_path: Path):
    """The acceptance command: analyze samples/ --html r.html --format json."""
    import json

    from typer.testing import CliRunner

    from analyzer.cli import app

    html = tmp_path / "r.html"
    result = CliRunner().invoke(app, [str(SAMPLES), "--html", str(html), "--format", "json"])
    assert result.exit_code in (0, 3), result.stderr
    doc = json.loads(result.stdout)
    seen = browser_page(html, tmp_path / "samples.png", full_page=False)
    check_offline_and_clean(seen, html.as_uri())
    facts = chart_facts(seen["page"])
    # an attempt whose log gives no date has no chart, and says so instead
    assert facts["charts"] == len([a for a in doc["attempts"] if a["started_at"]]) >= 3
    # every failed attempt drawn marks its failure: those with a verdict, and the backups judged under
    # another attempt or superseded (their section says so instead of a verdict)
    drawn_failures = [a for a in doc["attempts"] if a["started_at"] and a["failed_at"]]
    assert facts["markers"] == len(drawn_failures) >= len([i for i in doc["incidents"] if i["failed_at"]]) >= 3
    judged = {(i["host"], i["file"], i["attempt"]) for i in doc["incidents"]}
    unjudged = [a for a in drawn_failures if (a["host"], a["file"], a["attempt"]) not in judged]
    assert all(a["operation"] == "backup" for a in unjudged)
    assert facts["text"].count("No verdict of its own") == len(unjudged)
    undated = len([a for a in doc["attempts"] if not a["started_at"]])
    assert undated >= 4 and facts["text"].count("No timeline for this attempt") == undated
    for incident in doc["incidents"]:
        assert incident["cause"]["id"] in facts["text"]


def _page_facts(page) -> dict:
    return page.evaluate("""() => ({
        width: document.documentElement.scrollWidth,
        drops: document.querySelectorAll('svg.timeline polygon.m.drop').length,
        fleetHeaders: [...document.querySelectorAll('table.fleet th')].map(th => th.textContent),
        marks: [...document.querySelectorAll('td.v-failed .mark, td.v-undetermined .mark')].length,
        font: getComputedStyle(document.body).fontFamily})""")


def test_samples_fleet_page_fits_1280_px_with_human_headers_and_marked_verdicts(browser_page, tmp_path: Path):
    from analyzer.api import analyze

    analysis = analyze([SAMPLES])
    html = tmp_path / "fleet.html"
    html.write_text(render_html(analysis), encoding="utf-8")
    seen = browser_page(html, tmp_path / "fleet.png", full_page=False)
    check_offline_and_clean(seen, html.as_uri())
    facts = _page_facts(seen["page"])
    assert facts["width"] <= 1280  # the viewport: nothing scrolls sideways
    assert "Verdict" in facts["fleetHeaders"] and not [h for h in facts["fleetHeaders"] if "_" in h]
    failing = [h for h in analysis.fleet["hosts"] if h["verdict"] not in ("ok", "no_outcome", "no_restore_log",
                                                                          "no_input")]
    assert facts["marks"] == len(failing) > 0
    assert "Meiryo" in facts["font"] and "Hiragino" in facts["font"] and "Noto Sans CJK JP" in facts["font"]


def test_every_samples_timeline_draws_the_drops_its_verdict_counts(browser_page, tmp_path: Path):
    from analyzer.api import analyze

    a1 = SAMPLES / "pc_a1_usb_surprise_removal"
    html = tmp_path / "a1.html"
    html.write_text(render_html(analyze([a1])), encoding="utf-8")
    seen = browser_page(html, tmp_path / "a1.png")
    assert _page_facts(seen["page"])["drops"] == 1  # the verdict counts one drop, seen from both sides


def test_japanese_text_renders_in_a_cjk_font_when_one_is_installed(browser_page, tmp_path: Path):
    import subprocess

    from analyzer.api import analyze

    fonts = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else ""
    if not fonts.strip():
        pytest.skip("no Japanese font installed on this machine (fc-list :lang=ja is empty)")
    html = tmp_path / "ja.html"
    html.write_text(render_html(analyze([SAMPLES / "restore_4013_usb_drop"]), lang="ja"), encoding="utf-8")
    seen = browser_page(html, tmp_path / "ja.png")
    installed = [f.strip() for line in fonts.splitlines() for f in line.split(",")]
    stack = _page_facts(seen["page"])["font"]
    assert any(f in stack for f in installed), (installed, stack)  # the stack names a font this machine has
