"""Writes the sample PCs of the network, clock and Wi-Fi stories (issue 15).

Run ``python tests/samplegen/network_samples.py`` from the checkout to regenerate them (a test checks
the committed samples are what it writes). Restore logs are Windows MobileRestore logs (local header,
UTC brackets) in the shape of ``pc_d4_tss_firewall``; Windows evidence is .evtx written by
``tests/evtx_writer.py`` or Event Viewer "Save as XML" exports; hosts files as Windows writes them
(CRLF, the template's comments). Ids, names, addresses and times are our own. docs/samples.md tells
each story.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from evtx_writer import Record, evtx_bytes  # noqa: E402

SAMPLES = HERE.parents[1] / "samples"
UTC = dt.timezone.utc

GUIDS = {
    "Microsoft-Windows-DNS-Client": "{1C95126E-7EEA-49A9-A3FE-A378B03DDB4D}",
    "Schannel": "{1F678132-5938-4686-9FDC-C8FF68F15C85}",
    "Microsoft-Windows-Time-Service": "{06EDCFEB-0FD0-4E53-ACCA-A6F8BBF81BCB}",
    "Microsoft-Windows-Kernel-General": "{A68CA8B7-004F-D7B6-A698-07E2DE0F1F5D}",
    "Microsoft-Windows-WLAN-AutoConfig": "{9580D7DD-0379-4658-9870-D5BE7D52D6DE}",
    "Microsoft-Windows-NetworkProfile": "{FBCFAC3F-8459-419F-8E48-1F0B49CDB85E}",
    "Service Control Manager": "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
}
WLAN_CHANNEL = "Microsoft-Windows-WLAN-AutoConfig/Operational"

TEMPLATE = """# Copyright (c) 1993-2009 Microsoft Corp.
#
# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.
#
# This file contains the mappings of IP addresses to host names. Each
# entry should be kept on an individual line. The IP address should
# be placed in the first column followed by the corresponding host name.
# The IP address and the host name should be separated by at least one
# space.
#
# Additionally, comments (such as these) may be inserted on individual
# lines or following the machine name denoted by a '#' symbol.
#
# For example:
#
#      102.54.94.97     rhino.acme.com          # source server
#       38.25.63.10     x.acme.com              # x client host

