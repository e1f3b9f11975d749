"""Golden terminal reports, as a person sees them: 80 and 160 columns, English and Japanese, for a
single PC with a named cause, an undetermined PC, a PC whose logs record no restore (Windows logs
alone) and the samples fleet. ``python -m pytest tests/test_terminal_golden.py --update-golden``
rewrites them; review the diff, it is the report a reader gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app

from conftest import GOLDEN, ROOT

CASES = {"single": "samples/restore_4013_usb_drop", "undetermined": "samples/pc_k11_decoy_disconnect",
         "nothing_read": "samples/win_amds_crash", "fleet": "samples"}
OUT = GOLDEN / "terminal"


@pytest.mark.parametrize("width", [80, 160])
@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_terminal_report_matches_its_golden_file(case, lang, width, monkeypatch, update_golden):
    monkeypatch.chdir(ROOT)  # the report names the paths as given: relative, the same on every machine
    monkeypatch.setenv("TZ", "UTC")  # a file whose zone is assumed gets this machine's zone
    result = CliRunner().invoke(app, [CASES[case], "--lang", lang], env={"COLUMNS": str(width), "TZ": "UTC"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    golden = OUT / f"{case}.{lang}.{width}.txt"
    if update_golden:
        OUT.mkdir(parents=True, exist_ok=True)
        golden.write_text(result.stdout, encoding="utf-8")
    assert golden.is_file(), f"{golden} missing: run with --update-golden and review it"
    assert result.stdout == golden.read_text(encoding="utf-8")
    assert max(len(line) for line in result.stdout.splitlines()) <= width
