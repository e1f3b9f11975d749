"""Writes the Mac sample PCs for backups and the network (issues 14, 15): a Mac's own logs only.

Run ``python tests/samplegen/mac_samples.py`` from the checkout to regenerate them. Line shapes are the
public ones (AppleMobileBackup in system.log: simx.me 2013; BackupAgent2: libimobiledevice #1384, #853;
CFNetwork's ``Task <…> finished with error [-1003]`` and ``HTTP load failed`` lines: public Console pastes;
AMPDevicesAgent's relayed restore log: apple-restore-logs.md §5); every pid, name, id and time is our
own. Stories: docs/samples.md.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
T = dt.datetime


def _pc(name: str) -> Path:
    path = SAMPLES / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def mac_backup_locked() -> None:
    """system.log of a 2017 MacBook (iTunes 12.6): a backup refused with 208, the device locked."""
    pc = _pc("mac_backup_device_locked")
    host = "Sakuras-MacBook-Air"
    lines = [("Jun 12 19:40:02", "bootlog[0]", "BOOT_TIME 1497260402 0"),
             ("Jun 12 20:11:37", "iTunes[812]", "Entered:_AMMuxedVersion2DeviceConnected, mux-device:12"),
             ("Jun 12 20:11:52", "AppleMobileBackup[1044]", "INFO: Backup started"),
             ("Jun 12 20:14:58", "AppleMobileBackup[1044]", "ERROR: Backup message response: 208 Device locked (MBErrorDomain/208)"),
             ("Jun 12 20:14:58", "AppleMobileBackup[1044]", "WARNING: No MobileSync error code defined for error code: 208"),
             ("Jun 12 20:14:58", "AppleMobileBackup[1044]", "ERROR: Backup error: -1"),
             ("Jun 12 20:15:03", "com.apple.xpc.launchd[1] (com.apple.iTunesHelper[833])", "Service exited with abnormal code: 1")]
    text = "".join(f"{when} {host} {proc}: {msg}\n" for when, proc, msg in lines)
    (pc / "system.log").write_text(text, encoding="utf-8")


def _unified(stamp: T, proc: str, pid: int, msg: str, offset: str = "+0900", thread: str = "0x3c1a") -> str:
    return f"{stamp:%Y-%m-%d %H:%M:%S}.{stamp.microsecond:06d}{offset} {thread:<10} Default     0x0                  {pid:<6} 0    {proc}: {msg}\n"


def mac_update_dns() -> None:
    """`log show` of a Finder update in Tokyo that fails 3014: the signing server's name never resolves."""
    pc = _pc("mac_update_3014_dns")
    at = T(2026, 3, 2, 10, 20, 4, 118_205)
    s = dt.timedelta
    amp, amp_pid = "AMPDevicesAgent", 688
    rows = [
        (s(0), amp, amp_pid, "restore library built Jan 21 2026 at 22:41:09"),
        (s(0, 0, 110), amp, amp_pid, "iTunes: Software payload version: 23D80"),
        (s(0, 0, 180), amp, amp_pid, "iTunes: Using MobileRestore state machine"),
        (s(0, 1), amp, amp_pid, "(MobileDevice) Changing state from '(null)' to 'Restoring'"),
        (s(0, 1, 50), amp, amp_pid, "(MobileDevice) requested restore behavior: Update"),
        (s(0, 2), amp, amp_pid, "(MobileDevice) amai: tss_submit_job_with_retry: TSS Connection attempt 1 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (s(0, 2, 300), "nsurlsessiond", 212, "Task <5B2E9C41-0A7D-4F38-9E16-C3D2B1A09F84>.<1> HTTP load failed, 0/0 bytes (error code: -1003 [12:8])"),
        (s(0, 2, 320), amp, amp_pid, 'Task <5B2E9C41-0A7D-4F38-9E16-C3D2B1A09F84>.<1> finished with error [-1003] Error Domain=NSURLErrorDomain '
                                     'Code=-1003 "A server with the specified hostname could not be found." '
                                     'UserInfo={NSErrorFailingURLStringKey=https://gs.apple.com/TSS/controller?action=2, '
                                     '_kCFStreamErrorCodeKey=8, _kCFStreamErrorDomainKey=12}'),
        (s(0, 2, 400), amp, amp_pid, "(MobileDevice) amai: tss_submit_job: SendHttpRequest failed -1"),
        (s(0, 17), amp, amp_pid, "(MobileDevice) amai: tss_submit_job_with_retry: TSS Connection attempt 2 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (s(0, 17, 280), "nsurlsessiond", 212, "Task <7D4A1E90-3B6C-4C2F-8A05-91E8D7C6B5A4>.<2> HTTP load failed, 0/0 bytes (error code: -1003 [12:8])"),
        (s(0, 17, 300), amp, amp_pid, 'Task <7D4A1E90-3B6C-4C2F-8A05-91E8D7C6B5A4>.<2> finished with error [-1003] Error Domain=NSURLErrorDomain '
                                      'Code=-1003 "A server with the specified hostname could not be found." '
                                      'UserInfo={NSErrorFailingURLStringKey=https://gs.apple.com/TSS/controller?action=2}'),
        (s(0, 17, 380), amp, amp_pid, "(MobileDevice) amai: tss_submit_job: SendHttpRequest failed -1"),
        (s(0, 32), amp, amp_pid, "(MobileDevice) amai: tss_submit_job_with_retry: TSS Connection attempt 3 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (s(0, 32, 310), amp, amp_pid, 'Task <0E9F8D7C-6B5A-4938-A2B1-C0D9E8F7A6B5>.<3> finished with error [-1003] Error Domain=NSURLErrorDomain '
                                      'Code=-1003 "A server with the specified hostname could not be found." '
                                      'UserInfo={NSErrorFailingURLStringKey=https://gs.apple.com/TSS/controller?action=2}'),
        (s(0, 32, 390), amp, amp_pid, "(MobileDevice) amai: tss_submit_job: SendHttpRequest failed -1"),
        (s(0, 32, 470), amp, amp_pid, "(MobileDevice) amai: AMAuthInstallRequestSendSync: failed tss submission: Server not reachable"),
        (s(0, 33), amp, amp_pid, "(MobileDevice) Restore completed, status:3014"),
        (s(0, 33, 20), amp, amp_pid, "(MobileDevice) Failure Description:"),
        (s(0, 33, 40), amp, amp_pid, "(MobileDevice) Depth:0 Code:3014 Error:Could not contact the server."),
        (s(0, 33, 90), amp, amp_pid, "AMPDevicesAgent: Restore error 3014"),
    ]
    head = ['Filtering the log data using "process == "AMPDevicesAgent" OR process == "nsurlsessiond""\n',
            "Skipping info and debug messages, pass --info and/or --debug to include.\n",
            "Timestamp                       Thread     Type        Activity             PID    TTL  \n"]
    body = [_unified(at + d, proc, pid, msg) for d, proc, pid, msg in rows]
    tail = ["-" * 116 + "\n",
            f"Log      - Default:          {len(rows)}, Info:                0, Debug:             0, Error:          0, Fault:          0\n",
            "Activity - Create:           0, Transition:          0, Actions:           0\n"]
    (pc / "log_show.txt").write_text("".join(head + body + tail), encoding="utf-8")


def mac_icloud_tls() -> None:
    """`log show` (+0100) of a Mac whose iCloud sign-in fails at 09:12 local: every TLS connection to Apple
    is refused as untrusted — a security product re-signs HTTPS with its own root (reported, no failure line)."""
    pc = _pc("mac_icloud_tls_untrusted")
    at = T(2026, 4, 8, 9, 11, 20, 402_117)
    s = dt.timedelta
    rows = [(s(0), "akd", 401, "AKAppleIDAuthenticationService: starting authentication for the primary account"),
            (s(0, 1, 200), "akd", 401, "boringssl_context_handle_fatal_alert(2072) [C7.1:2][0x7fb1a4e0c200] write alert, level: fatal, "
                                         "description: certificate unknown"),
            (s(0, 1, 230), "akd", 401, "Trust evaluate failure: [leaf AnchorTrusted]"),
            (s(0, 1, 260), "akd", 401, 'Task <2C4B6D8F-1A3E-4C5B-9D7F-0E2A4C6B8D0F>.<1> finished with error [-1202] Error Domain=NSURLErrorDomain '
                                         'Code=-1202 "The certificate for this server is invalid." '
                                         'UserInfo={NSErrorFailingURLStringKey=https://gsa.apple.com/grandslam/GsService2}'),
            (s(0, 40, 10), "nsurlsessiond", 212, "NSURLSession/NSURLConnection HTTP load failed (kCFStreamErrorDomainSSL, -9813)"),
            (s(0, 40, 40), "CloudKeychainProxy", 533, 'Task <8E0C2A4B-6D8F-4A1C-3E5B-7D9F1B3D5F7A>.<4> finished with error [-1202] '
                                                      'Error Domain=NSURLErrorDomain Code=-1202 "The certificate for this server is invalid." '
                                                      'UserInfo={NSErrorFailingURLStringKey=https://setup.icloud.com/setup/ws/1/accountLogin}'),
            (s(0, 95), "akd", 401, "AKAppleIDAuthenticationService: authentication failed"),
            (s(0, 130), "softwareupdated", 330, "Scan: finished with no updates")]
    head = ['Filtering the log data using "process == "akd" OR process == "nsurlsessiond" OR process == "CloudKeychainProxy" '
            'OR process == "softwareupdated""\n',
            "Skipping info and debug messages, pass --info and/or --debug to include.\n",
            "Timestamp                       Thread     Type        Activity             PID    TTL  \n"]
    body = [_unified(at + d, proc, pid, msg, offset="+0100", thread="0x51c0") for d, proc, pid, msg in rows]
    (pc / "log_show.txt").write_text("".join(head + body), encoding="utf-8")


def mac_icloud_clock() -> None:
    """`log show` (-0500) of a Mac whose clock was set back: Apple's certificates are "not yet valid" (reported)."""
    pc = _pc("mac_icloud_clock_cert_date")
    at = T(2026, 1, 19, 16, 44, 2, 771_903)
    s = dt.timedelta
    rows = [(s(0), "akd", 388, "AKAppleIDAuthenticationService: starting authentication for the primary account"),
            (s(0, 0, 640), "akd", 388, "Trust evaluate failure: [leaf TemporalValidity]"),
            (s(0, 0, 700), "akd", 388, 'Task <4A6C8E0A-2B4D-4F6A-8C0E-1A3C5E7A9C1E>.<1> finished with error [-1201] Error Domain=NSURLErrorDomain '
                                       'Code=-1201 "The certificate for this server has expired." '
                                       'UserInfo={NSErrorFailingURLStringKey=https://gsa.apple.com/grandslam/GsService2}'),
            (s(0, 31, 200), "CloudKeychainProxy", 540, "Trust evaluate failure: [leaf TemporalValidity]"),
            (s(0, 31, 260), "CloudKeychainProxy", 540, 'Task <6C8E0A2C-4D6F-4B8D-0F2A-3C5E7A9C1E3A>.<2> finished with error [-1201] '
                                                       'Error Domain=NSURLErrorDomain Code=-1201 "The certificate for this server has expired." '
                                                       'UserInfo={NSErrorFailingURLStringKey=https://setup.icloud.com/setup/ws/1/accountLogin}'),
            (s(0, 58), "akd", 388, "AKAppleIDAuthenticationService: authentication failed")]
    head = ["Skipping info and debug messages, pass --info and/or --debug to include.\n",
            "Timestamp                       Thread     Type        Activity             PID    TTL  \n"]
    body = [_unified(at + d, proc, pid, msg, offset="-0500", thread="0x2e04") for d, proc, pid, msg in rows]
    (pc / "log_show.txt").write_text("".join(head + body), encoding="utf-8")


ALL = (mac_backup_locked, mac_update_dns, mac_icloud_tls, mac_icloud_clock)

if __name__ == "__main__":
    for make in ALL:
        make()
