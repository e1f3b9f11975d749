"""How well the verdicts match what each sample was written to show.

``tests/expected_verdicts.toml`` lists, per sample PC, the failed attempts and
the cause each must get (and a minimum confidence). ``python -m analyzer.accuracy``
prints the table; tests/test_accuracy.py fails when any verdict drifts.
Keeping expectations as data means a new sample is a new entry, not new code.
"""

from __future__ import annotations

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


def load_expected(path: Path) -> dict[str, list[dict]]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["sample"]


def evaluate(samples: Path, expected_path: Path) -> list[Row]:
    rows: list[Row] = []
    expected = load_expected(expected_path)
    bundles = sorted({p.name for p in samples.iterdir() if p.is_dir()} | set(expected))
    for bundle in bundles:
        wanted = expected.get(bundle, [])
        result = analyze([samples / bundle], layout="host")
        found = {(Path(i.file).name, i.attempt): i for i in result.incidents}
        listed = set()
        for item in wanted:
            key = (item["file"], item.get("attempt", 1))
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


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    rows = evaluate(ROOT / "samples", ROOT / "tests" / "expected_verdicts.toml")
    table = Table(title="Verdict accuracy over samples/")
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
