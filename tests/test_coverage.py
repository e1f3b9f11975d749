"""Per PC, the kinds of evidence read and lacking (analyzer.coverage), in the fleet summary."""

from __future__ import annotations

from analyzer import analyze
from analyzer.coverage import KIND_OF, coverage
from analyzer.fleet import summary
from analyzer.locations import KINDS
from analyzer.model import FileReport
from analyzer.sources import registry

from conftest import SAMPLES


def test_every_source_gives_a_kind_of_the_location_table():
    assert set(KIND_OF) == set(registry())
    assert set(KIND_OF.values()) <= set(KINDS)


def test_a_restore_log_alone_is_said_to_be_all_the_verdict_rests_on():
    files = [FileReport(path="a.log", format="apple_restore", host="pc1"),
             FileReport(path="s.evtx", format="windows_evtx", host="pc2"),
             FileReport(path="r.log", format="apple_restore", host="pc2"),
             FileReport(path="notes.txt", format=None, host="pc3")]
    got = coverage(files)
    assert got["pc1"] == {"os": None, "present": ["apple_log"], "missing": ["event_log"], "caveat": "restore_log_only"}
    assert got["pc2"]["os"] == "windows" and got["pc2"]["missing"] == ["setupapi", "hosts"]
    assert got["pc2"]["caveat"] is None
    assert got["pc3"] == {"os": None, "present": [], "missing": ["apple_log", "event_log"], "caveat": "no_apple_log"}


def test_the_fleet_summary_names_each_pcs_evidence():
    analysis = analyze([SAMPLES / "restore_4013_usb_drop", SAMPLES / "pc_d4_tss_firewall"], layout="host")
    rows = {r["host"]: r for r in summary(analysis)["evidence"]}
    assert rows["restore_4013_usb_drop"]["caveat"] == "restore_log_only"
    assert rows["pc_d4_tss_firewall"]["present"] == ["apple_log", "firewall"]
    assert "event_log" in rows["pc_d4_tss_firewall"]["missing"]
