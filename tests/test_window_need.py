"""Which rows an evidence window takes (analyzer.window_need): a gated kind's rows only where some
rule's detection holds, and the verdicts exactly those of the ungated window."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

import analyzer.diagnose as diagnosing
from analyzer import analyze
from analyzer.correlate import attempts, evidence_window, mark_transitions
from analyzer.model import conform
from analyzer.report.json_doc import dumps
from analyzer.rules import default_rules, parse_rule
from analyzer.window_need import CITED_KINDS, PAIRED_KINDS, WindowNeed, window_need

from conftest import SAMPLES

DISK_FULL = "There is not enough space on the disk"

_RULE = '''
cause = "host_storage"
weight = 1.0
fires_on = ["restore_disk_full_ja_14"]
[title]
en = "t"
ja = "t"
[why]
en = "w"
[detection.text]
kind = "generic"
{extra}
"message|contains" = "needle"
'''


def _rule(extra: str = ""):
    errors: list = []
    rule = parse_rule(Path("probe.toml"), _RULE.format(extra=extra), errors)
    assert rule is not None, errors
    return rule


def _ungated(rules) -> WindowNeed:
    return WindowNeed(window_need(rules).kinds)


def test_the_bundled_rules_gate_the_bulk_kinds_and_take_the_cited_and_paired_ones_whole():
    need = window_need(default_rules())
    assert "generic" in need.gated and "phase" in need.gated
    assert CITED_KINDS | {"device_disconnect"} <= need.kinds
    assert not (CITED_KINDS | PAIRED_KINDS) & need.gated
    # a gate tests only the detections of its kind's rules, on the columns they read
    generic = need.gates["generic"]
    assert len(generic.tests) == sum("generic" in r.kinds for r in default_rules())
    assert set(generic.columns) <= {"kind", "attempt", "message", "detail", "subject", "provider"}


def test_a_rule_that_reads_what_only_a_window_has_takes_its_kinds_whole():
    assert window_need((_rule(),)).gated == {"generic"}
    # later_success is a history fact of the incident, not of the row
    assert window_need((_rule('"later_success" = true'),)).gated == frozenset()
    # a rule that names no kind: every row of every kind
    errors: list = []
    anything = parse_rule(Path("any.toml"), _RULE.format(extra="").replace('kind = "generic"\n', ""), errors)
    assert anything is not None and anything.kinds is None
    need = window_need((_rule(), anything))
    assert need.kinds is None
    assert need.mask(conform(pl.DataFrame({"kind": ["generic"], "message": ["x"]}))).to_list() == [True]


def test_the_mask_takes_detected_rows_of_a_gated_kind_and_every_row_of_a_whole_kind():
    rows = conform(pl.DataFrame({
        "kind": ["generic", "generic", "result", "progress", "generic", "failure_detail"],
        "message": ["noise", "a needle here", "Restore failed", "progress 3", None, "Depth:0"],
        "line": [1, 2, 3, 4, 5, 6]}))
    assert window_need((_rule(),)).mask(rows).to_list() == [False, True, True, False, False, True]


def _failing_log(tmp_path: Path, noise: int) -> Path:
    """The disk-full sample's attempt with ``noise`` generic lines in its body."""
    src = SAMPLES / "restore_disk_full_ja_14" / "iTunes_restore.log"
    lines = src.read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("[")) + 1
    stamp = lines[at].split("]", 1)[0] + "]"
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "iTunes_restore.log").write_text(
        "\n".join(lines[:at] + [f"{stamp} Found known device, nudging state machine."] * noise
                  + [f"{stamp} amai: writing the restore bundle failed: {DISK_FULL}."] + lines[at:]) + "\n",
        encoding="utf-8")
    return pc


def test_a_long_attempts_window_holds_the_phrase_not_the_noise(tmp_path):
    pc = _failing_log(tmp_path, 5000)
    events = analyze([str(pc)]).events
    failed = attempts(events).filter(pl.col("outcome") == "failed")
    rules = default_rules()
    gated = evidence_window(mark_transitions(events), failed, window_need(rules))
    ungated = evidence_window(mark_transitions(events), failed, _ungated(rules))
    noise = pl.col("message").cast(pl.String).str.contains("nudging", literal=True)
    assert ungated.filter(noise).height == 5000
    assert gated.filter(noise).height == 0
    phrase = pl.col("message").cast(pl.String).str.contains(DISK_FULL, literal=True)
    assert gated.filter(phrase).get_column("kind").cast(pl.String).to_list() == ["generic"]
    assert ungated.filter(phrase).height == 1
    # the failure description (cited, taken whole) is there either way
    cited = pl.col("kind").cast(pl.String).is_in(sorted(CITED_KINDS))
    assert gated.filter(cited).equals(ungated.filter(cited)) and gated.filter(cited).height >= 2
    # every row the ungated window has and the gated one lacks is one no rule matches
    assert gated.height < ungated.height - 5000 + 50


@pytest.mark.parametrize("pcs", [[str(SAMPLES)]], ids=["samples"])
def test_every_verdict_is_the_same_without_the_gates(monkeypatch, pcs, tmp_path):
    gated = analyze(pcs + [str(_failing_log(tmp_path, 200))])
    monkeypatch.setattr(diagnosing, "window_need", _ungated)
    ungated = analyze(pcs + [str(tmp_path / "pc")])
    assert len(gated.incidents) == len(ungated.incidents) >= 40
    assert [dataclasses.asdict(i) for i in gated.incidents] == [dataclasses.asdict(i) for i in ungated.incidents]
    assert dumps(gated) == dumps(ungated)
    disk = next(i for i in gated.incidents if i.host == "pc")
    assert disk.cause == "host_storage" and "failure_text_disk_full" in disk.rules
