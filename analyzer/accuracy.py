"""How well the verdicts match what each sample was written to show.

``tests/expected_verdicts.toml`` lists, per sample PC, the failed attempts and
the cause each must get (and a minimum confidence). ``python -m analyzer.accuracy
[SAMPLES [EXPECTED]]`` prints the table (exit 0 when every verdict is as expected,
1 when one is not); tests/test_accuracy.py fails when any verdict drifts.
Keeping expectations as data means a new sample is a new entry, not new code.

A sample whose failure left no failure line (an iCloud error) is analysed as the user would report
it: its entry carries ``symptom`` and ``at`` (and optionally ``window``, ``tz``), passed to
:func:`analyzer.analyze`, and names no ``file`` (the incident is ``reported``).

The samples and the expectations live in the source checkout, not in the
installed package: the defaults are the checkout's ``samples/`` and
``tests/expected_verdicts.toml``, and when they are absent (an installed wheel)
the command says so and exits 2.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .api import analyze

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    bundle: str
    attempt: str
    error_code: int | None
    expected: str
    found: str
    confidence: float | None
    min_confidence: float

    @property
    def ok(self) -> bool:
        return self.expected == self.found and (self.confidence or 0) >= self.min_confidence


#: The keys of an expectation that are options of the run, not of the verdict.
RUN_OPTIONS = ("symptom", "at", "window", "tz")
REPORTED = "(reported)"


def load_expected(path: Path) -> dict[str, list[dict]]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["sample"]


def run_options(entries: list[dict]) -> dict[str, str]:
    """The :func:`analyzer.analyze` options a sample's expectations ask for (a reported symptom)."""
    return {key: entry[key] for entry in entries for key in RUN_OPTIONS if key in entry}


def _key(incident) -> tuple[str, int]:
    return (REPORTED, 0) if incident.reported else (Path(incident.file).name, incident.attempt)


def evaluate(samples: Path, expected_path: Path) -> list[Row]:
    rows: list[Row] = []
    expected = load_expected(expected_path)
    bundles = sorted({p.name for p in samples.iterdir() if p.is_dir()} | set(expected))
    for bundle in bundles:
        wanted = expected.get(bundle, [])
        result = analyze([samples / bundle], layout="host", **run_options(wanted))
        found = {_key(i): i for i in result.incidents}
        listed = set()
        for item in wanted:
            key = (item["file"], item.get("attempt", 1)) if "file" in item else (REPORTED, 0)
            listed.add(key)
            inc = found.get(key)
            rows.append(Row(bundle, f"{key[0]}#{key[1]}", inc.error_code if inc else None, item["cause"],
                            inc.cause if inc else "no incident", inc.confidence if inc else None,
                            item.get("min_confidence", 0.0)))
        for key, inc in sorted(found.items()):
            if key not in listed:
                rows.append(Row(bundle, f"{key[0]}#{key[1]}", inc.error_code, "no incident", inc.cause,
                                inc.confidence, 0.0))
    return rows


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m analyzer.accuracy",
                                     description="Compare each sample's verdict with the one it was written to show.")
    parser.add_argument("samples", nargs="?", type=Path, default=None,
                        help="folder of sample PCs, one subfolder each (default: the checkout's samples/)")
    parser.add_argument("expected", nargs="?", type=Path, default=None,
                        help="expected verdicts (default: the checkout's tests/expected_verdicts.toml)")
    args = parser.parse_args(argv)
    args.samples = args.samples or ROOT / "samples"
    args.expected = args.expected or ROOT / "tests" / "expected_verdicts.toml"
    return args


def _absent(samples: Path, expected: Path) -> list[str]:
    """What is missing, one line each."""
    lines = []
    if not samples.is_dir():
        lines.append(f"samples folder not found: {samples}")
    if not expected.is_file():
        lines.append(f"expected verdicts not found: {expected}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    args = _arguments(argv)
    absent = _absent(args.samples, args.expected)
    if absent:
        for line in absent:
            print(f"analyzer.accuracy: {line}", file=sys.stderr)
        print("analyzer.accuracy: the samples and their expected verdicts come with a source checkout, not with "
              "the installed package; run it in the checkout's top folder (python -m analyzer.accuracy), or give "
              "both: python -m analyzer.accuracy SAMPLES_DIR EXPECTED_TOML", file=sys.stderr)
        return 2
    rows = evaluate(args.samples, args.expected)
    table = Table(title=f"Verdict accuracy over {args.samples.name}/")
    for col in ("sample", "attempt", "code", "expected", "found", "confidence", "ok"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.bundle, r.attempt, str(r.error_code or ""), r.expected, r.found,
                      "" if r.confidence is None else f"{r.confidence:.2f}", "yes" if r.ok else "NO")
    Console().print(table)
    good = sum(r.ok for r in rows)
    print(f"{good}/{len(rows)} verdicts as expected")
    return 0 if good == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
