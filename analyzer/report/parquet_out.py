"""``--parquet DIR``: ``events.parquet`` and ``incidents.parquet`` for notebooks and SQL engines.

Why these column types: the files must open unchanged in polars, DuckDB and
Spark, so every column is a plain Parquet type. Enums become strings, times stay
timestamps (``ts_utc``/``started_at``/``failed_at`` in UTC), and the incident's
nested parts are lists of structs (``evidence``, ``alternatives``) or lists of
strings (``rules``, ``remedy``, ``missing``), each also given as JSON text
(``evidence_json``, ``alternatives_json``) for tools that prefer text.
Files are Snappy-compressed (readable by every engine);
``ecid`` stays an unsigned 64-bit integer (Spark reads it as DECIMAL(20,0)).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source

from ..model import conform, from_iso
from .fleet_rows import fleet_tables
from .i18n import Catalogue
from .json_doc import incident_dict
from .write import atomic_stream, atomic_write

EVIDENCE = pl.Struct({"file": pl.String, "ts": pl.Datetime("us", "UTC"), "kind": pl.String, "text": pl.String,
                      "line": pl.Int64, "record": pl.Int64, "rule": pl.String})
ALTERNATIVE = pl.Struct({"id": pl.String, "confidence": pl.Float64, "why_not": pl.String})
INCIDENT_SCHEMA = {
    "host": pl.String, "file": pl.String, "attempt": pl.Int32, "operation": pl.String, "reported": pl.Boolean,
    "reported_at": pl.Datetime("us", "UTC"), "reported_window_s": pl.Int64, "reported_placed": pl.String,
    "error_code": pl.Int64, "started_at": pl.Datetime("us", "UTC"), "failed_at": pl.Datetime("us", "UTC"),
    "cause": pl.String, "confidence": pl.Float64, "code_meaning": pl.String, "code_grade": pl.String,
    "rules": pl.List(pl.String), "remedy": pl.List(pl.String), "missing": pl.List(pl.String),
    "evidence": pl.List(EVIDENCE), "alternatives": pl.List(ALTERNATIVE),
    "evidence_json": pl.String, "alternatives_json": pl.String,
    "free_bytes": pl.Int64, "needed_bytes": pl.Int64, "space_text": pl.String,
}


#: Events handed to the Parquet writer at a time (:func:`events_source`).
PIECE_ROWS = 50_000


def _plain(events: pl.DataFrame) -> pl.DataFrame:
    """Enums as strings, so that every engine reads the file."""
    return events.with_columns(pl.col("kind").cast(pl.String), pl.col("clock").cast(pl.String))


def events_frame(analysis) -> pl.DataFrame:
    return _plain(analysis.events)


def events_source(analysis) -> pl.LazyFrame:
    """The events as a lazy source fed a piece at a time (``Analysis.event_frames``, PIECE_ROWS rows
    each), so that ``events.parquet`` is written without every row held as a table (a PC in parts:
    one stretch of its time at a time) or as Parquet bytes."""
    schema = _plain(conform(None)).schema

    def pieces(with_columns, predicate, n_rows, batch_size) -> Iterator[pl.DataFrame]:
        left = n_rows
        for events in analysis.event_frames():
            for start in range(0, events.height, PIECE_ROWS):
                piece = _plain(events.slice(start, PIECE_ROWS))
                if predicate is not None:
                    piece = piece.filter(predicate)
                if with_columns is not None:
                    piece = piece.select(with_columns)
                if left is not None:
                    piece = piece.head(left)
                    left -= piece.height
                yield piece
                if left is not None and left <= 0:
                    return
    return register_io_source(pieces, schema=schema)


def incidents_frame(analysis, lang: str = "en") -> pl.DataFrame:
    cat = Catalogue(lang)
    rows = []
    for inc in analysis.incidents:
        doc = incident_dict(inc, cat)
        evidence = [{"file": e["file"], "ts": from_iso(e.get("ts")), "kind": e["kind"], "text": e.get("text"),
                     "line": e.get("line"), "record": e.get("record"), "rule": e.get("rule")} for e in inc.evidence]
        rows.append({
            "host": inc.host, "file": inc.file, "attempt": inc.attempt, "operation": inc.operation,
            "reported": inc.reported, "reported_at": (inc.reported_time or {}).get("at"),
            "reported_window_s": (inc.reported_time or {}).get("window_s"),
            "reported_placed": (inc.reported_time or {}).get("placed"), "error_code": inc.error_code,
            "started_at": inc.started_at, "failed_at": inc.failed_at, "cause": inc.cause,
            "confidence": inc.confidence, "code_meaning": doc["code_meaning"], "code_grade": inc.code_grade,
            "rules": list(inc.rules), "remedy": doc["remedy"], "missing": doc["missing"],
            "evidence": evidence,
            "alternatives": [{k: a[k] for k in ("id", "confidence", "why_not")} for a in doc["alternatives"]],
            "evidence_json": json.dumps(inc.evidence, ensure_ascii=False),
            "alternatives_json": json.dumps(doc["alternatives"], ensure_ascii=False),
            # a backup refused for disk space: free space against the needed size (analyzer.backups.space_check)
            "free_bytes": (inc.space or {}).get("free_bytes"), "needed_bytes": (inc.space or {}).get("needed_bytes"),
            "space_text": (doc.get("space") or {}).get("text"),
        })
    return pl.DataFrame(rows, schema=INCIDENT_SCHEMA)


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="snappy", statistics=True)
    return buffer.getvalue()


class _Recorded(io.RawIOBase):
    """A handle that keeps the first OSError its writes raised: the Parquet sink reports it as its
    own error, and a full disk must be said as one (exit 2, the output named)."""

    def __init__(self, handle) -> None:
        super().__init__()
        self.handle, self.error = handle, None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        try:
            return self.handle.write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        self.handle.flush()


def write_parquet(analysis, directory: Path, lang: str = "en") -> list[Path]:
    """Write events, incidents, the backup history and the fleet summary tables (``fleet_hosts.parquet`` …) into
    ``directory`` (created if missing); return their paths."""
    directory = Path(directory)
    directory.mkdir(exist_ok=True)
    written = []
    with atomic_stream(directory / "events.parquet") as handle:
        recorded = _Recorded(handle)
        try:
            events_source(analysis).sink_parquet(recorded, compression="snappy", statistics=True)
        except pl.exceptions.PolarsError:
            if recorded.error is not None:  # (a full disk: said as such, not as polars' own error)
                raise recorded.error from None
            raise
    written.append(directory / "events.parquet")
    frames = [("incidents.parquet", incidents_frame(analysis, lang)),
              ("backups.parquet", analysis.backups)]  # each device's backup history (analyzer.backups)
    for table, rows in fleet_tables(analysis.fleet).items():
        frames.append((f"fleet_{table}.parquet", pl.DataFrame(rows, infer_schema_length=None)))
    for name, frame in frames:
        atomic_write(directory / name, _parquet_bytes(frame))
        written.append(directory / name)
    return written
