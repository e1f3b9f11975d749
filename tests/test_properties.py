"""Invariants over all sources and the whole pipeline (hypothesis)."""

from __future__ import annotations

import random
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import analyze
from analyzer.ingest import parse_file
from analyzer.model import EVENT_SCHEMA
from analyzer.sources import Input, claimants, registry

from conftest import SAMPLES

PREFIXES = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"ElfFile\x00", b"2026-01-02 03:04:05.678 [12:3a]: ",
            b"[Device Install Log]\r\n", b"#Version: 1.5\n#Fields: date time action\n", b"Event[0]:\r\n  Log Name: System\r\n",
            b"<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>", b"Level\tDate and Time\tSource\tEvent ID\tTask Category\r\n"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=2048))
def test_no_source_raises_on_arbitrary_bytes(tmp_path_factory, prefix, body):
    path = tmp_path_factory.mktemp("fuzz") / "input"
    path.write_bytes(prefix + body)
    parsed = parse_file(path)
    assert list(parsed.events.schema) == list(EVENT_SCHEMA)
    assert parsed.report.events == parsed.events.height
    if parsed.report.format is None:
        assert parsed.report.errors, "an unrecognised file must say why"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=2048))
def test_sniffing_never_raises_on_arbitrary_bytes(tmp_path_factory, prefix, body):
    """Sniffers carry no guard of their own: the registry's claimants is what never raises
    (a sniffer that raises takes no claim), so the invariant is tested there."""
    path = tmp_path_factory.mktemp("fuzz") / "input"
    path.write_bytes(prefix + body)
    assert set(claimants(Input(path, "input"))) <= set(registry())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=3000), encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "cp1252"]))
def test_no_source_raises_on_arbitrary_text(tmp_path_factory, text, encoding):
    path = tmp_path_factory.mktemp("fuzz") / "input.log"
    path.write_bytes(text.encode(encoding, errors="replace"))
    parsed = parse_file(path)
    assert parsed.report.events == parsed.events.height
    assert parsed.report.format is not None or parsed.report.errors, "an unrecognised file must say why"


def _verdicts(result) -> list[tuple]:
    return sorted(((i.error_code is None, i.error_code or 0), i.cause, i.confidence, tuple(sorted(i.rules)), i.attempt)
                  for i in result.incidents)


# a backup folder's layout is part of its format (Manifest.plist beside Status.plist, <xx>/<fileID>, Snapshot/):
# flattening it into renamed files is not the same evidence, so those PCs are left out here
BUNDLES = sorted(p for p in SAMPLES.iterdir() if p.is_dir() and not (p / "Backup").is_dir())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), bundle=st.sampled_from(BUNDLES))
def test_renaming_and_reordering_files_does_not_change_the_verdict(tmp_path_factory, seed, bundle):
    rng = random.Random(seed)
    files = sorted(p for p in bundle.rglob("*") if p.is_file())
    copy = tmp_path_factory.mktemp("pc") / bundle.name
    copy.mkdir()
    names = [f"f{rng.randrange(10**6):06d}_{i}.bin" for i in range(len(files))]
    for src, name in zip(files, names):
        shutil.copyfile(src, copy / name)
    shuffled = [copy / n for n in names]
    rng.shuffle(shuffled)
    original = analyze([bundle], layout="host")
    permuted = analyze(shuffled, layout="host")
    assert _verdicts(permuted) == _verdicts(original)
