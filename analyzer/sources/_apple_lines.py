"""Apple restore log: the line-local stage, a chunk of lines at a time.

Why: what depends on one line only (its shape and marker through the grammar's fast path, its kind,
subject and codes from the classifier) is most of the work and, done over a whole bench log at once,
most of the memory: the grammar's intermediate frame has a column per field. Here it runs
``CHUNK_LINES`` lines at a time, two chunks at once on two cores (polars lets go of the GIL), each
chunk keeping only the columns the whole-file steps and the events read, with its repeated texts as
categoricals; the chunks are then stacked a column at a time. What needs order (clocks, attempts,
transitions, summaries) runs afterwards on the stacked rows (:mod:`.apple_restore`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from .. import grammars
from ._apple_classify import classify

#: Lines read through the grammar at a time (bounds the wide intermediate frame).
CHUNK_LINES = 50_000
#: Chunks in flight at once.
WORKERS = 2
#: Shapes whose ``message`` is the text after the host's prefix; other lines are shown whole.
HOST_SHAPES = ("dated", "dated_proc", "bracket", "device", "flash", "continued")
#: What the whole-file steps (clocks, attempts, transitions, summaries) and the events read of a
#: classified line; the grammar's other fields have been turned into these by the classifier.
KEEP = frozenset({
    "line", "shape", "rule", "kind", "_message", "date", "time", "btime", "gtime", "ftime", "proc", "flash_gap",
    "device_obj", "operation", "from_state", "to_state", "phase_result", "outcome", "error_code", "detail", "subject",
    "itunes_version", "amd_version", "built_on", "current_build", "payload_build", "behavior", "variant",
    "boot_image", "restore_uuid", "state_machine", "ecid_value", "serial", "chip_id", "board_id", "identity_key",
    "identity_value", "board_config", "product_type", "device_mode", "udid", "usb_vid", "usb_pid", "expected"})
#: Text columns the whole-file steps read as text (times, a device object's name, an operation
#: number): every other text column is held as a categorical, 4 bytes a row whether filled or not
#: (a text column costs 16 bytes a row even where it is empty, and most of a log's columns are);
#: the events frame turns them back into text (model.conform).
_AS_TEXT = frozenset({"_message", "date", "time", "btime", "gtime", "ftime", "proc", "flash_gap"})
#: Categoricals the whole-file steps take apart as text (a device object's name stays a
#: categorical: the steps that read it cast the few distinct names, not 800k copies).
_CAST_BACK = ("operation",)


def line_rows(lines: pl.Series, grammar: grammars.LineGrammar, sample: int) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(every recognised line classified, the first ``sample`` unrecognised lines as ``line``/``text``,
    how many lines were unrecognised)."""
    offsets = list(range(0, max(lines.len(), 1), CHUNK_LINES))
    work = lambda offset: _chunk(lines.slice(offset, CHUNK_LINES), offset, grammar, sample)  # noqa: E731
    workers = min(WORKERS, _cores())
    if len(offsets) > 1 and workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="restore-lines") as pool:
            done = list(pool.map(work, offsets))
    else:
        done = [work(offset) for offset in offsets]
    parts = [rows for rows, _, _, _ in done if rows is not None]
    bad = pl.concat([b for _, b, _, _ in done], how="vertical").head(sample)
    unrecognised = sum(n for _, _, n, _ in done)
    schema: dict[str, pl.DataType] = {}
    for _, _, _, chunk_schema in done:
        schema.update(chunk_schema)
    del done
    if not parts:
        return pl.DataFrame(), bad, unrecognised
    rows = parts[0] if len(parts) == 1 else _stack(parts)
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items()
               if name in KEEP and name not in rows.columns]
    back = [pl.col(n).cast(pl.String) for n in _CAST_BACK if n in rows.columns]
    return rows.with_columns(missing + back), bad, unrecognised


def _cores() -> int:
    """The CPUs this process may use: a fleet worker is given its share in POLARS_MAX_THREADS
    (analyzer.parallel), and two chunks at once there would only fight the other workers."""
    try:
        return max(1, int(os.environ.get("POLARS_MAX_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


def _chunk(lines: pl.Series, offset: int, grammar: grammars.LineGrammar, sample: int
           ) -> tuple[pl.DataFrame | None, pl.DataFrame, int, dict]:
    frame = grammar.extract(lines)
    if offset:
        frame = frame.with_columns(pl.col("line") + offset)
    unplaced = frame.filter(pl.col("shape").is_null() & (pl.col("text").str.strip_chars() != "")).select("line", "text")
    rows = frame.filter(pl.col("shape").is_not_null() & (pl.col("text").str.strip_chars() != ""))
    del frame
    if rows.height == 0:
        return None, unplaced.head(sample), unplaced.height, {}
    rows = classify(rows)
    rows = rows.with_columns(pl.when(pl.col("shape").is_in(HOST_SHAPES)).then(pl.col("message"))
                             .otherwise(pl.col("text")).alias("_message")).drop("text")
    schema = dict(rows.schema)
    rows = rows.select([c for c in rows.columns if c in KEEP and rows.get_column(c).null_count() < rows.height])
    # repeated texts (device object, JSON of a progress line, subject) once per chunk, not once a line
    kept = rows.with_columns([pl.col(n).cast(pl.Categorical) for n, t in rows.schema.items()
                              if t == pl.String and n not in _AS_TEXT])
    return kept, unplaced.head(sample), unplaced.height, schema


def _stack(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The chunks' rows as one frame of contiguous columns, built a column at a time with each
    column's chunk pieces let go as soon as it is copied: the file is held about once, never
    twice (a rechunk of the whole frame, which later steps would trigger, costs a second copy)."""
    names = list(dict.fromkeys(name for part in parts for name in part.columns))
    out: list[pl.Series] = []
    for name in names:
        dtype = next(part.schema[name] for part in parts if name in part.columns)
        pieces = [part.get_column(name) if name in part.columns
                  else pl.repeat(None, part.height, dtype=dtype, eager=True).alias(name) for part in parts]
        parts = [part.drop(name, strict=False) for part in parts]
        out.append(pl.concat(pieces, rechunk=True))
        del pieces
    return pl.DataFrame(out)


