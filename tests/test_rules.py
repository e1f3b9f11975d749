"""Rules as data: they load cleanly, errors are collected and located, and each rule
fires on the samples it names and on no other."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.rules import CAUSE_IDS, RuleError, load_rules, parse_rule

from conftest import SAMPLES

RULES, ERRORS = load_rules()


def bundles() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


@lru_cache(maxsize=None)
def fired(bundle: str) -> frozenset[str]:
    result = analyze([SAMPLES / bundle], layout="host")
    return frozenset(rule for incident in result.incidents for rule in incident.rules)


def test_shipped_rules_load_without_errors():
    assert ERRORS == []
    assert len(RULES) >= 3
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.cause in CAUSE_IDS and r.cause != "undetermined" for r in RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fires_on_its_samples_and_no_other(rule):
    for bundle in rule.fires_on:
        assert (SAMPLES / bundle).is_dir(), f"{rule.id}: fires_on names {bundle}, which is not in samples/"
        assert rule.id in fired(bundle), f"{rule.id} did not fire on {bundle}"
    for bundle in set(bundles()) - set(rule.fires_on):
        assert rule.id not in fired(bundle), f"{rule.id} also fires on {bundle}; add it to fires_on or tighten the match"


def test_loader_collects_every_error_with_its_location(tmp_path: Path):
    (tmp_path / "bad_one.toml").write_text(
        'cause = "cable"\ntitle = "t"\nwhy = "w"\nweight = 11\nfires_on = []\ncolour = "red"\n'
        '[match]\nkind = ["usb_unplug"]\nsubject = "([unclosed"\nwhen = "later"\nhost_older_than_payload = "yes"\n',
        encoding="utf-8")
    (tmp_path / "bad_two.toml").write_text("this is = = not toml", encoding="utf-8")
    (tmp_path / "good.toml").write_text(
        'cause = "usb_connection"\ntitle = "t"\nwhy = "w"\nweight = 1\nfires_on = ["x"]\n[match]\nkind = "device_disconnect"\n',
        encoding="utf-8")
    rules, errors = load_rules(tmp_path)
    assert [r.id for r in rules] == ["good"]
    located = {(e.path.name, e.key) for e in errors}
    assert located == {
        ("bad_one.toml", "cause"), ("bad_one.toml", "weight"), ("bad_one.toml", "fires_on"),
        ("bad_one.toml", "colour"), ("bad_one.toml", "match.kind"), ("bad_one.toml", "match.subject"),
        ("bad_one.toml", "match.when"), ("bad_one.toml", "match.host_older_than_payload"), ("bad_two.toml", None),
    }
    assert all(isinstance(e, RuleError) and str(e).startswith(e.path.name) for e in errors)


def test_rule_id_is_the_file_stem(tmp_path: Path):
    errors: list = []
    rule = parse_rule(tmp_path / "my_rule.toml",
                      'cause = "host_storage"\ntitle = "t"\nwhy = "w"\nweight = 2.5\nfires_on = "b"\n'
                      '[match]\nkind = ["disk_space"]\nmin_count = 2\n', errors)
    assert errors == []
    assert rule.id == "my_rule" and rule.fires_on == ("b",) and rule.match.min_count == 2 and rule.weight == 2.5
