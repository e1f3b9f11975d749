"""Every sample's verdict is pinned: the suite fails if one changes (python -m analyzer.accuracy shows the table)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from analyzer import accuracy
from analyzer.accuracy import evaluate, load_expected

from conftest import ROOT, SAMPLES

EXPECTED = ROOT / "tests" / "expected_verdicts.toml"


def test_expectations_name_existing_samples():
    listed = set(load_expected(EXPECTED))
    assert listed and all((SAMPLES / name).is_dir() for name in listed)


@pytest.mark.parametrize("row", evaluate(SAMPLES, EXPECTED), ids=lambda r: f"{r.bundle}:{r.attempt}")
def test_verdict_is_as_expected(row):
    assert row.found == row.expected, f"{row.bundle} {row.attempt}: expected {row.expected}, found {row.found}"
    assert (row.confidence or 0) >= row.min_confidence


def test_the_command_takes_the_samples_and_the_expectations_as_arguments(tmp_path, capsys):
    samples = tmp_path / "mine"
    shutil.copytree(SAMPLES / "restore_4013_usb_drop", samples / "restore_4013_usb_drop")
    right = tmp_path / "right.toml"
    right.write_text('[[sample.restore_4013_usb_drop]]\nfile = "iTunes_restore.log"\ncause = "usb_connection"\n',
                     encoding="utf-8")
    assert accuracy.main([str(samples), str(right)]) == 0
    out = capsys.readouterr().out
    assert "Verdict accuracy over mine/" in out and "1/1 verdicts as expected" in out
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(right.read_text(encoding="utf-8").replace("usb_connection", "host_storage"), encoding="utf-8")
    assert accuracy.main([str(samples), str(wrong)]) == 1
    assert "0/1 verdicts as expected" in capsys.readouterr().out


def test_without_a_checkout_it_says_so_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(accuracy, "ROOT", tmp_path)  # what an installed wheel sees: no samples/, no tests/
    assert accuracy.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"samples folder not found: {tmp_path / 'samples'}" in captured.err
    assert f"expected verdicts not found: {tmp_path / 'tests' / 'expected_verdicts.toml'}" in captured.err
    assert "source checkout" in captured.err and "SAMPLES_DIR EXPECTED_TOML" in captured.err


def test_a_missing_folder_given_on_the_command_line_exits_non_zero_without_a_traceback(tmp_path):
    # the expectations are named too: installed from a wheel (as CI does), the package has no default for them
    proc = subprocess.run([sys.executable, "-m", "analyzer.accuracy", str(tmp_path / "absent"), str(EXPECTED)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == f"analyzer.accuracy: samples folder not found: {tmp_path / 'absent'}"
    assert "Traceback" not in proc.stderr and "expected verdicts not found" not in proc.stderr
