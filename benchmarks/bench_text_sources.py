"""Throughput of the setupapi and pfirewall sources against a naive per-line ``re`` baseline.

Builds, in a temporary directory (never in the repo), a setupapi.dev.log-like
file of at least 50 MB (the real plaso file from ../shared/corpus repeated, or
the repo sample when the corpus is absent) and a large pfirewall.log, then
times in one run:

* analyzer: ``ingest.parse_file`` end to end (sniff, decode, grammar fast
  path, section assembly, events);
* baseline: read + decode + ``splitlines`` + for every line a loop over
  compiled ``re`` patterns extracting the same fields (shape fields, body
  markers; for pfirewall the columns split by the header's names).

Prints MB/s, lines/s and the ratio analyzer/baseline (target >= 0.5).

    python benchmarks/bench_text_sources.py [--mb 50] [--fw-mb 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.ingest import parse_file  # noqa: E402
from analyzer.textio import decode  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "windows"
SAMPLE_DIR = ROOT / "samples" / "win_driver_install_failure"

# -- naive baseline: the same fields, one compiled regex per shape, tried line by line ----------
SETUPAPI_SHAPES = [
    ("log_tag", re.compile(r"^\[([^\[\]:]+)\]$")),
    ("boot_session", re.compile(r"^\[([^\[\]:]+): (\d{4}/\d\d/\d\d) (\d\d:\d\d:\d\d\.\d+)\]$")),
    ("section_title", re.compile(r"^>>>  (\[.*\])$")),
    ("section_start", re.compile(r"^>>>  ([^\[\s\d]\S*(?: [^\s\d]\S*)*) (\d{4}/\d\d/\d\d) (\d\d:\d\d:\d\d\.\d+)$")),
    ("section_end", re.compile(r"^<<<  ([^\[\s\d]\S*(?: [^\s\d]\S*)*) (\d{4}/\d\d/\d\d) (\d\d:\d\d:\d\d\.\d+)$")),
    ("exit_status", re.compile(r"^<<<  \[([^\[\]:]+): ([^\]]+)\]$")),
    ("header_value", re.compile(r"^     ([A-Za-z][\w.]*(?: [A-Za-z][\w.]*)*) = (.+)$")),
    ("body", re.compile(r"^(!!! +|! +| +)([a-z]{2,4}):(.*)$")),
]
SETUPAPI_MARKERS = [
    ("block_exit_timed", re.compile(r"^ +\{([^{}()]+)\((0x[0-9a-fA-F]+)\)\} (\d\d:\d\d:\d\d\.\d+)$")),
    ("block_exit", re.compile(r"^ +\{([^{}()]+)\((0x[0-9a-fA-F]+)\)\}$")),
    ("block_timed", re.compile(r"^ +\{([^{}()]+)\} (\d\d:\d\d:\d\d\.\d+)$")),
    ("block", re.compile(r"^ +\{([^{}()]+)\}$")),
    ("text", re.compile(r"^(.+)$")),
]
FW_DIRECTIVE = re.compile(r"^#([A-Za-z][A-Za-z0-9 _\-]*):(.*)$")
FW_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([A-Za-z][A-Za-z\-]*)( .*)?$")


def baseline_setupapi(path: Path) -> int:
    lines = decode(path.read_bytes()).text.splitlines()
    out = []
    for line in lines:
        for shape, rx in SETUPAPI_SHAPES:
            m = rx.match(line)
            if m:
                fields = m.groups()
                marker = None
                if shape == "body":
                    for name, mrx in SETUPAPI_MARKERS:
                        mm = mrx.match(fields[2])
                        if mm:
                            marker = (name, mm.groups())
                            break
                out.append((shape, fields, marker))
                break
        else:
            out.append(None)
    return len(lines)


def baseline_firewall(path: Path) -> int:
    lines = decode(path.read_bytes()).text.splitlines()
    names: list[str] = []
    out = []
    for line in lines:
        m = FW_DIRECTIVE.match(line)
        if m:
            if m.group(1).lower() == "fields":
                names = m.group(2).split()
            continue
        m = FW_RECORD.match(line)
        if m:
            values = line.rstrip().split(" ")
            out.append(dict(zip(names, values)))
    return len(lines)


# -- inputs ------------------------------------------------------------------------------------
def build_setupapi(target: Path, megabytes: int) -> None:
    src = CORPUS / "plaso_setupapi.dev.log"
    base = (src if src.is_file() else SAMPLE_DIR / "setupapi.dev.log").read_bytes()
    header, sep, body = base.partition(b"[BeginLog]\r\n")
    body = body if sep else base
    with target.open("wb") as fh:
        fh.write(header + sep)
        size, i = 0, 0
        while size < megabytes * 1_000_000:
            # vary the chunk a little (boot session stamp) so it is not byte-identical
            chunk = body.replace(b"[Boot Session: 2015/11/22", b"[Boot Session: 2015/11/%02d" % (1 + i % 28))
            fh.write(chunk)
            size += len(chunk)
            i += 1


def build_firewall(target: Path, megabytes: int) -> None:
    rnd = random.Random(7)
    head = ("#Version: 1.5\r\n#Software: Microsoft Windows Firewall\r\n#Time Format: Local\r\n"
            "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin "
            "icmptype icmpcode info path pid\r\n\r\n")
    rows = []
    for i in range(20000):
        action = rnd.choice(["DROP", "ALLOW", "ALLOW", "DROP"])
        dst = rnd.choice(["127.0.0.1", "17.253.53.207", f"192.168.1.{rnd.randint(1, 254)}", "ff02::fb"])
        port = rnd.choice(["27015", "443", "53", "5353"])
        rows.append(f"2024-03-18 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} {action} TCP 192.168.1.23 {dst} "
                    f"{50000 + i % 15000} {port} 0 - 0 0 0 - - - SEND {rnd.randint(4, 9000)}\r\n")
    block = "".join(rows).encode()
    with target.open("wb") as fh:
        fh.write(head.encode())
        size = 0
        while size < megabytes * 1_000_000:
            fh.write(block)
            size += len(block)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def report(name: str, path: Path, analyzer_fn, baseline_fn, repeat: int) -> float:
    mb = path.stat().st_size / 1e6
    parsed = parse_file(path)
    lines = parsed.report.records
    assert parsed.report.format, parsed.report.errors
    t_an = best_of(analyzer_fn, repeat)
    t_re = best_of(baseline_fn, repeat)
    ratio = t_re / t_an
    print(f"{name}: {mb:.1f} MB, {lines:,} lines, {parsed.report.events:,} events")
    print(f"  analyzer : {t_an:6.2f} s  {mb / t_an:7.1f} MB/s  {lines / t_an:12,.0f} lines/s")
    print(f"  naive re : {t_re:6.2f} s  {mb / t_re:7.1f} MB/s  {lines / t_re:12,.0f} lines/s")
    print(f"  ratio analyzer/baseline throughput: {ratio:.2f}  ({'ok' if ratio >= 0.5 else 'BELOW TARGET 0.5'})")
    return ratio


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=50, help="size of the setupapi-like file (MB, default 50)")
    ap.add_argument("--fw-mb", type=int, default=20, help="size of the pfirewall log (MB, default 20)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_text_") as tmp:
        setupapi = Path(tmp) / "setupapi.dev.log"
        firewall = Path(tmp) / "pfirewall.log"
        build_setupapi(setupapi, args.mb)
        build_firewall(firewall, args.fw_mb)
        r1 = report("setupapi.dev.log", setupapi, lambda: parse_file(setupapi), lambda: baseline_setupapi(setupapi),
                    args.repeat)
        r2 = report("pfirewall.log", firewall, lambda: parse_file(firewall), lambda: baseline_firewall(firewall),
                    args.repeat)
    return 0 if min(r1, r2) >= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
