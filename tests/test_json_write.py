"""The JSON document on stdout is written as it is encoded (json_doc.write through report.json_text),
never held whole; its bytes must be those of the standard library's indented encoding
(json_doc.dumps), on the documents of the samples and on generated JSON values, whatever the flush
size."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from analyzer import api
from analyzer.report import json_doc, json_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("pieces", [1, 7, json_text.FLUSH_PIECES])
def test_streamed_document_is_the_document(monkeypatch, pieces):
    analysis = api.analyze([str(ROOT / "samples" / "pc_a1_usb_surprise_removal"), str(ROOT / "samples" / "pc_b2_amds_crash")])
    monkeypatch.setattr(json_text, "FLUSH_PIECES", pieces)
    out = io.StringIO()
    json_doc.write(analysis, out, lang="ja")
    text = out.getvalue()
    assert text == json_doc.dumps(analysis, lang="ja") + "\n"
    assert '"incidents": [' in text and text.count("\n") > 100


def test_every_samples_document_is_the_standard_encoding():
    analysis = api.analyze([str(ROOT / "samples")])
    out = io.StringIO()
    json_doc.write(analysis, out)
    assert out.getvalue() == json_doc.dumps(analysis) + "\n"


class _CountingOut(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, s):
        self.writes += 1
        return super().write(s)


def test_streamed_document_is_written_in_batches(monkeypatch):
    analysis = api.analyze([str(ROOT / "samples" / "pc_a1_usb_surprise_removal")])
    monkeypatch.setattr(json_text, "FLUSH_PIECES", 50)
    out = _CountingOut()
    json_doc.write(analysis, out)
    assert out.writes > 5  # several batches, not one string


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
_KEYS = st.one_of(st.text(max_size=6), st.integers(-9, 9), st.booleans(), st.none(),
                  st.floats(allow_nan=False, allow_infinity=True))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.tuples(inner, inner), st.dictionaries(_KEYS, inner, max_size=5)), max_leaves=40)


def _standard(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


@settings(max_examples=400, deadline=None)
@given(_VALUES, st.integers(1, 40))
def test_the_encoding_is_the_standard_librarys(value, pieces):
    out = io.StringIO()
    old = json_text.FLUSH_PIECES
    json_text.FLUSH_PIECES = pieces
    try:
        json_text.write(value, out)
    finally:
        json_text.FLUSH_PIECES = old
    assert out.getvalue() == _standard(value)


def test_what_json_cannot_hold_is_refused_as_the_standard_library_refuses_it():
    for bad in ({"a": {1, 2}}, [object()], {(1, 2): "tuple key"}):
        with pytest.raises(TypeError):
            _standard(bad)
        with pytest.raises(TypeError):
            json_text.write(bad, io.StringIO())
    assert json_text._float(math.nan) == "NaN"
