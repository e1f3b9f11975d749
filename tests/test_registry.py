"""The pairing grammar ↔ source module ↔ samples, and sniffing by content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analyzer import grammars
from analyzer.ingest import parse_file
from analyzer.model import conform
from analyzer.sources import Input, Parsed, Source, claimants, registry

from analyzer.sources._backup_folder import payload_root

from conftest import ROOT, SAMPLES

GRAMMARS = sorted(p.stem for p in (ROOT / "grammar").glob("*.lark") if p.stem != "common")
SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "README.md")


def test_every_module_in_sources_is_registered():
    modules = sorted(p.stem for p in (ROOT / "analyzer" / "sources").glob("*.py") if not p.stem.startswith("_"))
    assert sorted(registry()) == modules


@pytest.mark.parametrize("name", GRAMMARS)
def test_every_grammar_has_its_source_and_compiles(name):
    assert name in registry(), f"grammar/{name}.lark has no analyzer/sources/{name}.py"
    compiled = grammars.load(name)
    assert compiled.shapes, f"{name}: no line shapes"


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_source_has_a_sample_it_recognises(name):
    formats = {parse_file(p).report.format for p in SAMPLE_FILES}
    assert name in formats, f"no file under samples/ is read as {name}"


#: Sample files that are sniffed: a backup's payload files are counted per folder, never sniffed
#: (tests/test_backup.py), and its 0-byte Manifest.plist is evidence its Status.plist reports.
SNIFFED = [p for p in SAMPLE_FILES if payload_root(p) is None and p.stat().st_size > 0]


def test_only_backup_payload_and_empty_files_are_left_unsniffed():
    left = [p for p in SAMPLE_FILES if p not in SNIFFED]
    assert left and all(payload_root(p) is not None or p.name == "Manifest.plist" for p in left)


@pytest.mark.parametrize("sample", SNIFFED, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_each_sample_has_exactly_one_claimant(sample):
    assert len(claimants(Input(sample, str(sample)))) == 1


@pytest.mark.parametrize("sample", SAMPLE_FILES[:40], ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sniffing_ignores_the_file_name(sample, tmp_path: Path):
    renamed = tmp_path / "renamed.dat"
    shutil.copyfile(sample, renamed)
    assert parse_file(renamed).report.format == parse_file(sample).report.format


def test_only_declared_sources_are_batched():
    assert [name for name, source in registry().items() if source.batched] == ["windows_evtx"]


def test_parse_many_by_default_parses_file_by_file_with_exceptions_in_place(tmp_path: Path):
    class Flaky(Source):
        name = "flaky"

        def parse(self, item: Input) -> Parsed:
            if item.display == "bad":
                raise ValueError("unreadable")
            return Parsed(conform(None), self.new_report(item))

    (tmp_path / "f").write_text("x")
    items = [Input(tmp_path / "f", name) for name in ("a", "bad", "b")]
    results = Flaky().parse_many(items)
    assert [r.report.path if isinstance(r, Parsed) else type(r) for r in results] == ["a", ValueError, "b"]
