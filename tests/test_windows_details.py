"""Event Viewer "Copy details as text" (windows_eventviewer_details): the form people paste into
tickets, in the UI's language, with or without the event's XML, several events one after
another, with text around them; and the zone the local Date beside the XML's UTC time gives."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import analyze
from analyzer.grammars import load
from analyzer.ingest import parse_file
from analyzer.model import EVENT_SCHEMA
from analyzer.sources import Input, claimants
from analyzer.sources._text import text_lines
from analyzer.textio import decode

from conftest import SAMPLES
from grammar_agreement import assert_fast_path_agrees

PASTED = SAMPLES / "win_exports_pasted_details"
TICKET = PASTED / "ticket_4471_events.txt"
JA = SAMPLES / "win_exports_ja" / "System_details_copied.txt"
REC = r"USB\VID_05AC&PID_1281\CPID:8103_CPRV:11_CPFM:03_SCEP:01_BDID:0C_ECID:0019A04E22D3702E_IBFL:3C_SRNM:[HW4QK2C7PF]"
FORMAT = "windows_eventviewer_details"


def rows(parsed) -> list[dict]:
    return parsed.events.drop("file", "host").to_dicts()


def parse_text(tmp_path: Path, text: str, name: str = "pasted.txt", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return parse_file(path)


def test_english_paste_with_text_around_three_events():
    parsed = parse_file(TICKET)
    rep = parsed.report
    assert claimants(Input(TICKET, str(TICKET))) == [FORMAT]
    assert (rep.format, rep.records, rep.events, rep.skipped, rep.unrecognised) == (FORMAT, 3, 3, 0, 2)
    assert [(n.code, n.line) for n in rep.errors] == [("details_text_outside_event", 1),
                                                      ("details_text_outside_event", 81)]
    got = rows(parsed)
    assert [(r["line"], r["record"], r["event_id"], r["kind"]) for r in got] == [
        (3, 48213, 7031, "service_crash"), (42, 48207, 219, "driver_failure"), (83, 3, 20003, "driver_install")]
    crash, driver, install = got
    # with the XML: its UTC SystemTime, its identity and its EventData by name
    assert (crash["ts_wall"], crash["ts_raw"], crash["clock"]) == (
        dt.datetime(2025, 9, 3, 13, 22, 7, 518447), "2025-09-03T13:22:07.5184473Z", "utc")
    assert (crash["provider"], crash["channel"], crash["computer"], crash["level"]) == (
        "Service Control Manager", "System", "LT-KOWALSKI-07", 2)
    assert crash["subject"] == "Apple Mobile Device Service"
    assert json.loads(crash["detail"])["param5"] == "Restart the service"
    assert crash["message"].startswith("The Apple Mobile Device Service service terminated unexpectedly.")
    assert (driver["subject"], driver["device_mode"], driver["error_code"]) == (REC, "recovery", 3221226341)
    assert json.loads(driver["detail"])["Task Category"] == "(212)"
    # without it: the local Date, read day first because the other events' pairs say so
    assert (install["ts_wall"], install["ts_raw"], install["clock"]) == (
        dt.datetime(2025, 9, 3, 14, 19, 14), "03/09/2025 14:19:14", "local")
    assert install["subject"] == REC and install["level"] == 4
    assert rep.clock == {"date_order": "dmy", "date_order_how": {"code": "utc_pair", "params": {"pairs": 2}},
                         "measured_zone": "+01:00", "measured_pairs": 2}


def test_the_measured_zone_puts_the_local_event_on_utc_and_is_lent_to_the_pcs_other_files(tmp_path):
    result = analyze([TICKET], layout="host")
    (report,) = result.files
    assert (report.clock["local_zone"], report.clock["local_zone_method"]) == ("+01:00", "measured")
    install = result.events.filter(pl.col("event_id") == 20003).row(0, named=True)
    assert install["ts_utc"] == dt.datetime(2025, 9, 3, 13, 19, 14, tzinfo=dt.timezone.utc)
    # a setupapi.dev.log of the same PC (local time, nothing to align with) learns the zone
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "events.txt").write_bytes(TICKET.read_bytes())
    (pc / "setupapi.dev.log").write_text(
        "[Device Install Log]\n>>>  [Device Install (Hardware initiated) - USB\\VID_05AC&PID_12A8\\00008103000A]\n"
        ">>>  Section start 2025/09/03 14:40:02.117\n<<<  Section end 2025/09/03 14:40:05.301\n"
        "<<<  [Exit status: SUCCESS]\n", encoding="utf-8")
    result = analyze([pc], layout="host")
    setup = next(f for f in result.files if f.path.endswith("setupapi.dev.log"))
    assert (setup.clock["local_zone"], setup.clock["local_zone_method"], setup.clock["learnt_method"]) == (
        "+01:00", "learnt", "measured")
    # a --tz that disagrees with the measured zone is reported and the measured zone kept, unless forced
    result = analyze([TICKET], layout="host", tz="UTC")
    assert (result.files[0].clock["local_zone"], result.files[0].clock["local_zone_method"]) == ("+01:00", "measured")
    assert [n.params for n in result.files[0].errors if n.code == "tz_disagrees"] == [
        {"given": "UTC", "given_offset": "+00:00", "proven": "+01:00"}]
    result = analyze([TICKET], layout="host", tz="UTC", tz_force=True)
    assert (result.files[0].clock["local_zone"], result.files[0].clock["local_zone_method"]) == ("UTC", "tz_option")


def test_japanese_paste_whose_last_xml_is_cut_short():
    parsed = parse_file(JA)
    rep = parsed.report
    assert (rep.format, rep.records, rep.events, rep.skipped, rep.unrecognised) == (FORMAT, 2, 2, 0, 0)
    assert [(n.code, n.params, n.line, n.severity) for n in rep.errors] == [
        ("details_xml_unreadable", {"detail": "no </Event>"}, 52, "warning")]
    assert rep.clock == {"date_order": "ymd", "measured_zone": "+09:00", "measured_pairs": 2}
    crash, driver = rows(parsed)
    assert (crash["event_id"], crash["record"], crash["level"], crash["ts_wall"]) == (
        7031, 20417, 2, dt.datetime(2025, 2, 14, 1, 31, 52, 115330))
    assert json.loads(crash["detail"])["Keywords"] == "クラシック"
    # the cut XML still gave its System fields: record id and UTC time
    assert (driver["event_id"], driver["record"], driver["clock"], driver["ts_wall"]) == (
        219, 20398, "utc", dt.datetime(2025, 2, 14, 1, 18, 45, 391401))
    assert (driver["level"], driver["usb_pid"], driver["serial"]) == (3, "1281", "G6TQ42XKN72J")
    assert driver["message"].startswith("ドライバー \\Driver\\WudfRd は、デバイス USB\\VID_05AC&PID_1281")


def test_the_japanese_pcs_other_local_files_take_the_pasted_zone():
    result = analyze([SAMPLES / "win_exports_ja"], layout="host")
    wevtutil = next(f for f in result.files if f.path.endswith("System_wevtutil.txt"))
    # its crash and driver failure line up with the pasted ones (on UTC) at +09:00
    assert (wevtutil.clock["local_zone"], wevtutil.clock["local_zone_method"]) == ("+09:00", "aligned")
    assert not [n for f in result.files for n in f.errors if n.code == "zone_assumed"]


ZH_CN = """日志名称:          System
来源:            Service Control Manager
日期:            2025/3/2 14:05:31
事件 ID:         7036
任务类别:          无
级别:            信息
关键字:           经典
用户:            N/A
计算机:           WIN-7QX3
描述:
Apple Mobile Device Service 服务处于 正在运行 状态。
事件 Xml:
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="Service Control Manager" Guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}" EventSourceName="Service Control Manager" />
    <EventID Qualifiers="16384">7036</EventID>
    <Level>4</Level>
    <TimeCreated SystemTime="2025-03-02T06:05:31.0048812Z" />
    <EventRecordID>9911</EventRecordID>
    <Channel>System</Channel>
    <Computer>WIN-7QX3</Computer>
  </System>
  <EventData>
    <Data Name="param1">Apple Mobile Device Service</Data>
    <Data Name="param2">正在运行</Data>
    <Binary>410070007000A00</Binary>
  </EventData>
