"""``--timesketch PATH``: the timeline as JSON Lines that Timesketch imports as a sketch timeline.

Why this shape: Timesketch's JSONL importer needs ``message``, ``datetime``
(ISO-8601) and ``timestamp_desc`` on every line; any other key becomes a
searchable attribute. We add ``timestamp`` (microseconds since the epoch, UTC),
``data_type`` (``analyzer:<source>``) and every non-empty event column under
its schema name, so a query such as ``kind:usb_io_error AND host:pc1`` works.
Rows the diagnosis cited as evidence are tagged ``analyzer_evidence`` (and
``failure`` for the failing result line) so they stand out in the sketch.
Events without a UTC time cannot be placed on a timeline and are left out;
:func:`to_jsonl` returns how many. The ``timestamp_desc`` labels are Timesketch's
kind of name for a time stamp and stay English; the verdict events' ``message``
follows the run's language.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .flat import flat_events
from .i18n import Catalogue
from .write import atomic_write

#: What the time stamp of each source means, in Timesketch's own words.
TIMESTAMP_DESC = {
    "apple_restore": "Restore Log Line",
    "windows_setupapi": "Setup Log Entry",
    "windows_firewall": "Firewall Log Entry",
}
DEFAULT_DESC = "Event Logged"
#: Keys Timesketch reserves or fills itself; event columns never overwrite them.
RESERVED = {"message", "datetime", "timestamp", "timestamp_desc", "data_type", "tag"}


def _cited(analysis) -> dict[tuple, set[str]]:
    tags: dict[tuple, set[str]] = {}
    for inc in analysis.incidents:
        for e in inc.evidence:
            key = (inc.host, e["file"], e.get("line"), e.get("record"))
            tags.setdefault(key, set()).add("analyzer_evidence")
            if e["kind"] == "result":
                tags[key].add("failure")
    return tags


def to_jsonl(analysis, lang: str = "en") -> tuple[str, int]:
    """The JSONL text and the number of events left out for lack of a time; the verdict events'
    ``message`` is worded in ``lang``."""
    cat = Catalogue(lang)
    flat = flat_events(analysis.events)
    micros = analysis.events.get_column("ts_utc").dt.epoch("us").to_list()
    tags = _cited(analysis)
    lines, dropped = [], 0
    for row, us in zip(flat.iter_rows(named=True), micros):
        if row["ts_utc"] is None:
            dropped += 1
            continue
        obj = {"message": row["message"] or str(row["kind"]), "datetime": row["ts_utc"], "timestamp": us,
               "timestamp_desc": TIMESTAMP_DESC.get(row["format"], DEFAULT_DESC),
               "data_type": f"analyzer:{row['format'] or 'unknown'}"}
        obj.update({k: v for k, v in row.items() if v is not None and k not in RESERVED})
        tag = tags.get((row["host"], row["file"], row["line"], row["record"]))
        if tag:
            obj["tag"] = sorted(tag)
        lines.append(json.dumps(obj, ensure_ascii=False))
    for inc in analysis.incidents:  # the verdicts themselves, at the moment each attempt failed
        if inc.failed_at is None:
            continue
        when = inc.failed_at.astimezone(dt.timezone.utc)
        if inc.reported:
            message = cat.text("timesketch.verdict_reported", host=inc.host, cause=inc.cause,
                               what=cat.what({"operation": inc.operation, "reported": True}),
                               confidence=f"{inc.confidence:.2f}")
        else:
            message = cat.text("timesketch.verdict", host=inc.host, code=inc.error_code, cause=inc.cause,
                               operation=cat.operation(inc.operation), confidence=f"{inc.confidence:.2f}")
        obj = {"message": message,
               "datetime": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
               "timestamp": int(when.timestamp() * 1_000_000), "timestamp_desc": _verdict_desc(inc),
               "data_type": "analyzer:verdict", "host": inc.host, "file": inc.file, "attempt": inc.attempt,
               "error_code": inc.error_code, "cause": inc.cause, "confidence": inc.confidence,
               "operation": inc.operation, "reported": inc.reported,
               "rules": ", ".join(inc.rules), "tag": ["analyzer_verdict"]}
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "".join(line + "\n" for line in lines), dropped


def _verdict_desc(incident) -> str:
    """Timesketch's "what this time is" for a verdict: restores (and updates) keep the name they always had."""
    if incident.reported:
        return "Reported Failure Verdict"
    return "Backup Failure Verdict" if incident.operation == "backup" else "Restore Failure Verdict"


def write_timesketch(analysis, path: Path, lang: str = "en") -> int:
    """Write the file; return how many events had no time and were left out."""
    text, dropped = to_jsonl(analysis, lang)
    atomic_write(path, text.encode("utf-8"))
    return dropped
