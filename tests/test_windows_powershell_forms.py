"""Get-WinEvent output as people paste it: Format-List in any property order and wrapped at the
console width (by words or by characters), Format-Table with its group headers and cut
messages, and the real Format-List export of the corpus."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analyzer.ingest import parse_file

from conftest import SAMPLES

from powershell_model import cells, format_list, wrap

CORPUS_07 = "07_getwinevent_format_list_scm_7045_7036_deepbluecli.txt"
DFU = r"USB\VID_05AC&PID_1227\CPID:8020_CPRV:11_CPFM:03_SCEP:01_BDID:0E_ECID:001A2B3C4D5E6F70_IBFL:3C_SRTG:[IBOOT-4479.0.1]"
GUID = "{7d1c2f0e-5b3a-4e8f-9a61-2c4d8e0b1f35}"


def parse_text(tmp_path, text: str, name: str = "export.txt", utf16: bool = True):
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le") if utf16 else text.encode("utf-8"))
    return parse_file(path)


def rows(parsed) -> list[dict]:
    return parsed.events.drop("file", "host").to_dicts()


# --------------------------------------------------------------------------------------------
# the real Format-List export


def test_corpus_format_list_is_read_whole_and_not_rejoined(windows_text_corpus):
    parsed = parse_file(windows_text_corpus / CORPUS_07)
    rep = parsed.report
    assert (rep.format, rep.records, rep.events, rep.skipped, rep.unrecognised) == ("windows_powershell", 5, 5, 0, 0)
    assert rep.clock["date_order"] == "mdy"
    assert rep.clock["date_order_how"] == {"code": "value_above_12", "params": {"value": "9/20/2016 8:41:13 PM", "line": 1}}
    # its longest lines are 76 wide and nothing was wrapped: no console width is claimed
    assert not [n for n in rep.errors if n.code == "console_width_rejoined"]
    got = rows(parsed)
    assert [(r["line"], r["event_id"], r["ts_wall"]) for r in got] == [
        (1, 7045, dt.datetime(2016, 9, 20, 20, 41, 13)), (12, 7036, dt.datetime(2016, 9, 20, 20, 41, 3)),
        (17, 7036, dt.datetime(2016, 9, 20, 20, 41, 2)), (22, 7036, dt.datetime(2016, 9, 20, 20, 41, 2)),
        (27, 7045, dt.datetime(2016, 9, 20, 20, 41, 2))]
    assert {r["provider"] for r in got} == {"Service Control Manager"}
    assert {r["kind"] for r in got} == {"service_state"} and {r["clock"] for r in got} == {"local"}
    # the service file name line is followed by a real line break, not a wrap
    assert got[0]["message"].split("\n")[3:5] == ["Service File Name:  cmd.exe /c echo hgabms > \\\\.\\pipe\\hgabms",
                                                  "Service Type:  user mode service"]
    assert got[1]["message"] == "The Application Experience service entered the running state."
    lines = (windows_text_corpus / CORPUS_07).read_text(encoding="utf-8").splitlines()
    recognised = len(lines) - rep.unrecognised
    assert recognised / len(lines) >= 0.95


# --------------------------------------------------------------------------------------------
# Format-List as PowerShell lays it out (tests/powershell_model.py)

INSTALL = ("A service was installed in the system.\n\nService Name:  Apple Mobile Device Service\n"
           "Service File Name:  \"C:\\Program Files\\Common Files\\Apple\\Mobile Device Support\\"
           "AppleMobileDeviceService.exe\"\nService Type:  user mode service\nService Start Type:  auto start\n"
           "Service Account:  LocalSystem")
CRASH = ("The Apple Mobile Device Service service terminated unexpectedly.  It has done this 3 time(s).  The "
         "following corrective action will be taken in 10000 milliseconds: Restart the service.")
DRIVER = f"The driver \\Driver\\WUDFRd failed to load for the device {DFU}."
RECORDS_EN = [
    {"LogName": "System", "MachineName": "WS-HELP-0417", "Message": INSTALL, "Id": "7045",
     "ProviderName": "Service Control Manager", "TimeCreated": "21/08/2025 09:14:02"},
    {"LogName": "System", "MachineName": "WS-HELP-0417", "Message": CRASH, "Id": "7031",
     "ProviderName": "Service Control Manager", "TimeCreated": "21/08/2025 09:41:37"},
    {"LogName": "System", "MachineName": "WS-HELP-0417", "Message": DRIVER, "Id": "219",
     "ProviderName": "Microsoft-Windows-Kernel-PnP", "TimeCreated": "21/08/2025 09:52:10"},
]


def test_format_list_in_another_order_word_wrapped_at_80_columns(tmp_path):
    text = format_list(RECORDS_EN, 80, word_wrap=True)
    assert max(len(line) for line in text.split("\r\n")) == 80
    parsed = parse_text(tmp_path, text)
    rep = parsed.report
    assert (rep.format, rep.records, rep.events, rep.skipped, rep.unrecognised) == ("windows_powershell", 3, 3, 0, 0)
    assert [n.params for n in rep.errors if n.code == "console_width_rejoined"] == [{"width": 80}]
    got = rows(parsed)
    assert [r["message"] for r in got] == [INSTALL, CRASH, DRIVER]  # wraps undone, real breaks and blank lines kept
    assert [(r["event_id"], r["channel"], r["computer"]) for r in got] == [
        (7045, "System", "WS-HELP-0417"), (7031, "System", "WS-HELP-0417"), (219, "System", "WS-HELP-0417")]
    assert got[1]["ts_wall"] == dt.datetime(2025, 8, 21, 9, 41, 37) and rep.clock["date_order"] == "dmy"
    assert (got[1]["kind"], got[1]["subject"]) == ("service_crash", "Apple Mobile Device Service")
    assert (got[2]["subject"], got[2]["device_mode"]) == (DFU, "dfu")


def test_format_list_copied_without_trailing_spaces_keeps_every_word(tmp_path):
    """A copy from the console window or an editor drops the spaces PowerShell leaves at a wrap
    and the padding of empty message lines; words and the record boundaries survive."""
    text = "\r\n".join(line.rstrip() for line in format_list(RECORDS_EN, 80).split("\r\n"))
    got = rows(parse_text(tmp_path, text))
    assert [r["event_id"] for r in got] == [7045, 7031, 219]
    assert [r["message"].split() for r in got] == [m.split() for m in (INSTALL, CRASH, DRIVER)]
    assert got[0]["message"].split("\n")[:3] == ["A service was installed in the system.", "",
                                                 "Service Name:  Apple Mobile Device Service"]
    assert got[2]["subject"] == DFU


JA_MESSAGE = (f"プラグ アンド プレイの構成セッション {GUID} で、デバイス {DFU} のドライバー \\Driver\\WUDFRd "
              "を読み込めませんでした。")


def test_format_list_japanese_cut_by_cells_rejoins_a_split_guid(tmp_path):
    records = [{"LogName": "System", "Id": "219", "Message": JA_MESSAGE, "ProviderName": "Microsoft-Windows-Kernel-PnP",
                "TimeCreated": "2025/08/21 9:52:10", "LevelDisplayName": "警告"}]
    text = format_list(records * 2, 80, word_wrap=False)
    assert any(GUID[:10] in line and GUID not in line for line in text.split("\r\n"))  # the GUID is split
    parsed = parse_text(tmp_path, text)
    got = rows(parsed)
    assert [r["message"] for r in got] == [JA_MESSAGE, JA_MESSAGE]
    assert [(r["level"], r["subject"], r["usb_pid"]) for r in got] == [(3, DFU, "1227")] * 2
    assert got[0]["ts_wall"] == dt.datetime(2025, 8, 21, 9, 52, 10) and parsed.report.clock == {"date_order": "ymd"}


def test_one_weak_sign_of_wrapping_is_not_taken(tmp_path):
    """A short file whose longest message line happens to be followed by a line that would not
    have fitted: without a second sign, the line break is kept."""
    text = ("TimeCreated  : 9/2/2025 7:05:11 AM\r\nProviderName : Service Control Manager\r\nId           : 7045\r\n"
            "Message      : A service was installed in the system.\r\n\r\n"
            "               Service File Name:  \"C:\\Program Files\\Common Files\\Apple\\Mobile Device\"\r\n"
            "               Service Type:  user mode service\r\n\r\n")
    (r,) = rows(parse_text(tmp_path, text))
    assert r["message"].endswith("Mobile Device\"\nService Type:  user mode service")


LATIN = st.text(alphabet=st.sampled_from(list("abcXYZ019_\\{}-.:()") + ["é"]), min_size=1, max_size=40)
WIDE = st.text(alphabet=st.sampled_from(["デ", "バ", "イ", "ス", "構", "成", "。", "0", "x"]), min_size=1, max_size=30)


def message_lines(words):
    return st.lists(st.one_of(st.just(""), st.lists(words, min_size=1, max_size=14).map(" ".join)),
                    min_size=1, max_size=5)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), width=st.sampled_from([80, 120]), word_wrap=st.booleans(), stripped=st.booleans())
def test_format_list_wraps_are_undone_without_losing_or_merging_words(data, width, word_wrap, stripped):
    """Messages laid out as PowerShell does (tests/powershell_model.py) at the usual console widths
    come back word for word (see below for a copy without trailing spaces). A message line that
    really ends at the very edge (or, when nothing is wrapped, at a usual console width) cannot
    be told from a cut one: the lines are either short or long enough to be wrapped. The text is
    in a Western script where PowerShell wraps by words, and mostly East Asian where it cuts."""
    messages = data.draw(st.lists(message_lines(LATIN if word_wrap else WIDE), min_size=1, max_size=4))
    room = width - len("ProviderName : ")
    texts = ["\n".join(line for line in lines if cells(line) <= 44 or cells(line) > room) for lines in messages]
    texts = [t if t.strip() else "x" for t in texts]
    # the last piece of a wrapped line can itself end at the edge: as ambiguous as above
    assume(all(cells(wrap(line, room, word_wrap)[-1]) < room - 2 for t in texts for line in t.split("\n")))
    records = [{"TimeCreated": "9/2/2025 7:05:11 AM", "Id": str(7000 + i), "Message": t,
                "ProviderName": "Service Control Manager"} for i, t in enumerate(texts)]
    text = format_list(records, width, word_wrap)
    if stripped:
        text = "\r\n".join(line.rstrip() for line in text.split("\r\n"))
    with tempfile.TemporaryDirectory() as tmp:
        got = rows(parse_text(Path(tmp), text))
    assert [r["event_id"] for r in got] == [7000 + i for i in range(len(texts))]
    if stripped:
        # without the spaces at the end of a wrapped line, a wrap at a space cannot always be
        # told from a cut between two characters: no character is lost or made up
        assert ["".join(r["message"].split()) for r in got] == ["".join(t.split()) for t in texts]
    else:
        assert [r["message"].split() for r in got] == [t.split() for t in texts]


# --------------------------------------------------------------------------------------------
# Format-Table (windows_powershell_table)

TABLE = SAMPLES / "win_exports_en" / "System_Format-Table.txt"


def test_table_sample_with_provider_groups_and_cut_messages():
    parsed = parse_file(TABLE)
    rep = parsed.report
    assert (rep.format, rep.encoding, rep.records, rep.events, rep.skipped, rep.unrecognised) == (
        "windows_powershell_table", "utf-16", 7, 7, 0, 0)
    assert [(n.code, n.params) for n in rep.errors] == [("table_values_cut", {"count": 5})]
    got = rows(parsed)
    assert [(r["line"], r["event_id"], r["provider"], r["level"]) for r in got] == [
        (7, 107, "Microsoft-Windows-Kernel-Power", 4), (14, 219, "Microsoft-Windows-Kernel-PnP", 3),
        (21, 7036, "Service Control Manager", 4), (22, 7034, "Service Control Manager", 2),
        (29, 219, "Microsoft-Windows-Kernel-PnP", 3), (36, 20003, "Microsoft-Windows-UserPnp", 4),
        (43, 7045, "Service Control Manager", 4)]
    assert got[3]["ts_wall"] == dt.datetime(2025, 3, 12, 22, 26, 58) and got[3]["kind"] == "service_crash"
    assert got[3]["subject"] == "Apple Mobile Device Service"
    # a message cut inside a device instance id does not name a device
    assert got[1]["message"].endswith("for the device USB\\VID_0...") and got[1]["subject"] is None
    assert rep.clock["date_order"] == "mdy"


def table(tmp_path, text: str, utf16: bool = False):
    return parse_text(tmp_path, text, "table.txt", utf16=utf16)


def test_table_wrapped_rows_padded_labels_and_no_blank_lines(tmp_path):
    """``Format-Table -Wrap`` continues the message under its column; a header padded to the
    console width and a group header glued to the table (as documentation pages show them)."""
    text = ("   ProviderName: Microsoft-Windows-DSC\n"
            "TimeCreated                     Id LevelDisplayName Message                                   \n"
            "-----------                     -- ---------------- -------                                   \n"
            "11/17/2025 10:27:23 PM        4102 Information      Job {02C38626-D95A-47F1-9DA2-C1D44A7128E7} :\n"
            "                                                    Configuration is applied to the computer.\n"
            "11/17/2025 10:27:21 PM        4097 Error            Job {02C38626-D95A-47F1-9DA2-C1D44A7128E7} :\n"
            "                                                    The resource failed.\n")
    parsed = table(tmp_path, text)
    assert (parsed.report.records, parsed.report.unrecognised) == (2, 0)
    got = rows(parsed)
    assert [(r["line"], r["event_id"], r["level"], r["provider"]) for r in got] == [
        (4, 4102, 4, "Microsoft-Windows-DSC"), (6, 4097, 2, "Microsoft-Windows-DSC")]
    assert got[0]["message"] == ("Job {02C38626-D95A-47F1-9DA2-C1D44A7128E7} : Configuration is applied to the "
                                 "computer.")
    assert got[1]["ts_wall"] == dt.datetime(2025, 11, 17, 22, 27, 21)


def test_table_in_a_japanese_console(tmp_path):
    """Level names two cells wide per character: columns are found in cells, not characters."""
    text = ("\r\n\r\n   ProviderName: Service Control Manager\r\n\r\n"
            "TimeCreated                     Id LevelDisplayName Message\r\n"
            "-----------                     -- ---------------- -------\r\n"
            "2025/02/14 10:32:02           7036 情報             Apple Mobile Device Service サービスは 実行中 状態に移行しました。\r\n"
            "2025/02/14 10:31:52           7031 エラー           Apple Mobile Device Service サービスは予期せぬ原因により終了しまし...\r\n")
    got = rows(table(tmp_path, text, utf16=True))
    assert [(r["event_id"], r["level"], r["kind"], r["subject"]) for r in got] == [
        (7036, 4, "service_state", "Apple Mobile Device Service"), (7031, 2, "service_crash", "Apple Mobile Device Service")]
    assert got[1]["ts_wall"] == dt.datetime(2025, 2, 14, 10, 31, 52)
    assert json.loads(got[1]["detail"]) == {"LevelDisplayName": "エラー"}


def test_table_with_day_names_five_digit_ids_and_a_prompt(tmp_path):
    text = ("PS C:\\WINDOWS\\system32> Get-WinEvent -LogName System | ? Id -eq 12 | select -First 2\n\n"
            "TimeCreated                     Id LevelDisplayName Message\n"
            "-----------                     -- ---------------- -------\n"
            "Thu 8.28.25 8:18:14 AM          12 Information      The operating system started at system time 2025...\n"
            "Mon 8.25.25 8:33:54 AM       16384 Information      Successfully scheduled Software Protection servi...\n")
    parsed = table(tmp_path, text)
    rep = parsed.report
    assert (rep.records, rep.unrecognised) == (2, 1)
    assert [(n.code, n.line) for n in rep.errors if n.code == "table_line_outside"] == [("table_line_outside", 1)]
    got = rows(parsed)
    assert [(r["event_id"], r["ts_wall"]) for r in got] == [(12, dt.datetime(2025, 8, 28, 8, 18, 14)),
                                                            (16384, dt.datetime(2025, 8, 25, 8, 33, 54))]
    assert rep.clock["date_order_how"] == {"code": "value_above_12",
                                           "params": {"value": "Thu 8.28.25 8:18:14 AM", "line": 5}}


def test_legacy_get_eventlog_table(tmp_path):
    """Get-EventLog's table: a right-aligned Index first, InstanceID carrying the qualifiers, and
    a Time without a year, which cannot be placed: the records are kept without a time."""
    text = ("\n   Index Time          EntryType   Source                 InstanceID Message\n"
            "   ----- ----          ---------   ------                 ---------- -------\n"
            "  117676 Sep 16 21:50  Error       Service Control M...   3221232503 The Apple Mobile Device Service serv...\n"
            "  117601 Sep 16 21:31  Information Service Control M...   1073748860 The Apple Mobile Device Service serv...\n")
    parsed = table(tmp_path, text)
    rep = parsed.report
    assert (rep.format, rep.records, rep.events) == ("windows_powershell_table", 2, 2)
    got = rows(parsed)
    assert [(r["record"], r["event_id"], r["level"], r["ts_wall"]) for r in got] == [
        (117676, 7031, 2, None), (117601, 7036, 4, None)]
    assert [n.code for n in rep.errors if n.severity == "warning"] == ["record_not_a_time", "record_not_a_time"]


def test_table_grammar_fast_path_agrees():
    from analyzer.grammars import load
    from analyzer.sources._text import text_lines
    from analyzer.textio import decode
    from grammar_agreement import assert_fast_path_agrees
    grammar = load("windows_powershell_table")
    assert_fast_path_agrees(grammar, text_lines(decode(TABLE.read_bytes()).text).to_list())
    assert_fast_path_agrees(grammar, ["   ProviderName: X", "-- ---  ", " ----- ----", "  ", "- x", "Id: 4", ""])


TABLE_PREFIXES = ["\n   ProviderName: Service Control Manager\n\nTimeCreated                     Id LevelDisplayName Message\n"
                  "-----------                     -- ---------------- -------\n",
                  "   Index Time          EntryType   Source                 InstanceID Message\n"
                  "   ----- ----          ---------   ------                 ---------- -------\n"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(TABLE_PREFIXES), body=st.text(max_size=1200))
def test_table_never_raises_on_arbitrary_text(prefix, body):
    with tempfile.TemporaryDirectory() as tmp:
        parsed = parse_text(Path(tmp), prefix + body, utf16=False)
        assert parsed.report.events == parsed.events.height
        assert not [n for n in parsed.report.errors if n.code == "parser_failed"]