</Event>
"""
ZH_TW = """記錄檔名稱:         Application
來源:            Application Error
日期:            2025/3/2 下午 02:06:10
事件識別碼:         1000
工作類別:          (100)
層級:            錯誤
關鍵字:           傳統
使用者:           不適用
電腦:            WIN-7QX3
描述:
失敗的應用程式名稱: AppleMobileDeviceService.exe，版本: 486.0.2.6，時間戳記: 0x67a1b2c3
"""
KO = """로그 이름:         System
원본:            Microsoft-Windows-Kernel-Power
날짜:            2025-03-02 오후 2:07:44
이벤트 ID:        42
태스크 범주:        (64)
수준:            정보
키워드:           (1024),(4)
사용자:           N/A
컴퓨터:           WIN-7QX3
설명:
시스템이 절전 모드로 전환되고 있습니다.
"""


@pytest.mark.parametrize("text, expect", [
    (ZH_CN, (7036, "Service Control Manager", "System", 4, dt.datetime(2025, 3, 2, 6, 5, 31, 4881), "utc")),
    (ZH_TW, (1000, "Application Error", "Application", 2, dt.datetime(2025, 3, 2, 14, 6, 10), "local")),
    (KO, (42, "Microsoft-Windows-Kernel-Power", "System", 4, dt.datetime(2025, 3, 2, 14, 7, 44), "local")),
], ids=["zh-CN", "zh-TW", "ko"])
def test_chinese_and_korean_labels(tmp_path, text, expect):
    parsed = parse_text(tmp_path, text)
    assert parsed.report.format == FORMAT and parsed.report.unrecognised == 0
    (r,) = rows(parsed)
    assert (r["event_id"], r["provider"], r["channel"], r["level"], r["ts_wall"], r["clock"]) == expect
    assert r["computer"] == "WIN-7QX3"


def test_a_chinese_paste_teaches_the_zone(tmp_path):
    assert parse_text(tmp_path, ZH_CN).report.clock["measured_zone"] == "+08:00"


def test_forum_paste_shapes(tmp_path):
    """Blank lines between the labels, values without padding, the Description label left out,
    a description line that looks like a label, and two events with nothing between them."""
    text = ("Log Name: System\n\nSource: Service Control Manager\n\nDate: 9/3/2025 2:22:07 PM\n\nEvent ID: 7034\n\n"
            "Task Category: None\n\nLevel: Error\n\nKeywords: Classic\n\nUser: N/A\n\nComputer: PC-9\n\n"
            "The Apple Mobile Device Service service terminated unexpectedly.  It has done this 2 time(s).\n"
            "Source: this line is part of the message\n"
            "Log Name:      System\nSource:        Service Control Manager\nDate:          9/3/2025 2:22:09 PM\n"
            "Event ID:      7036\nDescription:\nThe Apple Mobile Device Service service entered the stopped state.\n")
    parsed = parse_text(tmp_path, text)
    assert (parsed.report.records, parsed.report.unrecognised) == (2, 0)
    first, second = rows(parsed)
    assert first["message"] == ("The Apple Mobile Device Service service terminated unexpectedly.  It has done this "
                                "2 time(s).\nSource: this line is part of the message")
    assert (first["event_id"], first["ts_wall"], first["kind"]) == (7034, dt.datetime(2025, 9, 3, 14, 22, 7),
                                                                     "service_crash")
    assert (second["line"], second["event_id"], second["subject"]) == (21, 7036, "Apple Mobile Device Service")
    assert parsed.report.clock["date_order_how"]["code"] == "separator_default"


def test_what_is_missing_is_noted_and_the_rest_read(tmp_path):
    text = ("Log Name:      System\nSource:        Service Control Manager\nDate:          \nEvent ID:      7031\n"
            "Description:\nno time\n\n"
            "Log Name:      System\nSource:        Service Control Manager\nDate:          yesterday\n"
            "Event ID:      7031\nDescription:\nbad time\n\n"
            "Log Name:      System\nSource:        Service Control Manager\nDate:          9/3/2025 2:22:09 PM\n"
            "Event ID:      seven\nDescription:\nbad id\n\n"
            "Log Name:      System\nSource:        Service Control Manager\nDate:          9/3/2025 2:22:09 PM\n"
            "Task Category: None\nDescription:\nno id\n")
    parsed = parse_text(tmp_path, text)
    rep = parsed.report
    assert (rep.records, rep.events, rep.skipped) == (4, 2, 2)
    assert sorted((n.code, n.line) for n in rep.errors) == [
        ("record_date_not_understood", 10), ("record_no_date_label", 1),
        ("record_skipped_event_id_not_number", 15), ("record_skipped_no_event_id", 22)]
    assert [r["ts_wall"] for r in rows(parsed)] == [None, None]


def test_an_xml_that_does_not_parse_gives_its_system_fields(tmp_path):
    """Event Viewer prints a Data value holding an XML document as it is (an ADFS audit, seen in
    a public paste), which no XML parser takes: the System fields are read one by one."""
    text = ("Log Name:      Security\nSource:        AD FS Auditing\nDate:          5/21/2025 12:55:59 AM\n"
            "Event ID:      1210\nDescription:\nAn extranet lockout.\nEvent Xml:\n"
            "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n  <System>\n"
            "    <Provider Name=\"AD FS Auditing\" />\n    <EventID Qualifiers=\"0\">1210</EventID>\n"
            "    <Level>0</Level>\n    <TimeCreated SystemTime=\"2025-05-21T00:55:59.921880300Z\" />\n"
            "    <EventRecordID>35521</EventRecordID>\n    <Channel>Security</Channel>\n  </System>\n"
            "  <EventData>\n    <Data><?xml version=\"1.0\" encoding=\"utf-16\"?>\n<AuditBase>x</AuditBase></Data>\n"
            "  </EventData>\n</Event>\n")
    parsed = parse_text(tmp_path, text)
    assert [n.code for n in parsed.report.errors] == ["details_xml_unreadable"]
    (r,) = rows(parsed)
    assert (r["event_id"], r["record"], r["level"], r["channel"], r["clock"]) == (1210, 35521, 0, "Security", "utc")
    assert r["ts_wall"] == dt.datetime(2025, 5, 21, 0, 55, 59, 921880)
    assert parsed.report.clock["measured_zone"] == "+00:00"


def test_offsets_that_differ_are_noted(tmp_path):
    """Two events either side of the change to summer time: the zone most events show is used."""
    def event(local: str, utc: str, rid: int) -> str:
        return (f"Log Name:      System\nSource:        Service Control Manager\nDate:          {local}\n"
                f"Event ID:      7036\nDescription:\nx\nEvent Xml:\n<Event xmlns=\"x\"><System><EventID>7036</EventID>"
                f"<TimeCreated SystemTime=\"{utc}\" /><EventRecordID>{rid}</EventRecordID></System></Event>\n")
    text = (event("2025-03-30 03:10:00", "2025-03-30T01:10:00.5Z", 3) + event("2025-03-30 01:50:00", "2025-03-30T00:50:00.5Z", 2)
            + event("2025-03-30 01:40:00", "2025-03-30T00:40:00.5Z", 1))
    rep = parse_text(tmp_path, text).report
    assert (rep.clock["measured_zone"], rep.clock["measured_pairs"]) == ("+01:00", 2)
    assert [(n.code, n.params) for n in rep.errors] == [
        ("details_offsets_differ", {"offsets": "+01:00, +02:00", "used": "+01:00"})]


@pytest.mark.parametrize("ending", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_line_endings_do_not_change_the_rows(tmp_path, ending):
    reference = rows(parse_file(TICKET))
    text = TICKET.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\n", ending)
    again = parse_text(tmp_path, text)
    assert again.report.format == FORMAT and rows(again) == reference


def test_a_paste_without_its_first_labels_is_still_read(tmp_path):
    """Copied from the middle of the header: the labels that are there are enough."""
    text = TICKET.read_bytes().decode("utf-8")
    text = text[text.index("Event ID:      219"):]
    parsed = parse_text(tmp_path, text)
    assert parsed.report.format == FORMAT
    assert [r["event_id"] for r in rows(parsed)] == [219, 20003]


def test_wevtutil_and_other_text_is_not_claimed(tmp_path):
    wevtutil = SAMPLES / "win_exports_en" / "System_wevtutil.txt"
    assert FORMAT not in claimants(Input(wevtutil, "w"))
    path = tmp_path / "notes.txt"
    path.write_text("Source: the customer\nDate: yesterday\nEvent ID: none yet, restore failed\n", encoding="utf-8")
    assert claimants(Input(path, "n")) == []


def test_grammar_fast_path_agrees_on_the_samples():
    grammar = load(FORMAT)
    for path in (TICKET, JA):
        assert_fast_path_agrees(grammar, text_lines(decode(path.read_bytes()).text).to_list())
    assert_fast_path_agrees(grammar, text_lines(ZH_CN + ZH_TW + KO).to_list())


LINE_CHARS = st.sampled_from(["Log Name", "Event ID", "Event Xml", "イベント XML", "説明", "로그 이름", ":", "：", " ",
                              "\t", "x", "<Event>", "</Event>", "7031", "Date", "日付"])


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.lists(LINE_CHARS, max_size=8).map("".join), min_size=1, max_size=8))
def test_grammar_fast_path_agrees_on_random_lines(lines):
    assert_fast_path_agrees(load(FORMAT), lines)


PREFIXES = ["Log Name:      System\nSource:        X\nDate:          1/2/2025 3:04:05 AM\nEvent ID:      7031\n",
            "ログの名前:         System\nイベント ID:       219\n日付:            2025/02/14 10:18:45\n説明:\n",
            "Event ID: 1\nLog Name: a\nSource: b\nEvent Xml:\n<Event xmlns=\"x\"><System>"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), body=st.text(max_size=1500), ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_never_raises_on_arbitrary_text(prefix, body, ending):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pasted.txt"
        path.write_bytes((prefix + body).replace("\n", ending).encode("utf-8", errors="replace"))
        parsed = parse_file(path)
        assert list(parsed.events.schema) == list(EVENT_SCHEMA)
        assert parsed.report.events == parsed.events.height
        assert not [n for n in parsed.report.errors if n.code == "parser_failed"]
