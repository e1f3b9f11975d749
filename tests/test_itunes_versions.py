"""The iTunes-older-than-firmware check: table-driven, numeric, independent of JSON key order."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.itunes_versions import host_older_than_payload, host_older_than_payload_expr, version_code


@pytest.mark.parametrize("version, code", [("12.5.1.21", 12_005_001), ("12.10", 12_010_000), ("9", 9_000_000),
                                           ("12.4.3.1", 12_004_003), ("", None), (None, None), ("beta", None)])
def test_version_codes_compare_part_by_part(version, code):
    assert version_code(version) == code


@pytest.mark.parametrize("itunes, build, older", [
    ("12.4.3.1", "14A403", True),     # iOS 10 needs 12.5
    ("12.5.1.21", "14A403", False),
    ("12.6.2.20", "15A372", True),    # iOS 11 needs 12.7
    ("12.7.0.166", "15A372", False),
    ("12.10.1", "15A372", False),     # 12.10 is newer than 12.7 (text comparison says otherwise)
    ("11.4", "13G36", False),         # iOS 9: no row, nothing to say
    ("12.4", "", False), (None, "14A403", False), ("12.4", None, False),
])
def test_python_and_polars_agree_on_known_pairs(itunes, build, older):
    assert host_older_than_payload(itunes, build) is older
    detail = json.dumps({"payload_build": build, "itunes_version": itunes})  # keys in either order
    frame = pl.DataFrame({"detail": [detail, json.dumps({"itunes_version": itunes, "payload_build": build})]})
    assert frame.select(host_older_than_payload_expr(pl.col("detail")).fill_null(False)).to_series().to_list() == [older] * 2


@given(st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,3}){0,3}\Z"), st.from_regex(r"\A[0-9]{1,2}[A-Z][0-9]{1,4}[a-z]?\Z"))
def test_python_and_polars_agree_on_any_version_and_build(itunes, build):
    detail = json.dumps({"itunes_version": itunes, "payload_build": build, "other": {"x": 1}})
    got = pl.DataFrame({"detail": [detail]}).select(host_older_than_payload_expr(pl.col("detail")).fill_null(False)).item()
    assert got is host_older_than_payload(itunes, build)
