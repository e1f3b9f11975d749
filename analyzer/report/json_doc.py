"""The versioned JSON document (``--format json``): the stable machine interface.

Field names are documented in the README ("JSON document"); ``version`` is
bumped when a field changes meaning or disappears, never for additions.
"""

from __future__ import annotations

import json
from typing import Any

from .. import DOCUMENT_VERSION, __version__


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def document(analysis) -> dict[str, Any]:
    attempts = [
        {"host": a["host"], "file": a["file"], "attempt": a["attempt"], "outcome": a["outcome"],
         "error_code": a["error_code"], "started_at": _iso(a["started_at"]), "ended_at": _iso(a["ended_at"]),
         "failed_at": _iso(a["failed_at"])}
        for a in analysis.attempts.to_dicts()
    ]
    return {
        "version": DOCUMENT_VERSION,
        "analyzer": __version__,
        "hosts": analysis.hosts,
        "summary": {
            "files": len(analysis.files),
            "recognised": len(analysis.recognised),
            "events": analysis.events.height,
            "attempts": len(attempts),
            "incidents": len(analysis.incidents),
            "partial": analysis.partial,
        },
        "files": [f.as_dict() for f in analysis.files],
        "attempts": attempts,
        "incidents": [i.as_dict() for i in analysis.incidents],
        "fleet": analysis.fleet,
    }


def dumps(analysis) -> str:
    return json.dumps(document(analysis), ensure_ascii=False, indent=2)
