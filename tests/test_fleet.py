"""Fleet triage: one verdict per PC and the fleet summary, on a small generated fleet with known causes."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from rich.console import Console

from analyzer.api import analyze
from analyzer.diagnose import Incident
from analyzer.fleet import host_verdict, summary, time_clusters
from analyzer.report.json_doc import document
from analyzer.report.terminal import render
from fleet_helpers import SPECS, X, Y, write_fleet


@pytest.fixture(scope="module")
def fleet_analysis(tmp_path_factory):
    fleet = write_fleet(tmp_path_factory.mktemp("fleet"))
    return analyze([fleet], tz="UTC")


def test_every_host_gets_its_known_verdict(fleet_analysis):
    data = summary(fleet_analysis)
    verdicts = {h["host"]: h["verdict"] for h in data["hosts"]}
    assert verdicts == {s[0]: s[1] for s in SPECS}
    assert data["host_count"] == 6 and data["failing_hosts"] == 5
    assert data["verdicts"] == {"ok": 1, "unsigned_firmware": 2, "usb_connection": 3}
    by_host = {h["host"]: h for h in data["hosts"]}
    assert by_host["pcA"]["error_codes"] == [4013] and by_host["pcD"]["error_codes"] == [3194]
    assert by_host["pcF"]["attempts"] == 1 and by_host["pcF"]["failed"] == 0


def test_computer_names_are_reported_beside_the_host(fleet_analysis):
    by_host = {h["host"]: h for h in summary(fleet_analysis)["hosts"]}
    assert by_host["pcA"]["computers"] == ["DESKTOP-PCA"]
    assert by_host["pcE"]["computers"] == ["DESKTOP-PCE"]  # read from inside pcE.zip


def test_causes_by_count_with_their_hosts(fleet_analysis):
    causes = summary(fleet_analysis)["causes"]
    assert [(c["cause"], c["host_count"], c["incidents"]) for c in causes] == [
        ("usb_connection", 3, 3), ("unsigned_firmware", 2, 2)]
    assert causes[0]["hosts"] == ["pcA", "pcB", "pcC"]
    assert causes[1]["hosts"] == ["pcD", "pcE"]


def test_factors_shared_by_failing_hosts(fleet_analysis):
    shared = {(s["factor"], s["value"]): s for s in summary(fleet_analysis)["shared_factors"]}
    itunes = shared[("itunes_version", X)]
    assert (itunes["failing_hosts"], itunes["of_failing"], itunes["other_hosts"], itunes["of_other"]) == (3, 5, 1, 1)
    assert itunes["hosts"] == ["pcA", "pcB", "pcD"]
    assert itunes["causes"] == {"unsigned_firmware": 1, "usb_connection": 2}
    assert shared[("itunes_version", Y)]["hosts"] == ["pcC", "pcE"]
    amd = shared[("apple_mobile_device_version", "18.1.0.2")]
    assert (amd["failing_hosts"], amd["other_hosts"]) == (5, 1)
    av = shared[("security_product", "symantec")]
    assert av["hosts"] == ["pcA", "pcD"] and av["other_hosts"] == 0


def test_failures_clustered_in_time(fleet_analysis):
    clusters = summary(fleet_analysis)["time_clusters"]
    hours = [c for c in clusters if c["window"] == "hour"]
    assert [(c["start"], c["hosts"]) for c in hours] == [("2025-03-10T08:00:00.000Z", ["pcA", "pcB"])]
    days = [c for c in clusters if c["window"] == "day"]
    assert [(c["start"], c["hosts"], c["causes"]) for c in days] == [
        ("2025-03-10T00:00:00.000Z", ["pcA", "pcB"], {"usb_connection": 2})]


def test_json_document_carries_the_fleet_summary(fleet_analysis):
    doc = json.loads(json.dumps(document(fleet_analysis)))
    assert doc["fleet"]["host_count"] == 6
    assert doc["hosts"] == ["pcA", "pcB", "pcC", "pcD", "pcE", "pcF"]
    assert any(f["path"].endswith("pcE.zip!logs/iTunes_restore.log") and f["host"] == "pcE" for f in doc["files"])


def test_terminal_shows_a_fleet_table_only_for_several_hosts(fleet_analysis, tmp_path):
    out = io.StringIO()
    render(fleet_analysis, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "Fleet: 6 PCs, 5 with a failed restore" in text
    assert "DESKTOP-PCA" in text and "Shared by failing PCs" in text and "Failures close in time" in text
    single = analyze([write_fleet(tmp_path, SPECS[:1]) / "pcA"], tz="UTC")
    out = io.StringIO()
    render(single, Console(file=out, width=200, color_system=None))
    assert "Fleet:" not in out.getvalue()


def _inc(host, cause, minutes, confidence=0.5):
    t = dt.datetime(2025, 1, 1, 10, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return Incident(host=host, file="f", attempt=1, error_code=4013, failed_at=t, started_at=t, cause=cause,
                    confidence=confidence, alternatives=[], evidence=[], rules=[])


def test_host_verdict_prefers_determined_then_most_frequent_then_latest():
    assert host_verdict([]) == ("ok", None)
    assert host_verdict([_inc("h", "undetermined", 0), _inc("h", "usb_connection", 1, 0.7)]) == ("usb_connection", 0.7)
    assert host_verdict([_inc("h", "undetermined", 0, 0.4)]) == ("undetermined", 0.4)
    two_one = [_inc("h", "a_cause", 0), _inc("h", "a_cause", 1), _inc("h", "b_cause", 5)]
    assert host_verdict(two_one)[0] == "a_cause"
    assert host_verdict([_inc("h", "a_cause", 0), _inc("h", "b_cause", 5)])[0] == "b_cause"


def test_time_clusters_need_two_hosts():
    incs = [_inc("h1", "c", 0), _inc("h1", "c", 10), _inc("h2", "c", 70)]
    clusters = time_clusters(incs)
    assert [(c["window"], c["hosts"], c["incidents"]) for c in clusters] == [("day", ["h1", "h2"], 3)]


def test_apple_driver_versions_and_security_products_are_factors():
    import polars as pl

    from analyzer.fleet import factors
    from analyzer.model import conform

    rows = [
        {"host": "h1", "kind": "driver_install", "usb_vid": "05AC", "subject": "USB\\VID_05AC&PID_12A8\\X",
         "detail": json.dumps({"DriverName": "usbaapl64.inf", "DriverVersion": "486.0.0.0"})},
        {"host": "h1", "kind": "driver_install", "usb_vid": None, "subject": "USB\\VID_046D&PID_C52B\\Y",
         "detail": json.dumps({"DriverName": "logitech.inf", "DriverVersion": "1.0"})},
        {"host": "h2", "kind": "driver_load", "subject": "Apple Mobile Device USB Driver",
         "detail": json.dumps({"DriverVersion": "537.0.0.1"})},
        {"host": "h2", "kind": "security_product", "provider": "Kaspersky Endpoint Security", "detail": "{}"},
        {"host": "h3", "kind": "session_start", "detail": json.dumps({"itunes_version": "12.13.5.3", "process": "iTunes",
                                                                       "payload_build": None})},
    ]
    got = factors(conform(rows))
    assert got == {
        "h1": {"apple_driver_version": {"usbaapl64.inf 486.0.0.0"}},
        "h2": {"apple_driver_version": {"537.0.0.1"}, "security_product": {"kaspersky"}},
        "h3": {"itunes_version": {"12.13.5.3"}, "restore_process": {"iTunes"}},
    }
    assert factors(conform(None)) == {} and isinstance(conform(None), pl.DataFrame)
