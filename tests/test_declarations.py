"""Closed lists are declared once (kinds in analyzer/kinds.py, causes in data/causes.toml) and
every consumer knows every member: no kind can vanish from the HTML lanes or the terminal, no
cause can lack a name, a remedy or a rule that names it correctly."""

from __future__ import annotations

import tomllib

import polars as pl
import pytest

from analyzer.causes import CAUSES, CAUSE_IDS, UNDETERMINED
from analyzer.clock import METHODS
from analyzer.correlate import OUTCOMES
from analyzer.diagnose import MISSING, REASONS, code_table
from analyzer.kinds import KIND_INFO, KINDS, LANES
from analyzer.model import EVENT_SCHEMA, NOT_READ, STATUSES
from analyzer.report.html_assets import LANE_OF
from analyzer.report.i18n import LANGS, Catalogue
from analyzer.rules import default_rules
from analyzer.rules.fields import DERIVED
from analyzer.rules.modifiers import MODIFIERS

from conftest import ROOT


def test_the_schema_enum_is_the_declared_kinds():
    assert EVENT_SCHEMA["kind"] == pl.Enum(list(KINDS))
    assert len(KINDS) == len(set(KINDS)) >= 25


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_lane_or_is_deliberately_undrawn(kind):
    info = KIND_INFO[kind]
    assert info.doc
    assert info.lane is None or info.lane in LANES
    if info.lane is None:
        assert not info.timeline and not info.alarm, f"{kind} is shown but has no lane"
    else:
        assert LANE_OF[kind] == info.lane
    assert not info.phase or info.lane == "restore"


@pytest.mark.parametrize("lang", LANGS)
def test_every_lane_status_reason_missing_and_clock_method_has_words(lang):
    cat = Catalogue(lang)
    assert set(cat.section("html.lanes")) == set(LANES)
    assert set(cat.section("html.status")) == set(STATUSES) and set(NOT_READ) < set(STATUSES)
    assert set(cat.section("reason")) == set(REASONS)
    assert set(cat.section("missing")) == set(MISSING)
    assert set(cat.section("clock")) == set(METHODS)
    assert set(cat.section("outcome")) == set(OUTCOMES)


@pytest.mark.parametrize("cause", CAUSE_IDS)
def test_every_cause_has_names_and_remedies_in_every_language(cause):
    for lang in LANGS:
        cat = Catalogue(lang)
        assert CAUSES[cause].get(lang), f"{cause} has no {lang} name in data/causes.toml"
        assert cat.cause(cause) == CAUSES[cause][lang]
        assert cat.remedy(cause), f"{cause} has no {lang} remedy in data/remedies.toml"


def test_remedies_name_only_declared_causes():
    remedies = tomllib.loads((ROOT / "analyzer" / "data" / "remedies.toml").read_text(encoding="utf-8"))
    assert set(remedies) == set(CAUSE_IDS)


def test_rules_and_error_code_priors_name_only_declared_causes():
    for rule in default_rules():
        assert rule.cause in CAUSE_IDS and rule.cause != UNDETERMINED
        assert set(rule.discounts) <= set(CAUSE_IDS)
    for code, entry in code_table().items():
        assert set(entry.get("priors", {})) <= set(CAUSE_IDS) - {UNDETERMINED}, code
        assert set(entry["meaning"]) == set(LANGS), f"error {code}: meaning in every language"


def test_the_rule_reference_documents_every_modifier_and_derived_field():
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for name in [m for m in MODIFIERS if m != "eq"] + list(DERIVED):
        assert f"`{name}`" in doc, f"docs/rules.md does not document {name}"
