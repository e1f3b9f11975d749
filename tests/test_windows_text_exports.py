"""Windows text exports: wevtutil /f:text, Event Viewer TSV/CSV, Get-WinEvent Format-List / Export-Csv.

Targeted real-value checks on the samples in samples/win_exports_ja and samples/win_exports_en,
plus small hand-made files for the cases the samples do not cover (malformed records,
day/month resolution, encodings), and property tests (hypothesis).
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import tempfile
from pathlib import Path

import polars as pl
from grammar_agreement import assert_fast_path_agrees
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.grammars import load
from analyzer.ingest import parse_file, parse_parts
from analyzer.model import EVENT_SCHEMA
from analyzer.sources import Input, claimants
from analyzer.sources._windows_text import resolve_dates
from analyzer.sources.windows_wevtutil_text import classify
from analyzer.sources._text import text_lines

from conftest import SAMPLES

JA = SAMPLES / "win_exports_ja"
EN = SAMPLES / "win_exports_en"
MINE = ("windows_wevtutil_text", "windows_eventviewer_table", "windows_powershell")
EXPECTED_FORMAT = {
    JA / "System_wevtutil.txt": "windows_wevtutil_text",
    JA / "System_eventviewer.txt": "windows_eventviewer_table",
    JA / "Application_eventviewer.csv": "windows_eventviewer_table",
    EN / "System_wevtutil.txt": "windows_wevtutil_text",
    EN / "System_eventviewer.txt": "windows_eventviewer_table",
    EN / "System_Format-List.txt": "windows_powershell",
    EN / "Application_Export-Csv.csv": "windows_powershell",
    SAMPLES / "pc_m13_amds_crash_ja" / "System_wevtutil_ja.txt": "windows_wevtutil_text",
    SAMPLES / "win_exports_zh" / "System_wevtutil.txt": "windows_wevtutil_text",
    SAMPLES / "win_exports_ko" / "System_wevtutil.txt": "windows_wevtutil_text",
    # Schannel alerts in text exports (tests/samplegen/network_exports.py)
    SAMPLES / "pc_af32_icloud_tls_exports_en" / "System_wevtutil.txt": "windows_wevtutil_text",
    SAMPLES / "pc_af32_icloud_tls_exports_en" / "System_eventviewer.txt": "windows_eventviewer_table",
    SAMPLES / "pc_af32_icloud_tls_exports_en" / "System_Format-List.txt": "windows_powershell",
    SAMPLES / "pc_ag33_icloud_clock_exports_ja" / "System_wevtutil.txt": "windows_wevtutil_text",
    SAMPLES / "pc_ag33_icloud_clock_exports_ja" / "System_eventviewer.txt": "windows_eventviewer_table",
    SAMPLES / "pc_ag33_icloud_clock_exports_ja" / "System_eventviewer.csv": "windows_eventviewer_table",
}
REC_ID = (r"USB\VID_05AC&PID_1281\CPID:8110_CPRV:11_CPFM:03_SCEP:01_BDID:0C_ECID:000A1B2C3D4E5F60_IBFL:3C"
          r"_SRNM:[G6TQ42XKN72J]")
DFU_ID = r"USB\VID_05AC&PID_1227\CPID:8110_CPRV:11_CPFM:03_SCEP:01_BDID:0C_ECID:0014293A55C1002E_IBFL:3C_SRTG:[IBOOT-7429.62.1]"


def parse_bytes(tmp_path: Path, data: bytes, name: str = "export.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return parse_file(path)


def rows(parsed) -> list[dict]:
    return parsed.events.drop("file", "host").to_dicts()


def utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le")


# --------------------------------------------------------------------------------------------
# sniffing


@pytest.mark.parametrize("path", sorted(EXPECTED_FORMAT), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_sample_is_claimed_by_exactly_its_source(path):
    assert claimants(Input(path, str(path))) == [EXPECTED_FORMAT[path]]


def test_my_sniffers_leave_other_samples_alone():
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and p.parent not in (JA, EN) and p not in EXPECTED_FORMAT
              and p.name != "README.md"]
    for path in others:
        assert not set(claimants(Input(path, str(path)))) & set(MINE), path


def test_my_sniffers_leave_corpus_text_logs_alone(windows_corpus):
    for path in sorted(windows_corpus.iterdir()):
        if path.suffix in (".log", ".md"):
            assert not set(claimants(Input(path, str(path)))) & set(MINE), path


def test_copy_details_as_text_and_format_table_have_sources_of_their_own(tmp_path):
    details = ("Log Name:      System\nSource:        Service Control Manager\nDate:          2021-01-20 14:56:58\n"
               "Event ID:      7031\nTask Category: None\nLevel:         Error\nDescription:\nThe X service.\n")
    table = ("\n\n   ProviderName: Service Control Manager\n\nTimeCreated                     Id LevelDisplayName Message\n"
             "-----------                     -- ---------------- -------\n3/12/2025 10:26:58 PM         7034 Error"
             "            The Apple Mobile Device Service service terminated...\n")
    for text, source in ((details, "windows_eventviewer_details"), (table, "windows_powershell_table")):
        path = tmp_path / f"{source}.txt"
        path.write_bytes(text.encode("utf-8"))
        assert claimants(Input(path, str(path))) == [source]


# --------------------------------------------------------------------------------------------
# wevtutil /f:text


def test_wevtutil_japanese_labels_map_to_fields():
    parsed = parse_file(JA / "System_wevtutil.txt")
    assert parsed.report.encoding == "utf-16"
    assert (parsed.report.records, parsed.report.events, parsed.report.skipped) == (7, 7, 0)
    assert parsed.events.get_column("clock").unique().to_list() == ["local"]
    crash = next(r for r in rows(parsed) if r["event_id"] == 7031)
    assert crash["record"] == 4 and crash["line"] == 61
    assert crash["channel"] == "System"
    assert crash["provider"] == "Service Control Manager"
    assert crash["computer"] == "SATO-HOME-PC"
    assert crash["level"] == 2  # エラー
    assert crash["ts_wall"] == dt.datetime(2025, 2, 14, 10, 31, 52, 115000)
    assert crash["ts_raw"] == "2025-02-14T10:31:52.115" and crash["clock"] == "local"
    assert crash["kind"] == "service_crash"
    assert crash["subject"] == "Apple Mobile Device Service"
    assert json.loads(crash["detail"]) == {"Task": "なし", "Opcode": "N/A", "Keyword": "クラシック", "User": "N/A",
                                           "User Name": "N/A"}
    assert crash["message"].startswith("Apple Mobile Device Service サービスは予期せぬ原因により終了しました。")
    pnp = [r for r in rows(parsed) if r["provider"] in ("Microsoft-Windows-Kernel-PnP", "Microsoft-Windows-UserPnp")]
    assert [(r["event_id"], r["kind"]) for r in pnp] == [(20003, "driver_install"), (20001, "driver_install"),
                                                        (219, "driver_failure")]
    for r in pnp:
        assert r["subject"] == REC_ID
        assert (r["usb_vid"], r["usb_pid"], r["device_mode"]) == ("05AC", "1281", "recovery")
        assert r["ecid"] == 0x000A1B2C3D4E5F60 and r["serial"] == "G6TQ42XKN72J"
    sleep = rows(parsed)[-1]
    assert (sleep["event_id"], sleep["kind"]) == (42, "power")
    assert sleep["message"] == "システムはスリープ状態に入ります。\n\nスリープの理由: アプリケーション API"


def test_wevtutil_english_utc_dates_and_multiline_description():
    parsed = parse_file(EN / "System_wevtutil.txt")
    assert parsed.report.encoding == "utf-8"
    assert parsed.events.get_column("clock").unique().to_list() == ["utc"]
    first = rows(parsed)[0]
    assert first["ts_wall"] == dt.datetime(2025, 3, 13, 2, 5, 11, 482000)
    assert first["ts_raw"] == "2025-03-13T02:05:11.4820000Z" and first["clock"] == "utc"
    assert first["event_id"] == 7045 and first["level"] == 4
    assert first["message"].split("\n")[:3] == ["A service was installed in the system.", "",
                                                "Service Name:  Apple Mobile Device Service"]
    assert first["message"].endswith("Service Account:  LocalSystem")
    assert json.loads(first["detail"])["User Name"] == "OAKRIDGE\\mchen"
    dfu = rows(parsed)[2]
    assert (dfu["event_id"], dfu["level"], dfu["subject"], dfu["device_mode"]) == (219, 3, DFU_ID, "dfu")


WEVT = """Event[0]:
  Log Name: System
  Source: Service Control Manager
  Date: 2024-03-21T11:57:37.555
  Event ID: 7036
  Level: Information
  Computer: PC-1
  Custom Label: kept as data
  Description: 
