"""Benchmark: the apple_restore source against a naive per-line ``re`` baseline, plus CLI cold starts.

Why: the issue's acceptance is "analyzer ≥ 0.5× baseline" on a large restore log. One run generates
a realistic MobileRestore log of ≥ 1,000,000 lines (several attempts, dated headers, device info,
TSS, transitions with timers, progress, USB noise, end blocks) in a temporary directory, then times

* analyzer: ``ingest.parse_file`` — sniff, decode, grammar fast path, classification, clocks,
  attempts, transitions, summaries → the conformed events frame;
* baseline: a straightforward loop over the lines with the *same* shape and marker regexes compiled
  by Python's ``re`` (literal prefilter included), extracting the same fields into tuples — no
  clocks, no classification;

and prints MB/s, lines/s and the ratio; then, side by side, the whole ``analyze FILE --format json``
process (start-up included) against a naive per-line ``re`` script extracting time, pid/tid,
message, error code, progress and ECID, each a fresh subprocess, best of ``--runs``; then the cold start of ``analyze --help`` and
``analyze samples/`` (``python -m analyzer`` when the console script is missing; "n/a" if neither runs).

Run: ``python benchmarks/bench_restore.py [--lines N]``.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _whole_process import NAIVE_RESTORE, compare  # noqa: E402
from analyzer import grammars  # noqa: E402
from analyzer.ingest import parse_file  # noqa: E402
from analyzer.textio import decode  # noqa: E402

NOISE = ["Canceling timer", "Found known device, nudging state machine.", "Device isn't booted but USB is up.",
         "Ignoring RSD disconnect event for non-RSD restorable device", "AMRestoreCreateDefaultOptions: using defaults",
         "<Restore Device 0x7f8e41d0a6b0>: sending message type: DataRequestMsg", "requested restore behavior: Erase",
         "amai: AMAuthInstallApSetParameters: personalizing restore bundle", "state machine idle callback fired"]


def _bracket(t: float) -> str:
    t %= 86400
    h, rem = divmod(int(t), 3600)
    m, s = divmod(rem, 60)
    return f"[{h:02d}:{m:02d}:{s:02d}.0{int((t % 1) * 1000):03d}]"


def generate(path: Path, target_lines: int, seed: int = 7, body: tuple[int, int] = (40_000, 90_000)) -> int:
    """Write a Windows MobileRestore log (brackets UTC = header + 8 h) with several attempts, each
    with ``body`` (least, most) lines of restore activity; ``body=(n, n)`` for one attempt of n."""
    rnd = random.Random(seed)
    out: list[str] = []
    day, t_local, attempt = 14, 22 * 3600.0, 0
    while len(out) < target_lines:
        attempt += 1
        hh, rem = divmod(int(t_local) % 86400, 3600)
        stamp = f"2025-03-{day:02d} {hh:02d}:{rem // 60:02d}:{rem % 60:02d}.{rnd.randrange(1000):03d} [7412:1d3c]: "
        out += [stamp + "restore library built Oct 17 2024 at 19:42:11", stamp + "iTunes: iTunes 12.13.5.3",
                stamp + "iTunes: Software payload version: 22D72", stamp + "iTunes: Using MobileRestore state machine"]
        t = t_local + 8 * 3600 + 0.2
        def say(msg: str, dt: float = 0.05) -> None:
            nonlocal t
            t += dt
            out.append(f"{_bracket(t)} {msg}")
        say("Changing state from 'Idle' to 'Restoring'")
        for line in ("Device info:", "Board ID: 0x8", "Chip ID: 0x8020", f"ECID: 0x{0x1A2B3C4D5E6F00 + attempt:X}",
                     "Serial Number: F2LXK7Q9JC68", "Starting State: BootedOS"):
            say(line, 0.0001)
        say("amai: tss_submit_job: HttpQueryInfo returned 200", 2)
        for step in ("Entering recovery mode", "Finished BootedOS Restore Phase: Successful", "BootedOS mode device disconnected",
                     "Device removed when in state Restoring, moving device to transition state",
                     "Changing state from 'Restoring' to 'Transitioning'", "Creating a timer for 10 minutes",
                     f"Recovery mode device connected with ECID: 0x{0x1A2B3C4D5E6F00 + attempt:X}",
                     "Transitioning device returned, continuing restore.", "Changing state from 'Transitioning' to 'Restoring'"):
            say(step, 0.5)
        for _ in range(rnd.randint(*body)):
            r = rnd.random()
            if r < 0.62:
                say(f"<Restore Device 000002A7B3C01E40>: operation {rnd.choice((11, 12, 13, 13, 13, 14, 18, 27))} progress {rnd.randint(-1, 100)}", 0.02)
            elif r < 0.90:
                say(rnd.choice(NOISE), 0.01)
            elif r < 0.95:
                say("USBControlTransfer: error 31, usbd status c0000004", 0.01)
            elif r < 0.97:
                say("Changing state from 'Restoring' to 'Transitioning'", 0.01)
            else:
                say("AMDeviceIoControl: failed, error 997, usbd status 00000000", 0.01)
        failed = attempt % 2 == 1
        if failed:
            say("RestoreOS mode device disconnected")
            say("Unexpected device state 'Recovery' expected 'RestoreOS'", 20)
        say(f"Restore completed, status:{4013 if failed else 0}")
        say("Elapsed time (in seconds): 1200")
        if failed:
            say("Failure Description:")
            say("Depth:0 Code:4013 Error:The device was disconnected during the restore.")
            say("AMPDevicesAgent: Restore error 4013")
        t_local = t - 8 * 3600 + 120
        if t_local >= 86400:
            t_local -= 86400
            day += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


def baseline(path: Path) -> int:
    """Naive: decode, split, and per line try each compiled shape regex, then each marker regex."""
    g = grammars.load("apple_restore")
    shapes = [(s.name, re.compile("^" + s.regex + "$"), s.has_message, i) for i, s in enumerate(g.shapes)]
    markers = [(m.name, re.compile("^(?:" + m.regex + ")$"), m.literal) for m in g.markers]
    rows = []
    for n, line in enumerate(decode(path.read_bytes()).text.splitlines(), 1):
        for name, rx, has_msg, i in shapes:
            m = rx.match(line)
            if m:
                fields = {k.split("_", 1)[1]: v for k, v in m.groupdict().items() if v is not None}
                marker = None
                msg = fields.get("message") if has_msg else None
                if msg is not None:
                    for mname, mrx, lit in markers:
                        if lit and lit not in msg:
                            continue
                        mm = mrx.match(msg)
                        if mm:
                            marker = mname
                            fields.update({k[2:]: v for k, v in mm.groupdict().items() if v is not None})
                            break
                rows.append((n, name, marker, fields))
                break
    return len(rows)


def cold_start(args: list[str]) -> str:
    exe = shutil.which("analyze")
    cmd = [exe, *args] if exe else [sys.executable, "-m", "analyzer", *args]
    try:
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300)
        took = time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - the CLI may not exist yet
        return f"n/a ({type(exc).__name__})"
    label = "analyze" if exe else "python -m analyzer"
    return f"{took:.2f} s ({label} {' '.join(args)}, exit {proc.returncode})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--end-to-end-lines", type=int, default=400_000,
                    help="size of the whole-process comparison (issue 13 measures 400k lines)")
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_restore_") as tmp:
        path = Path(tmp) / "iTunes_restore.log"
        t0 = time.perf_counter()
        n = generate(path, opts.lines)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {n:,} lines, {size_mb:.1f} MB in {time.perf_counter() - t0:.1f} s ({path.name} in a temp dir)")
        t0 = time.perf_counter()
        grammars.load("apple_restore")
        print(f"grammar load (once per process): {time.perf_counter() - t0:.3f} s")
        t0 = time.perf_counter()
        parsed = parse_file(path)
        ta = time.perf_counter() - t0
        t0 = time.perf_counter()
        nb = baseline(path)
        tb = time.perf_counter() - t0
        rep = parsed.report
        print(f"analyzer : {ta:6.2f} s  {size_mb / ta:7.1f} MB/s  {n / ta:11,.0f} lines/s  "
              f"({rep.events:,} events, {rep.unrecognised} unrecognised, attempts {parsed.events['attempt'].max()})")
        print(f"baseline : {tb:6.2f} s  {size_mb / tb:7.1f} MB/s  {n / tb:11,.0f} lines/s  ({nb:,} rows)")
        print(f"ratio analyzer/baseline throughput: {tb / ta:.2f} (target >= 0.5)")
        whole = Path(tmp) / "whole" / "iTunes_restore.log"
        whole.parent.mkdir()
        with path.open(encoding="utf-8") as fh:
            whole.write_text("".join(line for _, line in zip(range(opts.end_to_end_lines), fh)), encoding="utf-8")
        te, tn = compare(whole, NAIVE_RESTORE, opts.runs)
        print(f"end to end, {opts.end_to_end_lines:,} lines, whole process, best of {opts.runs}: "
              f"analyze --format json {te:.2f} s, naive re loop {tn:.2f} s, ratio {tn / te:.2f} (target >= 0.8)")
    print("cold start analyze --help :", cold_start(["--help"]))
    print("cold start analyze samples/:", cold_start(["samples/"]))


if __name__ == "__main__":
    main()
