"""Shared fixtures: where the samples and the real corpus are, golden-file updating, and writing
test inputs in a given encoding."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
GOLDEN = ROOT / "tests" / "golden"
CORPUS = ROOT.parent / "shared" / "corpus"


def write_encoded(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", bom: bytes = b"") -> Path:
    """``text`` written to ``tmp_path/name`` as ``encoding`` bytes after ``bom`` (the way Windows
    tools write their exports)."""
    path = tmp_path / name
    path.write_bytes(bom + text.encode(encoding))
    return path


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/** from the current parser output (review the diff!)")


@pytest.fixture
def update_golden(request) -> bool:
    return bool(request.config.getoption("--update-golden"))


def require_corpus() -> Path:
    """The real-log corpus beside the repo: skip with a reason when absent, fail in CI."""
    if CORPUS.is_dir():
        return CORPUS
    message = f"real-log corpus not found at {CORPUS} (clone the repo beside ../shared to run these tests)"
    if os.environ.get("ANALYZER_REQUIRE_CORPUS") == "1":
        pytest.fail(message + "; ANALYZER_REQUIRE_CORPUS=1 makes this an error")
    pytest.skip(message)


@pytest.fixture
def corpus() -> Path:
    return require_corpus()


@pytest.fixture
def windows_corpus(corpus) -> Path:
    return corpus / "windows"


@pytest.fixture
def windows_text_corpus(corpus) -> Path:
    """Real Windows text exports (public material, read in place; see its SOURCES.md)."""
    return corpus / "windows-text"
