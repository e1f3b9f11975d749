"""Scale: wall time and peak memory of the whole ``analyze`` process as the input grows.

    python benchmarks/bench_scale.py [--base-lines 100000] [--cases restore,sessions,attempt,line,evtx,fleet,outputs] [--quick]

Every input is generated in a temporary folder (the .evtx case copies the real corpus files
from ../shared/corpus/windows, read-only, and is skipped without them). Each case runs the
CLI as a subprocess, ``analyze INPUT --format json``, start-up included, and prints its wall
time and peak RSS (the child's ``ru_maxrss``, its own children included), whether it gave a
JSON document, and how the figures grow:

* ``restore``: one restore log at 1x, 2x, 4x and 8x ``--base-lines`` (several attempts, progress,
  USB noise): time and RSS ratios against 1x; linear time means the 8x ratio is near 8;
* ``sessions``: a repair bench's log of 10,000 short restores (``--sessions``);
* ``attempt``: a restore log that is one attempt of ``--attempt-lines`` lines (a verbose log: cut
  inside the attempt, its window gated), also with ``--details`` and ``--html``, which draw it;
* ``line``: a restore log whose one line is ``--line-mb`` MB long;
* ``evtx``: the intact corpus .evtx files copied until ``--evtx-mb`` MB;
* ``fleet``: ``--hosts`` PCs, one folder each;
* ``outputs``: the 4x restore log again with each output that keeps every event (``--csv``,
  ``--format csv``, ``--timesketch``, ``--parquet``), the HTML report, ``--redact``, and all of
  them at once, against ``--format json`` alone: an output may cost time, but its peak must stay
  near the analysis's own (each is written in pieces).

Inputs are built in child processes and this process stays small: Linux keeps a process's RSS
high-water mark across exec, so whatever the parent held when it started ``analyze`` would be
counted as analyze's own.

The target of issue 13 is a peak RSS under 500 MB for each (at full size: a 1 GB restore log,
10,000 attempts, a 200 MB line, 2 GB of .evtx, 2,000 PCs); ``--quick`` runs small sizes to see
the shape of the curve in a minute.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CORPUS = ROOT.parent / "shared" / "corpus" / "windows"
#: Runs the CLI in this child and writes its peak RSS (KiB, its children included) last on stderr.
CHILD = ("import resource, runpy, sys\n"
         "sys.argv = ['analyze'] + sys.argv[1:]\n"
         "try:\n    runpy.run_module('analyzer', run_name='__main__')\n"
         "finally:\n"
         "    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
         "    sys.stderr.write('\\nMAXRSS %d\\n' % max(me.ru_maxrss, kids.ru_maxrss))\n")


#: Reads what an analyze run wrote (in a child: a document held here would raise this process's
#: high-water mark, which the next analyze run would inherit across exec and report as its own).
SUMMARY = ("import json, sys\n"
           "try:\n    doc = json.load(open(sys.argv[1], encoding='utf-8'))\n"
           "    print(f\"{doc['summary'].get('attempts', 0)} attempts, {len(doc['incidents'])} incidents\")\n"
           "except (ValueError, KeyError):\n    print('no JSON')\n")


def run(target: Path, options: tuple[str, ...] = ("--format", "json"), env: dict | None = None
        ) -> tuple[float, int, str]:
    """(wall seconds, peak RSS MB, what came out) of ``analyze target --format json`` (or ``options``,
    with ``env`` added to the environment). Its stdout goes to a file beside the input, never
    through this process (see SUMMARY)."""
    out = target.parent / f".{target.name}.stdout"
    start = time.perf_counter()
    with out.open("wb") as stdout:
        done = subprocess.run([sys.executable, "-c", CHILD, str(target), *options], cwd=ROOT,
                              stdout=stdout, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    rss = next((int(ln.split()[1]) for ln in reversed(done.stderr.splitlines()) if ln.startswith("MAXRSS")), 0)
    said = f"exit {done.returncode}"
    if "json" in options:
        said += ", " + subprocess.run([sys.executable, "-c", SUMMARY, str(out)], capture_output=True,
                                      text=True).stdout.strip()
    out.unlink()
    return wall, rss // 1024, said


def _mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and not p.name.endswith(".stdout")]
    return sum(p.stat().st_size for p in files) / 1e6


def show(name: str, target: Path, base: tuple[float, int] | None = None,
         options: tuple[str, ...] = ("--format", "json"), env: dict | None = None) -> tuple[float, int]:
    wall, rss, said = run(target, options, env)
    growth = f"   x{wall / base[0]:5.2f} time, x{rss / base[1]:4.2f} RSS" if base else ""
    print(f"{name:40s} {_mb(target):8.1f} MB  {wall:7.2f} s  peak {rss:6d} MB  ({said}){growth}", flush=True)
    return wall, rss


def _make(code: str, *args: object) -> None:
    """Build an input in a child process: what this process holds at fork time would count in the
    peak RSS of the analyze run that follows (Linux keeps a process's high-water mark across exec)."""
    subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); " + code,
                    str(HERE), *map(str, args)], check=True)


def one_log(folder: Path, code: str, n: int, name: str, drawn: bool = False) -> None:
    """A restore log made in ``folder`` by ``code`` (given ``path`` and ``n``), run and shown; with
    ``drawn``, also with the reports that draw its attempts (``--details``, ``--html``), side by side."""
    log = folder / "iPhone Restore.log"
    folder.mkdir()
    _make("from pathlib import Path; path, n = Path(sys.argv[2]), int(sys.argv[3]); " + code, log, n)
    base = show(name, log)
    if drawn:
        show(f"{name}, --details", log, base, ("--details",))
        show(f"{name}, --html", log, base, ("--format", "json", "--html", str(folder / "drawn.html")))


