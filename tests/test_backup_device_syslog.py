"""The device's syslog (idevicesyslog) as backup evidence: BackupAgent2's runs as attempts, the preflight's
figures, MBErrorDomain in any spelling, and a parser that never raises."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings, strategies as st

from analyzer import grammars
from analyzer.sources import registry
from analyzer.sources._backup_codes import chain
from analyzer.sources._base import Input

from conftest import SAMPLES
from grammar_agreement import assert_fast_path_agrees

SAMPLE = SAMPLES / "pc_p16_backup_disk_full" / "idevicesyslog_transcript.txt"
#: Real shapes (libimobiledevice #1384, #853, #881, #1135, #1361), with our own values.
LINES = [
    "Nov 30 05:33:32 BackupAgent2[4308] <Notice>: uploadSize:16795365018(16795365018), uploadFileCount:28691",
    "Nov 30 05:33:32 BackupAgent2[4308] <Notice>: Free disk space on drive: 4664553472 (4.66 GB)",
    "Nov 30 05:33:32 BackupAgent2[4308] <Notice>: Need extra space on host: 12265029274. Requesting host to purge now",
    "Dec  3 22:34:14 iPhone BackupAgent2[302] <Notice>: Finished scanning domain <private> - size:149852, files:16",
    "Sep 29 19:54:35 iPhone BackupAgent2(MobileDeviceLink)[309] : 309:1831284736|SocketStreamHandler.c:_SocketLogCallback| ERROR: SocketRecv (data): error -555: Unknown error: -555",
    "Sep 29 19:54:35 iPhone BackupAgent2[309] : Drive returned unexpected error code: 1",
    "Sep 29 19:54:35 iPhone BackupAgent2[309] : Finished backup in 18.998s",
    "Sep 29 19:54:35 iPhone BackupAgent2[309] : Failed to backup:",
    "Mar 21 16:44:14 iPhone BackupAgent2[378] <Error>: Failed to upload <private> to <private> in batch 679: <NSError:0x281101f50(MBErrorDomain:100) - {NSLocalizedDescription = <private>;}>",
    "Start time: 20251114092948",
    "**********************",
]


def test_the_sample_is_one_failed_attempt_with_the_devices_preflight_figures():
    source = registry()["backup_device_syslog"]
    assert source.sniff(Input(SAMPLE, SAMPLE.name))
    parsed = source.parse(Input(SAMPLE, SAMPLE.name))
    rows = parsed.events
    assert parsed.report.clock["year_method"] == "in_file" and parsed.report.unrecognised == 0
    start = rows.filter(rows["kind"] == "session_start").row(0, named=True)
    assert (start["line"], start["attempt"], start["operation"], start["ts_wall"]) == (9, 1, "backup", dt.datetime(2025, 11, 14, 9, 29, 52))
    (result,) = rows.filter(rows["kind"] == "result").to_dicts()
    assert (result["line"], result["error_code"]) == (16, 105)
    (detail,) = rows.filter(rows["kind"] == "failure_detail").to_dicts()
    assert detail["error_code"] == 105 and '"cause":"host_storage"' in detail["detail"]
    space = rows.filter(rows["kind"] == "disk_space").get_column("detail").to_list()
    assert space[0] == '{"free_bytes":409337856,"upload_bytes":6874325312,"reported_by":"device"}'
    assert '"short_bytes":6599205184' in space[1]
    # "Finished backup in …" is written on failure too: not a success here
    assert rows.filter((rows["kind"] == "result") & (rows["error_code"] == 0)).height == 0
    assert rows.get_column("computer").drop_nulls().len() == 0  # the device's name is not the PC's


def test_every_spelling_of_an_mbErrorDomain_code_is_read_outer_first():
    assert chain('Error Domain=MBErrorDomain Code=105 "Insufficient free disk space on drive to back up"') == \
        [(105, "Insufficient free disk space on drive to back up")]
    assert [c for c, _ in chain("in batch 679: <NSError:0x281101f50(MBErrorDomain:100) - {x}>")] == [100]
    assert [c for c, _ in chain("Error reading backup properties (MBErrorDomain/205). Underlying error: "
                                "zero-length data (MBErrorDomain/11).")] == [205, 11]


def test_fast_path_agrees_with_lark_on_real_shapes():
    assert_fast_path_agrees(grammars.load("backup_device_syslog"), LINES + SAMPLE.read_text(encoding="utf-8").splitlines())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(LINES) | st.text(max_size=80), max_size=30))
def test_the_parser_never_raises_on_mixed_lines(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("ds") / "idevicesyslog.txt"
    path.write_text("\n".join([LINES[0], LINES[1], *lines]), encoding="utf-8", errors="replace")
    parsed = registry()["backup_device_syslog"].parse(Input(path, path.name))
    assert parsed.report.records >= 2


def test_one_start_per_run_and_the_devices_name_is_redacted():
    from typer.testing import CliRunner

    from analyzer.cli import app
    parsed = registry()["backup_device_syslog"].parse(Input(SAMPLE, SAMPLE.name))
    starts = parsed.events.filter(parsed.events["kind"] == "session_start")
    assert starts.height == 1 and '"device_name":"Mikas-iPhone"' in starts.item(0, "detail")
    out = CliRunner().invoke(app, [str(SAMPLE.parent), "--redact", "--format", "csv"]).stdout
    assert "BackupAgent2[1187]" in out and "Mikas" not in out
