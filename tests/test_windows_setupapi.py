"""setupapi.dev.log / setupapi.setup.log: grammar, sections, Apple failures, robustness, real logs."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import grammars
from analyzer.ingest import parse_file
from analyzer.sources import Input, claimants
from analyzer.sources._text import text_lines
from analyzer.sources.windows_setupapi import SOURCE, boot_sessions, read_header

from grammar_agreement import assert_fast_path_agrees

from conftest import SAMPLES, write_encoded

SAMPLE = SAMPLES / "win_driver_install_failure" / "setupapi.dev.log"
GRAMMAR = grammars.load("windows_setupapi")


def parse(path: Path):
    return parse_file(path, display=path.name, host="pc")


def details(frame: pl.DataFrame) -> list[dict]:
    return [json.loads(d) for d in frame.get_column("detail")]


def write(tmp_path: Path, text: str, name: str = "log.txt", **encoding) -> Path:
    return write_encoded(tmp_path, name, text, **encoding)


def agree(lines: list[str]) -> None:
    assert_fast_path_agrees(GRAMMAR, lines)


def test_grammar_line_shapes():
    assert GRAMMAR.parse_reference("[Boot Session: 2015/11/22 17:58:03.498]") == (
        "boot_session", None, {"boot_label": "Boot Session", "boot_date": "2015/11/22", "boot_time": "17:58:03.498"})
    assert GRAMMAR.parse_reference(">>>  Section start 2015/11/22 17:59:28.110")[2] == {
        "start_label": "Section start", "start_date": "2015/11/22", "start_time": "17:59:28.110"}
    assert GRAMMAR.parse_reference("<<<  [Exit status: FAILURE(0xe0000247)]") == (
        "exit_status", None, {"status_label": "Exit status", "status": "FAILURE(0xe0000247)"})
    # a recovery-mode instance id ends in "]]"
    shape, _, fields = GRAMMAR.parse_reference(">>>  [Device Install - USB\\VID_05AC&PID_1281\\SRNM:[F2LD]]")
    assert (shape, fields["title"]) == ("section_title", "[Device Install - USB\\VID_05AC&PID_1281\\SRNM:[F2LD]]")
    assert GRAMMAR.parse_reference("     ndv: {Core Device Install - exit(0x00000000)} 17:59:33.938") == (
        "body", "block_exit_timed", {"severity": "     ", "area": "ndv", "block": "Core Device Install - exit",
                                     "exit_code": "0x00000000", "body_time": "17:59:33.938"})
    assert GRAMMAR.parse_reference("!!!  dvi: Installation of device is blocked by policy!")[:2] == ("body", "text")
    assert GRAMMAR.parse_reference("     OS Version = 10.0.10240")[2] == {"key": "OS Version", "value": "10.0.10240"}


def test_grammar_is_label_agnostic():
    """Localised labels still parse: structure, not words."""
    assert GRAMMAR.parse_reference(">>>  Abschnittsstart 2015/11/22 17:59:28.110")[0] == "section_start"
    assert GRAMMAR.parse_reference("<<<  [Exitstatus: ERFOLG]")[2]["status"] == "ERFOLG"


def test_fast_path_agrees_with_reference_on_sample():
    agree(SAMPLE.read_text(encoding="ascii").splitlines())


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(">< [](){}:!.-_=/0123456789abcdxyzSE\\&\t")), max_size=60))
def test_fast_path_agrees_with_reference_on_noise(line):
    agree([line, ">>>  " + line, "     dvi: " + line, "<<<  [" + line])


# -- the sample bundle -------------------------------------------------------------------

def test_sample_sections_and_failures():
    parsed = parse(SAMPLE)
    rep = parsed.report
    assert (rep.format, rep.records, rep.unrecognised, rep.skipped, rep.errors) == ("windows_setupapi", 112, 0, 0, [])
    assert rep.clock == {"clock": "local"}
    ev = parsed.events
    installs = ev.filter(pl.col("kind") == "driver_install")
    assert installs.height == 8
    assert installs.get_column("error_code").to_list() == [0, 0xE0000247, 0, 0, 0, 0, 0xE0000248, 5]
    rec = installs.row(1, named=True)
    assert rec["ts_wall"] == dt.datetime(2024, 3, 18, 9, 27, 2, 644000)
    assert rec["ts_raw"] == "2024/03/18 09:27:02.644" and rec["clock"] == "local" and rec["line"] == 31
    assert rec["subject"] == ("USB\\VID_05AC&PID_1281\\CPID:8101_CPRV:11_CPFM:03_SCEP:01_BDID:0C_"
                              "ECID:000A3D5C0E9B001E_IBFL:3D_SRNM:[F2LDK9ABCDEF]")
    assert (rec["usb_vid"], rec["usb_pid"], rec["device_mode"], rec["level"]) == ("05AC", "1281", "recovery", 2)
    d = json.loads(rec["detail"])
    assert d["status"] == "FAILURE(0xe0000247)" and d["outcome"] == "failure"
    assert (d["start"], d["end"], d["boot_session"]) == ("2024/03/18 09:27:02.644", "2024/03/18 09:27:03.131",
                                                         "2024/03/18 08:41:07.500")
    assert (d["warnings"], d["errors"], d["end_line"]) == (1, 3, 54)
    assert d["first_errors"][1] == "ndv: Driver package failed signature validation. Error = 0xE0000247"
    # modes from the PID: normal, recovery, DFU; the INF-only Apple section has the vendor but no PID
    apple = installs.filter(pl.col("usb_vid") == "05AC")
    assert apple.select("line", "usb_pid", "device_mode").rows() == [
        (12, "12A8", "normal"), (31, "1281", "recovery"), (57, None, None), (87, "1227", "dfu"), (94, "1227", "dfu")]
    # non-Apple sections carry no USB ids, whatever their outcome
    logi = installs.filter(pl.col("line") == 108).row(0, named=True)
    assert (logi["usb_vid"], logi["error_code"], logi["subject"]) == (None, 5, "USB\\VID_046D&PID_C52B\\6&2A5C3F4E&0&2")
    reboot = installs.filter(pl.col("line") == 74).row(0, named=True)
    assert (reboot["error_code"], json.loads(reboot["detail"])["status"]) == (0, "SUCCESS (REBOOT_REQUIRED)")


def test_sample_apple_failure_lines():
    ev = parse(SAMPLE).events.filter(pl.col("kind") == "driver_failure")
    assert ev.get_column("line").to_list() == [48, 50, 52, 101, 102, 103]  # the !!! lines of Apple sections
    assert set(ev.get_column("usb_vid")) == {"05AC"}
    first = ev.row(0, named=True)
    assert first["ts_wall"] == dt.datetime(2024, 3, 18, 9, 27, 2, 830000) and first["ts_raw"] == "09:27:02.830"
    assert json.loads(first["detail"])["text"].startswith("Error 0xe0000247: A problem was encountered")
    # the DFU section starts at 23:59:58 and fails after midnight: the day rolls over
    dfu = ev.filter(pl.col("line") == 102).row(0, named=True)
    assert dfu["ts_wall"] == dt.datetime(2024, 3, 19, 0, 0, 0, 21000)
    assert (dfu["device_mode"], dfu["error_code"]) == ("dfu", 0xE0000248)
    assert "Restricted installation of devices not described by policy" in ev.row(3, named=True)["message"]
    # the Logitech failure (not Apple) has no driver_failure line
    assert 108 not in ev.get_column("line").to_list() and 110 not in ev.get_column("line").to_list()


def test_interleaved_sections_close_in_nesting_order():
    installs = parse(SAMPLE).events.filter(pl.col("kind") == "driver_install")
    outer, inner = (json.loads(installs.filter(pl.col("line") == n)["detail"][0]) for n in (57, 62))
    assert (outer["end"], outer["end_line"], outer["body_lines"]) == ("2024/03/18 09:31:11.240", 71, 4)
    assert (inner["end"], inner["end_line"], inner["body_lines"]) == ("2024/03/18 09:31:11.010", 68, 3)
    assert inner["overlapping"] == [outer["title"]]


def test_sniff_claims_sample_only():
    assert claimants(Input(SAMPLE, "x")) == ["windows_setupapi"]


# -- robustness ----------------------------------------------------------------------------

@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-8", codecs.BOM_UTF8), ("utf-16-le", b"")])
def test_encodings_give_the_same_events(tmp_path, encoding, bom):
    text = SAMPLE.read_text(encoding="ascii")
    base = parse(SAMPLE)
    other = parse(write(tmp_path, text, encoding=encoding, bom=bom))
    assert other.report.format == "windows_setupapi"
    assert other.events.drop("file").equals(base.events.drop("file"))
    assert other.report.records == base.report.records


def test_lf_and_lone_cr_line_endings(tmp_path):
    text = SAMPLE.read_text(encoding="ascii")
    base = parse(SAMPLE).events.drop("file")
    for sep in ("\n", "\r"):
        got = parse(write(tmp_path, text.replace("\r\n", sep), name=f"x{ord(sep)}"))
        assert got.events.drop("file").equals(base)


def test_truncated_and_garbled_lines_are_located(tmp_path):
    text = SAMPLE.read_text(encoding="ascii").replace("\r\n", "\n")
    lines = text.split("\n")
    lines.insert(40, "@@ garbage that matches no shape @@")
    cut = "\n".join(lines[:50]) + "\n!!!  ndv: Driver package fa"
    parsed = parse(write(tmp_path, cut))
    rep = parsed.report
    assert rep.unrecognised == 1
    note = next(n for n in rep.errors if n.line == 41)
    assert note.excerpt == "@@ garbage that matches no shape @@" and "no line shape" in note.message
    # the recovery section never got its exit status: reported, and emitted without an error code
    assert any("no exit status" in n.message and n.line == 31 for n in rep.errors)
    open_sec = parsed.events.filter(pl.col("line") == 31).row(0, named=True)
    assert open_sec["error_code"] is None and json.loads(open_sec["detail"])["status"] is None


def test_orphan_end_and_status_are_kept(tmp_path):
    text = ("<<<  Section end 2024/03/18 09:27:03.131\n<<<  [Exit status: FAILURE(0xe0000247)]\n\n"
            ">>>  [Device Install (Hardware initiated) - USB\\VID_05AC&PID_12A8\\X]\n"
            ">>>  Section start 2024/03/18 09:30:00.000\n<<<  Section end 2024/03/18 09:30:01.000\n"
            "<<<  [Exit status: SUCCESS]\n")
    parsed = parse(write(tmp_path, text))
    assert parsed.report.format == "windows_setupapi"
    ev = parsed.events
    assert ev.get_column("error_code").to_list() == [0xE0000247, 0]
    assert ev.row(0, named=True)["ts_raw"] == "2024/03/18 09:27:03.131"
    assert any("without an open section" in n.message and n.line == 1 for n in parsed.report.errors)


def test_bad_dates_do_not_raise(tmp_path):
    text = "[Device Install Log]\n>>>  [T]\n>>>  Section start 2024/13/45 99:99:99.999\n<<<  [Exit status: SUCCESS]\n"
    parsed = parse(write(tmp_path, text))
    row = parsed.events.row(0, named=True)
    assert row["ts_wall"] is None and row["ts_raw"] == "2024/13/45 99:99:99.999"
    assert any("not a valid date" in n.message for n in parsed.report.errors)


def test_header_only_and_empty(tmp_path):
    path = write(tmp_path, "[Device Install Log]\r\n     OS Version = 10.0.19045\r\n\r\n[BeginLog]\r\n")
    parsed = parse(path)
    assert (parsed.report.format, parsed.events.height, parsed.report.records) == ("windows_setupapi", 0, 4)
    assert read_header(Input(path, path.name)) == {"OS Version": "10.0.19045"}
    assert parse(write(tmp_path, "", name="empty")).report.format is None


def test_many_unrecognised_lines_are_capped_counted_and_summed_up(tmp_path):
    """100 lines of no shape: line notes are listed up to the cap (leaving room for summaries),
    the notes left out are counted in the report, and the "in all" summary is always listed."""
    text = "[Device Install Log]\r\n" + "".join(f"%% stray line {i} %%\r\n" for i in range(1, 101))
    report = parse(write(tmp_path, text)).report
    assert (report.format, report.unrecognised) == ("windows_setupapi", 100)
    assert len([n for n in report.errors if n.line is not None]) == 48
    assert report.notes_omitted == 12  # of the 60 lines noted one by one
    assert report.errors[-1].message == "100 lines in all match no line shape of windows_setupapi"
    assert len(report.errors) == 49
    assert report.as_dict()["notes_omitted"] == 12


def test_text_lines_split_like_an_editor():
    assert text_lines("a\r\nb\r\n").to_list() == ["a", "b"]
    assert text_lines("a\nb").to_list() == ["a", "b"]
    assert text_lines("a\rb\r").to_list() == ["a", "b"]
    assert text_lines("a\x0cb\n\n").to_list() == ["a\x0cb", ""]


def test_sniff_rejects_other_formats(tmp_path):
    others = {
        "restore.log": "2024-03-18 09:12:44.031 [AMRestore] Restore started\n[09:12:44.0310] <Restore Device: 0x1>\n",
        "events.txt": "Event[0]:\n  Log Name: System\n  Source: Service Control Manager\n  Event ID: 7036\n",
        "iis.log": "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method\n",
        "words.txt": "Section start and Exit status are just words here.\n>>>  not a section\n",
    }
    for name, text in others.items():
        assert not SOURCE.sniff(Input(write(tmp_path, text, name=name), name)), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(tmp_path, data):
    for i, payload in enumerate((data, SAMPLE.read_bytes()[:700] + data, b"[Device Install Log]\r\n" + data)):
        path = tmp_path / f"b{i}.log"
        path.write_bytes(payload)
        parsed = parse_file(path)
        assert parsed.report.events == parsed.events.height
        assert not any("parser failed" in n.message for n in parsed.report.errors), parsed.report.errors
        if parsed.report.format == "windows_setupapi":
            assert parsed.report.unrecognised <= parsed.report.records


def test_direct_parse_never_raises_on_binary(tmp_path):
    path = tmp_path / "bin"
    path.write_bytes(b"[Device Install Log]\n" + bytes(range(256)) * 8 + b"\n>>>  [\x00\xff]\n<<<  [Exit status: \x00]")
    parsed = SOURCE.parse(Input(path, "bin"))
    assert parsed.report.records > 0 and parsed.report.unrecognised >= 1


# -- real logs (plaso test data) -----------------------------------------------------------

def test_real_dev_log(windows_corpus):
    path = windows_corpus / "plaso_setupapi.dev.log"
    parsed = parse(path)
    rep = parsed.report
    assert (rep.format, rep.records, rep.unrecognised, rep.skipped, rep.errors) == ("windows_setupapi", 10653, 0, 0, [])
    ev = parsed.events
    assert ev.height == 194 and set(ev.get_column("kind")) == {"driver_install"}
    assert ev.get_column("error_code").to_list() == [0] * 194
    d = details(ev)
    assert sum(x["status"] == "SUCCESS (REBOOT_REQUIRED)" for x in d) == 3
    assert sum(x["status"] == "SUCCESS" for x in d) == 191
    assert [r for r, x in zip(ev.get_column("line"), d) if "REBOOT" in x["status"]] == [1590, 5070, 9016]
    assert ev.get_column("usb_vid").null_count() == 194 and not any(x.get("apple") for x in d)
    assert sum(x["warnings"] for x in d) == 180 and sum(x["errors"] for x in d) == 0
    boots = boot_sessions(Input(path, path.name))
    assert len(boots) == 12 and boots[0] == "2015/11/22 17:58:03.498" and boots[-1] == "2016/11/22 23:39:14.499"
    assert len({x["boot_session"] for x in d}) <= 12
    first = ev.row(0, named=True)
    assert first["line"] == 12 and first["subject"] == "SWD\\IP_TUNNEL_VBUS\\ISATAP_0"
    assert first["ts_wall"] == dt.datetime(2015, 11, 22, 17, 59, 28, 110000)
    assert d[0]["title"] == "Device Install (Hardware initiated) - SWD\\IP_TUNNEL_VBUS\\ISATAP_0"
    assert (d[0]["end"], d[0]["body_lines"], d[0]["end_line"]) == ("2015/11/22 17:59:37.142", 70, 85)
    last = ev.row(-1, named=True)
    assert last["line"] == 10527 and last["ts_wall"] == dt.datetime(2016, 11, 22, 23, 50, 30, 938000)
    assert read_header(Input(path, path.name))["OS Version"] == "10.0.10240"
    assert read_header(Input(path, path.name))["Suite"] == "0x0100"


def test_real_setup_log(windows_corpus):
    path = windows_corpus / "plaso_setupapi.setup.log"
    parsed = parse(path)
    rep = parsed.report
    assert (rep.format, rep.records, rep.unrecognised) == ("windows_setupapi", 1357, 0)
    d = details(parsed.events)
    assert len(d) == 16 and {x["status"] for x in d} == {"SUCCESS"}
    assert d[0]["title"] == "Sysprep Specialize - {51198c35-bd73-bb4d-a3cb-65bd5f2ab9cb}"
    assert parsed.events.row(0, named=True)["ts_wall"] == dt.datetime(2015, 11, 22, 17, 53, 16, 599000)
    assert sum(x["warnings"] for x in d) == 14
    assert boot_sessions(Input(path, path.name)) == ["2015/11/22 17:52:29.492"]


def test_fast_path_agrees_with_reference_on_corpus(windows_corpus):
    for name in ("plaso_setupapi.dev.log", "plaso_setupapi.setup.log"):
        agree((windows_corpus / name).read_text(encoding="ascii").splitlines())


def test_no_other_source_claims_the_real_logs(windows_corpus):
    for name in ("plaso_setupapi.dev.log", "plaso_setupapi.setup.log"):
        assert claimants(Input(windows_corpus / name, name)) == ["windows_setupapi"]
    assert not SOURCE.sniff(Input(windows_corpus / "plaso_windows_firewall.log", "fw"))
    assert not SOURCE.sniff(Input(windows_corpus / "plaso_System.evtx", "evtx"))
