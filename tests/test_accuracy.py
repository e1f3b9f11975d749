"""Every sample's verdict is pinned: the suite fails if one changes (python -m analyzer.accuracy shows the table)."""

from __future__ import annotations

import pytest

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
