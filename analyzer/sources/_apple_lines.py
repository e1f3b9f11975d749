"""Apple restore log: the line-local stage, a chunk of lines at a time.

Why: what depends on one line only (its shape and marker through the grammar's fast path, its kind,
subject and codes from the classifier) is most of the work and, done over a whole bench log at once,
most of the memory: the grammar's intermediate frame has a column per field. Of that, only the shape
and its fields (the time, the process) are the line's own; the marker and everything classified
from it depend on the message, so they are worked out once per distinct message. Here it runs
``CHUNK_LINES`` lines at a time, two chunks at once on two cores (polars lets go of the GIL), each
chunk keeping only the columns the whole-file steps and the events read, with its repeated texts as
categoricals; the chunks are then stacked a column at a time. What needs order (clocks, attempts,
transitions, summaries) runs afterwards on the stacked rows (:mod:`.apple_restore`).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import polars as pl

from .. import grammars
from ._apple_classify import classify

#: Lines read through the grammar at a time (bounds the wide intermediate frame). Measured on
#: 400k/800k-line logs: 100k against 50k is 4-6 % faster at the same peak (fewer regex
#: compilations and distinct sets); 200k is faster still but raises a 400k-line log's peak by 25 MB.
CHUNK_LINES = 100_000
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


class Tally:
    """What :func:`classified` counts on the way: the first ``sample`` unrecognised lines (``line``/
    ``text``), how many lines were unrecognised and read, and the schema of every column
    classification gave (kept or not: :func:`stack` adds the kept ones a chunk lacked)."""

    def __init__(self, sample: int) -> None:
        self.sample = sample
        self.bad: list[pl.DataFrame] = []
        self.unrecognised = 0
        self.lines = 0
        self.schema: dict[str, pl.DataType] = {}

    def bad_lines(self) -> pl.DataFrame:
        if not self.bad:
            return pl.DataFrame(schema={"line": pl.Int64, "text": pl.String})
        return pl.concat(self.bad, how="vertical").head(self.sample)


def classified(chunks: Iterable[pl.Series], grammar: grammars.LineGrammar, tally: Tally) -> Iterator[pl.DataFrame]:
    """Each chunk's recognised lines classified, in order (chunks with none are left out).

    ``chunks`` are the file's lines, ``CHUNK_LINES`` at a time, as they are read
    (:func:`analyzer.sources._text.read_text_chunks`): a chunk is classified while the next ones
    are read, at most ``WORKERS`` at once with one more read ahead, and each chunk's lines are let
    go once it is classified, so the text is never held whole."""
    workers = min(WORKERS, _cores())
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="restore-lines") if workers > 1 else _Inline() as pool:
        running: collections.deque = collections.deque()
        for lines in chunks:
            running.append(pool.submit(_chunk, lines, tally.lines, grammar, tally.sample))
            tally.lines += lines.len()
            del lines
            while len(running) > workers:
                yield from _taken(running.popleft().result(), tally)
        while running:
            yield from _taken(running.popleft().result(), tally)


def _taken(done: tuple, tally: Tally) -> Iterator[pl.DataFrame]:
    rows, bad, unrecognised, schema = done
    if len(tally.bad) < tally.sample and bad.height:
        tally.bad.append(bad)
    tally.unrecognised += unrecognised
    tally.schema.update(schema)
    if rows is not None:
        yield rows


def stack(parts: list[pl.DataFrame], tally: Tally) -> pl.DataFrame:
    """Classified chunks (in order) as one frame of contiguous columns, with every kept column that
    classification gave so far (null where a chunk lacked it); empty for none."""
    if not parts:
        return pl.DataFrame()
    rows = _stack(parts) if len(parts) > 1 else parts[0]
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in tally.schema.items()
               if name in KEEP and name not in rows.columns]
    back = [pl.col(n).cast(pl.String) for n in _CAST_BACK if n in rows.columns]
    return rows.with_columns(missing + back)


def line_rows(chunks: Iterable[pl.Series], grammar: grammars.LineGrammar, sample: int
              ) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    """(every recognised line classified, as one frame; the first ``sample`` unrecognised lines;
    how many lines were unrecognised; how many there were): :func:`classified` stacked whole."""
    tally = Tally(sample)
    rows = stack(list(classified(chunks, grammar, tally)), tally)
    return rows, tally.bad_lines(), tally.unrecognised, tally.lines


class _Inline:
    """An executor that runs each call at once (one CPU: nothing to overlap)."""

    def __enter__(self) -> "_Inline":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @staticmethod
    def submit(fn, *args) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future


def _cores() -> int:
    """The CPUs this process may use: a fleet worker is given its share in POLARS_MAX_THREADS
    (analyzer.parallel), and two chunks at once there would only fight the other workers."""
    try:
        return max(1, int(os.environ.get("POLARS_MAX_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


#: The grammar's shape fields that a classified line keeps (the rest of a line's meaning comes from
#: its message).
_PER_LINE = frozenset({"date", "time", "btime", "gtime", "ftime", "proc", "flash_gap"})


def _chunk(lines: pl.Series, offset: int, grammar: grammars.LineGrammar, sample: int
           ) -> tuple[pl.DataFrame | None, pl.DataFrame, int, dict]:
    """(the chunk's recognised lines classified; the first ``sample`` unrecognised lines; how many
    lines were unrecognised; the schema of every column classification gave, kept or not).

    A line's shape and time are its own; its meaning comes from its message: each distinct
    message of the chunk is marked and classified once (:func:`_meanings`) and joined back."""
    frame = grammar.split(lines)
    if offset:
        frame = frame.with_columns(pl.col("line") + offset)
    blank = pl.col("text").str.strip_chars() == ""
    unplaced = frame.filter(pl.col("shape").is_null() & ~blank).select("line", "text")
    kept = ["line", "text", "shape", *(c for c in frame.columns if c in _PER_LINE), "message"]
    rows = frame.filter(pl.col("shape").is_not_null() & ~blank).select(kept)
    del frame
    if rows.height == 0:
        return None, unplaced.head(sample), unplaced.height, {}
    meanings, schema = _meanings(rows.select("shape", "message").unique(), grammar)
    schema = {**dict(rows.schema), **schema}
    rows = rows.join(meanings, on=["shape", "message"], how="left", nulls_equal=True, maintain_order="left")
    rows = rows.with_columns(pl.when(pl.col("shape").is_in(HOST_SHAPES)).then(pl.col("message"))
                             .otherwise(pl.col("text")).alias("_message")).drop("text", "message")
    rows = rows.select([c for c in rows.columns if c in KEEP and rows.get_column(c).null_count() < rows.height])
    return rows.with_columns(pl.col("shape").cast(pl.Categorical)), unplaced.head(sample), unplaced.height, schema


def _meanings(keys: pl.DataFrame, grammar: grammars.LineGrammar) -> tuple[pl.DataFrame, dict]:
    """Marker and classification of distinct (shape, message) pairs, by those two columns, with the
    kept text columns as categoricals; and the schema of what classification gave.

    Why per distinct message: a marker and its meaning depend on the message (and, for a line whose
    message is no marker, on its shape) alone, never on the time in front of it, and a bench log's
    lines repeat their messages: its 800k progress lines hold a few thousand distinct texts. The
    marking and classifying then cost the distinct messages, and giving each line its meaning
    costs one hash join. (Distinct over the whole file rather than per chunk was measured no
    faster: the join against the larger table cost what the fewer messages saved.)"""
    marked = classify(grammar.mark(keys.with_row_index("line").with_columns(pl.col("line").cast(pl.Int64))))
    schema = dict(marked.schema)
    kept = [c for c in marked.columns if c in KEEP and c not in _PER_LINE and c not in ("shape", "line")]
    marked = marked.select("shape", "message", *kept)
    texts = [pl.col(n).cast(pl.Categorical) for n in kept if marked.schema[n] == pl.String and n not in _AS_TEXT]
    return marked.with_columns(texts), schema


def _stack(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The chunks' rows as one frame of contiguous columns, built a column at a time with each
    column's chunk pieces let go as soon as it is copied: the file is held about once, never
    twice (a rechunk of the whole frame, which later steps would trigger, costs a second copy).
    ``parts`` is emptied on the way (the caller's list too, so that it holds nothing twice)."""
    names = list(dict.fromkeys(name for part in parts for name in part.columns))
    heights = [part.height for part in parts]  # (a part whose columns are all taken has none)
    out: list[pl.Series] = []
    for name in names:
        dtype = next(part.schema[name] for part in parts if name in part.columns)
        pieces = [part.get_column(name) if name in part.columns
                  else pl.repeat(None, height, dtype=dtype, eager=True).alias(name)
                  for part, height in zip(parts, heights)]
        parts[:] = [part.drop(name, strict=False) for part in parts]
        out.append(pl.concat(pieces, rechunk=True))
        del pieces
    parts.clear()
    return pl.DataFrame(out)
