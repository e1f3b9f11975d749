"""Writes the idevicerestore samples whose restore stops at the signing server (issue 15, gap 4).

Run ``python tests/samplegen/idevicerestore_network.py`` from the checkout to regenerate them (a test
checks the committed samples are what it writes). The TSS lines follow libtatsu's ``tss.c`` (the six
URLs it cycles through, 15 tries, "Request URL set to" and "Sending TSS request attempt N... " only at
debug level, curl's error buffer on stderr after each unanswered try, "ERROR: TSS request failed: …
(status=-1)") and idevicerestore.c ("ERROR: Unable to send TSS request", "Unable to get SHSH blobs for
this device", "Unable to restore device"); curl's texts are the ones real console pastes show
(libimobiledevice/idevicerestore issues #85, #185). Ids, names and times are our own.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[1] / "samples"

URLS = ("https://gs.apple.com/TSS/controller?action=2", "https://17.171.36.30/TSS/controller?action=2",
        "https://17.151.36.30/TSS/controller?action=2", "http://gs.apple.com/TSS/controller?action=2",
        "http://17.171.36.30/TSS/controller?action=2", "http://17.151.36.30/TSS/controller?action=2")


def _port(url: str) -> int:
    return 443 if url.startswith("https") else 80


def _host(url: str) -> str:
    return url.split("/")[2]


def hosts_block_hosts() -> str:
    """A Linux bench's /etc/hosts with a 'stop iOS updates' block list pasted in."""
    return ("127.0.0.1\tlocalhost\n127.0.1.1\tbench-07\n\n"
            "# The following lines are desirable for IPv6 capable hosts\n"
            "::1     ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n\n"
            "# block iOS updates (from a forum post, 2025-11)\n"
            "0.0.0.0 mesu.apple.com\n0.0.0.0 appldnld.apple.com\n0.0.0.0 gs.apple.com\n")


def hosts_block_console() -> str:
    """idevicerestore (no -d) on the bench: gs.apple.com is 0.0.0.0, so each of its tries is refused at
    once; the two old Apple addresses it also tries answer nothing at all."""
    head = ["idevicerestore 1.0.0-215-g3b7e0c2 (libirecovery 1.2.1, libtatsu 1.0.4)",
            "irecv_event_cb: device 000e3a5c19d2402e (udid: 00008110-000E3A5C19D2402E) connected in Recovery mode",
            "Found device in Recovery mode", "ECID: 3999127498145838", "Identified device as d27ap, iPhone14,7",
            "Device Product Version: 18.1", "Device Product Build: 22B83", "Extracting BuildManifest from IPSW",
            "IPSW Product Version: 18.2", "IPSW Product Build: 22C152 Major: 22", "Device supports Image4: true",
            "Variant: Customer Upgrade Install (IPSW)", "This restore will update the device without erasing user data.",
            "Checking IPSW for required components...", "All required components found in IPSW",
            "Getting ApNonce in Recovery mode... 0c 5e 91 a4 27 d8 3b f0 6a 12 e9 47 b3 80 5d 1f c6 72 08 94 ",
            "Trying to fetch new SHSH blob",
            "Getting SepNonce in recovery mode... 7a 31 c2 0e 95 4d 18 f6 ab 60 e7 29 53 bc 04 d1 8e 6f 3a 25 "]
    tries = []
    for n in range(15):
        url = URLS[n % 6]
        if _host(url) == "gs.apple.com":
            tries.append(f"Failed to connect to gs.apple.com port {_port(url)} after 0 ms: Couldn't connect to server")
        else:
            tries.append(f"Failed to connect to {_host(url)} port {_port(url)} after 134{n:02d}7 ms: Couldn't connect to server")
    last = tries[-1]
    tail = [f"ERROR: TSS request failed: {last} (status=-1)", "ERROR: Unable to send TSS request",
            "ERROR: Unable to get SHSH blobs for this device", "ERROR: Unable to restore device"]
    return "\n".join(head + tries + tail) + "\n"


def _logged(t: float, level: str, text: str) -> str:
    whole = int(t)
    hh, mm, ss = whole // 3600, whole // 60 % 60, whole % 60
    return f"{hh:02d}:{mm:02d}:{ss:02d}.{int(round((t - whole) * 1000)):03d} {('<' + level + '>'):>9} {text}"


def dns_windows_log() -> str:
    """idevicerestore -d's log file on a Windows PC whose DNS is gone: every name fails to resolve, and
    the two addresses it tries without a name answer nothing."""
    t = 14 * 3600 + 2 * 60 + 7.118
    lines = [(0.0, "Info", "idevicerestore 1.0.0-215-g3b7e0c2 (libirecovery 1.2.1, libtatsu 1.0.4)"),
             (0.214, "Debug", "irecv_event_cb: device 00041c2e6d1a802e (udid: N/A) connected in DFU mode"),
             (0.216, "Info", "Found device in DFU mode"), (0.544, "Info", "ECID: 1156373409562670"),
             (0.545, "Info", "Identified device as d421ap, iPhone11,2"),
             (0.971, "Info", "IPSW Product Version: 18.2"), (0.971, "Info", "IPSW Product Build: 22C152 Major: 22"),
             (0.972, "Info", "Variant: Customer Erase Install (IPSW)"),
             (0.973, "Info", "This restore will erase all device data."),
             (2.410, "Info", "Trying to fetch new SHSH blob")]
    at = 2.9
    for n in range(15):
        url = URLS[n % 6]
        lines.append((at, "Debug", f"Request URL set to {url}"))
        lines.append((at + 0.001, "Debug", f"Sending TSS request attempt {n + 1}... "))
        if _host(url) == "gs.apple.com":
            lines.append((at + 0.004, "Error", "Could not resolve host: gs.apple.com"))
            at += 2.01
        else:
            lines.append((at + 21.03, "Error", f"Failed to connect to {_host(url)} port {_port(url)} after 21030 ms: "
                                                 "Couldn't connect to server"))
            at += 23.04
    lines += [(at, "Error", "ERROR: TSS request failed: Could not resolve host: gs.apple.com (status=-1)"),
              (at + 0.001, "Error", "ERROR: Unable to send TSS request"),
              (at + 0.002, "Error", "Unable to get SHSH blobs for this device"),
              (at + 0.003, "Error", "Unable to restore device")]
    return "\r\n".join(_logged(t + dt, level, text) for dt, level, text in lines) + "\r\n"


TEXT = {
    Path("linux_idevicerestore_hosts_block") / "hosts": hosts_block_hosts,
    Path("linux_idevicerestore_hosts_block") / "idevicerestore_output.txt": hosts_block_console,
    Path("idevicerestore_windows_dns") / "idevicerestore.log": dns_windows_log,
}


def files() -> dict[Path, bytes]:
    """Every sample file this module writes, by its path under samples/."""
    return {rel: make().encode("utf-8") for rel, make in TEXT.items()}


if __name__ == "__main__":
    for rel, data in files().items():
        (SAMPLES / rel).parent.mkdir(parents=True, exist_ok=True)
        (SAMPLES / rel).write_bytes(data)