The Apple Mobile Device Service service entered the stopped state.

"""


def test_wevtutil_unknown_labels_go_to_data_and_inline_description(tmp_path):
    text = WEVT.replace("  Description: \n", "  説明: inline first line\n")
    got = rows(parse_bytes(tmp_path, text.encode("utf-8")))
    assert len(got) == 1
    assert json.loads(got[0]["detail"]) == {"Custom Label": "kept as data"}
    assert got[0]["message"] == "inline first line\nThe Apple Mobile Device Service service entered the stopped state."


def test_wevtutil_malformed_records_are_noted_and_the_rest_kept(tmp_path):
    bad_id = WEVT.replace("Event[0]", "Event[1]").replace("Event ID: 7036", "Event ID: seven")
    bad_date = WEVT.replace("Event[0]", "Event[2]").replace("2024-03-21T11:57:37.555", "yesterday")
    stray = WEVT.replace("Event[0]", "Event[3]").replace("  Computer: PC-1\n", "  Computer: PC-1\ngarbage here\n")
    text = "junk before\n" + WEVT + bad_id + bad_date + stray
    # the sniffer wants Event[n]: first, so "junk before" leaves the file unclaimed as a whole; the
    # export is found as a region of it (analyzer.regions) and the junk line is reported apart …
    (tmp_path / "export.txt").write_bytes(text.encode("utf-8"))
    (part, outside) = parse_parts(tmp_path / "export.txt")
    assert (part.report.format, part.report.region) == ("windows_wevtutil_text", {"first_line": 2, "last_line": 45})
    assert (outside.report.region, outside.report.records, outside.report.errors[0].line) == ({"outside": True}, 1, 1)
    assert part.events.get_column("line").min() >= 2  # line numbers of the whole file
    # … and the parser, given the whole file anyway, locates every problem and keeps the good records
    from analyzer.sources.windows_wevtutil_text import SOURCE
    path = tmp_path / "direct.txt"
    path.write_bytes(text.encode("utf-8"))
    parsed = SOURCE.parse(Input(path, "direct.txt"))
    rep = parsed.report
    assert (rep.records, rep.skipped, rep.unrecognised) == (4, 1, 2)
    notes = {(n.line, n.message.split(":")[0], n.severity) for n in rep.errors}
    assert (1, "text before the first Event[n]", "error") in notes
    assert (13, "record skipped", "error") in notes          # Event[1] starts on line 13
    assert (24, "record kept without a time", "warning") in notes
    assert any(n.line == 42 and n.excerpt == "garbage here" for n in rep.errors)
    got = parsed.events
    assert got.get_column("record").to_list() == [0, 2, 3]
    assert got.filter(pl.col("record") == 2).get_column("ts_wall").to_list() == [None]


def test_wevtutil_fast_path_agrees_with_the_grammar(tmp_path):
    grammar = load("windows_wevtutil_text")
    for path in (JA / "System_wevtutil.txt", EN / "System_wevtutil.txt"):
        from analyzer.textio import decode
        lines = text_lines(decode(path.read_bytes()).text).to_list()
        check_lines_agree(grammar, lines)
        ours = classify(pl.Series("text", lines, dtype=pl.String), grammar)
        ref = grammar.extract(pl.Series("text", lines, dtype=pl.String))
        assert ours.select("shape", "ordinal", "label", "value").equals(ref.select("shape", "ordinal", "label", "value"))


def check_lines_agree(grammar, lines: list[str]) -> None:
    assert_fast_path_agrees(grammar, lines)


def test_eventviewer_japanese_tsv():
    parsed = parse_file(JA / "System_eventviewer.txt")
    assert parsed.report.encoding == "utf-16"
    assert parsed.report.clock == {"date_order": "ymd"}
    got = rows(parsed)
    assert [r["line"] for r in got] == [2, 5, 6, 7, 8, 9, 10, 11]  # record 1 spans lines 2-4 (quoted CR/LF)
    assert [r["level"] for r in got] == [4, 4, 2, 4, 3, 4, 4, 4]  # 情報 / エラー / 警告
    crash = got[2]
    assert (crash["provider"], crash["event_id"], crash["kind"]) == ("Service Control Manager", 7031, "service_crash")
    assert crash["ts_wall"] == dt.datetime(2025, 2, 14, 10, 31, 52) and crash["clock"] == "local"
    assert crash["channel"] is None  # Event Viewer tables do not say which log they came from
    assert json.loads(crash["detail"]) == {"Level": "エラー", "Task Category": "なし"}
    install = got[-1]
    assert 'サービス ファイル名:  "C:\\Program Files\\Common Files\\Apple' in install["message"]
    assert install["message"].count("\n") == 6
    assert got[4]["subject"] == REC_ID and got[4]["kind"] == "driver_failure"


def test_eventviewer_cp932_csv():
    parsed = parse_file(JA / "Application_eventviewer.csv")
    assert parsed.report.encoding == "cp932"
    got = rows(parsed)
    assert [(r["provider"], r["event_id"], r["kind"]) for r in got] == [
        ("Windows Error Reporting", 1001, "app_crash"), ("Application Error", 1000, "app_crash"),
        ("Apple Mobile Device Service", 0, "generic")]
    assert got[1]["subject"] == "AppleMobileDeviceService.exe"
    assert got[1]["message"].startswith("障害が発生しているアプリケーション名: AppleMobileDeviceService.exe")


def test_eventviewer_english_tsv_decides_month_first():
    parsed = parse_file(EN / "System_eventviewer.txt")
    clock = parsed.report.clock
    assert clock["date_order"] == "mdy"
    assert clock["date_order_how"] == {"code": "value_above_12", "params": {"value": "3/13/2025 12:10:03 AM", "line": 2}}
    got = rows(parsed)
    assert got[0]["ts_wall"] == dt.datetime(2025, 3, 13, 0, 10, 3)  # 12 AM is midnight
    assert got[1]["ts_wall"] == dt.datetime(2025, 3, 12, 22, 31, 7)
    assert (got[1]["usb_pid"], got[1]["device_mode"]) == ("12A8", "normal")


HDR = "Level\tDate and Time\tSource\tEvent ID\tTask Category\n"


def tsv(*dates: str) -> str:
    return HDR + "".join(f"Information\t{d}\tService Control Manager\t7036\tNone\tmsg {i}\n" for i, d in enumerate(dates))


def test_day_month_decided_by_a_value_above_12(tmp_path):
    parsed = parse_bytes(tmp_path, utf16(tsv("01-07-2025 17:53:27", "13-06-2025 08:00:00")))
    assert parsed.report.clock["date_order"] == "dmy"
    assert parsed.report.clock["date_order_how"] == {"code": "value_above_12",
                                                     "params": {"value": "13-06-2025 08:00:00", "line": 3}}
    assert parsed.events.get_column("ts_wall").to_list() == [dt.datetime(2025, 7, 1, 17, 53, 27),
                                                             dt.datetime(2025, 6, 13, 8, 0)]


def test_day_month_decided_by_record_order(tmp_path):
    # day-month: 1 Feb, 2 Feb, 3 Feb, 1 Mar (ascending); month-day: 2 Jan, 2 Feb, 2 Mar, 3 Jan (breaks)
    parsed = parse_bytes(tmp_path, utf16(tsv("01.02.2025 09:00:00", "02.02.2025 09:00:00", "03.02.2025 09:00:00",
                                             "01.03.2025 09:00:00")))
    assert parsed.report.clock["date_order"] == "dmy"
    assert parsed.report.clock["date_order_how"] == {"code": "record_order",
                                                     "params": {"dmy_breaks": 0, "mdy_breaks": 1}}
    # and the mirror image, newest first as Event Viewer lists them
    dates = resolve_dates(["3/2/2025 9:00:00 AM", "3/1/2025 9:00:00 AM", "2/3/2025 9:00:00 AM", "2/2/2025 9:00:00 AM"])
    assert dates.clock["date_order"] == "mdy"
    assert dates.values[0] == dt.datetime(2025, 3, 2, 9)


def test_day_month_undecidable_uses_separator_default():
    assert resolve_dates(["3/4/2025 1:02:03 PM"]).clock["date_order"] == "mdy"
    assert resolve_dates(["03.04.2025 13:02:03"]).clock["date_order"] == "dmy"
    same = resolve_dates(["05/05/2025 10:00:00", "05/05/2025 09:00:00"])
    assert same.clock["date_order_how"] == {"code": "day_equals_month", "params": {}}
    sep = resolve_dates(["3/4/2025 1:02:03 PM"]).clock["date_order_how"]
    assert sep == {"code": "separator_default", "params": {"separator": "/"}}


def test_culture_time_forms():
    got = resolve_dates(["2024/3/5 午後 3:04:05", "2024/03/05 0:04:05", "12/31/2024 12:00:00 AM", "12/31/2024 12:30:00 PM",
                         "1/2/24 1:02:03 p.m.", "not a date"])
    assert got.values[:5] == [dt.datetime(2024, 3, 5, 15, 4, 5), dt.datetime(2024, 3, 5, 0, 4, 5),
                              dt.datetime(2024, 12, 31, 0, 0), dt.datetime(2024, 12, 31, 12, 30),
                              dt.datetime(2024, 1, 2, 13, 2, 3)]
    assert got.values[5] is None and got.bad == [5]


def test_eventviewer_malformed_rows_are_noted_and_the_rest_kept(tmp_path):
    text = (HDR + "Information\t3/12/2025 10:00:00 PM\tService Control Manager\t7036\tNone\tok 1\n"
            "Information\t3/12/2025 10:01:00 PM\tonly three\n"
            "Error\t3/12/2025 10:02:00 PM\tService Control Manager\tnot-an-id\tNone\tbad id\n"
            "Error\tsometime\tService Control Manager\t7031\tNone\t\"quoted\n\"\"multi\"\" line\"\n"
            "Information\t3/13/2025 10:03:00 PM\tService Control Manager\t7036\tNone\tok 2\n")
    parsed = parse_bytes(tmp_path, utf16(text))
    rep = parsed.report
    assert (rep.records, rep.skipped, rep.events) == (5, 2, 3)
    located = {(n.line, n.severity) for n in rep.errors}
    assert {(3, "error"), (4, "error"), (5, "warning")} <= located
    got = rows(parsed)
    assert [r["line"] for r in got] == [2, 5, 7]
    assert got[1]["message"] == 'quoted\n"multi" line' and got[1]["ts_wall"] is None
    assert got[2]["ts_wall"] == dt.datetime(2025, 3, 13, 22, 3)


def test_table_grammar_fast_path_agrees_on_cells():
    grammar = load("windows_eventviewer_table")
    import csv
    import io
    from analyzer.textio import decode
    cells = []
    for path in (JA / "System_eventviewer.txt", JA / "Application_eventviewer.csv", EN / "System_eventviewer.txt"):
        text = decode(path.read_bytes()).text
        delim = "\t" if "\t" in text.split("\n", 1)[0] else ","
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
        cells.append("\t".join(records[0]))
        for rec in records[1:]:
            cells.extend([rec[1], rec[3], rec[0]])
    cells += ["Mon 8.28.23 8:18:14 AM", "Thu, 8/28/2025 8:18:14 PM", "Do. 28.08.2025 08:18:14", "2025-04-02 오후 3:38:10",
              "2025/3/2 下午 02:06:10", "성공 감사", "稽核失敗", "Mon8.28.23 8:18:14"]
    check_lines_agree(grammar, cells)


# --------------------------------------------------------------------------------------------
# Get-WinEvent Format-List / Export-Csv


def test_format_list_rejoins_wrapped_lines():
    parsed = parse_file(EN / "System_Format-List.txt")
    assert parsed.report.encoding == "utf-16"
    assert parsed.report.clock["date_order"] == "mdy"
    assert any(n.severity == "info" and "console width of 120" in n.message for n in parsed.report.errors)
    got = rows(parsed)
    assert [r["event_id"] for r in got] == [107, 219, 7036, 7034, 219, 20003, 7045]
    assert [r["line"] for r in got] == [3, 8, 13, 18, 23, 29, 36]
    # the instance ID was cut inside a token at column 120: rejoined without a space
    assert got[4]["message"] == f"The driver \\Driver\\WUDFRd failed to load for the device {DFU_ID}."
    assert got[4]["subject"] == DFU_ID and got[4]["device_mode"] == "dfu"
    # word wrap: rejoined with a space; token cut: without
    assert got[5]["message"] == (f"Driver Management has concluded the process to add Service WUDFRd for Device Instance "
                                 f"ID {DFU_ID} with the following status: 0.")
    # real line breaks and a blank line inside the message survive
    assert got[6]["message"].split("\n")[:3] == ["A service was installed in the system.", "",
                                                 "Service Name:  Apple Mobile Device Service"]
    assert got[3]["ts_wall"] == dt.datetime(2025, 3, 12, 22, 26, 58) and got[3]["kind"] == "service_crash"


FL_STAR = """