# localhost name resolution is handled within DNS itself.
#\t127.0.0.1       localhost
#\t::1             localhost
"""


# -- restore logs -----------------------------------------------------------------------------------
def restore_log(start_utc: dt.datetime, zone_hours: int, payload: str, body: list[tuple[float, str]],
                status: int, depths: list[tuple[int, str]], pid: str = "7316:1f44") -> str:
    """A Windows MobileRestore log: a dated header in local time, then [HH:MM:SS.ffff] lines in UTC
    (``body``: seconds after ``start_utc``, message), then the fixed end block."""
    local = start_utc + dt.timedelta(hours=zone_hours)
    head = [f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d} [{pid}]: {m}" for m in (
        "restore library built Oct 17 2025 at 19:42:11", "iTunes: iTunes 12.13.9.1",
        "iTunes: Apple Mobile Device version: 18.5.0.6", f"iTunes: Software payload version: {payload}",
        "iTunes: Using MobileRestore state machine")]

    def bracket(seconds: float, message: str) -> str:
        t = start_utc + dt.timedelta(seconds=seconds)
        return f"[{t:%H:%M:%S}.{t.microsecond // 1000:04d}] {message}"

    lines = [bracket(s, m) for s, m in body]
    end = body[-1][0] + 0.3
    lines += [bracket(end, f"Restore completed, status:{status}"), bracket(end, f"Elapsed time (in seconds): {int(end)}"),
              bracket(end, "Failure Description:")]
    lines += [bracket(end, f"Depth:{i} Code:{code} Error:{text}") for i, (code, text) in enumerate(depths)]
    return "\r\n".join(head + lines) + "\r\n"


def device_block(ecid: str, serial: str, chip: str, board: str) -> list[tuple[float, str]]:
    return [(0.01, "Changing state from 'Idle' to 'Restoring'"), (0.02, "Device info:"), (0.02, f"Board ID: {board}"),
            (0.02, f"Chip ID: {chip}"), (0.02, f"ECID: {ecid}"), (0.02, f"Serial Number: {serial}"),
            (0.02, "Starting State: BootedOS"), (0.5, "requested restore behavior: Erase"),
            (0.5, "requested variant: Erase Install (IPSW)")]


def personalization_end(at: float, reason: str) -> list[tuple[float, str]]:
    return [(at, f"failed to personalize the restore bundle: {reason}"), (at, "Personalization failed"),
            (at, "Finished BootedOS Restore Phase: Failed"), (at + 0.01, "Changing state from 'Restoring' to 'Idle'")]


def hosts_redirect_log() -> str:
    """pc_y25: a jailbreak-era hosts entry sends gs.apple.com to a third-party SHSH server, which
    declines the request (status 94): iTunes shows 3194."""
    start = dt.datetime(2026, 1, 14, 18, 2, 11, 407000, tzinfo=UTC)
    body = device_block("0x1B20E4C59A0F2E", "F2LXK0QWHG7F", "0x8110", "0x8") + [
        (1.1, "amai: AMAuthInstallDebugWriteObject: debug object written: "
              r"C:\Users\tokafor\AppData\Local\Temp\Per6A1C.tmp\amai\debug\tss-request.plist"),
        (1.2, "amai: tss_submit_job_with_retry: TSS Connection attempt 1 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (1.9, "amai: tss_submit_job: HttpQueryInfo returned 200"),
        (1.9, "amai: tss_submit_job: error from server=94 (This device isn't eligible for the requested build.)"),
        (1.95, "amai: AMAuthInstallRequestSendSync: cached server error text: (3194) This device isn't eligible for the requested build."),
        (1.95, "amai: AMAuthInstallRequestSendSync: failed tss submission: This device isn't eligible for the requested build."),
    ] + personalization_end(2.3, "This device isn't eligible for the requested build.")
    return restore_log(start, 1, "23C55", body, 3194,
                       [(3194, "Declined to authorize this image on this device for this user."),
                        (94, "This device isn't eligible for the requested build.")])


def hosts_redirect_hosts() -> str:
    return (TEMPLATE + "\n127.0.0.1       localhost\n"
            "# --- added by a 2011 jailbreak guide, never removed ---\n"
            "74.208.105.171  gs.apple.com\n").replace("\n", "\r\n")


def blocked_updates_hosts() -> bytes:
    """win_hosts_blocked_updates: a hosts file saved by PowerShell 5.1 (UTF-16LE with BOM) that blocks
    Apple's software-update hosts, as "stop iOS updates" guides advise, beside an ad-blocking entry."""
    text = (TEMPLATE + "\n127.0.0.1       localhost\n::1             localhost\n\n# block iOS updates\n"
            "0.0.0.0 mesu.apple.com\n0.0.0.0\tappldnld.apple.com updates.cdn-apple.com  # OTA\n"
            "0.0.0.0 ads.tracker-example.net\n").replace("\n", "\r\n")
    return b"\xff\xfe" + text.encode("utf-16-le")


