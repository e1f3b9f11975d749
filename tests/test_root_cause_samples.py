"""The root-cause sample PCs (samples/pc_*): what each trap in them must and must not do.

Verdicts themselves are pinned in tests/expected_verdicts.toml (test_accuracy) and which rule
fires where in each rule's ``fires_on`` (test_rules); this file checks the mechanics behind
them: clocks reconciled, expected removals not blamed, decoys ignored, both sides cited.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl
import pytest

from analyzer import analyze
from analyzer.correlate import mark_transitions
from analyzer.report.i18n import Catalogue

from conftest import SAMPLES


@lru_cache(maxsize=None)
def result(bundle: str, tz: str | None = None):
    return analyze([SAMPLES / bundle], layout="host", tz=tz)


def only_incident(bundle: str, tz: str | None = None):
    incidents = result(bundle, tz).incidents
    assert len(incidents) == 1, [(i.file, i.attempt) for i in incidents]
    return incidents[0]


def test_evtx_samples_are_reproducible_from_their_definitions():
    from evtx_writer import evtx_bytes
    from root_cause_evtx import FILES
    for rel, records in FILES.items():
        assert (SAMPLES / rel).read_bytes() == evtx_bytes(records()), rel


# Stories with a restore log AND decisive Windows evidence: the verdict must cite both sides.
BOTH_SIDES = ["pc_a1_usb_surprise_removal", "pc_b2_amds_crash", "pc_c3_recovery_driver_jst", "pc_d4_tss_firewall",
              "pc_e5_usbmux_blocked", "pc_g7_low_disk", "pc_h8_old_itunes", "pc_l12_two_attempts_cable",
              "pc_m13_amds_crash_ja"]


@pytest.mark.parametrize("bundle", BOTH_SIDES)
def test_verdict_cites_the_restore_log_and_windows(bundle):
    incident = only_incident(bundle)
    cited = {Path(e["file"]).name for e in incident.evidence if e.get("rule")}
    assert any(name.startswith("iTunes") for name in cited | {Path(incident.file).name}), cited
    assert any(not name.startswith("iTunes") for name in cited), f"no Windows evidence cited: {cited}"


def test_removals_at_mode_switches_are_expected_and_the_mid_restore_one_is_not():
    events = mark_transitions(result("pc_a1_usb_surprise_removal").events)
    removals = (events.filter(pl.col("attempt").is_null() & (pl.col("kind") == "device_disconnect")
                              & (pl.col("error_code") == 23) & (pl.col("usb_vid") == "05AC"))
                .sort("ts_utc").get_column("expected").to_list())
    assert removals == [True, True, False]  # normal->recovery, recovery->restore OS, the drop
    incident = only_incident("pc_a1_usb_surprise_removal")
    blamed = [e for e in incident.evidence if e.get("rule") == "windows_saw_apple_surprise_removal"]
    assert len(blamed) == 1 and blamed[0]["ts"].startswith("2025-11-04T15:29:43")


def test_amds_crash_explains_the_disconnect_not_the_cable():
    for bundle in ("pc_b2_amds_crash", "pc_m13_amds_crash_ja"):
        incident = only_incident(bundle)
        assert incident.cause == "apple_usb_driver"
        usb = next(a for a in incident.alternatives if a["id"] == "usb_connection")
        assert usb["reason"] == {"code": "explained_away", "rules": ["amds_crashed"]}
        assert Catalogue("en").reason(usb["reason"]) == ("explained away by: Apple Mobile Device Service crashed or "
                                                        "failed during the restore")
        # the crash comes before the disconnect the restore log reports
        crash = min(e["ts"] for e in incident.evidence if e.get("rule") == "amds_crashed")
        drop = min(e["ts"] for e in incident.evidence if e.get("rule") == "unexpected_disconnect")
        assert crash < drop


def test_setupapi_in_jst_is_aligned_with_the_utc_system_log():
    files = {Path(f.path).name: f for f in result("pc_c3_recovery_driver_jst").files}
    clock = files["setupapi.dev.log"].clock
    assert clock["local_zone"] == "+09:00"
    assert clock["local_zone_method"] == "aligned" and clock["aligned_events"] >= 2
    assert [Path(p).name for p in clock["aligned_with"]] == ["System_wevtutil.xml"]
    incident = only_incident("pc_c3_recovery_driver_jst")
    from_setupapi = {e["rule"] for e in incident.evidence if e["file"].endswith("setupapi.dev.log")}
    assert from_setupapi == {"apple_driver_install_failed", "apple_driver_failure"}


def test_setupapi_read_in_the_wrong_zone_falls_out_of_the_window():
    """The same PC read with --tz UTC: setupapi's install failure lands 9 h after the restore."""
    incident = only_incident("pc_c3_recovery_driver_jst", tz="UTC")
    assert not any(e["file"].endswith("setupapi.dev.log") for e in incident.evidence)


def test_decoy_disconnects_do_not_count():
    incident = only_incident("pc_k11_decoy_disconnect")
    assert incident.cause == "undetermined" and incident.rules == []
    assert incident.missing  # it says which logs would settle it
    events = result("pc_k11_decoy_disconnect").events
    removals = events.filter(pl.col("attempt").is_null() & (pl.col("kind") == "device_disconnect")
                             & (pl.col("error_code") == 23))
    android = removals.filter(pl.col("subject").str.contains("VID_18D1"))
    apple_early = removals.filter((pl.col("usb_vid") == "05AC") & (pl.col("ts_utc") < incident.started_at))
    # the decoys are really there: the Android phone within a second of the failure, the iPhone hours before
    assert android.height == 1
    assert abs((android.item(0, "ts_utc") - incident.failed_at).total_seconds()) < 1
    assert apple_early.height == 1 and (incident.started_at - apple_early.item(0, "ts_utc")).total_seconds() > 4 * 3600


def test_one_harmless_pipe_stall_is_not_blamed():
    incident = only_incident("pc_i9_baseband")
    events = result("pc_i9_baseband").events
    assert events.filter(pl.col("kind") == "usb_io_error").height == 3  # the stall, its control transfer, the getenv
    assert incident.cause == "device_hardware" and incident.rules == ["baseband_radio_error"]
    usb = next(a for a in incident.alternatives if a["id"] == "usb_connection")
    assert usb["confidence"] == 0


def test_second_attempt_after_the_cable_change_is_not_an_incident():
    table = result("pc_l12_two_attempts_cable").attempts
    assert table.get_column("outcome").to_list() == ["failed", "succeeded"]
    incident = only_incident("pc_l12_two_attempts_cable")
    assert incident.attempt == 1 and incident.cause == "usb_connection"
