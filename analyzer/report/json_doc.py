"""The versioned JSON document (``--format json``): the stable machine interface.

Field names are documented in the README ("JSON document"); ``version`` is bumped when a
field changes meaning or disappears, never for additions. The stages below speak in codes;
this is where the human-readable fields (``why_not``, ``missing``, ``remedy``,
``code_meaning``, a file's ``local_zone_how`` and ``date_order_how_text``, each note's ``message``) are worded, in the run's language, beside the
codes they come from (``reason``, ``missing_codes``). The terminal and HTML reports render
these same dicts, so no report can say something the document does not.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..model import iso_utc
from ..version import DOCUMENT_VERSION, __version__
from . import json_text
from .i18n import Catalogue


def incident_dict(incident, cat: Catalogue) -> dict[str, Any]:
    """One incident as data plus its worded fields in ``cat``'s language."""
    out = incident.as_dict()
    out["code_meaning"] = cat.code_meaning(incident.error_code, incident.operation)
    out["what"] = cat.what(out)
    if incident.reported_time:
        out["reported_time"]["text"] = cat.reported_time(out["reported_time"])
    out["alternatives"] = [{**alt, "why_not": cat.reason(alt["reason"])} for alt in incident.alternatives]
    out["missing_codes"] = list(incident.missing)
    out["missing"] = [cat.missing(code) for code in incident.missing]
    out["remedy"] = cat.remedy(incident.cause, incident.operation, incident.rules)
    if incident.space:
        out["space"] = {**incident.space, "text": space_words(incident.space, cat)}
    return out


def _bytes(n: int) -> str:
    """A byte count as people read it, with the exact number beside it (the device compares bytes)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.2f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def space_words(space: dict[str, Any], cat: Catalogue) -> str:
    """A backup refused for disk space: "free X, needed Y (+128 MiB margin)", each with where it is from."""
    def where(src: dict) -> str:
        name = str(src.get("file", "")).replace("\\", "/").rsplit("/", 1)[-1]
        return f"{name}:{src['line']}" if src.get("line") is not None else f"{name} #{src.get('record')}"
    return cat.text("words.space", free=_bytes(space["free_bytes"]), needed=_bytes(space["needed_bytes"]),
                    free_from=where(space["free_from"]), needed_from=where(space["needed_from"]))


def file_dict(report, cat: Catalogue) -> dict[str, Any]:
    """One file's report; each note's ``message`` worded in ``cat``'s language beside its ``code`` and ``params``."""
    out = report.as_dict()
    out["errors"] = [{**d, "message": cat.note(n)} for n, d in zip(report.errors, out["errors"])]
    if "local_zone_method" in out["clock"]:
        out["clock"] = {**out["clock"], "local_zone_how": cat.clock_how(out["clock"])}
    if "date_order_how" in out["clock"]:
        out["clock"] = {**out["clock"], "date_order_how_text": cat.date_order_how(out["clock"])}
    return out


def attempt_dicts(analysis) -> list[dict[str, Any]]:
    return [{"host": a["host"], "file": a["file"], "attempt": a["attempt"], "outcome": a["outcome"],
             "error_code": a["error_code"], "started_at": iso_utc(a["started_at"]), "ended_at": iso_utc(a["ended_at"]),
             "failed_at": iso_utc(a["failed_at"]), "window_start": iso_utc(a["window_start"]),
             "window_end": iso_utc(a["window_end"]), "operation": a["operation"], "reported": a["reported"]}
            for a in analysis.attempts.to_dicts()]


def backup_dicts(analysis) -> list[dict[str, Any]]:
    """Each device's backups (:attr:`analyzer.api.Analysis.backups`), times as ISO-8601 UTC."""
    return [{**b, "started_at": iso_utc(b["started_at"]), "ended_at": iso_utc(b["ended_at"]),
             "superseded_by": iso_utc(b["superseded_by"])}
            for b in analysis.backups.to_dicts()]


def document(analysis, lang: str = "en") -> dict[str, Any]:
    cat = Catalogue(lang)
    attempts = attempt_dicts(analysis)
    return {
        "version": DOCUMENT_VERSION,
        "analyzer": __version__,
        "lang": lang,
        "hosts": analysis.hosts,
        "summary": {
            "files": len(analysis.files),
            "recognised": len(analysis.recognised),
            "events": analysis.event_count,
            "attempts": len(attempts),
            "incidents": len(analysis.incidents),
            "partial": analysis.partial,
        },
        "files": [file_dict(f, cat) for f in analysis.files],
        "attempts": attempts,
        "incidents": [incident_dict(i, cat) for i in analysis.incidents],
        "backups": backup_dicts(analysis),
        "fleet": analysis.fleet,
    }


def dumps(analysis, lang: str = "en") -> str:
    return json.dumps(document(analysis, lang), ensure_ascii=False, indent=2)


def write(analysis, out: TextIO, lang: str = "en") -> None:
    """:func:`dumps` and a newline, written to ``out`` as it is encoded (:mod:`.json_text`).

    Why: a bench log's document is tens of MB; held as text (and as the standard encoder's millions
    of pieces before that) it was the whole run's peak (a 10,000-attempt log: 140 MB more than the
    analysis itself), and the standard indenting encoder took 0.56 s where json_text takes 0.26."""
    json_text.write(document(analysis, lang), out)
    out.write("\n")
