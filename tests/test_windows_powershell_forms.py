"""Get-WinEvent output as people paste it: Format-List in any property order and wrapped at the
console width (by words or by characters), Format-Table with its group headers and cut
messages, and the real Format-List export of the corpus."""

from __future__ import annotations

import codecs
import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analyzer.ingest import parse_file

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
