"""Issue 15's remaining gaps: Schannel alerts read from text exports (en, ja), idevicerestore's own
network lines (TSS URL, curl's errors, the server's answer) as network evidence, and the samples
written for them."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import analyze, grammars
from analyzer.ingest import parse_file
from analyzer.winevent_network import ALERT_IN_MESSAGE

from conftest import SAMPLES

DEVICE = grammars.load("apple_device_restore")


# -- 1. Schannel's alert number from the rendered message ------------------------------------------------
@pytest.mark.parametrize("message, alert", [
    ("A fatal alert was received from the remote endpoint. The TLS protocol defined fatal alert code is 48.", "48"),
    ("A fatal alert was generated and sent to the remote endpoint. This may result in termination of the connection. "
     "The TLS protocol defined fatal error code is 70. The Windows SChannel error state is 105.", "70"),
    ("The following fatal alert was received: 47.", "47"),
    ("The following fatal alert was generated: 40. The internal error state is 1205.", "40"),
    ("リモート エンドポイントから致命的な警告を受け取りました。TLS プロトコルで定義された致命的な警告コードは 48 です。", "48"),
    ("TLS プロトコルで定義されているこの致命的な警告のコードは 10 です。Windows SChannel エラーの状態は 1203 です。", "10"),
    ("次の致命的な警告が生成されました: 45。内部エラーの状態は 1203 です。", "45"),
    ("次の致命的な警告を受け取りました: 20。", "20"),
    # cut at the console width before the number ends: no number rather than a wrong one
    ("A fatal alert was received from the remote endpoint. The TLS protocol defined fatal alert code is 4...", None),
    ("The Windows SChannel error state is 105.", None),
])
def test_schannel_alert_is_read_from_the_message_in_english_and_japanese(message, alert):
    assert pl.Series([message]).str.extract(ALERT_IN_MESSAGE, 1).to_list() == [alert]


@pytest.mark.parametrize("message, alert", [
    # Chinese and Korean wordings are not in any public paste (unverified): any language's first whole
    # number that is a TLS alert is taken when no known wording matches
    ("从远程终结点接收到一个严重警报。TLS 协议所定义的严重警报代码为 48。", 48),
    ("원격 끝점에서 심각한 경고를 받았습니다. TLS 프로토콜에 정의된 심각한 경고 코드는 48입니다.", 48),
    ("已生成一个严重警报并将其发送到远程终结点。TLS 协议所定义的严重错误代码为 70。Windows SChannel 错误状态为 105。", 70),
    ("The Windows SChannel error state is 105.", None),          # 105 is no TLS alert
    ("严重警报代码为 4...", None),                                  # cut at the console width
])
def test_schannel_alert_in_other_languages_is_the_first_number_that_is_an_alert(message, alert):
    from analyzer.winevent_network import ANY_NUMBER, TLS_ALERTS

    number = pl.Series([message]).str.extract(ANY_NUMBER, 1).cast(pl.Int64, strict=False).to_list()[0]
    assert (number if number in TLS_ALERTS else None) == alert


def _tls_codes(sample: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for path in sorted((SAMPLES / sample).iterdir()):
        ev = parse_file(path).events.filter(pl.col("kind") == "tls_error").sort("line")
        out[path.name] = ev.get_column("error_code").to_list()
    return out


def test_english_text_exports_carry_the_tls_alert_in_every_form():
    assert _tls_codes("pc_af32_icloud_tls_exports_en") == {
        "System_Format-List.txt": [48], "System_Format-Table.txt": [None],   # cut at the console width
        "System_eventviewer.txt": [48, 48], "System_wevtutil.txt": [48, 48, 40]}


def test_japanese_text_exports_carry_the_tls_alert_in_both_wordings():
    assert _tls_codes("pc_ag33_icloud_clock_exports_ja") == {
        "System_eventviewer.csv": [45], "System_eventviewer.txt": [46, 45], "System_wevtutil.txt": [45, 45]}


@pytest.mark.parametrize("sample, at, tz, cause, rule", [
    ("pc_af32_icloud_tls_exports_en", "2026-04-08 15:20", "+02:00", "security_software", "tls_inspection_unknown_ca"),
    ("pc_ag33_icloud_clock_exports_ja", "2026-05-19 21:05", "+09:00", "clock_wrong", "certificate_expired_alerts"),
])
def test_alerts_from_exports_decide_a_reported_incident_as_from_evtx(sample, at, tz, cause, rule):
    result = analyze([str(SAMPLES / sample)], symptom="icloud", at=at, tz=tz)
    (incident,) = result.incidents
    assert incident.cause == cause and incident.confidence >= 0.5
    assert rule in incident.rules


# -- 4. idevicerestore's signing exchange --------------------------------------------------------------
@pytest.mark.parametrize("line, marker, kind, subject, code, detail", [
    ("Request URL set to https://gs.apple.com/TSS/controller?action=2", "tss_url", "tss_request", "gs.apple.com", None,
     {"url": "https://gs.apple.com/TSS/controller?action=2"}),
    ("Sending TSS request attempt 2... Request URL set to https://17.171.36.30/TSS/controller?action=2", "tss_url",
     "tss_request", "17.171.36.30", None, {"url": "https://17.171.36.30/TSS/controller?action=2"}),
    ("Sending TSS request attempt 1... response successfully received", "tss_sent", "tss_request", "TSS request attempt 1",
     None, {"attempt": 1, "answered": True}),
    ("Could not resolve host: gs.apple.com", "curl_resolve", "dns_failure", "gs.apple.com", None, {"tool": "curl"}),
    ("Failed to connect to 17.151.36.30 port 443: Connection timed out", "curl_connect", "tss_error", "connection failed", None,
     {"host": "17.151.36.30", "port": 443, "reason": "Connection timed out"}),
    ("Failed to connect to gs.apple.com port 443 after 0 ms: Couldn't connect to server", "curl_connect", "tss_error",
     "connection failed", None, {"host": "gs.apple.com", "port": 443, "reason": "Couldn't connect to server"}),
    ("Operation timed out after 30001 milliseconds with 0 bytes received", "curl_timeout", "tss_error", "timed out", None,
     {"timeout_ms": 30001}),
    ("Empty reply from server", "curl_empty", "tss_error", "empty reply from server", None, None),
    ("SSL: no alternative certificate subject name matches target host name 'gs.apple.com'", "curl_ssl", "tls_error",
     "gs.apple.com", None, {"tool": "curl"}),
    ("TSS server returned: STATUS=94&MESSAGE=This device isn't eligible for the requested build.", "tss_returned", "tss_error",
     "This device isn't eligible for the requested build.", 94,
     {"text": "STATUS=94&MESSAGE=This device isn't eligible for the requested build."}),
    ("TSS server returned: <html><head><title>503 Service Unavailable</title></head></html>", "tss_returned", "tss_error",
     "TSS server returned", None, {"http_status": 503, "text": "<html><head><title>503 Service Unavailable</title></head></html>"}),
    ("ERROR: TSS request failed: Could not resolve host: gs.apple.com (status=-1)", "tss_failed", "tss_error",
     "TSS request failed", -1, {"text": "Could not resolve host: gs.apple.com (status=-1)"}),
    ("ERROR: TSS request failed (status=94, message=This device isn't eligible for the requested build.)", "tss_failed",
     "tss_error", "TSS request failed", 94,
     {"text": "(status=94, message=This device isn't eligible for the requested build.)"}),
    ("ERROR: Unable to send TSS request", "tss_unable_send", "tss_error", "unable to send TSS request", None, None),
])
def test_idevicerestore_network_lines(tmp_path: Path, line, marker, kind, subject, code, detail):
    assert DEVICE.parse_reference(line)[1] == marker   # Lark's own parse, the fast path below
    path = tmp_path / "idevicerestore.txt"
    path.write_text("idevicerestore 1.0.0-215-g3b7e0c2 (libirecovery 1.2.1, libtatsu 1.0.4)\n"
                    "Found device in Recovery mode\n" + line + "\n", encoding="utf-8")
    rep = parse_file(path)
    assert (rep.report.format, rep.report.unrecognised) == ("apple_device_restore", 0)
    row = rep.events.filter(pl.col("line") == 3).row(0, named=True)
    assert (row["kind"], row["subject"], row["error_code"]) == (kind, subject, code)
    assert (json.loads(row["detail"]) if row["detail"] else None) == detail


TSS_LINES = ["Request URL set to https://gs.apple.com/TSS/controller?action=2", "Sending TSS request attempt 3... ",
             "Sending TSS request attempt 1... response successfully received", "Could not resolve proxy: proxy.local",
             "Failed to connect to gs.apple.com port 443: Connection refused", "Resolving timed out after 5000 milliseconds",
             "Connection timed out after 300000 milliseconds", "SSL certificate problem: unable to get local issuer certificate",
             "SSL: certificate subject name 'gs.apple.com' does not match target host name '17.171.36.30'",
             "TSS server returned: STATUS=126&MESSAGE=An internal error occurred.", "ERROR: TSS request failed: (status=-1)",
             "ERROR: Unable to send APTicket request", "Empty reply from server"]


def test_fast_path_agrees_with_lark_on_the_tss_lines():
    from grammar_agreement import assert_fast_path_agrees
    lines = {line for name in ("idevicerestore_windows_dns", "linux_idevicerestore_hosts_block")
             for p in (SAMPLES / name).iterdir() if p.name != "hosts" for line in p.read_text(encoding="utf-8").splitlines()}
    assert_fast_path_agrees(DEVICE, sorted(lines | set(TSS_LINES)), empty_message_ok=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from(TSS_LINES + ["Could not resolve host: ", "Failed to connect to  port 99999999999999999999: ",
                                                   "TSS server returned: STATUS=99999999999999999999&MESSAGE=", "Request URL set to x://",
                                                   "ERROR: Unable to restore device", "idevicerestore 1", "\x00", ""]), max_size=30))
def test_tss_line_mixes_never_raise(tmp_path: Path, lines: list[str]):
    path = tmp_path / "mix.log"
    path.write_text("\n".join(lines), encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.report.records >= parsed.events.height


def test_idevicerestore_http_error_from_the_signing_server_is_apples_side(tmp_path: Path):
    """The server's own error page (HTTP 503) on every try: apple_server, the same rule as iTunes' log."""
    tries = []
    for n in range(1, 4):
        tries += ["TSS server returned: <html><head><title>503 Service Unavailable</title></head><body>"
                  "<h1>Service Unavailable</h1></body></html>", ""]
    text = ("idevicerestore 1.0.0-215-g3b7e0c2 (libirecovery 1.2.1, libtatsu 1.0.4)\nFound device in Recovery mode\n"
            "Trying to fetch new SHSH blob\n" + "\n".join(t for t in tries if t) +
            "\nERROR: TSS request failed:  (status=-1)\nERROR: Unable to send TSS request\n"
            "ERROR: Unable to get SHSH blobs for this device\nERROR: Unable to restore device\n")
    (tmp_path / "idevicerestore_output.txt").write_text(text, encoding="utf-8")
    (incident,) = analyze([str(tmp_path)]).incidents
    assert incident.cause == "apple_server" and "apple_server_errors" in incident.rules


def test_idevicerestore_samples_read_their_network_lines():
    rows = parse_file(SAMPLES / "idevicerestore_windows_dns" / "idevicerestore.log").events
    dns = rows.filter(pl.col("kind") == "dns_failure")
    assert (dns.height, dns.get_column("subject").unique().to_list()) == (5, ["gs.apple.com"])
    assert rows.filter(pl.col("kind") == "tss_request").height == 30   # 15 URLs + 15 tries
    bench = parse_file(SAMPLES / "linux_idevicerestore_hosts_block" / "idevicerestore_output.txt").events
    refused = bench.filter(pl.col("subject") == "connection failed").get_column("detail").map_elements(
        lambda d: json.loads(d)["host"], return_dtype=pl.String)
    assert sorted(refused.value_counts().rows()) == [("17.151.36.30", 5), ("17.171.36.30", 5), ("gs.apple.com", 5)]


def test_network_gap_samples_are_reproducible_from_their_definitions():
    from samplegen.idevicerestore_network import files as idevicerestore_files
    from samplegen.network_exports import files as export_files
    for rel, data in {**export_files(), **idevicerestore_files()}.items():
        assert (SAMPLES / rel).read_bytes() == data, rel


def test_a_chinese_wevtutil_export_gives_the_schannel_alert(tmp_path: Path):
    """The whole path: a Chinese UI's `wevtutil qe /f:text` record of Schannel 36887 ends as a
    tls_error row with the alert number, as the English and Japanese ones do."""
    record = ("Event[0]:\r\n  Log Name: System\r\n  Source: Schannel\r\n  Date: 2026-03-02T09:14:05.1180000Z\r\n"
              "  Event ID: 36887\r\n  Task: N/A\r\n  Level: 错误\r\n  Opcode: 信息\r\n  Keyword: N/A\r\n"
              "  User: S-1-5-18\r\n  User Name: NT AUTHORITY\\SYSTEM\r\n  Computer: DESKTOP-ZH0302\r\n  Description: \r\n"
              "从远程终结点接收到一个严重警报。TLS 协议所定义的严重警报代码为 48。\r\n\r\n")
    path = tmp_path / "System_wevtutil.txt"
    path.write_bytes(b"\xff\xfe" + record.encode("utf-16-le"))
    rows = parse_file(path).events.filter(pl.col("kind") == "tls_error")
    assert rows.select("event_id", "error_code").rows() == [(36887, 48)]
