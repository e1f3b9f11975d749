"""Windows events as XML: Event Viewer "Save as XML", wevtutil /f:xml, encodings, damage."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.ingest import parse_file
from analyzer.model import EVENT_SCHEMA
from analyzer.sources import Input, claimants
from analyzer.sources.windows_event_xml import SOURCE

from conftest import SAMPLES
from conftest import write_encoded as write

BUNDLE = SAMPLES / "win_amds_crash"
NS = "http://schemas.microsoft.com/win/2004/08/events/event"

# One SCM 7031 in wevtutil's shape: single quotes, no root, EventID with Qualifiers.
SCM_7031 = (
    f"<Event xmlns='{NS}'><System><Provider Name='Service Control Manager' "
    "Guid='{555908d1-a6d7-4695-8e1e-26931d2012f4}' EventSourceName='Service Control Manager'/>"
    "<EventID Qualifiers='49152'>7031</EventID><Version>0</Version><Level>2</Level><Task>0</Task>"
    "<Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords>"
    "<TimeCreated SystemTime='2026-09-24T19:12:06.8320000Z'/><EventRecordID>9001</EventRecordID>"
    "<Correlation/><Execution ProcessID='700' ThreadID='1200'/><Channel>System</Channel>"
    "<Computer>PC-TEST</Computer><Security/></System><EventData>"
    "<Data Name='param1'>Apple Mobile Device Service</Data><Data Name='param2'>2</Data>"
    "<Data Name='param3'>60000</Data><Data Name='param4'>1</Data><Data Name='param5'>Hizmeti yeniden başlat</Data>"
    "<Binary>4100700070006C0065000000</Binary></EventData></Event>"
)
APP_ERROR = (
    f"<Event xmlns='{NS}'><System><Provider Name='Application Error'/>"
    "<EventID Qualifiers='0'>1000</EventID><Level>2</Level>"
    "<TimeCreated SystemTime='2026-09-24T19:15:00.0000000Z'/><EventRecordID>77</EventRecordID>"
    "<Channel>Application</Channel><Computer>PC-TEST</Computer></System>"
    "<EventData><Data>iTunes.exe</Data><Data>12.13.2.3</Data><Data></Data><Data>KERNELBASE.dll</Data></EventData></Event>"
)
USERPNP = (
    f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-UserPnp' Guid='{{96F4A050-7E31-453C-88BE-9634F4E02139}}'/>"
    "<EventID>20001</EventID><Level>4</Level><TimeCreated SystemTime='2026-09-24T19:20:00.5Z'/>"
    "<EventRecordID>78</EventRecordID><Channel>System</Channel><Computer>PC-TEST</Computer></System>"
    "<UserData><InstallDeviceID xmlns='http://manifests.microsoft.com/win/2004/08/windows/userpnp'>"
    "<DriverName>usbaapl64.inf</DriverName><DeviceInstanceID>USB\\VID_05AC&amp;PID_1281\\0000</DeviceInstanceID>"
    "<InstallStatus>0xE0000248</InstallStatus></InstallDeviceID></UserData></Event>"
)


def test_bundle_files_are_read_as_xml_exports():
    for path in sorted(BUNDLE.glob("*.xml")):
        result = parse_file(path)
        assert result.report.format == "windows_event_xml", path.name
        assert result.report.complete and not result.report.errors
    system = BUNDLE / "System_AMDS_EventViewer.xml"
    assert system.read_bytes()[:2] == b"\xff\xfe"  # Event Viewer's UTF-16 LE with BOM


def test_amds_crash_bundle_values():
    ev = parse_file(BUNDLE / "System_AMDS_EventViewer.xml").events
    crash = ev.filter(pl.col("kind") == "service_crash").row(0, named=True)
    assert crash["subject"] == "Apple Mobile Device Service"
    assert crash["event_id"] == 7031 and crash["level"] == 2 and crash["record"] == 48230
    assert crash["ts_wall"] == datetime(2025, 3, 8, 14, 6, 2, 552190)
    assert crash["message"].startswith("The Apple Mobile Device Service service terminated unexpectedly.")
    states = ev.filter(pl.col("kind") == "service_state").select("ts_wall", "error_code").rows()
    assert [s for _, s in states] == [4, 1, 4]  # running, stopped, running again (from Binary)
    dfum = parse_file(BUNDLE / "DriverFrameworks-UserMode_wevtutil.xml").events
    assert dfum.filter(pl.col("kind") == "device_connect").select("usb_vid", "usb_pid", "device_mode").rows() == [
        ("05AC", "12A8", "normal")]
    gone = dfum.filter(pl.col("kind") == "device_disconnect")
    assert gone["error_code"].to_list() == [23, 2]
    assert gone["subject"][0] == r"USB\VID_05AC&PID_12A8&MI_01\7&1C3F0A2B&0&0001"  # &amp; decoded


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-le", b""), ("utf-16-be", b"\xfe\xff"),
])
def test_wevtutil_shape_in_any_encoding(tmp_path, encoding, bom):
    path = write(tmp_path, "events.dat", SCM_7031 + "\r\n" + APP_ERROR + "\r\n", encoding, bom)
    result = parse_file(path)
    assert result.report.format == "windows_event_xml"
    ev = result.events
    assert ev.height == 2
    scm = ev.row(0, named=True)
    assert scm["kind"] == "service_crash" and scm["event_id"] == 7031  # Qualifiers ignored
    assert scm["subject"] == "Apple Mobile Device Service"
    assert scm["ts_wall"] == datetime(2026, 9, 24, 19, 12, 6, 832000)  # 7 digits, truncated to µs
    assert scm["ts_raw"] == "2026-09-24T19:12:06.8320000Z" and scm["clock"] == "utc"
    assert json.loads(scm["detail"])["param5"] == "Hizmeti yeniden başlat"
    app = ev.row(1, named=True)
    assert app["kind"] == "app_crash" and app["subject"] == "iTunes.exe"
    assert json.loads(app["detail"]) == {"1": "iTunes.exe", "2": "12.13.2.3", "3": "", "4": "KERNELBASE.dll"}


def test_event_viewer_shape_with_rendering_info(tmp_path):
    doc = ('<?xml version="1.0" encoding="UTF-16"?>\r\n<Events>\r\n'
           + SCM_7031.replace("</EventData>", "</EventData><RenderingInfo Culture='tr-TR'><Message>Apple Mobile "
                              "Device Service hizmeti beklenmedik şekilde sonlandırıldı.</Message><Level>Hata</Level>"
                              "</RenderingInfo>") + "\r\n</Events>")
    result = parse_file(write(tmp_path, "System.xml", doc, "utf-16-le", b"\xff\xfe"))
    assert result.report.format == "windows_event_xml"
    assert result.report.encoding == "utf-16"
    assert result.report.clock["culture"] == "tr-TR"
    row = result.events.row(0, named=True)
    assert row["message"].startswith("Apple Mobile Device Service hizmeti")
    assert row["kind"] == "service_crash" and row["line"] == 3


def test_userdata_and_amp_in_instance_ids(tmp_path):
    ev = parse_file(write(tmp_path, "one.xml", USERPNP)).events  # a single event, no newline
    row = ev.row(0, named=True)
    assert row["kind"] == "driver_install"
    assert row["subject"] == r"USB\VID_05AC&PID_1281\0000"
    assert row["usb_pid"] == "1281" and row["device_mode"] == "recovery"
    assert row["error_code"] == 0xE0000248
    assert row["ts_wall"] == datetime(2026, 9, 24, 19, 20, 0, 500000)


def test_many_events_on_one_line(tmp_path):
    ev = parse_file(write(tmp_path, "line.xml", SCM_7031 + APP_ERROR + USERPNP)).events
    assert ev["event_id"].to_list() == [7031, 1000, 20001]
    assert ev["line"].to_list() == [1, 1, 1]


def test_a_broken_record_is_a_located_note_and_the_rest_is_kept(tmp_path):
    broken = APP_ERROR.replace("<Level>2</Level>", "<Level>2</Levl>")
    text = "\n".join([SCM_7031, broken, USERPNP]) + "\n"
    result = parse_file(write(tmp_path, "mixed.xml", text))
    assert result.events["event_id"].to_list() == [7031, 20001]
    assert result.report.records == 2 and result.report.skipped == 1
    (note,) = result.report.errors
    assert note.line == 2 and "not well-formed" in note.message and note.excerpt.startswith("<Event")


def test_a_truncated_last_event_is_a_note(tmp_path):
    text = "<Events>\n" + SCM_7031 + "\n" + APP_ERROR[: len(APP_ERROR) // 2]
    result = parse_file(write(tmp_path, "cut.xml", text))
    assert result.report.format == "windows_event_xml"
    assert result.events.height == 1 and result.report.skipped == 1
    assert result.report.errors[0].line == 3 and "closing </Event>" in result.report.errors[0].message


def test_sniff_by_content_only(tmp_path):
    assert claimants(Input(write(tmp_path, "a.txt", SCM_7031), "a.txt")) == ["windows_event_xml"]
    not_events = write(tmp_path, "b.xml", '<?xml version="1.0"?><config><Event>no</Event></config>')
    assert "windows_event_xml" not in claimants(Input(not_events, "b.xml"))
    copy_as_text = write(tmp_path, "c.xml", "Log Name:      System\r\nSource:        x\r\nEvent Xml:\r\n" + SCM_7031)
    assert "windows_event_xml" not in claimants(Input(copy_as_text, "c.xml"))


def test_xml_and_evtx_agree_on_the_same_kind_of_record(tmp_path, windows_corpus):
    """The same 7036 shape from a binary log and from an XML export normalise alike."""
    evtx_row = parse_file(windows_corpus / "eas_System_SCM_7036.evtx").events.row(0, named=True)
    xml = (f"<Event xmlns='{NS}'><System><Provider Name='Service Control Manager'/>"
           "<EventID Qualifiers='16384'>7036</EventID><Level>4</Level>"
           f"<TimeCreated SystemTime='{evtx_row['ts_raw']}'/><EventRecordID>{evtx_row['record']}</EventRecordID>"
           f"<Channel>System</Channel><Computer>{evtx_row['computer']}</Computer></System><EventData>"
           "<Data Name='param1'>Windows Error Reporting Service</Data><Data Name='param2'>running</Data>"
           "<Binary>5700650072005300760063002F0034000000</Binary></EventData></Event>")
    xml_row = parse_file(write(tmp_path, "one.xml", xml)).events.row(0, named=True)
    for key in ("record", "ts_wall", "clock", "channel", "provider", "event_id", "level", "computer", "kind",
                "subject", "error_code", "detail"):
        assert xml_row[key] == evtx_row[key], key


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=4096),
       prefix=st.sampled_from([b"<Events>", f"<Event xmlns='{NS}'>".encode(), b"\xff\xfe<\x00E\x00v\x00e\x00n\x00t\x00 \x00",
                               b'<?xml version="1.0"?><Events><Event xmlns="x">']))
def test_xml_source_never_raises_on_arbitrary_bytes(tmp_path_factory, body, prefix):
    path = tmp_path_factory.mktemp("xml") / "input"
    path.write_bytes(prefix + body)
    result = SOURCE.parse(Input(path, "input"))  # called directly: must not raise
    assert list(result.events.schema) == list(EVENT_SCHEMA)
    assert not any("parser failed" in n.message for n in parse_file(path).report.errors)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=6000))
def test_truncated_sample_keeps_the_whole_events_before_the_cut(tmp_path_factory, cut):
    data = (BUNDLE / "DriverFrameworks-UserMode_wevtutil.xml").read_bytes()
    path = tmp_path_factory.mktemp("xml") / "cut.xml"
    path.write_bytes(data[:cut])
    result = SOURCE.parse(Input(path, "cut.xml"))
    complete = data[:cut].count(b"</Event>")
    assert result.events.height == complete
