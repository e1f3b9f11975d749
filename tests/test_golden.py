"""Golden files: every sample in, the expected event rows out.

Each file under ``samples/`` has a mirror ``tests/golden/<same path>.jsonl`` with
the rows its source produced (one JSON object per line, schema columns, nulls
omitted). A new case is two new files and no code. ``pytest --update-golden``
rewrites the mirrors from the current output; review the diff before committing.
Files listed in ``samples/README.md`` as documentation are not samples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from analyzer.ingest import parse_file

from conftest import GOLDEN, SAMPLES

NOT_SAMPLES = {"README.md"}


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name not in NOT_SAMPLES)


#: A value that depends on the checkout, not on the sample: a file's modification time (the hosts
#: file keeps it in its rows' detail, having no time of its own).
_MTIME = re.compile(r'"file_mtime":"[^"]*"')


def rows_of(frame: pl.DataFrame) -> list[dict]:
    out = []
    for row in frame.drop("file", "host").to_dicts():
        clean = {}
        for key, value in row.items():
            if value is None:
                continue
            clean[key] = value.isoformat() if hasattr(value, "isoformat") else value
            if key == "detail":
                clean[key] = _MTIME.sub('"file_mtime":"<mtime>"', value)
        out.append(clean)
    return out


@pytest.mark.parametrize("sample", sample_files(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sample_matches_golden(sample: Path, update_golden: bool):
    parsed = parse_file(sample, display=str(sample.relative_to(SAMPLES)), host="golden")
    if sample.stat().st_size == 0:  # a backup's 0-byte Manifest.plist: evidence of its folder (read by Status.plist)
        assert parsed.report.not_read == "empty"
        return
    assert parsed.report.format is not None, f"{sample} is not recognised by any source: {parsed.report.errors}"
    got = rows_of(parsed.events)
    header = {"format": parsed.report.format, "records": parsed.report.records, "events": parsed.report.events,
              "skipped": parsed.report.skipped, "unrecognised": parsed.report.unrecognised,
              "clock": parsed.report.clock}
    golden = GOLDEN / (str(sample.relative_to(SAMPLES)) + ".jsonl")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        with golden.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps({"report": header}, ensure_ascii=False, sort_keys=True) + "\n")
            for row in got:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    assert golden.exists(), f"no golden file {golden}; run pytest --update-golden and review it"
    lines = golden.read_text(encoding="utf-8").splitlines()
    expected_header = json.loads(lines[0])["report"]
    expected_rows = [json.loads(line) for line in lines[1:]]
    assert json.loads(json.dumps(header, sort_keys=True)) == expected_header
    assert len(got) == len(expected_rows)
    for i, (g, e) in enumerate(zip(json.loads(json.dumps(got, ensure_ascii=False)), expected_rows)):
        assert g == e, f"row {i} of {sample.name} differs from {golden.name}"
