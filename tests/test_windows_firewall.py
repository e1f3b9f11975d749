"""pfirewall.log: header-driven columns, kinds, Apple flags, robustness, the real XP-era log."""

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
from analyzer.sources.windows_firewall import SOURCE, STANDARD_FIELDS, read_header

from grammar_agreement import assert_fast_path_agrees

from conftest import SAMPLES, write_encoded

SAMPLE = SAMPLES / "win_driver_install_failure" / "pfirewall.log"
GRAMMAR = grammars.load("windows_firewall")
HEADER = ("#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n"
          "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin "
          "icmptype icmpcode info path pid\n\n")


def parse(path: Path):
    return parse_file(path, display=path.name, host="pc")


def write(tmp_path: Path, text: str, name: str = "fw.txt", **encoding) -> Path:
    return write_encoded(tmp_path, name, text, **encoding)


def agree(lines: list[str]) -> None:
    assert_fast_path_agrees(GRAMMAR, lines)


def test_grammar_shapes():
    assert GRAMMAR.parse_reference("#Time Format: Local") == (
        "directive", None, {"directive": "Time Format", "directive_value": " Local"})
    shape, _, f = GRAMMAR.parse_reference("2023-11-26 22:27:57 DROP TCP 192.168.10.106 192.229.221.95 65457 80 0 - 0 0 0 - - - SEND 1360")
    assert (shape, f["fw_date"], f["fw_time"], f["action"]) == ("record", "2023-11-26", "22:27:57", "DROP")
    assert GRAMMAR.parse_reference("2005-04-11 08:52:26 INFO-EVENTS-LOST")[2]["action"] == "INFO-EVENTS-LOST"


def test_fast_path_agrees_with_reference_on_sample():
    agree(SAMPLE.read_text(encoding="ascii").splitlines())


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#: -.0123456789ADROPTCUabcdef\t")), max_size=60))
def test_fast_path_agrees_with_reference_on_noise(line):
    agree([line, "#" + line, "2024-03-18 09:26:44 " + line])


def test_sample_records():
    parsed = parse(SAMPLE)
    rep = parsed.report
    assert (rep.format, rep.records, rep.unrecognised, rep.skipped) == ("windows_firewall", 16, 0, 0)
    assert rep.clock == {"clock": "local", "time_format": "Local"}
    ev = parsed.events
    assert ev.height == 11
    assert dict(ev.get_column("kind").cast(pl.String).value_counts().rows()) == {"firewall_block": 8, "firewall_allow": 3}
    d = [json.loads(x) for x in ev.get_column("detail")]
    usbmux = [(r, x["action"], x["pid"]) for r, x in zip(ev.get_column("line"), d) if x["apple_usbmux"]]
    assert usbmux == [(8, "DROP", "7312"), (9, "DROP", "7312"), (14, "ALLOW", "4120")]
    apple_drops = [r for r, x in zip(ev.get_column("line"), d) if x["apple_network"] and x["action"] == "DROP"]
    assert apple_drops == [10, 11, 15, 16]
    first_drop = ev.filter(pl.col("line") == 8).row(0, named=True)
    assert first_drop["subject"] == "127.0.0.1:50614 -> 127.0.0.1:27015/TCP"
    assert (first_drop["ts_wall"], first_drop["ts_raw"], first_drop["clock"]) == (
        dt.datetime(2024, 3, 18, 9, 26, 44), "2024-03-18 09:26:44", "local")
    assert d[2] == {"date": "2024-03-18", "time": "09:26:44", "action": "DROP", "protocol": "TCP",
                    "src-ip": "127.0.0.1", "dst-ip": "127.0.0.1", "src-port": "50614", "dst-port": "27015",
                    "size": "0", "tcpflags": None, "tcpsyn": "0", "tcpack": "0", "tcpwin": "0", "icmptype": None,
                    "icmpcode": None, "info": None, "path": "SEND", "pid": "7312",
                    "apple_usbmux": True, "apple_network": False}
    v6 = ev.filter(pl.col("line") == 12).row(0, named=True)
    assert v6["subject"] == "[fe80::1c2a:5bff:fe3e:91d4]:5353 -> [ff02::fb]:5353/UDP"
    assert ev.filter(pl.col("line") == 13).row(0, named=True)["subject"] == "192.168.1.1 -> 192.168.1.23/ICMP"
    # the last line is cut short: kept, with a located warning
    cut = [n for n in rep.errors if n.line == 16]
    assert len(cut) == 1 and cut[0].severity == "warning" and "15 of 18" in cut[0].message
    assert (d[-1]["path"], d[-1]["pid"], d[-1]["tcpwin"]) == (None, None, "0")


