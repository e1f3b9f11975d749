"""The versioned JSON document (``--format json``): the stable machine interface.

Field names are documented in the README ("JSON document"); ``version`` is
bumped when a field changes meaning or disappears, never for additions.
"""

from __future__ import annotations

import json
from typing import Any

from ..version import DOCUMENT_VERSION, __version__
from ..model import iso_utc


def document(analysis) -> dict[str, Any]:
    attempts = [
        {"host": a["host"], "file": a["file"], "attempt": a["attempt"], "outcome": a["outcome"],
         "error_code": a["error_code"], "started_at": iso_utc(a["started_at"]), "ended_at": iso_utc(a["ended_at"]),
         "failed_at": iso_utc(a["failed_at"])}
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
