"""Fleet benchmark: a synthetic fleet of PCs with KNOWN causes, analysed with --jobs 1 and --jobs 2.

    python benchmarks/bench_fleet.py [--hosts 240] [--jobs 1 2] [--zip-every 10] [--ray] [--keep]

Generates into a fresh temporary folder (never into the repo) one folder per PC
(every ``--zip-every``-th PC as a ``.zip`` instead), each with an Apple restore
log in the real line shapes (reference/apple-restore-logs.md §1-2: the dated
header, the MobileRestore ``[HH:MM:SS.ffff]`` body, the end block) and a
``wevtutil qe /f:text`` System export carrying the PC's computer name, the Apple
driver install and, on some PCs, a third-party security product. Causes:

* ``usb_connection``: the device comes back in the wrong mode during a transition → 4013;
* ``unsigned_firmware``: the signing server answers status 94 → 3194;
* ``ok``: a restore that succeeds.

Prints hosts/s per job count, the speed-up, peak RSS of this process and of its
children, and whether every PC's verdict matched the cause it was generated with. The PCs are
analysed as the ``analyze`` command does (``contain_crashes``: in worker processes, also for
``--jobs 1``).
The generator functions are importable (tests/test_fleet.py uses them).
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import random
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

CAUSES = ("usb_connection", "unsigned_firmware", "ok")
ITUNES = ("12.13.5.3", "12.13.2.3", "12.12.10.1")
AMD = ("18.1.0.2", "17.5.0.9", "16.0.0.16")
SECURITY = ("Symantec AntiVirus", "McAfee Endpoint Security", "Sophos Anti-Virus")


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def _br(t: dt.datetime) -> str:
    return t.strftime("[%H:%M:%S.") + f"0{t.microsecond // 1000:03d}]"


def restore_log(cause: str, start: dt.datetime, *, ecid: int, serial: str, user: str, itunes: str, amd: str,
                pid: int = 7412) -> str:
    """One restore attempt in the MobileRestore shape (dated header, bracket body, end block)."""
    tid = "1d3c"
    head = [
        f"restore library built Oct 17 2024 at 19:42:11",
        f"iTunes: iTunes {itunes}",
        f"iTunes: Apple Mobile Device version: {amd}",
        "iTunes: Software payload version: 22D72",
        "iTunes: Using MobileRestore state machine",
    ]
    lines = [f"{_ts(start)} [{pid}:{tid}]: {h}" for h in head]
    t = start
    body: list[tuple[float, str]] = [
        (0.8, "Changing state from 'Idle' to 'Restoring'"),
        (0.1, "=" * 82), (0.0, "Device info:"), (0.0, "board configuration: (null)"), (0.0, "Board ID: 0x8"),
        (0.0, "Chip ID: 0x8020"), (0.0, f"ECID: 0x{ecid:X}"), (0.0, f"Serial Number: {serial}"),
        (0.0, "USB Location: 0x00000000"), (0.0, "USB Name: (null)"), (0.0, "Starting State: BootedOS"),
        (0.0, "=" * 82), (0.1, "requested restore behavior: Erase"), (0.0, "requested variant: Erase Install (IPSW)"),
        (0.7, f"amai: AMAuthInstallDebugWriteObject: debug object written: C:\\Users\\{user}\\AppData\\Local\\Temp"
              f"\\Per7C3E.tmp\\amai\\debug\\tss-request.plist"),
        (0.5, "amai: AMRAuthInstallAttemptSimpleHttpRequest: attempting to connect to http://gs.apple.com:80"),
        (0.2, "amai: _AMRAuthInstallIsHttpServerResponsive: server response status code: 200. status text: OK"),
        (2.1, "amai: tss_submit_job: HttpQueryInfo returned 200"),
    ]
    if cause == "unsigned_firmware":
        body += [
            (0.0, "amai: tss_submit_job: error from server=94 (This device isn't eligible for the requested build.)"),
            (0.0, "amai: tss_submit_job: cached server error text: (3194) This device isn't eligible for the requested build."),
            (0.0, "amai: AMAuthInstallRequestSendSync: failed tss submission: This device isn't eligible for the requested build."),
            (0.0, "failed to personalize the restore bundle"),
            (0.0, "Personalization failed"),
            (0.1, "Finished BootedOS Restore Phase: Failed"),
            (0.1, "Restore completed, status:3194"),
            (0.0, "Elapsed time (in seconds): 4"),
            (0.0, "Failure Description:"),
            (0.0, "Depth:0 Code:3194 Error:Declined to authorize this image on this device for this user."),
        ]
    else:
        body += [
            (0.0, "amai: AMAuthInstallRequestSendSync: received tss response (server version: 2.3.2)"),
            (3.5, "Entering recovery mode"), (0.6, "Finished BootedOS Restore Phase: Successful"),
            (1.5, f"Muxed device disconnected with ECID: 0x{ecid:X}"), (0.0, "BootedOS mode device disconnected"),
            (0.0, "Device removed when in state Restoring, moving device to transition state"),
            (0.0, "Changing state from 'Restoring' to 'Transitioning'"), (0.0, "Creating timer to monitor transition"),
            (0.0, "Creating a timer for 10 minutes"), (12.2, "device connected (isDFU = 0), registryID 0x1000012e4"),
            (0.0, f"Recovery mode device connected with ECID: 0x{ecid:X}"),
            (0.0, "Found known device, nudging state machine."), (0.0, "Transitioning device returned, continuing restore."),
            (0.0, "Canceling timer"), (0.0, "Changing state from 'Transitioning' to 'Restoring'"),
            (0.1, "<Recovery Mode Device 0000021C8E4F3A10>: operation 4 progress -1"),
            (2.6, "bootstrapping restore with iBEC"),
            (0.1, "<Recovery Mode Device 0000021C8E4F3A10>: operation 31 progress -1"),
            (4.0, "<Recovery Mode Device 0000021C8E4F3A10>: Recovery mode succeeded"),
            (0.6, "Recovery mode device disconnected"),
            (0.0, "Device removed when in state Restoring, moving device to transition state"),
            (0.0, "Changing state from 'Restoring' to 'Transitioning'"), (0.0, "Creating timer to monitor transition"),
            (0.0, "Creating a timer for 10 minutes"), (17.3, "device connected (isDFU = 0), registryID 0x1000012f9"),
            (0.0, f"RestoreOS mode device connected with ECID: 0x{ecid:X}"),
            (0.0, "Found known device, nudging state machine."), (0.0, "Transitioning device returned, continuing restore."),
            (0.0, "Canceling timer"), (0.0, "Changing state from 'Transitioning' to 'Restoring'"),
            (0.8, "<Restore Device 000002A7B3C01E40>: operation 42 progress -1"),
            (17.5, "<Restore Device 000002A7B3C01E40>: operation 11 progress -1"),
            (0.5, "<Restore Device 000002A7B3C01E40>: operation 12 progress -1"),
        ]
        body += [(60.0 + 5 * i, f"<Restore Device 000002A7B3C01E40>: operation 13 progress {p}")
                 for i, p in enumerate(range(0, 50, 10))]
        if cause == "usb_connection":
            body += [
                (3.0, "RestoreOS mode device disconnected"),
                (0.0, "Device removed when in state Restoring, moving device to transition state"),
                (0.0, "Changing state from 'Restoring' to 'Transitioning'"), (0.0, "Creating timer to monitor transition"),
                (0.0, "Creating a timer for 10 minutes"), (22.3, "device connected (isDFU = 0), registryID 0x100001307"),
                (0.0, f"Recovery mode device connected with ECID: 0x{ecid:X}"),
                (0.0, "Found known device, nudging state machine."),
                (0.0, "Unexpected device state 'Recovery' expected 'RestoreOS'"), (0.0, "Canceling timer"),
                (0.0, "Restore completed, status:4013"), (0.0, "Elapsed time (in seconds): 420"),
                (0.0, "Failure Description:"),
                (0.0, "Depth:0 Code:4013 Error:The device was disconnected during the restore."),
                (0.0, "Depth:1 Code:4013 Error:Unexpected device state 'Recovery' expected 'RestoreOS'"),
            ]
        else:
            body += [(40.0, f"<Restore Device 000002A7B3C01E40>: operation 13 progress {p}") for p in (60, 80, 100)]
            body += [(30.0, "<Restore Device 000002A7B3C01E40>: operation 14 progress -1"),
                     (20.0, "<Restore Device 000002A7B3C01E40>: Restore succeeded"),
                     (0.1, "Finished RestoreOS Restore Phase: Successful"),
                     (0.1, "Restore completed, status:0"), (0.0, "Elapsed time (in seconds): 380")]
    for gap, text in body:
        t += dt.timedelta(seconds=gap)
        lines.append(f"{_br(t)} {text}")
    return "\r\n".join(lines) + "\r\n"


def _wev(n: int, log: str, source: str, when: dt.datetime, event_id: int, level: str, computer: str,
         user: str, message: str) -> str:
    return (f"Event[{n}]:\r\n  Log Name: {log}\r\n  Source: {source}\r\n"
            f"  Date: {when.strftime('%Y-%m-%dT%H:%M:%S.%f')}0Z\r\n  Event ID: {event_id}\r\n  Task: N/A\r\n"
            f"  Level: {level}\r\n  Opcode: Info\r\n  Keyword: N/A\r\n  User: S-1-5-18\r\n"
            f"  User Name: NT AUTHORITY\\SYSTEM\r\n  Computer: {computer}\r\n  Description: \r\n{message}\r\n\r\n")


def windows_system(start: dt.datetime, computer: str, ecid: int, security: str | None) -> str:
    """A small ``wevtutil qe System /f:text`` export: the Apple driver install and, optionally, an AV event."""
    inst = (f"USB\\VID_05AC&PID_1281\\CPID:8020_CPRV:11_CPFM:03_SCEP:01_BDID:08_ECID:{ecid:016X}"
            f"_IBFL:3C_SRTG:[IBOOT-7429.62.1]")
    events = [
        _wev(0, "System", "Microsoft-Windows-UserPnp", start - dt.timedelta(minutes=30), 20003, "Information", computer,
             "", f"Driver Management has concluded the process to add Service WUDFRd for Device Instance ID {inst} "
                 "with the following status: 0."),
        _wev(1, "System", "Service Control Manager", start - dt.timedelta(minutes=20), 7036, "Information", computer, "",
             "The Apple Mobile Device Service service entered the running state."),
    ]
    if security:
        events.append(_wev(2, "Application", security, start - dt.timedelta(minutes=5), 51, "Information", computer,
                           "", f"{security} scan completed."))
    return "".join(events)


def plan_fleet(n: int, seed: int = 7, base: dt.datetime | None = None) -> list[dict]:
    """Deterministic host specs: name, cause, versions, start time, identifiers."""
    rng = random.Random(seed)
    base = base or dt.datetime(2025, 3, 10, 8, 0, 0)
    hosts = []
    for i in range(n):
        cause = CAUSES[i % len(CAUSES)]
        # failures cluster: every 5th PC restores in the same morning hour
        start = base + (dt.timedelta(minutes=rng.randrange(0, 20)) if i % 5 == 0
                        else dt.timedelta(hours=rng.randrange(2, 24 * 14), minutes=rng.randrange(60)))
        hosts.append({
            "name": f"pc{i:04d}", "cause": cause, "start": start,
            "itunes": ITUNES[0] if cause == "usb_connection" and i % 2 == 0 else ITUNES[rng.randrange(len(ITUNES))],
            "amd": AMD[rng.randrange(len(AMD))],
            "ecid": rng.getrandbits(52) | (1 << 52), "serial": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                                                       for _ in range(12)),
            "user": f"user{rng.randrange(10_000):04d}", "computer": f"DESKTOP-{rng.randrange(16**6):06X}",
            "security": SECURITY[i % len(SECURITY)] if i % 4 == 0 else None,
        })
    return hosts


def write_fleet(root: Path, hosts: list[dict], zip_every: int = 0) -> Path:
    """Write the fleet under ``root/fleet`` (one folder per PC, some as .zip); return that folder."""
    fleet = root / "fleet"
    fleet.mkdir(parents=True, exist_ok=True)
    for i, h in enumerate(hosts):
        files = {
            "iTunes_restore.log": restore_log(h["cause"], h["start"], ecid=h["ecid"], serial=h["serial"],
                                              user=h["user"], itunes=h["itunes"], amd=h["amd"]),
            "System_wevtutil.txt": windows_system(h["start"], h["computer"], h["ecid"], h["security"]),
        }
        if zip_every and i % zip_every == zip_every - 1:
            with zipfile.ZipFile(fleet / f"{h['name']}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                for name, text in files.items():
                    zf.writestr(f"logs/{name}", text.encode("utf-8"))
        else:
            folder = fleet / h["name"]
            folder.mkdir()
            for name, text in files.items():
                (folder / name).write_bytes(text.encode("utf-8"))
    return fleet


def _cpu_s() -> float:
    """CPU seconds of this process and its reaped children (pool workers are reaped at shutdown)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, default=240)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--zip-every", type=int, default=10)
    ap.add_argument("--ray", action="store_true", help="also run --executor ray (local Ray, 2 workers) and compare")
    ap.add_argument("--keep", action="store_true", help="keep the generated fleet and print where it is")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from analyzer.api import analyze
    from analyzer.fleet import summary
    from analyzer.report.json_doc import document

    root = Path(tempfile.mkdtemp(prefix="analyzer-bench-fleet-"))
    try:
        hosts = plan_fleet(args.hosts)
        fleet = write_fleet(root, hosts, args.zip_every)
        print(f"fleet: {len(hosts)} PCs ({sum(1 for _ in fleet.glob('*.zip'))} as .zip) in {fleet}")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work skews hosts/s)")
        rates = {}
        docs = {}
        runs = [(jobs, "local") for jobs in args.jobs] + ([(2, "ray")] if args.ray else [])
        for jobs, executor in runs:
            label = jobs if executor == "local" else f"{jobs} ray"
            t0, c0 = time.perf_counter(), _cpu_s()
            # as `analyze` runs it: PCs in worker processes also for --jobs 1 (contain_crashes)
            analysis = analyze([fleet], tz="UTC", jobs=jobs, executor=executor, contain_crashes=True)
            elapsed, cpu = time.perf_counter() - t0, _cpu_s() - c0
            rates[label] = len(hosts) / elapsed
            doc = document(analysis)
            docs[label] = doc
            verdicts = {h["host"]: h["verdict"] for h in summary(analysis)["hosts"]}
            wrong = [(h["name"], h["cause"], verdicts.get(h["name"])) for h in hosts if verdicts.get(h["name"]) != h["cause"]]
            print(f"--jobs {label}: {elapsed:6.2f} s  {rates[label]:7.1f} hosts/s  CPU {cpu:6.1f} s  "
                  f"verdicts matched: {len(hosts) - len(wrong)}/{len(hosts)}")
            for name, want, got in wrong[:10]:
                print(f"    {name}: expected {want}, got {got}")
        if 1 in rates:
            for jobs, rate in rates.items():
                if jobs != 1:
                    print(f"speed-up --jobs {jobs} vs --jobs 1: {rate / rates[1]:.2f}x")
        same = len({repr(d) for d in docs.values()}) == 1
        print(f"documents identical across job counts: {same}")
        print(f"peak RSS: this process {_peak_mb(resource.RUSAGE_SELF):.0f} MB, "
              f"largest worker {_peak_mb(resource.RUSAGE_CHILDREN):.0f} MB")
    finally:
        if args.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
