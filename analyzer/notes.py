"""Notes about the input as codes with parameters, and their wording in each language.

A :class:`~analyzer.model.Note` says what happened to a file by a stable code
(``empty_file``, ``cannot_read``) and the values the sentence needs
(``{"reason": "Permission denied"}``); the sentence itself is a template in
``data/notes.toml``, one table per code with a template per language. The
reports word a note in the reader's language; ``Note.message`` is its English
wording, for low-level code, logs and tests.

Parameters are shown as written, like log text: an exception's text, a parser
name, a file name or Lark's expected tokens are never translated, only the
template around them. A parameter may itself be a *part*,
``{"code": …, "params": {…}}`` made by :func:`part`: a phrase of the same
catalogue, worded in the same language, for the places where one note's
wording varies (which records a damaged chunk lost, where on a line the
grammar gave up).

Why here and not in ``report/messages``: the model reads ``Note.message`` and
may not import the report layer; this module is a leaf (standard library only).
"""

from __future__ import annotations

import functools
import string
import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping

CATALOGUE = Path(__file__).resolve().parent / "data" / "notes.toml"


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Every code with its template per language (``{"empty_file": {"en": …, "ja": …}}``)."""
    return tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))


def placeholders(template: str) -> set[str]:
    """The parameter names a template uses (``{value!r}`` and ``{size}`` give value, size)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@functools.lru_cache(maxsize=None)
def required(code: str) -> frozenset[str]:
    """The parameters a code needs (those of its English template); KeyError for an unknown code."""
    return frozenset(placeholders(catalogue()[code]["en"]))


def part(code: str, **params: Any) -> dict[str, Any]:
    """A phrase of the catalogue used as a parameter, worded in the note's language."""
    check(code, params)
    return {"code": code, "params": params}


def is_part(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() == {"code", "params"}


def check(code: str, params: Mapping[str, Any]) -> None:
    """Raise ValueError for a code the catalogue does not know, or parameters its template lacks."""
    try:
        needed = required(code)
    except KeyError:
        raise ValueError(f"unknown note code {code!r} (declare it in {CATALOGUE.name})") from None
    missing = needed - set(params)
    if missing:
        raise ValueError(f"note code {code!r} needs parameters {sorted(missing)}")


def render(code: str, params: Mapping[str, Any] | None = None, lang: str = "en") -> str:
    """The note's sentence in ``lang``: its template filled with the parameters as written
    (parts worded in the same language)."""
    template = catalogue()[code][lang]
    values = {k: render(v["code"], v["params"], lang) if is_part(v) else v for k, v in (params or {}).items()}
    return template.format_map(values)


def map_strings(params: Mapping[str, Any], fn: Callable[[str], str]) -> dict[str, Any]:
    """``params`` with ``fn`` applied to every text shown (in lists and parts too); codes are kept."""
    def one(value: Any) -> Any:
        if is_part(value):
            return {"code": value["code"], "params": map_strings(value["params"], fn)}
        if isinstance(value, str):
            return fn(value)
        if isinstance(value, list):
            return [one(v) for v in value]
        if isinstance(value, dict):
            return {k: one(v) for k, v in value.items()}
        return value
    return {k: one(v) for k, v in params.items()}