def test_sniff_claims_sample_only():
    assert claimants(Input(SAMPLE, "x")) == ["windows_firewall"]


def test_header_decides_columns(tmp_path):
    text = "#Fields: date time action protocol dst-port src-ip dst-ip\n2024-01-02 03:04:05 DROP TCP 27015 127.0.0.1 127.0.0.1\n"
    ev = parse(write(tmp_path, text)).events
    d = json.loads(ev.get_column("detail")[0])
    assert d == {"date": "2024-01-02", "time": "03:04:05", "action": "DROP", "protocol": "TCP", "dst-port": "27015",
                 "src-ip": "127.0.0.1", "dst-ip": "127.0.0.1", "apple_usbmux": True, "apple_network": False}
    assert ev.get_column("subject")[0] == "127.0.0.1 -> 127.0.0.1:27015/TCP"


def test_records_without_header_use_standard_columns(tmp_path):
    rec = "2023-11-26 22:27:57 DROP TCP 192.168.10.106 17.1.2.3 65457 443 0 - 0 0 0 - - - SEND 1360\n"
    parsed = parse(write(tmp_path, rec * 3))
    assert parsed.report.format == "windows_firewall"
    d = json.loads(parsed.events.get_column("detail")[0])
    assert list(d)[:-2] == [*STANDARD_FIELDS, "pid"] and d["pid"] == "1360" and d["apple_network"] is True


def test_header_only_file(tmp_path):
    parsed = parse(write(tmp_path, HEADER))
    assert (parsed.report.format, parsed.events.height) == ("windows_firewall", 0)
    assert any("header only" in n.message and n.severity == "info" for n in parsed.report.errors)


def test_extra_values_and_garbage_are_located(tmp_path):
    text = HEADER + ("2024-03-18 09:26:44 DROP TCP 127.0.0.1 127.0.0.1 50614 27015 0 - 0 0 0 - - - SEND 7312 99\n"
                     "not a record\n2024-03-18 09:2\n")
    parsed = parse(write(tmp_path, text))
    rep = parsed.report
    assert rep.unrecognised == 2 and {n.line for n in rep.errors} >= {6, 7, 8}
    assert json.loads(parsed.events.get_column("detail")[0])["extra"] == ["99"]


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-8", codecs.BOM_UTF8)])
def test_encodings(tmp_path, encoding, bom):
    text = SAMPLE.read_text(encoding="ascii")
    base = parse(SAMPLE).events.drop("file")
    got = parse(write(tmp_path, text, encoding=encoding, bom=bom))
    assert got.events.drop("file").equals(base)


