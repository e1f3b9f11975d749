"""Whole-process timing shared by the benchmarks: the user's wall clock, start-up included.

Why: a source measured inside a warm process hides what the user waits for (interpreter start,
imports, sniffing, correlation, the report). These helpers time ``analyze TARGET --format json``
and a naive baseline script each as a fresh subprocess, best of N, interleaved so that other load
on the machine hits both alike.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: What a hand-written parser of a restore log does per line with Python's ``re``: time, pid/tid,
#: message, error code, operation/progress, ECID (issue 13's baseline).
NAIVE_RESTORE = r'''
import re, sys
HEADER = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3}) \[(\d+):([0-9A-Fa-f]+)\]: (.*)$")
BRACKET = re.compile(r"^\[(\d{2}:\d{2}:\d{2}\.\d{4})\] (.*)$")
CODE = re.compile(r"(?:error|status|result =)[: ]+(-?\d+)")
PROGRESS = re.compile(r"operation (\d+) progress (-?\d+)")
ECID = re.compile(r"ECID: (0x[0-9A-Fa-f]+)")
kept = []
with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
    for line in fh:
        line = line.rstrip("\r\n")
        m = BRACKET.match(line) or HEADER.match(line)
        if m is None:
            continue
        text = m.groups()[-1]
        code, prog, ecid = CODE.search(text), PROGRESS.search(text), ECID.search(text)
        kept.append((m.group(1), text, code and code.group(1), prog and prog.groups(), ecid and ecid.group(1)))
print(len(kept))
'''

#: Bare iteration of every record of every .evtx file with the Rust parser, nothing else.
BARE_EVTX = r'''
import pathlib, sys
from evtx import PyEvtxParser
n = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.evtx")):
    it = PyEvtxParser(str(path)).records_json()
    while True:
        try:
            for _ in it:
                n += 1
            break
        except Exception:
            continue
print(n)
'''


#: The floors of any analysis of the same records in one process (issue 13's .evtx target is read
#: against them): the bare loop after ``import polars`` (what a polars-based reader pays before it
#: does anything), after importing analyzer's library, and with the records' texts kept (they are
#: what is analysed) rather than thrown away.
BARE_EVTX_AFTER_POLARS = "import polars\n" + BARE_EVTX
BARE_EVTX_AFTER_LIBRARY = "import analyzer.api\n" + BARE_EVTX
TEXTS_KEPT_AFTER_LIBRARY = r'''
import pathlib, sys
import analyzer.api
from evtx import PyEvtxParser
texts = []
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.evtx")):
    it = PyEvtxParser(str(path)).records_json()
    while True:
        try:
            texts.extend(r["data"] for r in it)
            break
        except Exception:
            continue
print(len(texts))
'''


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def compare(target: Path, baseline_source: str, runs: int = 3) -> tuple[float, float]:
    """Best wall seconds of (``analyze target --format json``, the baseline script on ``target``)."""
    best = compare_many(target, {"baseline": baseline_source}, runs)
    return best["analyze"], best["baseline"]


def compare_many(target: Path, baselines: dict[str, str], runs: int = 3) -> dict[str, float]:
    """Best wall seconds of ``analyze target --format json`` (key ``analyze``) and of each baseline
    script on ``target`` (by its name), all interleaved round by round."""
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        commands = {"analyze": [sys.executable, "-m", "analyzer", str(target), "--format", "json"]}
        for name, source in baselines.items():
            script = Path(tmp) / f"baseline-{len(commands)}.py"
            script.write_text(source, encoding="utf-8")
            commands[name] = [sys.executable, str(script), str(target)]
        _wall(commands[next(iter(baselines))])  # page cache warm for all
        best = dict.fromkeys(commands, float("inf"))
        for _ in range(runs):
            for name, cmd in commands.items():
                best[name] = min(best[name], _wall(cmd))
        return best
