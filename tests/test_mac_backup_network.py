"""A Mac's own backup and network lines (analyzer/sources/_mac_backup.py): AppleMobileBackup's runs as
backup attempts, BackupAgent2 in a log archive, and CFNetwork's DNS / connectivity / TLS errors as the
kinds the network rules read."""

from __future__ import annotations

import json

from analyzer.sources import registry
from analyzer.sources._base import Input

#: system.log with AppleMobileBackup's lines as simx.me (2013) shows them, and CFNetwork lines in the
#: shapes public Console pastes show (our own pids, times, task ids).
SYSTEM_LOG = """\
Feb  4 15:20:01 iMac bootlog[0]: BOOT_TIME 1359990000 0
Feb  4 15:25:09 iMac AppleMobileBackup[5219]: ERROR: Backup message response: 1 Error copying keychain data (MBErrorDomain/1)
Feb  4 15:25:09 iMac AppleMobileBackup[5219]: WARNING: No MobileSync error code defined for error code: 1
Feb  4 15:25:09 iMac AppleMobileBackup[5219]: ERROR: Backup error: -1
Feb  4 15:31:40 iMac AppleMobileBackup[5301]: ERROR: Backup error: -1
Feb  4 15:40:00 iMac iTunes[926]: Task <9A1C0B3E-1D2F-4A5B-8C7D-6E5F4A3B2C1D>.<1> finished with error [-1003] Error Domain=NSURLErrorDomain Code=-1003 "A server with the specified hostname could not be found." UserInfo={NSErrorFailingURLStringKey=https://gs.apple.com/TSS/controller?action=2}
Feb  4 15:40:02 iMac nsurlsessiond[211]: Task <1F0E2D3C-4B5A-6978-8A9B-0C1D2E3F4A5B>.<7> HTTP load failed, 0/0 bytes (error code: -1009 [1:50])
Feb  4 15:40:05 iMac softwareupdated[330]: NSURLSession/NSURLConnection HTTP load failed (kCFStreamErrorDomainSSL, -9813)
Feb  4 15:40:06 iMac AMPDevicesAgent[474]: update check failed: Error Domain=NSURLErrorDomain Code=-1202 "The certificate for this server is invalid." UserInfo={NSErrorFailingURLStringKey=https://mesu.apple.com/assets/}
"""


def _rows(tmp_path, text: str, name: str = "system.log"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    source = registry()["mac_syslog"]
    assert source.sniff(Input(path, path.name))
    return source.parse(Input(path, path.name)).events.to_dicts()


def test_each_applemobilebackup_run_is_a_backup_attempt_with_its_code(tmp_path):
    rows = _rows(tmp_path, SYSTEM_LOG)
    mine = [r for r in rows if r["operation"] == "backup"]
    assert sorted({r["attempt"] for r in mine}) == [1, 2]
    first = [(r["line"], r["kind"], r["error_code"]) for r in mine if r["attempt"] == 1]
    assert first[:3] == [(2, "session_start", None), (2, "result", 1), (2, "failure_detail", 1)]
    assert json.loads(next(r for r in mine if r["kind"] == "result" and r["attempt"] == 1)["detail"])["cause"] == "device_state"
    # a run with only MobileSync's host code failed without an MBErrorDomain code
    (second,) = [r for r in mine if r["attempt"] == 2 and r["kind"] == "result"]
    assert second["error_code"] is None and json.loads(second["detail"]) == {"domain": "MobileSync", "outcome": "failed",
                                                                            "mobilesync_code": -1}


def test_cfnetwork_errors_become_dns_network_and_tls_rows(tmp_path):
    rows = {r["line"]: r for r in _rows(tmp_path, SYSTEM_LOG)}
    assert (rows[6]["kind"], rows[6]["subject"], rows[6]["error_code"]) == ("dns_failure", "gs.apple.com", -1003)
    assert (rows[7]["kind"], rows[7]["error_code"]) == ("network_down", -1009)
    assert (rows[8]["kind"], rows[8]["error_code"], json.loads(rows[8]["detail"])["tls"]) == ("tls_error", -9813, "untrusted")
    assert (rows[9]["kind"], rows[9]["subject"], json.loads(rows[9]["detail"])["tls"]) == ("tls_error", "mesu.apple.com", "untrusted")
    assert all(r["operation"] is None for r in rows.values() if r["line"] >= 6)  # network rows are evidence, not attempts


def test_backupagent2_in_a_log_archive_is_an_attempt_with_its_preflight(tmp_path):
    text = "".join(f"2025-11-14 09:30:{s:02d}.000000+0000 0x1a2  Default  0x0  1187  0  BackupAgent2: {m}\n" for s, m in [
        (7, "Starting to prepare for preflight"), (8, "uploadSize:6874325312(6874325312), uploadFileCount:18244"),
        (8, "Free disk space on drive: 409337856 (0.41 GB)"),
        (11, 'Failed to backup: Error Domain=MBErrorDomain Code=105 "Insufficient free disk space on drive to back up"')])
    path = tmp_path / "device.logarchive.txt"
    path.write_text(text, encoding="utf-8")
    source = registry()["mac_unified_log"]
    assert source.sniff(Input(path, path.name))
    rows = source.parse(Input(path, path.name)).events.to_dicts()
    assert [(r["line"], r["kind"], r["error_code"]) for r in rows] == [
        (1, "session_start", None), (2, "phase", None), (3, "disk_space", None), (4, "result", 105), (4, "failure_detail", 105)]
    assert json.loads(rows[2]["detail"])["free_bytes"] == 409337856


def test_the_committed_mac_samples_are_what_the_generator_writes(tmp_path, monkeypatch):
    import importlib.util

    from conftest import SAMPLES
    spec = importlib.util.spec_from_file_location("mac_gen", SAMPLES.parent / "tests" / "samplegen" / "mac_samples.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(gen, "SAMPLES", tmp_path)
    for make in gen.ALL:
        make()
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 4
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (SAMPLES / rel).read_bytes(), rel