def restore_curve(tmp: Path, base_lines: int) -> None:
    """The first 1x, 2x, 4x, 8x ``base_lines`` lines of one generated log (the last attempt of each
    is cut short, as in a log copied mid-restore), so the sizes grow exactly."""
    whole = tmp / "whole.log"
    _make("from pathlib import Path; from bench_restore import generate; generate(Path(sys.argv[2]), int(sys.argv[3]))",
          whole, base_lines * 8)
    first = None
    for factor in (1, 2, 4, 8):
        log = tmp / f"restore-{factor}x" / "iPhone Restore.log"
        log.parent.mkdir()
        with whole.open("rb") as src, log.open("wb") as dst:
            for _, line in zip(range(base_lines * factor), src):
                dst.write(line)
        got = show(f"restore log {factor}x", log, first)
        first = first or got
        shutil.rmtree(log.parent)
    whole.unlink()


def outputs(tmp: Path, base_lines: int) -> None:
    """The 4x restore log with each output, side by side with ``--format json`` alone."""
    log = tmp / "outputs" / "iPhone Restore.log"
    log.parent.mkdir()
    _make("from pathlib import Path; from bench_restore import generate; generate(Path(sys.argv[2]), int(sys.argv[3]))",
          log, base_lines * 4)
    out = tmp / "outputs-written"
    out.mkdir()
    json_only = ("--format", "json")
    cases = {"json only": json_only, "--format csv": ("--format", "csv"),
             "--csv": (*json_only, "--csv", str(out / "t.csv")),
             "--timesketch": (*json_only, "--timesketch", str(out / "t.jsonl")),
             "--parquet": (*json_only, "--parquet", str(out / "pq")), "--html": (*json_only, "--html", str(out / "t.html")),
             "--redact": (*json_only, "--redact")}
    cases["all of them"] = (*cases["--csv"], *cases["--timesketch"][2:], *cases["--parquet"][2:], *cases["--html"][2:],
                            "--redact")
    base = None
    for name, options in cases.items():
        got = show(f"4x log, {name}", log, base, options)
        base = base or got
    shutil.rmtree(log.parent)
    shutil.rmtree(out)


def long_line(tmp: Path, megabytes: int) -> None:
    log = tmp / "long-line" / "iTunes_restore.log"
    log.parent.mkdir()
    _make("from pathlib import Path; from bench_restore import generate; generate(Path(sys.argv[2]), 2000)", log)
    with log.open("rb") as fh:
        lines = fh.readlines()
    with log.open("wb") as fh:
        fh.writelines(lines[:1000])
        fh.write(b"[12:00:00.0000] AMDeviceIoControl: payload ")
        for _ in range(megabytes):
            fh.write(b"x" * 1_000_000)
        fh.write(b"\n")
        fh.writelines(lines[1000:])
    del lines
    show(f"one {megabytes} MB line", log)


def evtx_set(tmp: Path, megabytes: int) -> None:
    intact = [p for p in sorted(CORPUS.glob("*.evtx")) if "broken" not in p.name]
    if not intact:
        print(f"evtx: skipped ({CORPUS} not found)")
        return
    folder = tmp / "evtx"
    folder.mkdir()
    n = 0
    while _mb(folder) < megabytes:
        for p in intact:
            n += 1
            shutil.copyfile(p, folder / f"{n}-{p.name}")
    # analysed in parts (its rows on disk: analyzer/parts.py), side by side with the same set whole
    whole = {"ANALYZER_PARTS_BYTES": str(1 << 50)}
    for output in (("--format", "json"), ("--format", "csv")):
        base = show(f"evtx set ({n} files) {output[1]}", folder, options=output)
        show(f"  the same, whole", folder, base, output, whole)
    shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default="restore,sessions,attempt,line,evtx,fleet,outputs")
    ap.add_argument("--base-lines", type=int, default=100_000)
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--attempt-lines", type=int, default=2_000_000)
    ap.add_argument("--line-mb", type=int, default=200)
    ap.add_argument("--evtx-mb", type=int, default=500)
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--quick", action="store_true", help="small sizes: 20k base lines, 1,000 sessions, 200k-line "
                                                         "attempt, 20 MB line, 100 MB evtx, 100 PCs")
    args = ap.parse_args(argv)
    if args.quick:
        args.base_lines, args.sessions, args.line_mb, args.evtx_mb, args.hosts = 20_000, 1000, 20, 100, 100
        args.attempt_lines = 200_000
    cases = set(args.cases.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="analyzer-bench-scale-"))
    try:
        print(f"{'case':40s} {'input':>11s}  {'wall':>9s}  {'peak RSS':>14s}")
        if "restore" in cases:
            restore_curve(tmp, args.base_lines)
        if "sessions" in cases:
            one_log(tmp / "bench", "from bench_versions import sessions_log; sessions_log(path, n)", args.sessions,
                    f"{args.sessions} sessions")
        if "attempt" in cases:
            one_log(tmp / "verbose", "from bench_restore import generate; generate(path, n, body=(n, n))",
                    args.attempt_lines, f"one attempt, {args.attempt_lines} lines", drawn=True)
        if "line" in cases:
            long_line(tmp, args.line_mb)
        if "evtx" in cases:
            evtx_set(tmp, args.evtx_mb)
        if "fleet" in cases:
            fleet = tmp / "fleet-root" / "fleet"
            _make("from pathlib import Path; from bench_fleet import plan_fleet, write_fleet; "
                  "write_fleet(Path(sys.argv[2]), plan_fleet(int(sys.argv[3])))", tmp / "fleet-root", args.hosts)
            show(f"fleet of {args.hosts} PCs", fleet)
        if "outputs" in cases:
            outputs(tmp, args.base_lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
