"""Benchmark: what finding a pasted margin and log regions costs, side by side in one run.

Why: every text file now goes through two steps before its source reads it — the margin test
(:mod:`analyzer.paste`: a quote, list, relay prefix or line-number gutter on every line) and, for
files up to 4 MiB, the region search (:mod:`analyzer.regions`: several logs, or a log inside a
ticket). Both must stay cheap next to reading the log itself (target: < 10 %).

For each workload the script times ``analyzer.ingest.parse_parts`` as shipped ("with") and with
both steps switched off in-process ("without": ``paste.detect`` finds nothing, ``regions.find``
finds nothing), alternating runs, and prints the best run of each (wall and CPU time) and the overhead. A workload whose margin
must be removed to be read at all (the quoted log) is compared with the same log unquoted; the
ticket (a mail with a setupapi section and a restore-log tail in it) with its two logs given as
separate files.

    python benchmarks/bench_paste.py [--lines 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analyzer import ingest, paste, regions  # noqa: E402
from bench_restore import generate  # noqa: E402

SETUPAPI = (">>>  [Device Install (Hardware initiated) - USB\\VID_05AC&PID_12A8\\00008101000A3D5C0E9B001E]\n"
            ">>>  Section start 2026/03/14 09:12:40.311\n"
            "     ump: Creating Install Process: DrvInst.exe 09:12:40.318\n"
            "     ndv: Retrieving device info...\n"
            "     ndv: Setting device parameters...\n"
            "!!!  ndv: Device install failed: 0xe0000219\n"
            "<<<  Section end 2026/03/14 09:12:44.902\n"
            "<<<  [Exit status: FAILURE(0xe0000219)]\n\n")
MAIL = ("From: helpdesk@example.org\nSubject: iPhone restore fails with 4013\n\n"
        "Hello, the restore stopped again this morning. Logs below.\n\n")


def _parse(path: Path) -> int:
    return sum(p.events.height for p in ingest.parse_parts(path, display=path.name, host="bench"))


def _parse_without(path: Path) -> int:
    with mock.patch.object(paste, "detect", lambda text: None), mock.patch.object(regions, "find",
                                                                                  lambda *a, **k: []):
        return _parse(path)


def _timed(fn, paths: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of reading ``paths`` with ``fn``."""
    start, cpu = time.perf_counter(), time.process_time()
    for p in paths:
        fn(p)
    return time.perf_counter() - start, time.process_time() - cpu


def _compare(name: str, with_paths: list[Path], without_paths: list[Path], runs: int) -> None:
    first, second = [], []
    _timed(_parse, with_paths)  # warm: grammars compiled, sources imported
    _timed(_parse_without, without_paths)
    for _ in range(runs):
        first.append(_timed(_parse, with_paths))
        second.append(_timed(_parse_without, without_paths))
    # the best run of each: on a shared machine the others measure the neighbours too
    (a, ca), (b, cb) = min(first), min(second)
    events = sum(_parse(p) for p in with_paths), sum(_parse_without(p) for p in without_paths)
    print(f"{name:44s} with: {a:6.3f} s ({ca:6.3f} cpu)   without: {b:6.3f} s ({cb:6.3f} cpu)   "
          f"overhead {100 * (a / b - 1):+5.1f} % wall, {100 * (ca / cb - 1):+5.1f} % cpu   "
          f"events {events[0]:,} / {events[1]:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the generated restore log")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plain = root / "restore.log"
        generate(plain, args.lines)
        quoted = root / "quoted.log"
        quoted.write_text("".join("> " + line for line in plain.read_text().splitlines(True)))
        small = root / "restore_small.log"
        generate(small, 40_000)  # under the region search's 4 MiB limit, so the search runs
        tail = "".join(small.read_text().splitlines(True)[-400:])
        ticket = root / "ticket.txt"
        ticket.write_text(MAIL + SETUPAPI + "\nand the end of the iTunes log:\n\n" + tail)
        part_a, part_b = root / "setupapi.dev.log", root / "tail.log"
        part_a.write_text(SETUPAPI)
        part_b.write_text(tail)
        print(f"restore log {plain.stat().st_size / 1e6:.1f} MB, small log {small.stat().st_size / 1e6:.1f} MB, "
              f"ticket {ticket.stat().st_size / 1e3:.0f} kB; best of {args.runs} alternating runs")
        _compare("restore log (over 4 MiB: margin test only)", [plain], [plain], args.runs)
        _compare("restore log under 4 MiB (margin + regions)", [small], [small], args.runs)
        _compare("quoted restore log (> ) vs the log itself", [quoted], [plain], args.runs)
        _compare("ticket with two logs vs the logs as files", [ticket], [part_a, part_b], args.runs)


if __name__ == "__main__":
    main()
