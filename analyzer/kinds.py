"""The closed list of event kinds, each declared once with everything a later stage needs.

Rules and reports match on kinds, never on message text. Declaring a kind's lane, colour and
roles here (instead of a list per consumer) means a new kind is one row, and a test
(tests/test_declarations.py) checks that every consumer knows every kind: no kind can
silently vanish from the HTML lanes or the terminal timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Swim lanes of the timelines, top to bottom.
LANES = ("restore", "backup", "usb", "driver", "network", "disk", "other")


@dataclass(frozen=True)
class Kind:
    """What a kind is and how it is shown.

    ``lane``: its swim lane (None: not drawn); ``style``: its terminal colour; ``timeline``:
    a row of the terminal timeline; ``alarm``: drawn in the alarm colour; ``phase``: opens a
    segment of the phase band; ``anchor``: several sources record it at the same instant, so
    it can align clocks; ``device_activity``: shown among a PC's Apple activity outside attempts.
    """

    doc: str
    lane: str | None = None
    style: str = ""
    timeline: bool = True
    alarm: bool = False
    phase: bool = False
    anchor: bool = False
    device_activity: bool = False


KIND_INFO: dict[str, Kind] = {
    # the Apple side: restore logs
    # an attempt of any operation (restore, update, backup: the ``operation`` column) begins and ends
    "session_start": Kind("an attempt begins: a restore's host versions, Erase/Update and payload build; a backup's "
                          "start (a tool's start line, a snapshot's Status.plist date)", "restore", "bold green",
                          phase=True),
    "phase": Kind("a named step: phase result, checkpoint, mode entry", "restore", "green", phase=True),
    "progress": Kind("operation N progress M", None, timeline=False),
    "state_change": Kind("MobileRestore state machine transition", "restore", "blue", phase=True),
    "result": Kind("the attempt's outcome (status, error code; a backup's MBErrorDomain code)", "restore", "bold"),
    "failure_detail": Kind("a line of Apple's failure description: a deeper error code and its text", "restore",
                           "red"),
    "device_identity": Kind("ECID / serial / chip / board", "restore"),
    "device_connect": Kind("device (re)appeared; ``expected`` says if a transition explains it", "usb", "cyan",
                           anchor=True, device_activity=True),
    "device_disconnect": Kind("device went away; ``expected`` False is a fault signal", "usb", "yellow",
                              anchor=True, device_activity=True),
    "usb_io_error": Kind("pipe stalls, I/O timeouts, descriptor failures", "usb", "yellow", alarm=True),
    "tss_request": Kind("signing-server exchange that went fine or a preflight probe", "network"),
    "tss_error": Kind("signing-server refusal or unreachable server", "network", "red", alarm=True),
    "baseband_error": Kind("radio errors", "restore", "red", alarm=True),
    # the Apple side: backups
    "backup_info": Kind("what a backup folder records: device, versions, encryption, last backup date, size",
                        "backup", timeline=False),
    "backup_damage": Kind("a backup folder is incomplete or damaged: leftover Snapshot/, empty or unreadable "
                          "Manifest, files missing", "backup", "red", alarm=True),
    "icloud_error": Kind("an iCloud error recorded by the device or the PC (the device's iCloud backup errors)",
                         "backup", "red", alarm=True),
    # the PC side: Windows evidence
    "driver_load": Kind("a driver/filter loaded for a device", "driver", timeline=False),
    "driver_install": Kind("a driver package install with its outcome (see error_code)", "driver",
                           anchor=True, device_activity=True),
    "driver_failure": Kind("driver failed to load / device problem / UMDF host crash", "driver", "red", alarm=True,
                           anchor=True, device_activity=True),
    "service_state": Kind("a service started/stopped (SCM 7036 ...)", "driver", anchor=True, device_activity=True),
    "service_crash": Kind("a service terminated unexpectedly or failed to start", "driver", "red", alarm=True,
                          anchor=True, device_activity=True),
    "firewall_block": Kind("a packet or connection was dropped", "network", "magenta", alarm=True),
    "firewall_allow": Kind("a connection was permitted", "network", timeline=False),
    "firewall_config": Kind("firewall rule/profile change", "network", timeline=False),
    "hosts_entry": Kind("a hosts-file entry that sends an Apple name elsewhere (subject the name, detail the "
                        "address): a configuration finding, true before and after any incident", "network", "magenta",
                        alarm=True),
    "dns_failure": Kind("a name could not be resolved (DNS-Client 1014; subject the name)", "network", "red",
                        alarm=True),
    "tls_error": Kind("a TLS handshake failed (Schannel; error_code the TLS alert)", "network", "red", alarm=True),
    "clock_sync": Kind("the PC clock was not synchronised, jumped, or could not reach its time server", "network",
                       "yellow", alarm=True),
    "network_down": Kind("the PC lost its network: Wi-Fi disconnected or failed to connect, no connectivity",
                         "network", "yellow", alarm=True),
    "network_up": Kind("the PC (re)gained its network: Wi-Fi connected, connectivity restored", "network"),
    "network_software": Kind("software known to interfere with connections is installed or running (Killer, a "
                             "VPN adapter, a TLS-inspecting suite): a configuration finding", "network", "magenta"),
    "disk_space": Kind("low disk space or free-space summary", "disk", "yellow", alarm=True),
    "app_crash": Kind("application crash / hang / WER report", "other", "red", alarm=True, anchor=True,
                      device_activity=True),
    "power": Kind("sleep, resume, unexpected reboot, shutdown", "other", anchor=True),
    "security_product": Kind("third-party security software activity", "other"),
    "security_block": Kind("security software blocked or quarantined something (Defender 1116/1117, Controlled "
                           "Folder Access 1123/1124; subject the process or path)", "other", "red", alarm=True),
    "generic": Kind("recognised but carries no restore-relevant signal", None, timeline=False),
}

KINDS: tuple[str, ...] = tuple(KIND_INFO)


def kinds_where(**flags: bool) -> tuple[str, ...]:
    """The kinds whose declaration has every given flag, e.g. ``kinds_where(anchor=True)``."""
    return tuple(k for k, info in KIND_INFO.items() if all(getattr(info, f) == v for f, v in flags.items()))


def lane_of(kind: str) -> str | None:
    return KIND_INFO[kind].lane if kind in KIND_INFO else None
