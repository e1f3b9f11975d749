"""A restore log's lines get the same meaning whether each line is classified or each distinct message.

The restore source marks and classifies each distinct (shape, message) of a chunk once and joins the
answer back to the lines (``_apple_lines._meanings``), because a line's marker and classification
depend on its message (and its shape) alone. That is a speed choice only: here every restore-log
line of the samples, and a chunk built of repeated messages with different times, go both ways (the
grammar's whole extraction classified line by line, as before, and ``line_rows``) and must agree.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from analyzer import grammars
from analyzer.sources import _apple_lines
from analyzer.sources._apple_classify import classify
from analyzer.sources.apple_restore import SOURCE as RESTORE
from analyzer.sources._base import Input

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = grammars.load("apple_restore")
#: What a line's meaning is made of (the per-line columns, times and shape, are the grammar's own).
MEANING = ["rule", "kind", "subject", "error_code", "detail", "device_mode", "ecid_value", "serial",
           "chip_id", "board_id", "usb_vid", "usb_pid", "operation", "device_obj", "from_state", "to_state"]


def _restore_logs() -> list[Path]:
    return sorted(p for p in (ROOT / "samples").rglob("*") if p.is_file() and RESTORE.sniff(Input(p, p.name)))


def _line_by_line(lines: pl.Series) -> pl.DataFrame:
    """The reference: every line through the whole grammar and classified as one frame."""
    frame = GRAMMAR.extract(lines)
    rows = frame.filter(pl.col("shape").is_not_null() & (pl.col("text").str.strip_chars() != ""))
    return classify(rows)


def _same(lines: pl.Series) -> None:
    size = _apple_lines.CHUNK_LINES
    chunks = (lines.slice(offset, size) for offset in range(0, lines.len(), size))
    got, _, _, count = _apple_lines.line_rows(chunks, GRAMMAR, 5)
    assert count == lines.len()
    want = _line_by_line(lines)
    assert got.height == want.height
    for name in MEANING:
        if name not in want.columns and name not in got.columns:
            continue
        left = got.get_column(name).cast(pl.String) if name in got.columns else pl.repeat(None, got.height, dtype=pl.String, eager=True)
        right = want.get_column(name).cast(pl.String) if name in want.columns else pl.repeat(None, want.height, dtype=pl.String, eager=True)
        assert left.to_list() == right.to_list(), name
    assert got.get_column("line").to_list() == want.get_column("line").to_list()
    shown = pl.when(pl.col("shape").is_in(_apple_lines.HOST_SHAPES)).then(pl.col("message")).otherwise(pl.col("text"))
    assert got.get_column("_message").to_list() == want.select(shown).to_series().to_list()


def test_samples_have_restore_logs():
    assert len(_restore_logs()) >= 20


@pytest.mark.parametrize("path", _restore_logs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_sample_line_means_the_same(path: Path):
    lines = pl.Series("text", path.read_text(encoding="utf-8", errors="replace").splitlines(), dtype=pl.String)
    _same(lines)


def test_repeated_messages_across_chunks(monkeypatch):
    """Messages repeated with different times, over several chunks (each with its own distinct set)."""
    monkeypatch.setattr(_apple_lines, "CHUNK_LINES", 97)
    rng = random.Random(13)
    messages = []
    for path in _restore_logs()[:6]:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("[") and "] " in line:
                messages.append(line.split("] ", 1)[1])
    assert len(messages) > 50
    lines = ["2024-05-14 10:02:11.120 [7420:1c3c]: iTunes: iTunes 12.13.2.3"]
    for i in range(1000):
        s = 3600 + i * 0.37
        lines.append(f"[{int(s // 3600):02d}:{int(s // 60) % 60:02d}:{s % 60:07.4f}] {rng.choice(messages)}")
    _same(pl.Series("text", lines, dtype=pl.String))
