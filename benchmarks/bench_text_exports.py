"""Throughput of the wevtutil text export source against a naive baseline.

Generates a large ``wevtutil qe System /f:text`` export (default ≥ 50 MB, UTF-8)
in a temp dir, then times

* the analyzer: ``analyzer.ingest.parse_file`` (decode, sniff, the grammar's
  vectorised fast path, record assembly, winevent normalisation);
* a naive baseline: decode, then one Python loop over the lines with ``re``
  pulling out the same fields (record start, labels → channel / provider / date /
  event id / level / computer, description lines joined) into a list of dicts.

and prints both and the ratio baseline/analyzer (target ≥ 0.5, i.e. the analyzer
at most twice the naive loop's time while doing strictly more).

    python benchmarks/bench_text_exports.py [--mb 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer.ingest import parse_file  # noqa: E402
from analyzer.textio import decode  # noqa: E402

TEMPLATES = [
    ("Service Control Manager", 7036, "Information", "Classic",
     "The {svc} service entered the {state} state."),
    ("Service Control Manager", 7031, "Error", "Classic",
     "The {svc} service terminated unexpectedly.  It has done this {n} time(s).  The following corrective action "
     "will be taken in 10000 milliseconds: Restart the service."),
    ("Microsoft-Windows-Kernel-PnP", 219, "Warning", "N/A",
     "The driver \\Driver\\WUDFRd failed to load for the device USB\\VID_05AC&PID_{pid}\\{serial}."),
    ("Microsoft-Windows-UserPnp", 20003, "Information", "N/A",
     "Driver Management has concluded the process to add Service WUDFRd for Device Instance ID "
     "USB\\VID_05AC&PID_{pid}\\{serial} with the following status: 0."),
    ("Service Control Manager", 7045, "Information", "Classic",
     "A service was installed in the system.\n\nService Name:  {svc}\nService File Name:  \"C:\\Program Files\\"
     "Common Files\\Apple\\Mobile Device Support\\AppleMobileDeviceService.exe\"\nService Type:  user mode service\n"
     "Service Start Type:  auto start\nService Account:  LocalSystem"),
]
SERVICES = ["Apple Mobile Device Service", "Windows Update", "Print Spooler", "Bonjour Service", "WinHTTP Web Proxy"]


def generate(path: Path, megabytes: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    target = megabytes * 1024 * 1024
    written = 0
    n = 0
    with path.open("w", encoding="utf-8", newline="\r\n") as fh:
        while written < target:
            chunk = []
            for _ in range(2000):
                prov, eid, level, kw, msg = TEMPLATES[rnd.randrange(len(TEMPLATES))]
                ms = n * 37
                ts = (f"2025-03-{1 + (ms // 86_400_000) % 28:02d}T{(ms // 3_600_000) % 24:02d}:"
                      f"{(ms // 60_000) % 60:02d}:{(ms // 1000) % 60:02d}.{ms % 1000:03d}")
                text = msg.format(svc=rnd.choice(SERVICES), state=rnd.choice(["running", "stopped"]), n=rnd.randint(1, 3),
                                  pid=rnd.choice(["12A8", "1281", "1227"]), serial=f"{rnd.getrandbits(96):024X}")
                chunk.append(
                    f"Event[{n}]:\n  Log Name: System\n  Source: {prov}\n  Date: {ts}\n  Event ID: {eid}\n"
                    f"  Task: N/A\n  Level: {level}\n  Opcode: N/A\n  Keyword: {kw}\n  User: S-1-5-18\n"
                    f"  User Name: NT AUTHORITY\\SYSTEM\n  Computer: BENCH-PC-01\n  Description: \n{text}\n\n")
                n += 1
            block = "".join(chunk)
            fh.write(block)
            written += len(block.encode("utf-8")) + block.count("\n")
    return n


_EVENT = re.compile(r"^Event\[(\d+)\]:\s*$")
_LABEL = re.compile(r"^ +([^\s:][^:]*):(.*)$")
_KEYS = {"Log Name": "channel", "Source": "provider", "Date": "date", "Event ID": "event_id", "Level": "level",
         "Computer": "computer"}


def baseline(path: Path) -> int:
    """The naive way: decode, then one pass over lines with re, building dicts."""
    text = decode(path.read_bytes()).text
    records: list[dict] = []
    cur: dict | None = None
    in_desc = False
    body: list[str] = []
    for line in text.splitlines():
        m = _EVENT.match(line)
        if m:
            if cur is not None:
                cur["message"] = "\n".join(body).strip()
                records.append(cur)
            cur = {"record": int(m.group(1))}
            in_desc, body = False, []
            continue
        if cur is None:
            continue
        if in_desc:
            body.append(line)
            continue
        m = _LABEL.match(line)
        if m:
            label, value = m.group(1).strip(), m.group(2).strip()
            if label == "Description":
                in_desc = True
            elif label in _KEYS:
                cur[_KEYS[label]] = value
    if cur is not None:
        cur["message"] = "\n".join(body).strip()
        records.append(cur)
    for r in records:
        r["event_id"] = int(r.get("event_id", "0"))
    return len(records)


def interleaved(fns: list, runs: int) -> list[tuple[float, float, object]]:
    """Median wall and CPU seconds of each function, runs interleaved (A B A B …) so that a
    change in machine load hits both sides alike."""
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    outs: list[object] = [None] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            c0, t0 = time.process_time(), time.perf_counter()
            outs[i] = fn()
            wall[i].append(time.perf_counter() - t0)
            cpu[i].append(time.process_time() - c0)
    return [(statistics.median(w), statistics.median(c), o) for w, c, o in zip(wall, cpu, outs)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "System_wevtutil.txt"
        n = generate(path, args.mb)
        size = path.stat().st_size
        print(f"generated {size / 1e6:.1f} MB, {n} records: {path.name}")
        (t_base, c_base, n_base), (t_an, c_an, parsed) = interleaved([lambda: baseline(path), lambda: parse_file(path)],
                                                                     args.runs)
        assert parsed.report.format == "windows_wevtutil_text", parsed.report.errors
        assert parsed.events.height == n == n_base, (parsed.events.height, n, n_base)
        print(f"naive re baseline : {t_base:6.2f} s wall {c_base:6.2f} s cpu  {size / 1e6 / t_base:7.1f} MB/s"
              f"  {n_base / t_base:9.0f} rec/s")
        print(f"analyzer          : {t_an:6.2f} s wall {c_an:6.2f} s cpu  {size / 1e6 / t_an:7.1f} MB/s"
              f"  {n / t_an:9.0f} rec/s")
        print(f"ratio baseline/analyzer = {t_base / t_an:.2f} wall, {c_base / c_an:.2f} cpu (target >= 0.5)")


if __name__ == "__main__":
    main()
