"""What people hand over is often a piece: a setupapi.dev.log section copied from its middle, a
pfirewall.log without its header, a last line cut, line endings changed by a mail or an
editor; and wevtutil text from Chinese and Korean Windows. Read what is there, note what is
not, and count both truly."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import analyze
from analyzer.ingest import parse_file
from analyzer.sources import Input, claimants

from conftest import SAMPLES

PASTED = SAMPLES / "win_exports_pasted_details"
SETUP = PASTED / "setupapi_piece.log"
FIREWALL = PASTED / "pfirewall_excerpt.log"
REC = r"USB\VID_05AC&PID_1281\CPID:8103_CPRV:11_CPFM:03_SCEP:01_BDID:0C_ECID:0019A04E22D3702E_IBFL:3C_SRNM:[HW4QK2C7PF]"
KO_REC = r"USB\VID_05AC&PID_1281\CPID:8101_CPRV:11_CPFM:03_SCEP:01_BDID:0C_ECID:00193A4C5E7D9F01_IBFL:3C_SRNM:[C39ZK8QRN72M]"
CORPUS_11 = "11_wevtutil_qe_text_system_korean_doc.txt"


def rows(parsed) -> list[dict]:
    return parsed.events.drop("file", "host").to_dicts()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# setupapi.dev.log copied from inside a section


def test_setupapi_piece_starting_inside_a_section():
    parsed = parse_file(SETUP)
    rep = parsed.report
    assert (rep.format, rep.records, rep.events, rep.skipped, rep.unrecognised) == ("windows_setupapi", 28, 3, 0, 0)
    assert [(n.code, n.line, n.severity) for n in rep.errors] == [("setupapi_starts_inside_section", 1, "warning")]
    cut, failure, whole = rows(parsed)
    # the section the copy starts in: its end and exit status, its device from its body
    assert (cut["line"], cut["kind"], cut["ts_raw"], cut["error_code"]) == (1, "driver_install", "2025/09/03 14:19:13.406", 0)
    assert (cut["subject"], cut["usb_pid"], cut["device_mode"]) == (REC, "1281", "recovery")
    detail = json.loads(cut["detail"])
    assert (detail["title"], detail["start"], detail["cut_before"], detail["errors"], detail["end_line"]) == (
        None, None, True, 1, 14)
    # its error line, timed by the block before it on the end's date
    assert (failure["line"], failure["kind"], failure["ts_wall"], failure["subject"]) == (
        9, "driver_failure", dt.datetime(2025, 9, 3, 14, 19, 12, 693000), REC)
    assert (whole["line"], whole["usb_pid"], whole["ts_wall"]) == (17, "12A8", dt.datetime(2025, 9, 3, 14, 31, 40, 227000))


def test_setupapi_body_lines_alone_are_read_and_what_is_missing_noted(tmp_path):
    text = ("     dvi: {Build Driver List} 14:19:12.601\r\n     dvi:      Searching for hardware ID(s):\r\n"
            "     dvi:           usb\\vid_05ac&pid_1281\r\n!!!  ndv: Device install failed for " + REC + "\r\n"
            "     ndv: {Core Device Install - exit(0xe0000247)} 14:19:13.1")
    parsed = parse_file(write(tmp_path, "piece.txt", text.encode("ascii")))
    rep = parsed.report
    assert (rep.format, rep.records, rep.unrecognised) == ("windows_setupapi", 5, 0)
    assert [n.code for n in rep.errors] == ["setupapi_starts_inside_section", "section_unfinished"]
    section, failure = rows(parsed)
    assert (section["subject"], section["ts_wall"], section["error_code"]) == (REC, None, None)
    assert (failure["line"], failure["ts_wall"]) == (4, None)  # no date anywhere in the piece


# --------------------------------------------------------------------------------------------
# pfirewall.log without its header, first and last lines cut


def test_firewall_excerpt_without_header_and_with_cut_lines():
    parsed = parse_file(FIREWALL)
    rep = parsed.report
    assert (rep.format, rep.records, rep.events, rep.skipped, rep.unrecognised) == ("windows_firewall", 6, 5, 0, 1)
    assert [(n.code, n.line) for n in rep.errors] == [("line_shape_unknown", 1), ("firewall_before_fields", 2),
                                                      ("firewall_record_cut", 6)]
    got = rows(parsed)
    assert [(r["line"], r["kind"]) for r in got] == [(2, "firewall_block"), (3, "firewall_allow"), (4, "firewall_block"),
                                                     (5, "firewall_block"), (6, "firewall_block")]
    first = json.loads(got[0]["detail"])
    assert (first["pid"], first["apple_usbmux"], got[0]["subject"]) == ("6120", True, "127.0.0.1:52215 -> 127.0.0.1:27015/TCP")
    last = json.loads(got[-1]["detail"])
    assert (last["path"], last["pid"], last["apple_network"]) == ("SE", None, True)


def test_the_pieces_take_the_zone_the_pasted_events_measured():
    result = analyze([PASTED], layout="host")
    clocks = {Path(f.path).name: f.clock for f in result.files}
    for name in ("setupapi_piece.log", "pfirewall_excerpt.log"):
        assert (clocks[name]["local_zone"], clocks[name]["local_zone_method"]) in (
            ("+01:00", "learnt"), ("+01:00", "aligned")), name
    assert clocks["setupapi_piece.log"]["learnt_method"] == "measured"
    failure = result.events.filter((pl.col("format") == "windows_setupapi") & (pl.col("kind") == "driver_failure"))
    assert failure.get_column("ts_utc").to_list() == [dt.datetime(2025, 9, 3, 13, 19, 12, 693000, tzinfo=dt.timezone.utc)]


# --------------------------------------------------------------------------------------------
# line endings changed, last lines cut


ENDING_SAMPLES = [SETUP, FIREWALL, PASTED / "ticket_4471_events.txt", SAMPLES / "win_exports_en" / "System_eventviewer.txt",
                  SAMPLES / "win_exports_en" / "System_Format-List.txt", SAMPLES / "win_exports_en" / "System_Format-Table.txt",
                  SAMPLES / "win_exports_zh" / "System_wevtutil.txt", SAMPLES / "win_exports_ko" / "System_wevtutil.txt"]


@pytest.mark.parametrize("ending", ["\n", "\r"], ids=["lf", "lone-cr"])
@pytest.mark.parametrize("sample", ENDING_SAMPLES, ids=lambda p: p.name)
def test_changed_line_endings_give_the_same_rows(tmp_path, sample, ending):
    from analyzer.textio import decode
    reference = parse_file(sample)
    text = decode(sample.read_bytes()).text.replace("\r\n", "\n").replace("\n", ending)
    again = parse_file(write(tmp_path, sample.name, text.encode("utf-8")))
    assert again.report.format == reference.report.format
    assert (again.report.records, again.report.unrecognised) == (reference.report.records, reference.report.unrecognised)
    assert rows(again) == rows(reference)


CUT_CASES = {
    # wevtutil: the last record stops inside its header
    "wevtutil": (SAMPLES / "win_exports_zh" / "System_wevtutil.txt", "  Level: 信", 4, 4),
    # Event Viewer text: the last row stops inside its date
    "eventviewer": (SAMPLES / "win_exports_en" / "System_eventviewer.txt", "Information\t3/12/2025 10:05", 7, 6),
    # Format-List: the last record stops inside its message
    "format-list": (SAMPLES / "win_exports_en" / "System_Format-List.txt", "               Service Account:  Loc", 7, 7),
    # Format-Table: the last row stops inside its time, before its Id: noted and skipped
    "format-table": (SAMPLES / "win_exports_en" / "System_Format-Table.txt", "3/12/2025 10:05:", 7, 6),
}


@pytest.mark.parametrize("case", sorted(CUT_CASES))
def test_a_last_line_cut_in_the_middle(tmp_path, case):
    """Everything before the cut is read; the cut record is read as far as it goes or noted."""
    from analyzer.textio import decode
    sample, cut_at, records, events = CUT_CASES[case]
    text = decode(sample.read_bytes()).text
    text = text[:text.rindex(cut_at) + len(cut_at)]
    parsed = parse_file(write(tmp_path, sample.name, text.encode("utf-8")))
    rep = parsed.report
    assert rep.format == parse_file(sample).report.format
    assert (rep.records, rep.events) == (records, events)
    assert rep.records == rep.events + rep.skipped
    whole = rows(parse_file(sample))
    assert rows(parsed)[:events - 1] == whole[:events - 1]


def test_event_viewer_text_with_blank_lines_before_spaced_header_and_day_first_dates(tmp_path):
    text = ("\r\n\r\nLevel \t Date and Time \t Source \t Event ID \t Task Category \r\n"
            "Error\t01-09-2025 14:22:07\tService Control Manager\t7031\tNone\t\"The Apple Mobile Device Service "
            "service terminated unexpectedly.\r\nIt has done this 1 time(s).\"\r\n"
            "Information\t31-08-2025 18:05:44\tService Control Manager\t7036\tNone\tThe Apple Mobile Device Service "
            "service entered the stopped state.\r\n")
    parsed = parse_file(write(tmp_path, "saved.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le")))
    rep = parsed.report
    assert (rep.format, rep.records, rep.events) == ("windows_eventviewer_table", 2, 2)
    assert rep.clock == {"date_order": "dmy", "date_order_how": {"code": "value_above_12",
                                                                 "params": {"value": "31-08-2025 18:05:44", "line": 6}}}
    got = rows(parsed)
    assert [(r["line"], r["ts_wall"]) for r in got] == [(4, dt.datetime(2025, 9, 1, 14, 22, 7)),
                                                        (6, dt.datetime(2025, 8, 31, 18, 5, 44))]
    assert got[0]["message"].endswith("unexpectedly.\nIt has done this 1 time(s).")


# --------------------------------------------------------------------------------------------
# wevtutil from Chinese and Korean Windows


def test_chinese_wevtutil_with_utc_dates():
    parsed = parse_file(SAMPLES / "win_exports_zh" / "System_wevtutil.txt")
    rep = parsed.report
    assert (rep.format, rep.encoding, rep.records, rep.events, rep.unrecognised) == (
        "windows_wevtutil_text", "utf-16", 4, 4, 0)
    got = rows(parsed)
    assert [(r["event_id"], r["level"], r["clock"], r["kind"]) for r in got] == [
        (7036, 4, "utc", "service_state"), (7031, 2, "utc", "service_crash"), (219, 3, "utc", "driver_failure"),
        (42, 4, "utc", "power")]
    assert got[0]["ts_wall"] == dt.datetime(2025, 3, 13, 6, 10, 3, 457000)
    assert got[0]["ts_raw"] == "2025-03-13T06:10:03.4570000Z"
    assert (got[2]["device_mode"], got[2]["usb_pid"]) == ("dfu", "1227")
    assert json.loads(got[1]["detail"])["Keyword"] == "经典"
    assert got[3]["message"] == "系统正在进入睡眠状态。\n\n睡眠原因: 应用程序 API"


def test_korean_wevtutil_with_local_dates_and_a_particle_after_the_instance_id():
    parsed = parse_file(SAMPLES / "win_exports_ko" / "System_wevtutil.txt")
    got = rows(parsed)
    assert [(r["event_id"], r["level"], r["clock"]) for r in got] == [(7031, 2, "local"), (20003, 4, "local"),
                                                                      (219, 3, "local")]
    assert got[0]["ts_wall"] == dt.datetime(2025, 4, 2, 15, 41, 26, 302000)
    # "…[C39ZK8QRN72M]에 대한": the particle is not part of the device instance id
    assert [r["subject"] for r in got[1:]] == [KO_REC, KO_REC]
    assert got[1]["serial"] == "C39ZK8QRN72M"
    result = analyze([SAMPLES / "win_exports_ko"], layout="host")
    clock = next(f.clock for f in result.files if f.path.endswith("System_wevtutil.txt"))
    assert (clock["local_zone"], clock["local_zone_method"], clock["learnt_method"]) == ("+09:00", "learnt", "measured")


LOCALISED = {
    "zh-CN": ("日志名称", "来源", "日期", "事件 ID", "任务", "级别", "操作代码", "关键字", "用户", "用户名", "计算机", "描述",
              "错误", "服务意外终止。"),
    "zh-TW": ("記錄檔名稱", "來源", "日期", "事件識別碼", "工作", "層級", "作業碼", "關鍵字", "使用者", "使用者名稱", "電腦", "描述",
              "錯誤", "服務意外終止。"),
    "ko": ("로그 이름", "원본", "날짜", "이벤트 ID", "작업", "수준", "옵코드", "키워드", "사용자", "사용자 이름", "컴퓨터", "설명",
           "오류", "서비스가 예기치 않게 종료되었습니다."),
}


@pytest.mark.parametrize("lang", sorted(LOCALISED))
def test_wevtutil_with_localised_labels(tmp_path, lang):
    labels = LOCALISED[lang]
    values = ["System", "Service Control Manager", "2025-04-02T06:41:26.3020000Z", "7031", "N/A", labels[12], "N/A",
              "N/A", "N/A", "N/A", "PC-77"]
    text = "Event[0]:\n" + "".join(f"  {label}: {value}\n" for label, value in zip(labels[:11], values))
    text += f"  {labels[11]}: \nApple Mobile Device Service {labels[13]}\n\n"
    parsed = parse_file(write(tmp_path, "wevtutil.txt", text.encode("utf-8")))
    assert (parsed.report.format, parsed.report.unrecognised) == ("windows_wevtutil_text", 0)
    (r,) = rows(parsed)
    assert (r["event_id"], r["channel"], r["provider"], r["computer"], r["level"], r["clock"]) == (
        7031, "System", "Service Control Manager", "PC-77", 2, "utc")
    assert r["message"] == f"Apple Mobile Device Service {labels[13]}" and r["subject"] == "Apple Mobile Device Service"


def test_wevtutil_copied_from_inside_the_export(tmp_path):
    """A copy that starts at a record's Log Name (its Event[n]: line left behind) is read; the
    same block without its indentation, as an editor or a prefix strip leaves it, is read as
    pasted event details (the labels are the same words)."""
    from analyzer.textio import decode
    text = decode((SAMPLES / "win_exports_zh" / "System_wevtutil.txt").read_bytes()).text
    text = text[text.index("  Log Name"):]
    parsed = parse_file(write(tmp_path, "copy.txt", text.encode("utf-8")))
    assert (parsed.report.format, parsed.report.records, parsed.report.events) == ("windows_wevtutil_text", 4, 4)
    assert [(n.code, n.line, n.severity) for n in parsed.report.errors] == [("wevtutil_event_line_missing", 1, "info")]
    assert [(r["record"], r["event_id"]) for r in rows(parsed)] == [(None, 7036), (1, 7031), (2, 219), (3, 42)]
    flat = "\n".join(line[2:] if line.startswith("  ") else line for line in text.splitlines()
                     if not line.startswith("Event["))
    parsed = parse_file(write(tmp_path, "flat.txt", flat.encode("utf-8")))
    assert (parsed.report.format, parsed.report.records, parsed.report.unrecognised) == (
        "windows_eventviewer_details", 4, 0)
    assert [(r["event_id"], r["clock"]) for r in rows(parsed)] == [(7036, "utc"), (7031, "utc"), (219, "utc"), (42, "utc")]


def test_corpus_korean_wevtutil_is_read_whole(windows_text_corpus):
    path = windows_text_corpus / CORPUS_11
    parsed = parse_file(path)
    rep = parsed.report
    assert claimants(Input(path, str(path))) == ["windows_wevtutil_text"]
    assert (rep.format, rep.records, rep.events, rep.skipped, rep.unrecognised) == ("windows_wevtutil_text", 1, 1, 0, 0)
    (r,) = rows(parsed)
    assert (r["record"], r["event_id"], r["provider"], r["channel"], r["computer"], r["level"]) == (
        0, 10016, "Microsoft-Windows-DistributedCOM", "System", "GISEONG-PC", 2)
    assert (r["ts_wall"], r["ts_raw"], r["clock"]) == (dt.datetime(2017, 3, 2, 21, 21, 8, 135000),
                                                       "2017-03-02T21:21:08.135", "local")
    assert json.loads(r["detail"]) == {"Task": "N/A", "Opcode": "Info", "Keyword": "Classic", "User": "S-1-5-18",
                                       "User Name": "NT AUTHORITY\\SYSTEM"}
    assert r["message"].startswith("The application-specific permission")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert (len(lines) - rep.unrecognised) / len(lines) >= 0.95


# --------------------------------------------------------------------------------------------
# properties

FRAGMENT_PREFIXES = ["     dvi: {Build Driver List} 14:19:12.601\n     dvi:      x\n     ndv: y\n",
                     "<<<  Section end 2025/09/03 14:19:13.406\n<<<  [Exit status: SUCCESS]\n",
                     "2025-09-03 14:21:58 DROP TCP 127.0.0.1 127.0.0.1 52214 27015 0 - 0 0 0 - - - SEND 6120\n"
                     "2025-09-03 14:21:59 DROP TCP 127.0.0.1 127.0.0.1 52215 27015 0 - 0 0 0 - - - SEND 6120\n"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(FRAGMENT_PREFIXES), body=st.text(max_size=1500),
       ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_fragments_never_raise(prefix, body, ending):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "piece.log"
        path.write_bytes((prefix + body).replace("\n", ending).encode("utf-8", errors="replace"))
        parsed = parse_file(path)
        assert parsed.report.events == parsed.events.height
        assert not [n for n in parsed.report.errors if n.code == "parser_failed"]
