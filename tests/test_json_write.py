"""The JSON document on stdout is written as it is encoded (json_doc.write), never held whole; the
bytes must be those of the document encoded at once (json_doc.dumps), whatever the batch size."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from analyzer import api
from analyzer.report import json_doc

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("pieces", [1, 7, json_doc.WRITE_PIECES])
def test_streamed_document_is_the_document(monkeypatch, pieces):
    analysis = api.analyze([str(ROOT / "samples" / "pc_a1_usb_surprise_removal"), str(ROOT / "samples" / "pc_b2_amds_crash")])
    monkeypatch.setattr(json_doc, "WRITE_PIECES", pieces)
    out = io.StringIO()
    json_doc.write(analysis, out, lang="ja")
    text = out.getvalue()
    assert text == json_doc.dumps(analysis, lang="ja") + "\n"
    assert '"incidents": [' in text and text.count("\n") > 100


class _CountingOut(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, s):
        self.writes += 1
        return super().write(s)


def test_streamed_document_is_written_in_batches(monkeypatch):
    analysis = api.analyze([str(ROOT / "samples" / "pc_a1_usb_surprise_removal")])
    monkeypatch.setattr(json_doc, "WRITE_PIECES", 50)
    out = _CountingOut()
    json_doc.write(analysis, out)
    assert out.writes > 5  # several batches, not one string
