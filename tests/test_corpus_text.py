"""Every real text excerpt people published (../shared/corpus/apple, windows-text) is read: each is
recognised with its format and counts pinned, and at least 95 % of its lines (here: all of them) are
lines of its format. The figure per file is printed by ``python -m pytest tests/test_corpus_text.py -s``."""

from __future__ import annotations

import pytest

from analyzer import analyze

from conftest import require_corpus

#: file -> (format, lines read, events, the verdict of its failed attempt or None)
EXPECTED = {
    "apple/02_itunes-win-2011_usb-ioctl-timeouts-error997.log": ("apple_restore", 14, 14, None),
    "apple/04_itunes-mac-2011_tss-gs-apple-com-server-not-reachable.log": ("apple_restore", 12, 12, None),
    "apple/11_itunes-win-2014_mobilerestore-state-machine-bracket-timestamps.log": ("apple_restore", 12, 12, None),
    "apple/13_macos-2020_AMPDevicesAgent-restore-log-device-info.log": ("apple_restore", 17, 17, None),
    # the device's own log: the host connection is lost mid-image, then checkpoint 1100 (a cable, for
    # one of the two users in idevicerestore#539)
    "apple/17_restored-device-log_asr-checksum-fail-1100_cable.log": ("apple_device_restore", 23, 23,
                                                                      (1100, "usb_connection")),
    # idevicerestore: the device never enters restore mode and the log gives no code (not reproduced)
    "apple/18_idevicerestore_device-disconnected-failed-to-enter-restore-mode.log": ("apple_device_restore", 7, 7,
                                                                                     (None, "undetermined")),
    "apple/22_usbmuxd-linux_libusb-status-71-during-restore.log": ("linux_usbmuxd", 7, 7, None),
    "apple/31_macos-console-2016_itunes-muxed-device-disconnected-bootedos.log": ("mac_syslog", 10, 10, None),
    # indented by four spaces in Microsoft's documentation: read without the margin
    "windows-text/04_pfirewall_azure_stack_edge_docs_sample.txt": ("windows_firewall", 19, 14, None),
    "windows-text/07_getwinevent_format_list_scm_7045_7036_deepbluecli.txt": ("windows_powershell", 5, 5, None),
    "windows-text/11_wevtutil_qe_text_system_korean_doc.txt": ("windows_wevtutil_text", 1, 1, None),
}


def test_the_table_names_every_real_text_excerpt():
    corpus = require_corpus()
    on_disk = {f"{p.parent.name}/{p.name}" for folder in ("apple", "windows-text") for p in (corpus / folder).iterdir()
               if p.name != "SOURCES.md"}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_excerpt_is_read_line_for_line(name):
    fmt, records, events, verdict = EXPECTED[name]
    result = analyze([require_corpus() / name])
    (report,) = result.files
    share = 1 - report.unrecognised / report.records
    print(f"{name}: {report.format}, {report.records} lines, {share:.0%} recognised")
    assert (report.format, report.records, report.events, report.unrecognised) == (fmt, records, events, 0)
    assert share >= 0.95 and report.skipped == 0
    found = [(i.error_code, i.cause) for i in result.incidents]
    assert found == ([verdict] if verdict else [])