Message              : The Apple Mobile Device Service service terminated unexpectedly.  It has done this 2 time(s).  
                       The following corrective action will be taken in 10000 milliseconds: Restart the service.
Id                   : 7031
Level                : 2
LevelDisplayName     : Error
LogName              : System
MachineName          : DESKTOP-M4C8QZ1
RecordId             : 90412
ProviderName         : Service Control Manager
TimeCreated          : 16/04/2020 15:47:36
Properties           : {System.Diagnostics.Eventing.Reader.EventProperty}

Message              : no id here
LogName              : System
TimeCreated          : 16/04/2020 15:47:37

"""


def test_format_list_all_properties_and_malformed_record(tmp_path):
    parsed = parse_bytes(tmp_path, utf16(FL_STAR))
    rep = parsed.report
    assert rep.format == "windows_powershell"
    assert (rep.records, rep.skipped, rep.events) == (2, 1, 1)
    assert any(n.line == 15 and "no Id" in n.message for n in rep.errors)
    r = rows(parsed)[0]
    assert (r["record"], r["channel"], r["computer"], r["level"], r["event_id"]) == (
        90412, "System", "DESKTOP-M4C8QZ1", 2, 7031)
    assert r["ts_wall"] == dt.datetime(2020, 4, 16, 15, 47, 36)
    assert rep.clock["date_order"] == "dmy"
    # a word wrap at the console width: the line ends with the spaces PowerShell leaves there
    assert r["message"].endswith("time(s).  The following corrective action will be taken in 10000 milliseconds: "
                                 "Restart the service.")
    assert json.loads(r["detail"]) == {"LevelDisplayName": "Error",
                                       "Properties": "{System.Diagnostics.Eventing.Reader.EventProperty}"}


def test_export_csv_full_columns():
    parsed = parse_file(EN / "Application_Export-Csv.csv")
    got = rows(parsed)
    assert [r["record"] for r in got] == [48219, 48218, 48187]  # RecordId column
    assert [r["line"] for r in got] == [3, 31, 42]
    crash = got[1]
    assert (crash["provider"], crash["event_id"], crash["level"], crash["channel"], crash["computer"]) == (
        "Application Error", 1000, 2, "Application", "DESKTOP-M4C8QZ1")
    assert crash["ts_wall"] == dt.datetime(2025, 3, 12, 22, 26, 57)
    assert crash["subject"] == "AppleMobileDeviceService.exe" and crash["kind"] == "app_crash"
    assert json.loads(crash["detail"])["TaskDisplayName"] == "Application Crashing Events"
    assert got[2]["message"] == 'Service started successfully. "AMDS" build 486.0.0.0'


def test_export_csv_four_column_shape_without_type_line(tmp_path):
    text = ('"TimeCreated","Id","LevelDisplayName","Message"\n'
            '"16/04/2020 15:47:36","7031","Error","The Apple Mobile Device Service service terminated unexpectedly.\n'
            'It has done this 1 time(s)."\n'
            '"16/04/2020 15:47:40","7036","Information","The Apple Mobile Device Service service entered the running state."\n'
            '"16/04/2020 15:47:41","x","Information","broken id"\n')
    parsed = parse_bytes(tmp_path, text.encode("utf-8"), "events.csv")
    rep = parsed.report
    assert rep.format == "windows_powershell"
    assert (rep.records, rep.skipped, rep.events) == (3, 1, 2)
    assert any(n.line == 5 and "not a number" in n.message for n in rep.errors)
    got = rows(parsed)
    assert [(r["line"], r["event_id"], r["level"]) for r in got] == [(2, 7031, 2), (4, 7036, 4)]
    assert got[0]["ts_wall"] == dt.datetime(2020, 4, 16, 15, 47, 36) and rep.clock["date_order"] == "dmy"
    assert got[0]["message"].endswith("\nIt has done this 1 time(s).")


def test_powershell_grammar_fast_path_agrees_on_every_line():
    from analyzer.textio import decode
    grammar = load("windows_powershell")
    for path in (EN / "System_Format-List.txt", EN / "Application_Export-Csv.csv"):
        check_lines_agree(grammar, text_lines(decode(path.read_bytes()).text).to_list())
    check_lines_agree(grammar, text_lines(FL_STAR).to_list())


# --------------------------------------------------------------------------------------------
# encodings


@pytest.mark.parametrize("sample", [JA / "System_wevtutil.txt", JA / "System_eventviewer.txt"], ids=lambda p: p.name)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le", "cp932"])
def test_encodings_give_identical_rows(tmp_path, sample, encoding):
    from analyzer.textio import decode
    text = decode(sample.read_bytes()).text
    if encoding == "utf-16-le-bom":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    reference = rows(parse_file(sample))
    again = parse_bytes(tmp_path, data, sample.name)
    assert again.report.format == parse_file(sample).report.format
    assert rows(again) == reference


def test_english_wevtutil_as_powershell_51_redirect(tmp_path):
    sample = EN / "System_wevtutil.txt"
    text = sample.read_bytes().decode("utf-8")
    assert rows(parse_bytes(tmp_path, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))) == rows(parse_file(sample))


# --------------------------------------------------------------------------------------------
# properties

PREFIXES = [
    b"Event[0]:\r\n  Log Name: System\r\n",
    "Event[0]:\n  ログの名前: System\n  イベント ID: ".encode("utf-8"),
    HDR.encode("utf-8"),
    codecs.BOM_UTF16_LE + "レベル\t日付と時刻\tソース\tイベント ID\tタスクのカテゴリ\r\n".encode("utf-16-le"),
    "Level,Date and Time,Source,Event ID,Task Category\r\n".encode("cp932"),
    b"\r\n\r\nTimeCreated  : 3/12/2025 10:26:58 PM\r\nProviderName : X\r\nId           : ",
    b"#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Message\",\"Id\",\"TimeCreated\"\r\n",
    b'"TimeCreated","Id","LevelDisplayName","Message"\n"',
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=1500))
def test_no_text_export_source_raises_on_arbitrary_bytes(prefix, body):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.txt"
        path.write_bytes(prefix + body)
        parsed = parse_file(path)
        assert list(parsed.events.schema) == list(EVENT_SCHEMA)
        assert not any("parser failed" in n.message for n in parsed.report.errors), parsed.report.errors


LINE_CHARS = st.sampled_from(list("Event[]0123456789: ：\tAaZz-_.,/\"ログ説明 T") + ["  ", "Event[", "  Date: "])


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.lists(LINE_CHARS, max_size=12).map("".join), max_size=12))
def test_wevtutil_classify_equals_grammar_extract(lines):
    grammar = load("windows_wevtutil_text")
    series = pl.Series("text", lines, dtype=pl.String)
    ours = classify(series, grammar)
    ref = grammar.extract(series)
    assert ours.select("shape", "ordinal", "label", "value").equals(ref.select("shape", "ordinal", "label", "value"))


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.lists(LINE_CHARS, max_size=10).map("".join), min_size=1, max_size=6))
def test_wevtutil_fast_path_agrees_with_reference_on_random_lines(lines):
    check_lines_agree(load("windows_wevtutil_text"), lines)


GET_EVENTLOG_FL = """

