"""Rules as data: they load cleanly, errors are collected and located, each rule fires on the
samples it names and on no other, and the condition language means what docs/rules.md says."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer import analyze
from analyzer.model import conform
from analyzer.rules import CAUSE_IDS, RuleError, load_rules, parse_rule
from analyzer.rules.condition import parse_condition
from analyzer.rules.fields import derived_columns

from analyzer.accuracy import load_expected, run_options

from conftest import SAMPLES

EXPECTED = SAMPLES.parent / "tests" / "expected_verdicts.toml"

RULES, ERRORS = load_rules()
HEAD = 'cause = "usb_connection"\ntitle = { en = "t", ja = "t" }\nwhy.en = "w"\nweight = 1\nfires_on = ["x"]\n'
T0 = dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.timezone.utc)


def bundles() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


@lru_cache(maxsize=None)
def fired(bundle: str) -> frozenset[str]:
    options = run_options(load_expected(EXPECTED).get(bundle, []))  # a reported symptom, as accuracy runs it
    result = analyze([SAMPLES / bundle], layout="host", **options)
    return frozenset(rule for incident in result.incidents for rule in incident.rules)


def test_shipped_rules_load_without_errors():
    assert ERRORS == []
    assert len(RULES) >= 17
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.cause in CAUSE_IDS and r.cause != "undetermined" for r in RULES)
    assert all(r.title.get("en") and r.title.get("ja") and r.why.get("en") for r in RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fires_on_its_samples_and_no_other(rule):
    for bundle in rule.fires_on:
        assert (SAMPLES / bundle).is_dir(), f"{rule.id}: fires_on names {bundle}, which is not in samples/"
        assert rule.id in fired(bundle), f"{rule.id} did not fire on {bundle}"
    for bundle in set(bundles()) - set(rule.fires_on):
        assert rule.id not in fired(bundle), f"{rule.id} also fires on {bundle}; add it to fires_on or tighten the match"


def test_loader_collects_every_error_with_its_location(tmp_path: Path):
    (tmp_path / "bad_one.toml").write_text(
        'cause = "cable"\ntitle = "t"\nweight = 11\nfires_on = []\ncolour = "red"\n'
        '[detection.a]\nkind = "usb_unplug"\n"subject|re" = "([unclosed"\n"message|sounds_like" = "x"\n'
        'nosuch = 1\n[detection.b]\nexpected = "yes"\n[detection]\ncondition = "a and c"\n'
        '[correlation]\nwhen = "later"\nwithin = "soon"\n', encoding="utf-8")
    (tmp_path / "bad_two.toml").write_text("this is = = not toml", encoding="utf-8")
    (tmp_path / "good.toml").write_text(HEAD + '[detection.drop]\nkind = "device_disconnect"\n', encoding="utf-8")
    rules, errors = load_rules(tmp_path)
    assert [r.id for r in rules] == ["good"]
    located = {(e.path.name, e.key) for e in errors}
    assert located == {
        ("bad_one.toml", "cause"), ("bad_one.toml", "weight"), ("bad_one.toml", "fires_on"),
        ("bad_one.toml", "colour"), ("bad_one.toml", "title"), ("bad_one.toml", "why"),
        ("bad_one.toml", 'detection.a."kind"'), ("bad_one.toml", 'detection.a."subject|re"'),
        ("bad_one.toml", 'detection.a."message|sounds_like"'), ("bad_one.toml", 'detection.a."nosuch"'),
        ("bad_one.toml", 'detection.b."expected"'), ("bad_one.toml", "detection.condition"),
        ("bad_one.toml", "detection.b"), ("bad_one.toml", "correlation.when"), ("bad_one.toml", "correlation.within"),
        ("bad_two.toml", None),
    }
    assert all(isinstance(e, RuleError) and str(e).startswith(e.path.name) for e in errors)
    messages = {e.key: str(e) for e in errors}
    assert "not one of" in messages['detection.a."kind"'] and "unknown modifier 'sounds_like'" in \
        messages['detection.a."message|sounds_like"']
    assert "'c', which is not a selection" in messages["detection.condition"]
    assert "not used by the condition" in messages["detection.b"]


def test_rule_id_is_the_file_stem_and_correlation_is_read(tmp_path: Path):
    errors: list = []
    rule = parse_rule(tmp_path / "my_rule.toml", HEAD.replace('["x"]', '"b"') +
                      '[detection.disk]\nkind = "disk_space"\n[correlation]\nmin_count = 2\nwithin = "15m"\n', errors)
    assert errors == []
    assert (rule.id, rule.fires_on, rule.min_count, rule.within_s, rule.when) == ("my_rule", ("b",), 2, 900.0, "before")


# -- the language, evaluated on small frames -----------------------------------------------------
def rows(*items: dict) -> pl.DataFrame:
    base = {"host": "pc", "file": "f", "ts_utc": T0, "kind": "generic"}
    frame = conform([{**base, **item} for item in items])
    return frame.with_columns(pl.lit(10.0).alias("before_s"))


def matches(detection: str, frame: pl.DataFrame, correlation: str = "") -> list[bool]:
    errors: list = []
    rule = parse_rule(Path("t.toml"), HEAD + detection + correlation, errors)
    assert errors == [], errors
    return frame.with_columns(derived_columns(rule.derived)).select(rule.matches).to_series().to_list()


def test_equality_ignores_case_unless_cased_and_lists_are_any_of():
    frame = rows({"subject": "Apple Mobile Device Service"}, {"subject": "apple mobile device service"},
                 {"subject": "Other"}, {})
    assert matches('[detection.s]\nsubject = "APPLE MOBILE DEVICE SERVICE"\n', frame) == [True, True, False, False]
    assert matches('[detection.s]\n"subject|cased" = "Apple Mobile Device Service"\n', frame) == [True, False, False, False]
    assert matches('[detection.s]\nsubject = ["other", "nothing"]\n', frame) == [False, False, True, False]


def test_text_modifiers_and_all():
    frame = rows({"message": "AMDeviceIoControl: failed, error 997"}, {"message": "failed"}, {"message": None})
    assert matches('[detection.s]\n"message|contains" = "IOCONTROL"\n', frame) == [True, False, False]
    assert matches('[detection.s]\n"message|startswith" = "amdevice"\n', frame) == [True, False, False]
    assert matches('[detection.s]\n"message|endswith" = "997"\n', frame) == [True, False, False]
    assert matches('[detection.s]\n"message|contains|all" = ["failed", "997"]\n', frame) == [True, False, False]
    assert matches('[detection.s]\n"message|re" = "error \\\\d+$"\n', frame) == [True, False, False]


def test_numbers_detail_fields_and_comparisons():
    frame = rows({"detail": '{"LowestFreeSpaceInBytes": 2147483648, "Name": "C:"}', "error_code": 23},
                 {"detail": '{"LowestFreeSpaceInBytes": "97070438400"}', "error_code": 0}, {"detail": "not json"})
    assert matches('[detection.s]\n"detail.LowestFreeSpaceInBytes|lt" = 8e9\n', frame) == [True, False, False]
    assert matches('[detection.s]\n"detail.LowestFreeSpaceInBytes|gte" = 8e9\n', frame) == [False, True, False]
    assert matches('[detection.s]\n"detail.Name" = "c:"\n', frame) == [True, False, False]
    assert matches('[detection.s]\nerror_code = [23, 24]\n', frame) == [True, False, False]
    assert matches('[detection.s]\n"error_code|exists" = true\n', frame) == [True, True, False]


def test_cidr_on_ipv4_and_ipv6_addresses():
    frame = rows({"detail": '{"dst-ip": "17.253.144.10"}'}, {"detail": '{"dst-ip": "18.0.0.1"}'},
                 {"detail": '{"dst-ip": "2620:149:a44::5"}'}, {"detail": '{"dst-ip": "999.1.1.1"}'}, {})
    assert matches('[detection.s]\n"detail.dst-ip|cidr" = "17.0.0.0/8"\n', frame) == [True, False, False, False, False]
    assert matches('[detection.s]\n"detail.dst-ip|cidr" = ["17.0.0.0/8", "2620:149::/32"]\n', frame) == \
        [True, False, True, False, False]


def test_versions_compare_part_by_part_and_against_a_field():
    detail = '{{"itunes_version": "{v}", "payload_build": "15A372"}}'
    frame = rows({"detail": detail.format(v="12.6.2.20")}, {"detail": detail.format(v="12.10.1")})
    assert matches('[detection.s]\n"detail.itunes_version|version_lt" = "12.7"\n', frame) == [True, False]
    assert matches('[detection.s]\n"detail.itunes_version|version_lt" = { field = "required_itunes" }\n', frame) \
        == [True, False]


def test_condition_combines_selections_with_and_or_not_and_of():
    frame = rows({"kind": "driver_install", "error_code": 5}, {"kind": "driver_install", "error_code": 0},
                 {"kind": "driver_failure"})
    two = '[detection.install]\nkind = "driver_install"\n[detection.ok]\nerror_code = 0\n'
    body = two + '[detection.failure]\nkind = "driver_failure"\n'
    assert matches(two + '[detection]\ncondition = "install and not ok"\n', frame) == [True, False, False]
    assert matches(body + '[detection]\ncondition = "(install and not ok) or failure"\n', frame) == [True, False, True]
    assert matches(body + '[detection]\ncondition = "1 of them and not ok"\n', frame) == [True, False, True]
    assert matches(body + '[detection]\ncondition = "all of i* and not (ok or failure)"\n', frame) == [True, False, False]


def test_derived_fields_side_apple_and_timing():
    frame = rows({"attempt": 1}, {"usb_vid": "05AC"}, {"subject": "AppleMobileDeviceService.exe"}, {"subject": "x"})
    assert matches('[detection.s]\nside = "attempt"\n', frame) == [True, False, False, False]
    assert matches('[detection.s]\nside = "pc"\napple = true\n', frame) == [False, True, True, False]
    after = frame.with_columns(pl.Series("before_s", [-5.0, 5.0, 1000.0, 0.0]))
    assert matches('[detection.s]\n"side" = ["pc", "attempt"]\n', after, '[correlation]\nwhen = "after"\n') == \
        [True, False, False, False]
    assert matches('[detection.s]\nside = "pc"\n', after, '[correlation]\nwithin = 900\n') == [False, True, False, True]


@given(st.text(max_size=60))
def test_condition_parser_never_raises_anything_but_value_error(text):
    try:
        parse_condition(text)
    except ValueError:
        pass


def test_a_rule_knows_which_kinds_it_can_match_and_tests_no_other_row():
    def kinds(body: str):
        errors: list = []
        rule = parse_rule(Path("t.toml"), HEAD + body, errors)
        assert errors == [], errors
        return rule.kinds
    two = '[detection.install]\nkind = "driver_install"\n[detection.ok]\nerror_code = 0\n'
    assert kinds(two + '[detection]\ncondition = "install and not ok"\n') == {"driver_install"}
    either = '[detection.a]\nkind = "app_crash"\n[detection.b]\nkind = ["service_crash", "driver_failure"]\n'
    assert kinds(either + '[detection]\ncondition = "a or b"\n') == {"app_crash", "service_crash", "driver_failure"}
    assert kinds(either + '[detection]\ncondition = "a and b"\n') == frozenset()
    assert kinds('[detection.any]\nsubject = "x"\n') is None                       # no kind: every row
    assert kinds('[detection.a]\nkind = "app_crash"\n[detection.b]\nsubject = "x"\n[detection]\n'
                 'condition = "a or b"\n') is None
    # the row test itself answers False on other kinds, whatever else they carry
    frame = rows({"kind": "driver_install", "error_code": 5}, {"kind": "driver_failure", "error_code": 5})
    assert matches(two + '[detection]\ncondition = "install and not ok"\n', frame) == [True, False]
