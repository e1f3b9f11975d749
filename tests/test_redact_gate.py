"""The redactor reads only the texts in which an identifier can be found: its polars prefilter
(redact._may_hold, from redact_patterns.GATE_WORDS / GATE_PATTERNS) never turns away a text that
redact_patterns.find finds something in, and the gate covers every hint find() tests."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given, settings, strategies as st

import analyzer.redact_patterns as rp
from analyzer.redact import _may_hold

#: Pieces that make texts near the patterns' edges: hints in any case, keys, hex and digit runs,
#: path separators, a Kelvin sign (which lower() makes "k") and a dotless i.
PIECES = ["users", "USERS", "Home", "docume~1", "user", "USERNAME=", "logname", "account name: ", "username",
          "domain", "AccountDomain=", "S-1-5-21-1-2-3-4", "ecid", "ECID: ", "ApECID=0x", "chip", "UniqueChipID: ",
          "device ", "(udid", "udid: ", "Unique Device ID=", "target identifier: ", "serial number: ", "iSerialNumber 3 ",
          "srnm:[", "]", "imei ", "meid ", "iccid ", "phone number: ", "<Computer>", "</Computer>", "computer name: ",
          "workstation name=", "<Data Name='WorkstationName'>", "</Data>", "vid_05ac&pid_12a8\\", "USB\\VID_05AC&PID_12A8\\",
          "device name: ", "\"device_name\": \"", "@", "mika@example.com", "0000", "00008101", "-", "000A3D5C0E9B001E",
          "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "F2LXK0QJHG7F", "+81 90-1234-5678", "0x", "1234567890",
          "\\", "/", ":", "=", "\"", " ", "\n", "id", "Id", "ID", "\u212a", "\u0131", "é", "名前"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(alphabet="0123456789abcdefABCDEF-_ .:", max_size=24), max_size=12))
def test_a_text_the_gate_turns_away_holds_nothing_find_would_find(parts):
    text = "".join(parts)
    gated = pl.DataFrame({"t": [text]}).select(_may_hold(pl.col("t"))).item()
    if not gated:
        assert list(rp.find(text)) == [], text


def test_the_gate_covers_every_hint_of_find():
    hints = {h for _, words, _ in rp._SIMPLE for h in words}
    covered_by_patterns = {"-", "0000", "id"}
    assert hints - covered_by_patterns <= set(rp.GATE_WORDS)
    # the hint-less rule (a 40-digit UDID) and the three common hints each have a gate pattern that
    # every match of their rule holds
    for kind, words, rx in rp._SIMPLE:
        if not words or set(words) & covered_by_patterns:
            samples = {"": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "-": "00008101-000A3D5C0E9B001E",
                       "0000": "00008101000a3d5c0e9b001e", "id": "UDID: 00008101-000A3D5C0E9B001E"}
            sample = samples[words[0] if words else ""]
            assert rx.search(sample), (kind, words)
            assert any(re.search(p, sample) for p in rp.GATE_PATTERNS), (kind, words)


def test_non_ascii_texts_are_always_read():
    texts = ["ユーザー名: 田中", "no identifier at all but é", "plain ascii with nothing"]
    got = pl.DataFrame({"t": texts}).select(_may_hold(pl.col("t"))).to_series().to_list()
    assert got == [True, True, False]


def _redactor(digits: bool = True):
    from analyzer.redact import Redactor

    r = Redactor("gate-test-key")
    r.add("user", "Mika Tanaka")
    r.add("ecid", 0x000A3D5C0E9B001E)
    r.add("udid", "00008101-000A3D5C0E9B001E")
    if digits:  # (digit spellings let every text with a digit through)
        r.add("imei", "35 209900 176148 1")
    r.add("host", "BENCH-PC7")
    return r


SCRUB_PIECES = ["mika tanaka", "MIKA TANAKA", "Mika", "Tanaka", "a3d5c0e9b001e", "0x000A3D5C0E9B001E", "00008101-",
                "00008101", "2879882738802718", "35 209900 176148 1", "35-209900-176148", "352099001761481", "bench-pc7",
                "BENCH-PC", "7", "\u212a", "é", " ", "-", "_", "/", "\\", "x", "0", "1"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(SCRUB_PIECES), max_size=10), st.booleans())
def test_a_text_may_change_turns_away_is_left_as_it_is_by_scrub(parts, digits):
    r = _redactor(digits)
    text = "".join(parts)
    if not pl.DataFrame({"t": [text]}).select(r.may_change(pl.col("t"))).item():
        assert r.scrub(text) == text


def test_may_change_passes_the_texts_scrub_rewrites():
    r = _redactor()
    texts = ["user Mika Tanaka signed in", "ECID 0xA3D5C0E9B001E", "UDID 00008101-000A3D5C0E9B001E",
             "IMEI 35-209900-176148-1", "nothing to see here"]
    changed = [r.scrub(t) != t for t in texts]
    gated = pl.DataFrame({"t": texts}).select(r.may_change(pl.col("t"))).to_series().to_list()
    assert changed == [True, True, True, True, False]
    assert all(g for g, c in zip(gated, changed) if c) and gated[-1] is False
