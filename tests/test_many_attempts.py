"""A PC with more attempts than a person reads one by one (a repair bench): the terminal and the
HTML report show the latest MAX_SHOWN in full and count the rest by cause and code, with the same
choice; the JSON keeps every attempt and incident."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.report.many import MAX_SHOWN, pick
from conftest import SAMPLES

COPIES = MAX_SHOWN + 7


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """One restore log holding the 4013 sample's attempt COPIES times over."""
    folder = tmp_path_factory.mktemp("bench") / "bench-pc"
    folder.mkdir()
    (folder / "iPhone Restore.log").write_bytes((SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log").read_bytes() * COPIES)
    return folder


def test_pick_keeps_the_latest_failures_then_the_latest_others():
    items = [("ok", i) if i % 3 else ("failed", i) for i in range(60)]
    shown, rest = pick(items, lambda item: item[0] == "failed")
    assert len(shown) == MAX_SHOWN and len(rest) == 60 - MAX_SHOWN
    failed = [i for kind, i in items if kind == "failed"]  # 20 of them: all shown, then the 5 latest others
    assert [i for kind, i in shown if kind == "failed"] == failed
    assert [i for kind, i in shown if kind == "ok"] == [52, 53, 55, 56, 58, 59][-(MAX_SHOWN - len(failed)):]
    assert pick(items[:10]) == (items[:10], [])


def test_the_json_keeps_every_attempt(bench):
    doc = json.loads(CliRunner().invoke(app, [str(bench), "--format", "json"]).stdout)
    assert doc["summary"]["attempts"] == COPIES and len(doc["incidents"]) == COPIES


def test_the_terminal_shows_the_latest_and_counts_the_rest(bench):
    out = CliRunner().invoke(app, [str(bench)], env={"COLUMNS": "200"}).stdout
    assert out.count("Verdict — ") == MAX_SHOWN
    assert f"{COPIES - MAX_SHOWN} more attempts of this PC are not shown one by one ({COPIES - MAX_SHOWN} failed: " \
           f"USB connection (cable, port or hub) 4013 ×{COPIES - MAX_SHOWN}); the latest {MAX_SHOWN} are." in " ".join(out.split())
    shown_attempts = [int(n) for n in re.findall(r"restore attempt (\d+)", out)]
    assert shown_attempts == list(range(COPIES - MAX_SHOWN + 1, COPIES + 1))


def test_the_html_draws_the_same_attempts(bench, tmp_path):
    CliRunner().invoke(app, [str(bench), "--html", str(tmp_path / "r.html"), "--lang", "ja"])
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count('<section class="attempt"') == MAX_SHOWN
    assert f"この PC のほか {COPIES - MAX_SHOWN} 件の試行は個別に表示していません" in page