def test_sniff_rejects_other_w3c_logs(tmp_path):
    iis = "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Fields: date time s-ip cs-method cs-uri-stem\n"
    assert not SOURCE.sniff(Input(write(tmp_path, iis, name="iis"), "iis"))
    setupapi = "[Device Install Log]\n     OS Version = 10.0.19045\n"
    assert not SOURCE.sniff(Input(write(tmp_path, setupapi, name="s"), "s"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(tmp_path, data):
    for i, payload in enumerate((data, HEADER.encode() + data, SAMPLE.read_bytes()[:600] + data)):
        path = tmp_path / f"b{i}.log"
        path.write_bytes(payload)
        parsed = parse_file(path)
        assert parsed.report.events == parsed.events.height
        assert not any("parser failed" in n.message for n in parsed.report.errors), parsed.report.errors


def test_real_xp_log(windows_corpus):
    path = windows_corpus / "plaso_windows_firewall.log"
    parsed = parse(path)
    rep = parsed.report
    assert (rep.format, rep.records, rep.unrecognised, rep.skipped, rep.errors) == ("windows_firewall", 19, 0, 0, [])
    assert read_header(Input(path, path.name)) == {"version": "1.5", "software": "Microsoft Windows Firewall",
                                                   "time format": "Local", "fields": " ".join(STANDARD_FIELDS)}
    ev = parsed.events
    assert ev.height == 15
    d = [json.loads(x) for x in ev.get_column("detail")]
    actions = {}
    for x in d:
        actions[x["action"]] = actions.get(x["action"], 0) + 1
    assert actions == {"DROP": 9, "OPEN": 2, "CLOSE": 3, "INFO-EVENTS-LOST": 1}
    assert dict(ev.get_column("kind").cast(pl.String).value_counts().rows()) == {
        "firewall_block": 9, "firewall_allow": 2, "generic": 4}
    assert all(len(x) == 17 + 2 for x in d)  # 17 columns + the two Apple flags
    lost = ev.filter(pl.col("line") == 19).row(0, named=True)
    assert json.loads(lost["detail"])["info"] == "59" and lost["subject"] is None
    tcp = ev.filter(pl.col("line") == 12).row(0, named=True)
    assert tcp["ts_wall"] == dt.datetime(2005, 4, 11, 8, 6, 26)
    assert tcp["subject"] == "123.45.78.90:80 -> 123.156.78.90:1774/TCP"
    assert json.loads(tcp["detail"]) == {
        "date": "2005-04-11", "time": "08:06:26", "action": "DROP", "protocol": "TCP", "src-ip": "123.45.78.90",
        "dst-ip": "123.156.78.90", "src-port": "80", "dst-port": "1774", "size": "576", "tcpflags": "A",
        "tcpsyn": "123456789", "tcpack": "987654321", "tcpwin": "12345", "icmptype": None, "icmpcode": None,
        "info": None, "path": "RECEIVE", "apple_usbmux": False, "apple_network": False}
    icmp = json.loads(ev.filter(pl.col("line") == 14).row(0, named=True)["detail"])
    assert (icmp["protocol"], icmp["icmptype"], icmp["icmpcode"]) == ("ICMP", "8", "0")
    assert not any(x["apple_usbmux"] or x["apple_network"] for x in d)


def test_real_log_fast_path_and_sniff(windows_corpus):
    path = windows_corpus / "plaso_windows_firewall.log"
    agree(path.read_text(encoding="ascii").splitlines())
    assert claimants(Input(path, "fw")) == ["windows_firewall"]
    for name in ("plaso_setupapi.dev.log", "plaso_System.evtx"):
        assert not SOURCE.sniff(Input(windows_corpus / name, name))


def test_repeated_header_switches_columns(tmp_path):
    """After a restart the header is written again; each record uses the #Fields: above it."""
    old = HEADER.replace(" pid", "")
    text = (old + "2024-03-18 09:00:00 DROP TCP 10.0.0.1 17.1.1.1 1000 443 0 - 0 0 0 - - - SEND\n"
            + HEADER + "2024-03-18 10:00:00 DROP TCP 127.0.0.1 127.0.0.1 1001 27015 0 - 0 0 0 - - - SEND 7312\n")
    parsed = parse(write(tmp_path, text))
    d = [json.loads(x) for x in parsed.events.get_column("detail")]
    assert "pid" not in d[0] and d[0]["apple_network"] is True
    assert d[1]["pid"] == "7312" and d[1]["apple_usbmux"] is True
    assert parsed.events.get_column("line").to_list() == [6, 12]
    assert not [n for n in parsed.report.errors if n.severity != "info"]


def test_repeated_column_names_are_kept_apart(tmp_path):
    text = "#Fields: date time action info info\n2024-03-18 10:00:00 DROP a b\n"
    parsed = SOURCE.parse(Input(write(tmp_path, text), "x"))
    d = json.loads(parsed.events.get_column("detail")[0])
    assert (d["info"], d["info#2"]) == ("a", "b")
