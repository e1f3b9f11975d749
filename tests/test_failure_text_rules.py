"""Apple's own words as evidence: the failure_text_* rules.

Their phrases are data (analyzer/rules/failure_text_*.toml); every phrase must be cited in a comment
of its rule file, every phrase must make its rule fire when it is what a failure description says,
and the phrases deliberately left out must stay out (they mean something else in public material).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.rules import default_rules

TEXT_RULES = {r.id: r for r in default_rules() if r.id.startswith("failure_text_")}
HEADER = ("2025-05-10 20:40:00.100 [7316:1b0c]: restore library built Apr 29 2025 at 17:26:03\n"
          "2025-05-10 20:40:00.100 [7316:1b0c]: iTunes: iTunes 12.13.7.1\n"
          "2025-05-10 20:40:00.101 [7316:1b0c]: iTunes: Using MobileRestore state machine\n")


def phrases(rule_id: str) -> list[str]:
    import tomllib
    data = tomllib.loads(TEXT_RULES[rule_id].path.read_text(encoding="utf-8"))
    out = []
    for selection in data["detection"].values():
        if isinstance(selection, dict):
            value = selection.get("message|contains", [])
            out += [value] if isinstance(value, str) else value
    return out


def fired(tmp_path: Path, depth_text: str, code: int = 14) -> list[str]:
    folder = tmp_path / "pc"
    folder.mkdir(exist_ok=True)
    (folder / "restore.log").write_text(HEADER + "\n".join([
        f"[11:40:31.0400] Restore completed, status:{code}", "[11:40:31.0400] Failure Description:",
        f"[11:40:31.0401] Depth:0 Code:{code} Error:Restore failed.", f"[11:40:31.0402] Depth:1 Code:-1 Error:{depth_text}",
    ]) + "\n", encoding="utf-8")
    incidents = analyze([folder], layout="host").incidents
    assert len(incidents) == 1 and incidents[0].error_code == code
    return incidents[0].rules


def test_there_is_one_rule_per_meaning_with_its_cause():
    assert {i: r.cause for i, r in TEXT_RULES.items()} == {
        "failure_text_host_unsupported": "outdated_host_software", "failure_text_disk_full": "host_storage",
        "failure_text_transition_timeout": "device_hardware", "failure_text_build_refused": "unsigned_firmware",
        "failure_text_server_unreachable": "security_software"}


@pytest.mark.parametrize("rule_id", sorted(TEXT_RULES))
def test_every_phrase_is_cited_in_a_comment_of_its_rule(rule_id):
    text = TEXT_RULES[rule_id].path.read_text(encoding="utf-8")
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    assert phrases(rule_id)
    for phrase in phrases(rule_id):
        assert phrase in comments, f"{rule_id}: {phrase!r} has no source comment"
    assert re.search(r"https?://|github\.com/|pastebin|restore-error-codes\.md", comments)


@pytest.mark.parametrize("rule_id, phrase", [(r, p) for r in sorted(TEXT_RULES) for p in phrases(r)])
def test_each_phrase_in_a_failure_description_fires_its_rule(tmp_path, rule_id, phrase):
    assert rule_id in fired(tmp_path, f"Prefix: {phrase}. Suffix")


@pytest.mark.parametrize("text", [
    "ASR: Could not restore - No space left on device",   # the device's own storage (idevicerestore#332)
    "The restore protocol of the device is newer than this version of iTunes supports",  # no public source
    "Personalization failed",                             # says nothing about why
])
def test_phrases_left_out_do_not_fire_any_text_rule(tmp_path, text):
    assert not [r for r in fired(tmp_path, text) if r.startswith("failure_text_")]


def test_the_host_check_explains_away_the_device_side_checkpoint_failure():
    rule = TEXT_RULES["failure_text_host_unsupported"]
    assert rule.discounts == {"device_hardware": 3.5}
    samples = Path(__file__).resolve().parent.parent / "samples"
    (incident,) = analyze([samples / "restore_host_unsupported_10"], layout="host").incidents
    assert incident.cause == "outdated_host_software" and "itunes_outdated" not in incident.rules
    hardware = next(a for a in incident.alternatives if a["id"] == "device_hardware")
    assert hardware["reason"] == {"code": "explained_away", "rules": ["failure_text_host_unsupported"]}
