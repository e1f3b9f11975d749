"""The iTunes-older-than-firmware check: table-driven, sourced, numeric, independent of JSON key order,
and three-valued — a firmware or host the table cannot judge is unknown, never fine."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import analyze
from analyzer.itunes_versions import (TABLE, host_older_than_payload, host_older_than_payload_expr, minimums,
                                      required_itunes, required_itunes_expr, version_code)


@pytest.mark.parametrize("version, code", [("12.5.1.21", 12_005_001), ("12.10", 12_010_000), ("9", 9_000_000),
                                           ("12.4.3.1", 12_004_003), ("", None), (None, None), ("beta", None)])
def test_version_codes_compare_part_by_part(version, code):
    assert version_code(version) == code


def test_every_row_names_its_source_and_newer_firmware_never_needs_an_older_itunes():
    rows = tomllib.loads(TABLE.read_text(encoding="utf-8"))["minimum"]
    assert len(rows) >= 10
    assert all(str(r.get("source", "")).strip() and r.get("ios") for r in rows)
    keys = [(r["build_major"], r.get("from_letter", "A")) for r in rows]
    assert len(keys) == len(set(keys))
    needs = [code for _, _, code in minimums()]
    assert needs == sorted(needs) and None not in needs


@pytest.mark.parametrize("build, needed", [
    ("8A293", "9.2"), ("8B117", "9.2"), ("8C148", "10.1"), ("8E200", "10.1"), ("8F190", "10.2"),  # iOS 4.0-4.3
    ("9A334", "10.5"), ("10A403", "10.7"), ("11A465", "11.1"), ("12A365", "11.4"), ("13A344", "12.3"),
    ("14A403", "12.5.1"), ("15A372", "12.6.3"), ("18A5301v", None),
    ("16A366", None), ("23A341", None),   # iOS 12 and iOS 26: no row, unknown (not the newest row's 12.6.3)
    ("7A341", None), ("", None), (None, None), ("X1", None),
])
def test_required_itunes_by_build_and_unknown_beyond_the_table(build, needed):
    assert required_itunes(build) == version_code(needed)
    got = pl.DataFrame({"b": [build]}, schema={"b": pl.String}).select(required_itunes_expr(pl.col("b"))).item()
    assert got == needed


@pytest.mark.parametrize("itunes, build, process, older", [
    ("12.4.3.1", "14A403", "iTunes", True),      # iOS 10 needs 12.5.1
    ("12.5.0.5", "14A403", "iTunes", True),
    ("12.5.1.21", "14A403", "iTunes", False),
    ("12.6.2.20", "15A372", "iTunes", True),     # iOS 11 needs 12.6.3
    ("12.6.3.6", "15A372", "iTunes", False),
    ("12.7.0.166", "15A372", "iTunes", False),
    ("12.10.1", "15A372", "iTunes", False),      # 12.10 is newer than 12.6 (text comparison says otherwise)
    ("10.0.1", "8C148", "iTunes", True),         # iOS 4.2 needed 10.1 although 4.0 took 9.2
    ("10.1.2", "8C148", "iTunes", False),
    ("12.4.3.1", "16A366", "iTunes", None),      # iOS 12: no row -> unknown, not fine
    ("12.13.7.1", "23A341", "iTunes", None),     # iOS 26: newer than every row -> unknown
    ("13.0.5.13", "14A403", "AMPDevicesAgent", None),  # Finder's agent, not iTunes
    ("13.0.5.13", "14A403", "iTunes", None),     # not on iTunes' scale whatever the process says
    ("1.0.4", "14A403", "iTunes", None),         # e.g. an Apple Devices app number
    ("12.4", "", "iTunes", None), (None, "14A403", "iTunes", None), ("12.4", None, "iTunes", None),
])
def test_python_and_polars_agree_on_known_pairs(itunes, build, process, older):
    assert host_older_than_payload(itunes, build, process) is older
    fields = {"payload_build": build, "itunes_version": itunes, "process": process}
    details = [json.dumps(fields), json.dumps(dict(reversed(list(fields.items()))))]  # keys in either order
    got = pl.DataFrame({"detail": details}).select(host_older_than_payload_expr(pl.col("detail"))).to_series().to_list()
    assert got == [older, older]


@settings(deadline=None)  # building the table's expression is not the thing under test
@given(st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,3}){0,3}\Z"), st.from_regex(r"\A[0-9]{1,2}[A-Z][0-9]{1,4}[a-z]?\Z"),
       st.sampled_from(["iTunes", "AMPDevicesAgent", None]))
def test_python_and_polars_agree_on_any_version_build_and_host(itunes, build, process):
    detail = json.dumps({"itunes_version": itunes, "payload_build": build, "process": process, "other": {"x": 1}})
    got = pl.DataFrame({"detail": [detail]}).select(host_older_than_payload_expr(pl.col("detail"))).item()
    assert got is host_older_than_payload(itunes, build, process)


def _log(tmp_path: Path, proc: str, itunes: str, build: str) -> Path:
    prefix = "2025-06-01 09:00:00.000 " + ("[4120:2a8]: " if proc == "iTunes" else f"{proc}[4120:2a8]: ")
    body = ["restore library built May  2 2025 at 10:11:12", f"iTunes: iTunes {itunes}",
            f"iTunes: Software payload version: {build}", "iTunes: Using MobileRestore state machine"]
    end = ["[09:00:40.0100] Restore completed, status:10", "[09:00:40.0100] Failure Description:",
           "[09:00:40.0101] Depth:0 Code:10 Error:Failed to handle message type StatusMsg"]
    folder = tmp_path / f"{proc}-{itunes}-{build}"
    folder.mkdir()
    (folder / "restore.log").write_text("\n".join(prefix + b for b in body) + "\n" + "\n".join(end) + "\n",
                                        encoding="utf-8")
    return folder


@pytest.mark.parametrize("proc, itunes, build, fires", [
    ("iTunes", "12.4.3.1", "14A403", True),
    ("iTunes", "12.4.3.1", "16A366", False),        # unknown firmware: no claim either way
    ("AMPDevicesAgent", "13.0.5.13", "14A403", False),
])
def test_the_rule_speaks_only_about_itunes_hosts_and_known_firmware(tmp_path, proc, itunes, build, fires):
    result = analyze([_log(tmp_path, proc, itunes, build)], layout="host")
    assert len(result.incidents) == 1
    assert ("itunes_outdated" in result.incidents[0].rules) is fires
