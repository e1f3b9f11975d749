"""The diagnosis stage on tiny inline event tables: attempts, windows, scoring, verdicts."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from analyzer.correlate import attempts, mark_transitions
from analyzer.diagnose import diagnose
from analyzer.model import conform
from analyzer.rules import parse_rule

T0 = dt.datetime(2026, 3, 14, 9, 0, 0, tzinfo=dt.timezone.utc)


def ev(seconds: float, kind: str, *, line: int | None = None, attempt: int | None = 1, file: str = "restore.log",
       host: str = "pc1", **extra) -> dict:
    row = {"host": host, "file": file, "line": line, "ts_utc": T0 + dt.timedelta(seconds=seconds), "kind": kind,
           "attempt": attempt, "format": "apple_restore" if attempt else "windows_evtx",
           "message": extra.pop("message", kind)}
    row.update(extra)
    return row


def frame(rows) -> pl.DataFrame:
    return conform(rows)


RESTORE_4013 = [
    ev(0, "session_start", line=1),
    ev(60, "progress", line=2, subject="Restoring image"),
    ev(120, "device_disconnect", line=3, expected=False, message="Device disconnected during transition"),
    ev(720, "result", line=4, error_code=4013, message="AMPDevicesAgent: Restore error 4013"),
]


def test_attempt_outcomes_and_failure_time():
    rows = RESTORE_4013 + [ev(0, "session_start", line=10, attempt=2), ev(50, "result", line=11, attempt=2, error_code=0)]
    table = attempts(frame(rows))
    assert table.select("attempt", "outcome", "error_code").rows() == [(1, "failed", 4013), (2, "succeeded", None)]
    assert table.row(0, named=True)["failed_at"] == T0 + dt.timedelta(seconds=720)


def test_unexpected_disconnect_names_the_usb_connection_with_cited_lines():
    incidents, _ = diagnose(frame(RESTORE_4013))
    (inc,) = incidents
    assert inc.cause == "usb_connection" and inc.error_code == 4013
    assert inc.rules == ["unexpected_disconnect"]
    assert 0.5 < inc.confidence < 0.9
    assert [(e["line"], e["kind"]) for e in inc.evidence] == [(3, "device_disconnect"), (4, "result")]
    assert {a["id"] for a in inc.alternatives} >= {"device_hardware", "apple_usb_driver", "security_software"}
    assert inc.missing == []


def test_thin_evidence_is_undetermined_and_says_what_to_collect():
    rows = [r for r in RESTORE_4013 if r["kind"] != "device_disconnect"]
    (inc,) = diagnose(frame(rows))[0]
    assert inc.cause == "undetermined"
    lead = inc.alternatives[0]
    assert lead["id"] == "usb_connection" and lead["reason"] == {"code": "leading_but_thin"}
    assert inc.missing == ["windows_event_logs", "usb_removal_log", "setupapi_log", "firewall_log"]


def test_a_head_without_an_end_is_an_unfinished_attempt_not_an_incident():
    rows = [ev(0, "session_start", line=1), ev(10, "device_disconnect", line=2, expected=True),
            ev(60, "progress", line=3, subject="Restoring image")]
    incidents, table = diagnose(frame(rows))
    assert incidents == []
    assert table.select("attempt", "outcome", "failed_line").rows() == [(1, "unfinished", None)]


def test_successful_restore_yields_no_incident():
    rows = [ev(0, "session_start", line=1), ev(10, "device_disconnect", line=2, expected=True),
            ev(60, "result", line=3, error_code=0)]
    incidents, table = diagnose(frame(rows))
    assert incidents == [] and table.get_column("outcome").to_list() == ["succeeded"]


def test_status_94_explains_away_the_firewall():
    rows = [ev(0, "session_start", line=1), ev(5, "tss_error", line=2, error_code=94),
            ev(6, "result", line=3, error_code=3194)]
    (inc,) = diagnose(frame(rows))[0]
    assert inc.cause == "unsigned_firmware"
    why = {a["id"]: a["reason"] for a in inc.alternatives}
    assert why["security_software"] == {"code": "explained_away", "rules": ["tss_refused_status_94"]}
    assert why["usb_connection"] == {"code": "no_evidence"}


def _service_rule(tmp_path):
    errors: list = []
    rule = parse_rule(tmp_path / "amds.toml",
                      'cause = "apple_usb_driver"\ntitle = { en = "AMDS crashed", ja = "AMDS 停止" }\nwhy.en = "w"\n'
                      'weight = 4\nfires_on = ["x"]\ndiscounts = { usb_connection = 3 }\n'
                      '[detection.crash]\nkind = "service_crash"\nside = "pc"\napple = true\n', errors)
    assert errors == []
    return rule


def test_windows_evidence_counts_only_inside_the_window(tmp_path):
    rule = _service_rule(tmp_path)
    crash = dict(attempt=None, file="System.evtx", record=7, subject="Apple Mobile Device Service")
    inside = RESTORE_4013 + [ev(100, "service_crash", **crash)]
    hours_before = RESTORE_4013 + [ev(-5 * 3600, "service_crash", **crash)]
    other_host = RESTORE_4013 + [ev(100, "service_crash", host="pc2", **crash)]
    rules = (rule,)
    assert diagnose(frame(inside), rules)[0][0].cause == "apple_usb_driver"
    assert diagnose(frame(hours_before), rules)[0][0].rules == []
    assert diagnose(frame(other_host), rules)[0][0].rules == []
    inc = diagnose(frame(inside), rules)[0][0]
    crash_items = [e for e in inc.evidence if e["kind"] == "service_crash"]
    assert [(e["file"], e["record"], e["rule"]) for e in crash_items] == [("System.evtx", 7, "amds")]
    assert [e["kind"] for e in inc.evidence] == ["service_crash", "result"]


def test_verdict_does_not_depend_on_row_order(tmp_path):
    rules = (_service_rule(tmp_path),)
    rows = RESTORE_4013 + [ev(100, "service_crash", attempt=None, file="System.evtx", record=7,
                              subject="Apple Mobile Device Service")]
    a = diagnose(frame(rows), rules)[0][0].as_dict()
    b = diagnose(frame(list(reversed(rows))), rules)[0][0].as_dict()
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def test_windows_removals_follow_the_restore_logs_transitions():
    win = dict(attempt=None, file="dfum.evtx", usb_vid="05AC")
    rows = [ev(100, "device_disconnect", line=2, expected=True),
            ev(400, "device_disconnect", line=3, expected=False),
            ev(103, "device_disconnect", record=1, **win),     # same instant as the expected transition
            ev(405, "device_disconnect", record=2, **win),     # same instant as the fault
            ev(2000, "device_disconnect", record=3, **win)]    # nothing on the Apple side nearby
    out = mark_transitions(frame(rows)).filter(pl.col("file") == "dfum.evtx").sort("record")
    assert out.get_column("expected").to_list() == [True, False, None]


def test_numeric_detail_rule(tmp_path):
    errors: list = []
    rule = parse_rule(tmp_path / "low_disk.toml",
                      'cause = "host_storage"\ntitle = { en = "t", ja = "t" }\nwhy.en = "w"\nweight = 3\nfires_on = ["x"]\n'
                      '[detection.low]\nkind = "disk_space"\n"detail.LowestFreeSpaceInBytes|lt" = 8e9\n', errors)
    assert errors == []
    disk = dict(attempt=None, file="Ntfs.evtx")
    low = RESTORE_4013 + [ev(30, "disk_space", record=5, detail='{"LowestFreeSpaceInBytes": 2147483648}', **disk)]
    high = RESTORE_4013 + [ev(30, "disk_space", record=5, detail='{"LowestFreeSpaceInBytes": 97070438400}', **disk)]
    assert diagnose(frame(low), (rule,))[0][0].rules == ["low_disk"]
    assert diagnose(frame(high), (rule,))[0][0].rules == []


def test_windows_removal_pairs_with_an_apple_disconnect_not_a_nearby_reconnect():
    win = dict(attempt=None, file="dfum.evtx", usb_vid="05AC")
    rows = [ev(100, "device_connect", line=2, expected=True),      # expected reconnect ...
            ev(102, "device_disconnect", record=1, **win),          # 2 s after it, 8 s before the fault
            ev(110, "device_disconnect", line=3, expected=False)]
    out = mark_transitions(frame(rows)).filter(pl.col("file") == "dfum.evtx")
    assert out.get_column("expected").to_list() == [False]


def test_provider_and_event_id_match_keys(tmp_path):
    errors: list = []
    rule = parse_rule(tmp_path / "srv.toml",
                      'cause = "host_storage"\ntitle = { en = "t", ja = "t" }\nwhy.en = "w"\nweight = 2\nfires_on = ["x"]\n'
                      '[detection.srv]\nkind = "disk_space"\nprovider = "SRV"\nevent_id = [2013]\n', errors)
    assert errors == []
    disk = dict(attempt=None, file="System.evtx")
    srv = RESTORE_4013 + [ev(30, "disk_space", record=9, provider="srv", event_id=2013, **disk)]
    ntfs = RESTORE_4013 + [ev(30, "disk_space", record=9, provider="Microsoft-Windows-Ntfs", event_id=142, **disk)]
    assert diagnose(frame(srv), (rule,))[0][0].rules == ["srv"]
    assert diagnose(frame(ntfs), (rule,))[0][0].rules == []


def test_the_deeper_codes_of_apples_failure_description_are_cited_beside_the_code_the_user_saw():
    detail = json.dumps({"underlying_codes": [{"depth": 0, "code": 14, "text": "bundle", "line": 5},
                                              {"depth": 1, "code": 112, "text": "disk full", "line": 6}]})
    rows = RESTORE_4013[:3] + [ev(700, "result", line=4, error_code=14, detail=detail),
                               ev(700, "failure_detail", line=5, error_code=14, message="Depth:0 Code:14 Error:bundle"),
                               ev(700, "failure_detail", line=6, error_code=112, message="Depth:1 Code:112 Error:disk full")]
    (inc,) = diagnose(frame(rows))[0]
    assert inc.error_code == 14
    assert [(u["depth"], u["code"]) for u in inc.underlying_codes] == [(0, 14), (1, 112)]
    assert [(e["line"], e["kind"]) for e in inc.evidence if e["kind"] != "device_disconnect"] == \
        [(4, "result"), (5, "failure_detail"), (6, "failure_detail")]