def dns_failure_log() -> str:
    """pc_z26: the signing server's name does not resolve: no response, 3014."""
    start = dt.datetime(2026, 2, 9, 7, 40, 3, 118000, tzinfo=UTC)
    tries = []
    for i, t in enumerate((1.2, 16.4, 31.7)):
        tries += [(t, f"amai: tss_submit_job_with_retry: TSS Connection attempt {i + 1} of 3.  "
                      "(Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
                  (t + 15.0, "amai: AMAuthInstallHttpMessageSendSync: no response header"),
                  (t + 15.02, "amai: tss_submit_job: SendHttpRequest failed -1")]
    body = device_block("0x09A3E1D77C2B10", "DMPZR4KQN1", "0x8101", "0x6") + [
        (0.9, "amai: AMRAuthInstallAttemptSimpleHttpRequest: attempting to connect to http://gs.apple.com:80"),
    ] + tries + [(46.8, "amai: AMAuthInstallRequestSendSync: failed tss submission: Server not reachable")] \
        + personalization_end(47.1, "Server not reachable")
    return restore_log(start, 9, "23D60", body, 3014, [(3014, "Could not contact the server."), (-1, "Server not reachable")])


def apple_server_log() -> str:
    """pc_ae31: Apple's signing server answers 503 twice, then does not answer in time; its Date
    header agrees with the PC's clock; the PC's own network is fine."""
    start = dt.datetime(2026, 3, 2, 16, 20, 44, 260000, tzinfo=UTC)
    body = device_block("0x12F0A93C4D5E61", "G6TPX2LMQ05N", "0x8120", "0xC") + [
        (0.9, "amai: AMRAuthInstallAttemptSimpleHttpRequest: attempting to connect to http://gs.apple.com:80"),
        (1.0, "amai: _AMRAuthInstallIsHttpServerResponsive: server response status code: 404. status text: Not Found"),
        (1.2, "amai: tss_submit_job_with_retry: TSS Connection attempt 1 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (2.4, "amai: AMAuthInstallHttpMessageSendSync: Date: Mon, 02 Mar 2026 16:20:46 GMT"),
        (2.4, "amai: tss_submit_job: SendHttpRequest failed 503"),
        (3.5, "amai: tss_submit_job_with_retry: TSS Connection attempt 2 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (4.6, "amai: AMAuthInstallHttpMessageSendSync: Date: Mon, 02 Mar 2026 16:20:48 GMT"),
        (4.6, "amai: tss_submit_job: SendHttpRequest failed 503"),
        (5.7, "amai: tss_submit_job_with_retry: TSS Connection attempt 3 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (305.7, "amai: tss_submit_job: failed to send http request"),
        (305.8, "amai: AMAuthInstallRequestSendSync: failed tss submission: Server not reachable"),
    ] + personalization_end(306.1, "Server not reachable")
    return restore_log(start, -5, "23D60", body, 3014, [(3014, "Could not contact the server."), (-1, "Server not reachable")])


def killer_decoy_log() -> str:
    """pc_ad30: a 4013 with repeated USB I/O errors and the device gone mid-restore: the cable."""
    start = dt.datetime(2026, 2, 20, 11, 5, 30, 500000, tzinfo=UTC)
    body = device_block("0x07C4B2E19D3A55", "C39ZK8QRN72M", "0x8101", "0x4") + [
        (1.2, "amai: tss_submit_job_with_retry: TSS Connection attempt 1 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)"),
        (1.8, "amai: tss_submit_job: HttpQueryInfo returned 200"),
        (1.8, "amai: AMAuthInstallRequestSendSync: received tss response (server version: 2.1.0)"),
        (40.0, "<Restore Device 0000021A6F3C8E40>: operation 13 progress 12"),
        (90.0, "<Restore Device 0000021A6F3C8E40>: operation 13 progress 41"),
    ] + [(120.0 + 5.3 * i, "AMDeviceIoControl: failed, error 997, usbd status 00000000") for i in range(4)] + [
        (150.1, "RestoreOS mode device disconnected"),
        (172.4, "Unexpected device state 'Recovery' expected 'RestoreOS'"),
    ]
    return restore_log(start, 1, "23D60", body, 4013,
                       [(4013, "The device was disconnected."), (-4, "AMRestorePerformRestoreModeRestoreWithError failed")])


# -- Windows events -----------------------------------------------------------------------------------
def rec(provider: str, event_id: int, level: int, time: dt.datetime, record_id: int, computer: str, data: dict,
        channel: str = "System", **extra) -> Record:
    return Record(provider=provider, event_id=event_id, level=level, time=time.replace(tzinfo=None), record_id=record_id,
                  channel=channel, computer=computer, data=data, guid=GUIDS.get(provider), **extra)


def dns_system_evtx() -> list[Record]:
    """pc_z26: DNS-Client 1014 for gs.apple.com at each TSS try (the router's resolver at 192.168.1.1 is
    silent), nothing else wrong."""
    host, start = "HAYASHI-DESK", dt.datetime(2026, 2, 9, 7, 40, 3, 118000, tzinfo=UTC)
    out = [rec("Microsoft-Windows-NetworkProfile", 10000, 4, start - dt.timedelta(minutes=6), 51200, host,
               {"Name": "Network 2", "Description": "Network 2", "Type": "0", "State": "1", "Category": "0"},
               channel="Microsoft-Windows-NetworkProfile/Operational")]
    for i, t in enumerate((1.3, 16.5, 31.8)):
        out.append(rec("Microsoft-Windows-DNS-Client", 1014, 3, start + dt.timedelta(seconds=t + 10.0), 51201 + i, host,
                       {"QueryName": "gs.apple.com", "AddressLength": "128",
                        "Address": "02000035C0A80101" + "0" * 240}, keywords=0x4000000000000000, task=1014))
    return out


def tls_inspection_evtx() -> list[Record]:
    """pc_aa27: Schannel 36888 alert 48 (unknown_ca) when iCloud for Windows connects: something re-signs
    Apple's certificates with a root this PC does not trust."""
    host, at = "LINDQVIST-LAPTOP", dt.datetime(2026, 2, 17, 13, 42, 0, tzinfo=UTC)
    out = []
    for i, s in enumerate((-95, -94, -31, -30, 12, 13, 74)):
        out.append(rec("Schannel", 36888, 2, at + dt.timedelta(seconds=s, microseconds=183000 * i), 80410 + i, host,
                       {"AlertDesc": "48", "ErrorState": "552"}, qualifiers=49152, keywords=0x8000000000000000))
    return out


def clock_evtx() -> list[Record]:
    """pc_ab28: the clock was set back 41 days by hand, Windows Time has not synchronised since, and
    TLS to Apple fails with certificate_expired (45)."""
    host, at = "PETROVA-PC", dt.datetime(2026, 3, 11, 9, 30, 0, tzinfo=UTC)
    new = at - dt.timedelta(hours=5)
    old = new + dt.timedelta(days=41, seconds=12.4)
    out = [rec("Microsoft-Windows-Kernel-General", 1, 4, new, 90117, host,
               {"NewTime": f"{new:%Y-%m-%dT%H:%M:%S}.0000000Z", "OldTime": f"{old:%Y-%m-%dT%H:%M:%S}.4000000Z",
                "Reason": "1", "ProcessName": r"\Device\HarddiskVolume3\Windows\System32\rundll32.exe", "ProcessID": "9104"}),
           rec("Microsoft-Windows-Time-Service", 36, 3, at - dt.timedelta(minutes=8), 90140, host,
               {"UnsynchronizedTimeSeconds": "86400"}),
           rec("Microsoft-Windows-Time-Service", 34, 2, at - dt.timedelta(minutes=4), 90141, host,
               ["3542412", "54000"])]
    for i, s in enumerate((-40, -39, 5, 6, 51)):
        out.append(rec("Schannel", 36888, 2, at + dt.timedelta(seconds=s, microseconds=402000), 90150 + i, host,
                       {"AlertDesc": "45", "ErrorState": "1203"}, qualifiers=49152))
    return out


def killer_system_evtx() -> list[Record]:
    """pc_ad30: Killer Network Service installed weeks ago and running; the network is fine."""
    host, fail = "MORENO-GAMING", dt.datetime(2026, 2, 20, 11, 8, 23, 0, tzinfo=UTC)
    binary_running = "4B0069006C006C00650072004E006500740077006F0072006B0053006500720076006900630065002F0034000000"
    return [
        rec("Service Control Manager", 7045, 4, dt.datetime(2026, 1, 28, 19, 12, 40, tzinfo=UTC), 33010, host,
            {"ServiceName": "Killer Network Service",
             "ImagePath": r'"C:\Program Files\Killer Networking\Killer Control Center\KillerNetworkService.exe"',
             "ServiceType": "user mode service", "StartType": "auto start", "AccountName": "LocalSystem"},
            qualifiers=16384),
        rec("Service Control Manager", 7036, 4, fail - dt.timedelta(minutes=7, seconds=2), 34871, host,
            {"param1": "Killer Network Service", "param2": "running"}, qualifiers=16384,
            binary=bytes.fromhex(binary_running)),
        rec("Microsoft-Windows-Time-Service", 37, 4, fail - dt.timedelta(minutes=6), 34875, host,
            {"TimeSource": "time.windows.com,0x9 (ntp.m|0x9|0.0.0.0:123->20.101.57.9:123)"}),
    ]


def apple_server_evtx() -> list[Record]:
    """pc_ae31: the PC's network is demonstrably fine: connected, its clock synchronised."""
    host, start = "NWOSU-OFFICE", dt.datetime(2026, 3, 2, 16, 20, 44, tzinfo=UTC)
    return [
        rec("Microsoft-Windows-NetworkProfile", 10000, 4, start - dt.timedelta(minutes=9), 61200, host,
            {"Name": "NWOSU-5G", "Description": "NWOSU-5G", "Type": "0", "State": "1", "Category": "1"},
            channel="Microsoft-Windows-NetworkProfile/Operational"),
        rec("Microsoft-Windows-Time-Service", 37, 4, start - dt.timedelta(minutes=3), 61201, host,
            {"TimeSource": "time.windows.com,0x9 (ntp.m|0x9|0.0.0.0:123->20.101.57.9:123)"}),
    ]


def _xml_event(r: Record, level_text: bool = False) -> str:
    from xml.sax.saxutils import escape
    data = "".join(f"<Data Name='{k}'>{escape(v)}</Data>" for k, v in r.data.items())
    t = r.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{r.time.microsecond:06d}0Z"
    return (f"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{r.provider}' "
            f"Guid='{r.guid}'/><EventID>{r.event_id}</EventID><Version>0</Version><Level>{r.level}</Level><Task>{r.task}</Task>"
            f"<Opcode>0</Opcode><Keywords>0x{r.keywords:016x}</Keywords><TimeCreated SystemTime='{t}'/>"
            f"<EventRecordID>{r.record_id}</EventRecordID><Correlation/><Execution ProcessID='{r.process_id}' "
            f"ThreadID='{r.thread_id}'/><Channel>{r.channel}</Channel><Computer>{r.computer}</Computer>"
            f"<Security UserID='S-1-5-18'/></System><EventData>{data}</EventData></Event>")


def wifi_xml() -> str:
    """pc_ac29: the laptop's Wi-Fi drops and fails to reconnect around the reported minute."""
    host, at = "BRANDT-NB", dt.datetime(2026, 2, 26, 20, 15, 0, tzinfo=UTC)
    common = {"InterfaceGuid": "{5B2E6C1D-7A40-4F3B-9D8E-1C2A3B4D5E6F}", "InterfaceDescription": "Intel(R) Wi-Fi 6 AX201 160MHz",
              "ConnectionMode": "Automatic connection with a profile", "ProfileName": "Brandt-Home", "SSID": "Brandt-Home",
              "BSSType": "Infrastructure"}
    plan = [(-300, 8001, 4, {"PHYType": "802.11ax", "AuthenticationAlgorithm": "WPA2-Personal", "CipherAlgorithm": "AES-CCMP"}),
            (-118, 8003, 4, {"Reason": "The network is disconnected because the access point stopped responding.", "ReasonCode": "229385", "ConnectionId": "0x12"}),
            (-96, 8002, 2, {"FailureReason": "The specific network is not available.", "ReasonCode": "229377", "RSSI": "-84"}),
            (-61, 8001, 4, {"PHYType": "802.11ax", "AuthenticationAlgorithm": "WPA2-Personal", "CipherAlgorithm": "AES-CCMP"}),
            (-12, 8003, 4, {"Reason": "The network is disconnected because the access point stopped responding.", "ReasonCode": "229385", "ConnectionId": "0x13"}),
            (9, 8002, 2, {"FailureReason": "The specific network is not available.", "ReasonCode": "229377", "RSSI": "-86"}),
            (47, 8001, 4, {"PHYType": "802.11ax", "AuthenticationAlgorithm": "WPA2-Personal", "CipherAlgorithm": "AES-CCMP"})]
    events = [_xml_event(Record(provider="Microsoft-Windows-WLAN-AutoConfig", event_id=eid, level=level,
                                time=(at + dt.timedelta(seconds=s, microseconds=250000 + 1000 * i)).replace(tzinfo=None),
                                record_id=2210 + i, channel=WLAN_CHANNEL, computer=host, data={**common, **extra},
                                guid=GUIDS["Microsoft-Windows-WLAN-AutoConfig"], process_id=2316, thread_id=4120))
              for i, (s, eid, level, extra) in enumerate(plan)]
    return "\r\n".join(events) + "\r\n"


TEXT = {
    Path("pc_y25_3194_hosts_redirect") / "iTunes_restore.log": hosts_redirect_log,
    Path("pc_y25_3194_hosts_redirect") / "hosts": hosts_redirect_hosts,
    Path("pc_z26_3014_dns") / "iTunes_restore.log": dns_failure_log,
    Path("pc_ac29_icloud_wifi_drops") / "WLAN-AutoConfig_Operational.xml": wifi_xml,
    Path("pc_ad30_killer_decoy") / "iTunes_restore.log": killer_decoy_log,
    Path("pc_ae31_apple_server") / "iTunes_restore.log": apple_server_log,
}
EVTX = {
    Path("pc_z26_3014_dns") / "System.evtx": dns_system_evtx,
    Path("pc_aa27_icloud_tls_inspection") / "System.evtx": tls_inspection_evtx,
    Path("pc_ab28_icloud_clock") / "System.evtx": clock_evtx,
    Path("pc_ad30_killer_decoy") / "System.evtx": killer_system_evtx,
    Path("pc_ae31_apple_server") / "System.evtx": apple_server_evtx,
}


def files() -> dict[Path, bytes]:
    """Every sample file this module writes, by its path under samples/."""
    out = {rel: make().encode("utf-8") for rel, make in TEXT.items()}
    out.update({rel: evtx_bytes(make()) for rel, make in EVTX.items()})
    out[Path("win_hosts_blocked_updates") / "hosts"] = blocked_updates_hosts()
    return out


if __name__ == "__main__":
    for rel, data in files().items():
        (SAMPLES / rel).parent.mkdir(parents=True, exist_ok=True)
        (SAMPLES / rel).write_bytes(data)
