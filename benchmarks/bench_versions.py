"""Benchmark: this checkout against an earlier version, whole ``analyze`` processes side by side.

Why: a change to the design must not make the user wait longer or use more memory. What the user
waits for is the whole process (start-up, reading, correlation, the report), so each workload is
run as ``python -m analyzer INPUT --format json`` for both versions, alternately, and the script
prints the median and best wall time and the peak RSS of each, their ratio, and whether the two
JSON documents give the same verdicts (incident causes, confidences and rules).

Workloads (generated in a temporary folder; the real ``.evtx`` corpus read in place when present):

* a MobileRestore log of about 400,000 lines (``bench_restore.generate``);
* a restore log of many short sessions (a repair bench's log; 400 by default, so that versions
  whose correlation grows with attempts × events still finish);
* the ``.evtx`` files of ``../shared/corpus/windows/``;
* ``samples/`` as a fleet.

The earlier version is taken with ``git archive REV`` into a temporary folder and run from there
with the same Python and packages.

Run: ``python benchmarks/bench_versions.py [--base REV] [--runs N] [--sessions N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_restore import generate  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "windows"
#: Runs the analyzer's CLI in this process and reports its peak RSS (KiB) on stderr, last.
CHILD = ("import resource, runpy, sys\n"
         "sys.argv = ['analyze'] + sys.argv[1:]\n"
         "try:\n    runpy.run_module('analyzer', run_name='__main__')\n"
         "finally:\n    sys.stderr.write('\\nMAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")


def sessions_log(path: Path, sessions: int) -> None:
    """A Windows MobileRestore log of ``sessions`` short restores, about 40 % failed with 4013."""
    lines = []
    for n in range(sessions):
        t = 8 * 3600 + n * 300
        hh, mm, ss = t // 3600 % 24, t // 60 % 60, t % 60
        day = 3 + t // 86400
        head = f"2025-06-{day:02d} {hh:02d}:{mm:02d}:{ss:02d}.120 [7412:1d3c]: "
        lines += [head + "restore library built Oct 17 2024 at 19:42:11", head + "iTunes: iTunes 12.13.5.3",
                  head + "iTunes: Software payload version: 22D72"]
        failed = n % 5 < 2

        def at(dt: float, msg: str) -> None:
            u = int(t + 9 * 3600 + dt)  # the brackets are UTC, the header UTC-9
            frac = int(dt * 1000) % 1000
            lines.append(f"[{u // 3600 % 24:02d}:{u // 60 % 60:02d}:{u % 60:02d}.0{frac:03d}] {msg}")
        at(0.1, "Changing state from 'Idle' to 'Restoring'")
        at(0.2, f"ECID: 0x{0x1A2B3C4D5E0000 + n:X}")
        at(1, "Entering recovery mode")
        at(2, "BootedOS mode device disconnected")
        at(9, f"Recovery mode device connected with ECID: 0x{0x1A2B3C4D5E0000 + n:X}")
        for step in range(20):
            at(10 + step, f"<Restore Device 0x7f8e41d0a6b0>: operation 14 progress {step * 5}")
        if failed:
            at(40, "RestoreOS mode device disconnected")
            at(60, "Restore completed, status:4013")
        else:
            at(40, "Restore completed, status:0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _tree(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def _run(tree: Path, args: list[str], cwd: Path) -> tuple[float, int, str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "160"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss = next((int(line.split()[1]) for line in reversed(done.stderr.splitlines()) if line.startswith("MAXRSS")), 0)
    return wall, rss // 1024, done.stdout


def _verdicts(stdout: str) -> list | str:
    try:
        doc = json.loads(stdout)
    except ValueError:
        return "no JSON"
    return [(i["host"], i["file"].split("/")[-1], i["attempt"], i["cause"]["id"], i["cause"]["confidence"],
             sorted(i["rules"])) for i in doc["incidents"]]


def compare(name: str, args: list[str], trees: dict[str, Path], runs: int, cwd: Path) -> None:
    walls: dict[str, list[float]] = {k: [] for k in trees}
    rss: dict[str, int] = {k: 0 for k in trees}
    out: dict[str, str] = {}
    for _ in range(runs):
        for label, tree in trees.items():  # alternate, so a busy spell hurts both alike
            wall, peak, out[label] = _run(tree, args, cwd)
            walls[label].append(wall)
            rss[label] = max(rss[label], peak)
    same = _verdicts(out["base"]) == _verdicts(out["head"])
    med = {k: statistics.median(v) for k, v in walls.items()}
    print(f"{name:<34} " + "  ".join(f"{k}: {med[k]:6.2f} s (best {min(walls[k]):6.2f}) {rss[k]:5d} MB"
                                      for k in trees)
          + f"  head/base time {med['head'] / med['base']:.2f}  same verdicts: {'yes' if same else 'NO'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD~1", help="the earlier version (a git revision)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--lines", type=int, default=400_000)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-versions-") as tmp:
        work = Path(tmp)
        trees = {"base": _tree(opts.base, work / "base"), "head": ROOT}
        big, many = work / "restore.log", work / "bench.log"
        generate(big, opts.lines)
        sessions_log(many, opts.sessions)
        print(f"base = {opts.base}, head = this checkout; {opts.runs} alternating runs each, whole process")
        compare(f"restore log, {opts.lines:,} lines", [str(big), "--format", "json"], trees, opts.runs, work)
        compare(f"restore log, {opts.sessions:,} sessions", [str(many), "--format", "json"], trees, opts.runs, work)
        evtx = sorted(str(p) for p in CORPUS.glob("*.evtx")) if CORPUS.is_dir() else []
        if evtx:
            compare(f".evtx corpus, {len(evtx)} files", [*evtx, "--format", "json", "--layout", "host"], trees,
                    opts.runs, work)
        compare("samples/ (a fleet of PCs)", [str(ROOT / "samples"), "--format", "json"], trees, opts.runs, work)


if __name__ == "__main__":
    main()
