"""No output is written into an input folder (issue 18): ``--parquet``, ``--html``, ``--csv`` and
``--timesketch`` inside a folder given as input are refused with a usage error (exit 2) before
any analysis, and the evidence folder is left as it was. Notes on stderr are one per line, also
when stderr is a pipe narrower than the note."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import ExitCode, app
from conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _tree(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    shutil.copytree(SAMPLES / "pc_a1_usb_surprise_removal", folder)
    (folder / "sub").mkdir()
    return folder


@pytest.mark.parametrize("option,target", [
    ("--parquet", "."), ("--parquet", "pq"), ("--parquet", "sub/pq"), ("--html", "r.html"),
    ("--csv", "sub/t.csv"), ("--timesketch", "t.jsonl"),
])
def test_an_output_inside_an_input_folder_is_refused_before_analysis(evidence, option, target):
    before = _tree(evidence)
    result = runner.invoke(app, [str(evidence), "--format", "json", option, str(evidence / target)])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"analyze: error: {option} ") and "inside the input folder" in result.stderr
    assert result.stdout == ""
    assert _tree(evidence) == before


def test_an_output_beside_an_input_file_is_allowed(evidence, tmp_path):
    out = tmp_path / "r.html"
    result = runner.invoke(app, [str(evidence / "iTunes_restore.log"), "--format", "json", "--html", str(out)])
    assert result.exit_code in (ExitCode.OK, ExitCode.PARTIAL) and out.is_file()


def test_each_stderr_note_is_one_line_in_a_narrow_pipe(tmp_path):
    missing = tmp_path / ("a-folder-with-a-long-name-" * 4) / "and" / "a" / "log.log"
    proc = subprocess.run([sys.executable, "-m", "analyzer", str(missing),
                           str(SAMPLES / "pc_a1_usb_surprise_removal"), "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "40"})
    lines = [line for line in proc.stderr.splitlines() if str(missing) in line]
    assert len(lines) == 1 and lines[0].startswith("analyze: note: ")
    assert all(line.startswith("analyze: ") for line in proc.stderr.splitlines())
