"""Network, clock and Wi-Fi evidence: the Windows meanings (from an XML export and from .evtx), the
software known to interfere, the restore log's own network lines, and real values from the corpus."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from analyzer import grammars
from analyzer.ingest import parse_file
from analyzer.network_software import software_of, table
from analyzer.winevent_kinds import kind_of

from evtx_writer import Record, write_evtx

from conftest import SAMPLES

#: (provider, event id, EventData, expected kind, subject, error_code, detail members that must be there)
CASES = [
    ("Microsoft-Windows-DNS-Client", 1014, {"QueryName": "gs.apple.com", "AddressLength": "128", "Address": "02000035C0A80101"},
     "dns_failure", "gs.apple.com", None, {}),
    ("Schannel", 36887, {"AlertDesc": "40"}, "tls_error", None, 40, {}),
    ("Schannel", 36888, {"AlertDesc": "48", "ErrorState": "552"}, "tls_error", None, 48, {}),
    ("Schannel", 36882, {}, "tls_error", None, None, {}),
    ("Microsoft-Windows-Time-Service", 36, {"UnsynchronizedTimeSeconds": "86400"}, "clock_sync", "time service", None,
     {"unsynced_s": 86400}),
    ("Microsoft-Windows-Time-Service", 134, {"ErrorMessage": "No such host is known. (0x80072AF9)", "RetryMinutes": "15",
                                             "DomainPeer": "time.windows.com,0x9"}, "clock_sync", "time service", None, {}),
    ("Microsoft-Windows-Time-Service", 37, {"TimeSource": "time.windows.com,0x9"}, "network_up", None, None, {}),
    ("Microsoft-Windows-Kernel-General", 1, {"NewTime": "2026-03-11T04:30:00.0000000Z", "OldTime": "2026-04-21T04:30:12.4000000Z",
                                             "Reason": "1"}, "clock_sync", "system time", None, {"jump_s": -3542412.4}),
    ("Microsoft-Windows-WLAN-AutoConfig", 8001, {"SSID": "Home", "ProfileName": "Home"}, "network_up", "Home", None, {}),
    ("Microsoft-Windows-WLAN-AutoConfig", 8003, {"SSID": "Home", "Reason": "The network is disconnected.", "ReasonCode": "229385"},
     "network_down", "Home", 229385, {}),
    ("Microsoft-Windows-WLAN-AutoConfig", 8002, {"ProfileName": "Cafe", "FailureReason": "x", "ReasonCode": "229377"},
     "network_down", "Cafe", 229377, {}),
    ("Microsoft-Windows-NetworkProfile", 10001, {"Name": "Network 2", "State": "0"}, "network_down", "Network 2", None, {}),
    ("Service Control Manager", 7045, {"ServiceName": "WireGuardTunnel$office", "ImagePath": r"C:\Program Files\WireGuard\wireguard.exe",
                                       "ServiceType": "user mode service", "StartType": "auto start", "AccountName": "LocalSystem"},
     "network_software", "WireGuardTunnel$office", None, {"software": "WireGuard", "category": "vpn", "inspects_tls": False}),
    ("Service Control Manager", 7036, {"param1": "Killer Network Service", "param2": "running"}, "network_software",
     "Killer Network Service", None, {"category": "killer"}),
    ("Service Control Manager", 7036, {"param1": "Print Spooler", "param2": "running"}, "service_state", "Print Spooler", None, {}),
]


def _record(i: int, provider: str, event_id: int, data: dict) -> Record:
    return Record(provider=provider, event_id=event_id, level=4, time=datetime(2026, 3, 11, 9, 30, i), record_id=100 + i,
                  channel="System", computer="PC", data=data)


def _xml(r: Record) -> str:
    data = "".join(f"<Data Name='{k}'>{v}</Data>" for k, v in r.data.items())
    return (f"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{r.provider}'/>"
            f"<EventID>{r.event_id}</EventID><Level>4</Level><TimeCreated SystemTime='{r.time:%Y-%m-%dT%H:%M:%S}.0000000Z'/>"
            f"<EventRecordID>{r.record_id}</EventRecordID><Channel>System</Channel><Computer>PC</Computer></System>"
            f"<EventData>{data}</EventData></Event>")


def _check(events: pl.DataFrame) -> None:
    rows = events.sort("record").iter_rows(named=True)
    for (provider, event_id, _, kind, subject, code, members), row in zip(CASES, rows):
        where = f"{provider} {event_id}"
        assert (row["kind"], row["subject"], row["error_code"]) == (kind, subject, code), where
        detail = json.loads(row["detail"])
        assert {k: detail.get(k) for k in members} == members, where


@pytest.mark.parametrize("form", ["evtx", "xml"])
def test_every_network_meaning_from_evtx_and_an_xml_export(tmp_path: Path, form: str):
    records = [_record(i, p, e, d) for i, (p, e, d, *_) in enumerate(CASES)]
    path = tmp_path / ("System.evtx" if form == "evtx" else "System.xml")
    if form == "evtx":
        write_evtx(path, records)
    else:
        path.write_text("\n".join(_xml(r) for r in records) + "\n", encoding="utf-8")
    parsed = parse_file(path, display=path.name, host="pc")
    assert parsed.report.format == ("windows_evtx" if form == "evtx" else "windows_event_xml")
    assert parsed.events.height == len(CASES)
    _check(parsed.events)


def test_kinds_are_decided_by_provider_and_id_alone():
    assert kind_of("Microsoft-Windows-DNS-Client", 1014) == "dns_failure"
    assert kind_of("Microsoft-Windows-DNS-Client", 1015) == "generic"
    assert kind_of("Microsoft-Windows-Time-Service", 50) == "clock_sync"
    assert kind_of("Microsoft-Windows-Time-Service", 35) == "network_up"
    assert kind_of("Microsoft-Windows-Kernel-General", 1) == "clock_sync"
    assert kind_of("Microsoft-Windows-Kernel-General", 12) == "generic"
    assert kind_of("Microsoft-Windows-NlaSvc", 4102) == "network_down"
    assert kind_of("Microsoft-Windows-WLAN-AutoConfig", 8000) == "generic"


def test_network_software_names_come_from_the_data_file():
    assert {r["category"] for r in table()} == {"killer", "vpn", "tls_inspection"}
    assert software_of("KNDBWM")["name"] == "Killer Dynamic Bandwidth Management"
    assert software_of(r"ROOT\NET\0000 tap0901")["category"] == "vpn"
    assert software_of("Avast Web/Mail Shield Root")["inspects_tls"] is True
    assert software_of("Killerwhale Service") is None  # as words of their own
    assert software_of("Print Spooler") is None


def test_time_service_50_gives_the_size_of_the_error(tmp_path: Path):
    path = tmp_path / "System.evtx"
    write_evtx(path, [_record(0, "Microsoft-Windows-Time-Service", 50, ["5000", "900"]),
                      _record(1, "Microsoft-Windows-Time-Service", 34, ["3542412", "54000"])])
    details = [json.loads(d) for d in parse_file(path).events.sort("record").get_column("detail")]
    assert details[0]["offset_ms"] == 5000 and details[0]["for_s"] == 900
    assert details[1]["offset_s"] == 3542412


def test_real_records_pinned(windows_corpus):
    """Real DNS, clock and time-sync records of the corpus: their fields are read by name."""
    plaso = parse_file(windows_corpus / "plaso_System.evtx").events
    jump = plaso.filter(pl.col("record") == 389).row(0, named=True)
    assert (jump["kind"], jump["subject"], json.loads(jump["detail"])["jump_s"]) == ("clock_sync", "system time", -32398.475)
    dns = plaso.filter(pl.col("record") == 661).row(0, named=True)
    assert (dns["kind"], dns["subject"]) == ("dns_failure", "_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs.internal.greendale.edu")
    unsynced = plaso.filter(pl.col("record") == 845).row(0, named=True)
    assert json.loads(unsynced["detail"])["unsynced_s"] == 86400
    system = parse_file(windows_corpus / "evtxrs_system.evtx").events
    assert dict(system.filter(pl.col("kind").is_in(["dns_failure", "clock_sync", "network_up"]))
                .group_by("kind").len().iter_rows()) == {"dns_failure": 160, "clock_sync": 208, "network_up": 26}
    turkish = parse_file(windows_corpus / "win10-tr_System.evtx").events.filter(pl.col("record") == 199).row(0, named=True)
    # a localised message does not matter: the meaning is the provider, the ID and the field names
    assert (turkish["event_id"], turkish["kind"]) == (134, "clock_sync")
    assert json.loads(turkish["detail"])["DomainPeer"] == "time.windows.com,0x9"


GRAMMAR = grammars.load("apple_restore")


@pytest.mark.parametrize("line, marker, kind, subject, code, detail", [
    ("[06:44:01.0861] amai: tss_submit_job_with_retry: TSS Connection attempt 2 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)",
     "tss_connection_attempt", "tss_request", "TSS connection attempt", None, {"attempt": 2, "of": 3}),
    ("[06:44:02.0099] amai: tss_submit_job: SendHttpRequest failed 503", "tss_send_failed", "tss_error", "HTTP status 503",
     503, {"http_status": 503}),
    ("[06:44:02.0099] amai: tss_submit_job: SendHttpRequest failed -1", "tss_send_failed", "tss_error",
     "SendHttpRequest failed", -1, None),
    ("[06:44:02.0099] amai: tss_submit_job: failed to send http request", "tss_send_http_failed", "tss_error",
     "failed to send http request", None, None),
    ("[06:44:02.0099] amai: tss_submit_job: invalid response", "tss_invalid_response", "tss_error", "invalid response", None, None),
    ("[06:44:02.0099] amai: tss_submit_job: Found a SOCKS proxy setting. Will attempt to use it.", "tss_socks_proxy",
     "tss_request", "SOCKS proxy", None, {"proxy": "socks"}),
    ("[06:44:02.0099] amai: AMAuthInstallHttpMessageSendSync: Date: Mon, 02 Mar 2026 16:20:46 GMT", "tss_http_date",
     "tss_request", "server date", None, {"server_date": "2026-03-02T16:20:46Z"}),
    ("[06:44:02.0099] amai: _AMAuthInstallUpdateHTTPHeaderWithEntry: HTTP Response Header: Date=Mon, 2 Mar 2026 16:20:46 GMT",
     "tss_http_date", "tss_request", "server date", None, {"server_date": "2026-03-02T16:20:46Z"}),
    ("[06:44:02.0099] amai: AMRAuthInstallAttemptSimpleHttpRequest: attempting to connect to http://gs.apple.com:80",
     "tss_probe", "tss_request", "http://gs.apple.com:80", None, {"host": "gs.apple.com"}),
])
def test_restore_log_network_lines(tmp_path: Path, line, marker, kind, subject, code, detail):
    assert GRAMMAR.parse_reference(line)[1] == marker
    path = tmp_path / "iTunes_restore.log"
    path.write_text("2026-03-02 11:20:40.100 [7316:1f44]: restore library built Oct 17 2025 at 19:42:11\n"
                    "[16:20:40.0200] Changing state from 'Idle' to 'Restoring'\n" + line + "\n", encoding="utf-8")
    row = parse_file(path).events.row(2, named=True)
    assert (row["kind"], row["subject"], row["error_code"]) == (kind, subject, code)
    assert (json.loads(row["detail"]) if row["detail"] else None) == detail


def test_network_samples_are_reproducible_from_their_definitions():
    from samplegen.network_samples import files
    for rel, data in files().items():
        assert (SAMPLES / rel).read_bytes() == data, rel


def test_derived_fields_apple_host_and_server_skew():
    from analyzer.rules.fields import derived_columns
    frame = pl.DataFrame({
        "subject": ["gs.apple.com", "p31-contacts.icloud.com.", "apple.com.evil.net", None],
        "detail": ['{"server_date":"2026-03-02T16:20:46Z"}', None, '{"server_date":"2026-03-02T16:00:00Z"}', "{}"],
        "ts_utc": [datetime(2026, 3, 2, 16, 20, 46, 660000), datetime(2026, 3, 2, 16, 20), datetime(2026, 3, 2, 17, 0), None],
    }).with_columns(pl.col("ts_utc").dt.replace_time_zone("UTC"))
    out = frame.with_columns(derived_columns(["apple_host", "server_skew_s"]))
    assert out.get_column("apple_host").to_list() == [True, True, False, False]
    assert out.get_column("server_skew_s").to_list() == [0.66, None, 3600.0, None]


def test_a_hosts_entry_with_no_time_is_evidence_for_the_incident_of_its_pc():
    from analyzer import analyze
    incident = analyze([SAMPLES / "pc_y25_3194_hosts_redirect"], layout="host").incidents[0]
    cited = [e for e in incident.evidence if e.get("rule") in ("hosts_redirects_apple", "hosts_redirects_signing_server")]
    assert {(Path(e["file"]).name, e["line"]) for e in cited} == {("hosts", 25)}  # 74.208.105.171  gs.apple.com
    assert incident.cause == "hosts_file_redirect"
    unsigned = next(a for a in incident.alternatives if a["id"] == "unsigned_firmware")
    assert unsigned["reason"]["code"] == "explained_away"