Index              : 90412
EntryType          : Error
InstanceId         : 3221232503
Message            : The Apple Mobile Device Service service terminated unexpectedly.  It has done this 1 time(s).
Category           : (0)
Source             : Service Control Manager
TimeGenerated      : 3/12/2025 10:26:58 PM
UserName           :

"""


def test_legacy_get_eventlog_format_list(tmp_path):
    parsed = parse_bytes(tmp_path, utf16(GET_EVENTLOG_FL))
    assert parsed.report.format == "windows_powershell"
    (r,) = rows(parsed)
    # InstanceId 0xC0001C77 carries the qualifiers: the event id is its low 16 bits
    assert (r["record"], r["event_id"], r["level"], r["provider"]) == (90412, 7031, 2, "Service Control Manager")
    assert (r["kind"], r["subject"], r["format"]) == ("service_crash", "Apple Mobile Device Service", "windows_powershell")
    assert json.loads(r["detail"])["EventInstanceId"] == "3221232503"


@pytest.mark.parametrize("path", sorted(EXPECTED_FORMAT), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rows_carry_the_source_name(path):
    parsed = parse_file(path)
    assert parsed.events.get_column("format").unique().to_list() == [EXPECTED_FORMAT[path]]



def test_date_order_decision_is_worded_in_the_run_language():
    from typer.testing import CliRunner
    from analyzer.cli import app
    from analyzer.report.json_doc import document
    from analyzer import analyze
    result = analyze([EN], layout="host")
    for lang, text in (("en", "month before day: 3/13/2025 12:10:03 AM (line 2) reads only that way"),
                       ("ja", "月が日より先（2 行目の 3/13/2025 12:10:03 AM はこの順でしか読めないため）")):
        files = {Path(f["path"]).name: f for f in document(result, lang)["files"]}
        clock = files["System_eventviewer.txt"]["clock"]
        assert clock["date_order_how"]["code"] == "value_above_12"
        assert clock["date_order_how_text"] == text
        assert "date_order_how_text" not in files["System_wevtutil.txt"]["clock"]  # UTC dates: nothing to decide
    out = CliRunner().invoke(app, [str(EN), "--tz", "UTC", "--details"], env={"COLUMNS": "400"}).stdout
    row = next(line for line in out[out.index("Clocks"):].splitlines() if line.startswith("│ System_eventviewer.txt"))
    assert "--tz; month before day: 3/13/2025 12:10:03 AM (line 2) reads only that way" in row
