"""Words for the reader: every user-facing string of every report, in the reader's language.

The stages below the reports speak in ids and codes (a cause id, a reason code with its
parameters, a clock method); this module is the one place that turns them into sentences.
UI texts come from one catalogue per language (``report/messages/<lang>.toml``); texts that
belong to a piece of data live beside it and are looked up here: cause names
(``data/causes.toml``), remedies (``data/remedies.toml``), error-code meanings
(``data/error_codes.toml``), rule titles (each rule file) and notes about the input
(``data/notes.toml``, through :mod:`analyzer.notes`).
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

from .. import notes
from ..arguments import LANGS
from ..causes import CAUSES
from ..diagnose import code_table
from ..rules import rule_by_id

MESSAGES = Path(__file__).resolve().parent / "messages"
DATA = Path(__file__).resolve().parent.parent / "data"


@functools.lru_cache(maxsize=None)
def _messages(lang: str) -> dict[str, Any]:
    return tomllib.loads((MESSAGES / f"{lang}.toml").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _remedies() -> dict[str, dict[str, list[str]]]:
    return tomllib.loads((DATA / "remedies.toml").read_text(encoding="utf-8"))


class Catalogue:
    """The texts of one language. ``cat["terminal.verdict"]`` or ``cat.text("fleet.fleet", hosts=3, …)``."""

    def __init__(self, lang: str = "en"):
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}: use {', '.join(LANGS)}")
        self.lang = lang
        self.messages = _messages(lang)

    def section(self, name: str) -> dict[str, Any]:
        """A whole table of the catalogue (e.g. ``html`` for the page's labels)."""
        node: Any = self.messages
        for part in name.split("."):
            node = node[part]
        return node

    def __getitem__(self, key: str) -> str:
        section, _, name = key.rpartition(".")
        return self.section(section)[name]

    def text(self, key: str, **params: Any) -> str:
        return self[key].format(**params)

    def cause(self, cause_id: str) -> str:
        """The cause's name in this language (the id itself for an undeclared one)."""
        return CAUSES.get(cause_id, {}).get(self.lang, cause_id)

    def remedy(self, cause_id: str, operation: str | None = None) -> list[str]:
        """The cause's remedy, the operation's own when remedies.toml has one (``[host_storage.backup]``)."""
        entry = _remedies().get(cause_id, {})
        own = entry.get(operation) if operation else None
        return list((own if isinstance(own, dict) else entry).get(self.lang, []))

    def rule_title(self, rule_id: str) -> str:
        rule = rule_by_id().get(rule_id)
        return rule.title.get(self.lang, rule.title.get("en", rule_id)) if rule else rule_id

    def code_meaning(self, code: int | None, operation: str = "restore") -> str | None:
        entry = code_table(operation).get(code) if code is not None else None
        meaning = (entry or {}).get("meaning") or {}
        return meaning.get(self.lang) or meaning.get("en")

    def reason(self, reason: dict[str, Any]) -> str:
        """A structured reason (``{"code": "explained_away", "rules": [...]}``) as a sentence."""
        code = reason["code"]
        if code == "explained_away":
            return self.text("reason.explained_away", rules="; ".join(self.rule_title(r) for r in reason["rules"]))
        if code == "less_evidence":
            return self.text("reason.less_evidence", than=self.cause(reason["than"]),
                             points=f"{reason['points']:.1f}", best_points=f"{reason['best_points']:.1f}")
        return self[f"reason.{code}"]

    def note(self, note) -> str:
        """A note about the input (:class:`~analyzer.model.Note`) as a sentence in this language; its
        parameters (exception text, parser and file names) are shown as written."""
        return notes.render(note.code, note.params, self.lang)

    def note_location(self, note) -> str:
        """Where a note points: ``file:line``, ``file record N`` (worded) or the file alone."""
        if note.line is not None:
            return f"{note.file}:{note.line}"
        if note.record is not None:
            return self.text("notes.at_record", file=note.file, record=note.record)
        return note.file

    def related(self, attempts: list[dict[str, Any]]) -> str | None:
        """The other attempts of the device the verdict weighed, as one sentence (None when there are none)."""
        if not attempts:
            return None
        items = [self.text("common.related_item", attempt=a.get("attempt"), location=a.get("usb_location") or "?",
                           outcome=self.section("outcome").get(a.get("outcome"), a.get("outcome")))
                 for a in attempts]
        return self.text("common.related", items="; ".join(items))

    def operation(self, operation: str | None) -> str:
        return self.section("operation").get(operation or "restore", operation or "")

    def what(self, item: dict[str, Any]) -> str:
        """What an attempt or incident (a dict with file, attempt, operation, reported) is, in words:
        ``iTunes.log — backup attempt 2``, or ``reported iCloud failure``."""
        if item.get("reported"):
            return self.text("reported.title", operation=self.operation(item.get("operation")))
        label = f"{self.operation(item.get('operation'))} {self['common.attempt']} {item.get('attempt')}"
        return f"{item.get('file')} — {label}"

    def reported_time(self, place: dict[str, Any] | None) -> str:
        """Where a reported incident was put on the clock (:func:`analyzer.symptom.placement`, as data)."""
        if not place:
            return ""
        how = place.get("placed")
        if how == "evidence_span":
            if not place.get("start"):
                return self["reported.no_evidence_time"]
            return self.text("reported.span", start=place["start"], end=place["end"])
        when = self.text("reported.at", at=place.get("at"), minutes=round(place.get("window_s", 0) / 60))
        words = self.text(f"reported.{how}", zone=place.get("zone"), file=place.get("zone_from"))
        return f"{when} ({words})"

    def missing(self, code: str) -> str:
        return self[f"missing.{code}"]

    def clock_how(self, clock: dict[str, Any]) -> str:
        """How a file's local zone was found (its report's ``clock`` dict) as a phrase."""
        method = clock.get("local_zone_method")
        if method is None:
            return ""
        if method == "aligned":
            return self.text("clock.aligned", events=clock.get("aligned_events"),
                             files=", ".join(clock.get("aligned_with", [])))
        if method == "date_option":
            return self.text("clock.date_option", date=clock.get("date"))
        if method == "date_aligned":
            return self.text("clock.date_aligned", date=clock.get("date"), events=clock.get("aligned_events"),
                             files=", ".join(clock.get("aligned_with", [])))
        if method == "measured":
            return self.text("clock.measured", pairs=clock.get("measured_pairs"))
        if method == "learnt":
            inner = {"local_zone_method": clock.get("learnt_method"), **clock.get("learnt_params", {})}
            return self.text("clock.learnt", file=clock.get("learnt_from"), how=self.clock_how(inner))
        return self[f"clock.{method}"]

    def date_order_how(self, clock: dict[str, Any]) -> str:
        """How a file's day/month order was decided (its report's ``clock`` dict: ``date_order`` and
        ``date_order_how``, a code with its parameters) as a phrase; empty when nothing was decided."""
        how = clock.get("date_order_how")
        if not how:
            return ""
        order = self[f"date_order.order_{clock.get('date_order')}"]
        return self.text(f"date_order.{how['code']}", order=order, **how.get("params", {}))
