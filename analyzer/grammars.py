"""Grammar files as the single source of truth for line syntax, at regex speed.

Each line-oriented format has ``grammar/<source>.lark``. Lark reads it, and from
Lark's own rule and terminal tables this module compiles two things:

* the **reference parser** (Lark Earley, priorities resolve ambiguity): exact,
  about 0.5 ms a line, used for diagnostics on lines that fail and by the
  property tests that check the fast path agrees with it;
* the **fast path**: one anchored regex per line shape and per message marker,
  run vectorised by polars over all lines, with each marker's longest literal as
  a prefilter so that only candidate lines pay for capture extraction.

Because both come from the same grammar, a syntax change is one edit in the
``.lark`` file. Conventions a grammar must follow (checked at load time, errors
raise :class:`GrammarConventionError` naming the grammar and the rule):

* ``line`` has one alternative per line shape, each aliased (``-> shape``);
  a shape either ends with the rule ``message`` or is complete by itself;
* ``message`` has one alternative per marker, each a single rule name; marker
  rules are flat sequences of terminals (sub-rules are inlined) and their
  ``.N`` priority orders them (higher first; the fallback has none);
* terminals defined by name in the grammar (``OPCODE: /-?\\d+/``) become fields,
  lower-cased; a field name may appear once per shape or marker; anonymous
  strings are literal text; regexes stay in the subset that both Python's
  ``re`` and Rust's ``regex`` accept (no look-around, no back-references).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from typing import TYPE_CHECKING

from . import grammar_cache, grammar_compiler
from .grammar_compiler import (GrammarConventionError, Marker, Shape, SlicePlan, _Compiler,  # noqa: F401 - re-exported
                               _named_terminals, slice_plan)
from .notes import part

if TYPE_CHECKING:  # Lark is imported when a line must be explained or a grammar compiled, not on every run
    from lark import Lark, Token, Tree

#: Messages of at most this many rows are matched in one regex pass (LineGrammar._markers_at_once).
ONE_QUERY_ROWS = 400
#: Messages are matched once per distinct text (LineGrammar._marked) when the texts of at least
#: DEDUPE_MIN_ROWS rows are fewer than DEDUPE_BELOW of the rows.
DEDUPE_MIN_ROWS = 2_000
DEDUPE_BELOW = 0.7


def grammar_dir() -> Path:
    """Where the ``.lark`` files are: the repo's ``grammar/`` or the copy inside a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_grammar", here.parent / "grammar"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("grammar directory not found next to the analyzer package")


def grammar_path(name: str) -> Path:
    return grammar_dir() / f"{name}.lark"


@dataclass
class LineGrammar:
    """A compiled line grammar: Lark reference parser plus fast-path regexes."""

    name: str
    shapes: list[Shape]
    markers: list[Marker]
    named: frozenset[str] = field(repr=False, default=frozenset())

    @property
    def lark(self) -> Lark:
        """The reference parser, built on first use (the fast path never needs it)."""
        return _lark_parser(self.name)

    # -- reference parse ---------------------------------------------------------------
    def parse_reference(self, line: str) -> tuple[str, str | None, dict[str, str]]:
        """Parse one line with Lark. Returns (shape, marker or None, fields).

        Raises ``lark.exceptions.LarkError`` when the line matches no shape.
        """
        from lark import Token, Tree

        tree = self.lark.parse(line)
        shape_tree = tree.children[0] if tree.data == "start" else tree
        shape = str(shape_tree.data)
        fields: dict[str, str] = {}
        marker: str | None = None

        def walk(node: Tree | Token, in_message: bool) -> None:
            nonlocal marker
            if isinstance(node, Token):
                if node.type in self.named:
                    fields[node.type.lower()] = str(node)
                return
            if node.data == "message":
                child = node.children[0]
                marker = str(child.data)
                for sub in child.children:
                    walk(sub, True)
                return
            for sub in node.children:
                walk(sub, in_message)

        for child in shape_tree.children:
            walk(child, False)
        return shape, marker, fields

    def explain_failure(self, line: str) -> dict:
        """Where Lark gave up on ``line`` and which tokens it expected there, as the ``detail``
        part of a ``line_shape_unknown`` note (:func:`analyzer.notes.part`); the token names are
        Lark's own, shown as written."""
        from lark.exceptions import LarkError
        try:
            self.lark.parse(line)
        except LarkError as exc:
            column = getattr(exc, "column", None)
            expected = getattr(exc, "allowed", None) or getattr(exc, "expected", None)
            names = ", ".join(sorted(str(e) for e in expected)[:4]) if expected else None
            if column and names:
                return part("lark_at_column_expected", column=column, expected=names)
            if column:
                return part("lark_at_column", column=column)
            return part("lark_at_start_expected", expected=names) if names else part("lark_at_start")
        return part("lark_parses_it")

    # -- fast path ----------------------------------------------------------------------
    @functools.cached_property
    def _shape_regex(self) -> str:
        alts = [f"(?P<_s{i}>){s.regex}" for i, s in enumerate(self.shapes)]
        return "^(?:" + "|".join(alts) + ")$"

    @functools.cached_property
    def shape_res(self) -> list[re.Pattern[str]]:
        return [re.compile("^" + s.regex + "$") for s in self.shapes]

    def match_shape(self, line: str) -> Shape | None:
        """Python-side shape check for sniffing a few lines."""
        for shape, rx in zip(self.shapes, self.shape_res):
            if rx.match(line):
                return shape
        return None

    #: Text of no log: a shape that matches one of these takes any line (a continuation or
    #: description line) and says nothing about which format a line belongs to.
    PROBES = ("xyzzy plugh 42 quux", "    xyzzy plugh 42 quux", "\txyzzy: plugh", "xyzzy plugh: 42")

    @functools.cached_property
    def _specific_regex(self) -> str:
        specific = [s for s, rx in zip(self.shapes, self.shape_res) if not any(rx.match(p) for p in self.PROBES)]
        return "^(?:" + "|".join(f"(?:{s.regex})" for s in specific) + ")$" if specific else "(?!)"

    def fits(self, lines: pl.Series) -> pl.Series:
        """For each line, whether any line shape matches it, those that take any text included."""
        return lines.str.contains(self._shape_regex)

    def known(self, lines: pl.Series) -> pl.Series:
        """For each line, whether a shape that only lines of this format have matches it (shapes
        that take any text, and blank lines, do not count): what tells this format's lines apart."""
        return lines.str.contains(self._specific_regex) & (lines.str.strip_chars() != "")

    def shape_count(self, lines: list[str]) -> int:
        """How many of ``lines`` match a line shape (for comparing two readings of the same text,
        e.g. with and without a pasted margin)."""
        return int(self.known(pl.Series(lines, dtype=pl.String)).sum())

    def extract(self, lines: pl.Series) -> pl.DataFrame:
        """Split every line into shape, shape fields, message, marker and marker fields.

        Returns one row per input line with columns ``line`` (1-based), ``text``,
        ``shape`` (null when no shape matched), every shape field, ``message``,
        ``marker`` and every marker field (null where absent).
        """
        return self.mark(self.split(lines))

    def split(self, lines: pl.Series) -> pl.DataFrame:
        """The line-shape half of :meth:`extract`: ``line``, ``text``, ``shape`` (null when no
        shape matched), every shape field and ``message``, one row per input line.

        Why apart: a marker depends on the message alone, so a caller whose lines repeat their
        messages (a bench log's progress lines differ only in their time) can :meth:`mark` each
        distinct message once and join the answer back."""
        base = pl.DataFrame({"text": lines.cast(pl.String)}).with_row_index("line", offset=1)
        base = base.with_columns(pl.col("line").cast(pl.Int64))
        out = base.join(self._shape_fields(base), on="line", how="left")
        names = [f for s in self.shapes for f in (*s.fields, *(("message",) if s.has_message else ()))]
        missing = [pl.lit(None, dtype=pl.String).alias(f) for f in dict.fromkeys([*names, "message"]) if f not in out.columns]
        return out.with_columns(missing) if missing else out

    @functools.cached_property
    def slice_plans(self) -> list[SlicePlan | None]:
        """Per shape, how to cut its fields by position (:func:`slice_plan`), or None."""
        return [slice_plan(shape, i) for i, shape in enumerate(self.shapes)]

    def _shape_fields(self, base: pl.DataFrame) -> pl.DataFrame:
        """``line``, ``shape`` and the shape's fields of every line some shape matches. Shapes are
        tried in grammar order, each on the lines no earlier shape took (the first alternative
        that matches wins, as in the grammar); captures are extracted only for a shape's own lines.
        A shape whose fields sit at fixed places before its message (a restore log's
        ``[HH:MM:SS.ffff] message``) is tested on that head alone and cut by position
        (:func:`slice_plan`): the same answer as the whole-line regex, in a tenth of the time."""
        parts: list[pl.DataFrame] = []
        rest = base
        for i, shape in enumerate(self.shapes):
            if rest.height == 0:
                break
            plan = self.slice_plans[i]
            rx = self.shape_res[i].pattern if plan is None else plan.head
            hit = rest.get_column("text").str.contains(rx)  # (once: the same mask splits both ways)
            mine = rest.filter(hit)
            if mine.height == 0:
                continue
            rest = rest.filter(~hit)
            fields = [*shape.fields, *(("message",) if shape.has_message else ())]
            cols = [pl.lit(shape.name).alias("shape")]
            text = mine.get_column("text")
            if plan is not None:
                cols += [text.str.slice(start, length).alias(f) for f, start, length in plan.fields]
                cols.append(text.str.slice(plan.message).alias("message"))
            elif fields:
                got = text.str.extract_groups(rx).struct.unnest()
                cols += [got.get_column(f"s{i}_{f}").alias(f) for f in fields]
            parts.append(mine.select("line").with_columns(cols))
        if not parts:
            return pl.DataFrame(schema={"line": pl.Int64, "shape": pl.String})
        return pl.concat(parts, how="diagonal_relaxed")

    def extract_messages(self, messages: pl.Series, shape: str) -> pl.DataFrame:
        """This grammar's message markers over texts that are already messages.

        Why: a log of another format can relay this format's messages (a Mac console line
        carries iTunes' restore messages after its own ``process[pid]:`` prefix). The caller has
        cut the prefix off; this reads what is left with the same markers, so a message means the
        same wherever it is written. Returns the columns of :meth:`extract` (``line`` is the
        1-based position in ``messages``), with ``shape`` set to ``shape`` (a label of the
        caller's, not a shape of this grammar) and every shape field null.
        """
        frame = pl.DataFrame({"message": messages.cast(pl.String)}).with_row_index("line", offset=1)
        frame = frame.with_columns(pl.col("line").cast(pl.Int64), pl.col("message").alias("text"),
                                   pl.lit(shape, dtype=pl.String).alias("shape"))
        fields = sorted({f for s in self.shapes for f in s.fields} - {"message"})
        frame = frame.with_columns([pl.lit(None, dtype=pl.String).alias(f) for f in fields])
        return self.mark(frame.select("line", "text", "shape", *fields, "message"))

    def mark(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The marker half of :meth:`extract`: ``frame`` (``line`` and ``message`` at least) with
        ``marker`` and every marker field added, in ``line`` order. Each message gets its
        highest-priority matching marker, with that marker's fields.

        The answer is the first marker, in priority order, that matches the whole message. How it
        is found depends only on the input's size (:meth:`_marked`): a few rows through one
        alternation of every marker, more rows through a loop over the markers (one Aho-Corasick
        pass first finds which anchor literals occur at all, markers whose literal does not are
        skipped, and a marker's regex runs only on the unclaimed rows holding its literal; most
        lines of a big log are claimed early), on the distinct texts when most of them repeat.
        """
        msg = frame.select("line", "message").filter(pl.col("message").is_not_null())
        found = self._marked(msg)
        all_fields = sorted({f for m in self.markers for f in m.fields} - set(frame.columns))
        for f in all_fields:
            if f not in found.columns:
                found = found.with_columns(pl.lit(None, dtype=pl.String).alias(f))
        overlap = [c for c in found.columns if c in frame.columns and c != "line"]
        if overlap:
            found = found.rename({c: f"{c}__m" for c in overlap})
        out = frame.join(found, on="line", how="left")
        for c in overlap:
            out = out.with_columns(pl.coalesce(pl.col(f"{c}__m"), pl.col(c)).alias(c)).drop(f"{c}__m")
        return out.sort("line")

    def _marked(self, msg: pl.DataFrame) -> pl.DataFrame:
        """``line``, ``marker`` and the marker's fields of every row of ``msg`` (``line``,
        ``message``) that some marker matches.

        Each distinct message is matched once: a bench log's lines repeat (a million progress
        lines hold a few thousand distinct texts once the time prefix is cut off), and a marker
        depends on the message alone. The distinct texts go through :meth:`_first_markers` and
        the answer is joined back by text; when most texts are distinct, the rows go through as
        they are (the extra hashing would then cost more than it saves).
        """
        if msg.height <= ONE_QUERY_ROWS:
            return self._markers_at_once(msg)
        if msg.height < DEDUPE_MIN_ROWS:
            return self._first_markers(msg)
        distinct = msg.select(pl.col("message").unique().alias("_text")).with_row_index("line")
        if distinct.height > msg.height * DEDUPE_BELOW:
            return self._first_markers(msg)
        found = self._first_markers(distinct.rename({"_text": "message"}))
        found = distinct.join(found, on="line", how="inner").drop("line")
        return msg.rename({"message": "_text"}).join(found, on="_text", how="inner").drop("_text")

    def _markers_at_once(self, msg: pl.DataFrame) -> pl.DataFrame:
        """:meth:`_first_markers` for a few rows, in one regex pass.

        The markers make one alternation, in priority order, each alternative anchored at both
        ends and with its groups renamed after its position (:meth:`_alternation`). The regex
        engine prefers the leftmost alternative that matches, so the alternative that matched a
        row is the first marker that matches it in full: the loop's answer. The loop pays a
        regex compilation and a few Series operations per marker (polars keeps only a few
        compiled regexes), fixed costs that were most of the parse of a PC's hundred-line log;
        here there is one compilation, but capturing through one large regex costs more per row,
        which is why this path is kept for small inputs.
        """
        if msg.height == 0 or not self.markers:
            return pl.DataFrame(schema={"line": msg.schema["line"], "marker": pl.String})
        got = msg.get_column("message").str.extract_groups(self._alternation).struct.unnest()
        which = pl.coalesce([pl.when(pl.col(f"m{i}").is_not_null()).then(pl.lit(i, dtype=pl.Int32))
                             for i in range(len(self.markers))])
        got = pl.concat([msg.select("line"), got], how="horizontal").with_columns(which.alias("_i"))
        got = got.filter(pl.col("_i").is_not_null())
        won = sorted(set(got.get_column("_i").to_list()))
        by_field: dict[str, list[pl.Expr]] = {}
        for i in won:
            for f in self.markers[i].fields:
                by_field.setdefault(f, []).append(pl.col(f"m{i}_f_{f}"))
        names = pl.Series([m.name for m in self.markers], dtype=pl.String)
        return got.select("line", *(pl.coalesce(cols).alias(f) for f, cols in by_field.items()),
                          pl.col("_i").replace_strict(list(range(len(self.markers))), names, return_dtype=pl.String)
                          .alias("marker"))

    @functools.cached_property
    def _alternation(self) -> str:
        """Every marker's full-line regex as one alternation in priority order; marker ``i``'s
        group ``f_x`` is named ``mi_f_x`` and the empty group ``mi`` tells that it matched."""
        parts = []
        for i, marker in enumerate(self.markers):
            regex = marker.regex
            for f in marker.fields:
                regex = regex.replace(f"(?P<f_{f}>", f"(?P<m{i}_f_{f}>")
            parts.append(f"^(?:(?P<m{i}>){regex})$")
        return "|".join(parts)

    def _literals_present(self, texts: pl.Series) -> set[str]:
        """The marker literals that occur somewhere in ``texts`` (one Aho-Corasick pass)."""
        literals = sorted({m.literal for m in self.markers if m.literal})
        if not literals or texts.len() == 0:
            return set()
        return set(texts.str.extract_many(literals, overlapping=True).explode().drop_nulls().unique().to_list())

    def _first_markers(self, msg: pl.DataFrame) -> pl.DataFrame:
        """:meth:`_marked` on every row of ``msg``, texts repeated or not.

        Written with Series operations (a mask, a filter, an append) rather than frame queries:
        a frame ``filter`` or ``drop`` goes through the query engine, about 0.2 ms each whatever
        the rows, and this loop runs up to three per marker; on a PC's small restore log that
        fixed cost was most of the parse. The unclaimed rows are kept as a set (their order
        does not matter: each row's answer depends on its own text), so removing the claimed
        ones is two filters and an append.
        """
        lines, texts = msg.get_column("line"), msg.get_column("message")
        present = self._literals_present(texts)
        parts: list[pl.DataFrame] = []
        for marker in self.markers:
            if texts.len() == 0:
                break
            if marker.literal and marker.literal not in present:
                continue
            if marker.literal:
                has = texts.str.contains(marker.literal, literal=True)
                cand_lines, cand_texts = lines.filter(has), texts.filter(has)
                lines, texts = lines.filter(~has), texts.filter(~has)
            else:
                cand_lines, cand_texts = lines, texts
                lines, texts = lines.clear(), texts.clear()
            if cand_texts.len() == 0:
                continue
            got = cand_texts.str.extract_groups("^(?:(?P<_m>)" + marker.regex + ")$").struct.unnest()
            hit = got.get_column("_m").is_not_null()
            if hit.any():
                parts.append(pl.DataFrame([cand_lines.filter(hit),
                                           *(got.get_column(f"f_{f}").filter(hit).alias(f) for f in marker.fields),
                                           pl.Series("marker", [marker.name], dtype=pl.String)
                                           .extend_constant(marker.name, int(hit.sum()) - 1)]))
                cand_lines, cand_texts = cand_lines.filter(~hit), cand_texts.filter(~hit)
            lines, texts = lines.append(cand_lines), texts.append(cand_texts)
        if parts:
            return pl.concat(parts, how="diagonal_relaxed")
        return pl.DataFrame(schema={"line": msg.schema["line"], "marker": pl.String})


@functools.lru_cache(maxsize=None)
def load(name: str) -> LineGrammar:
    """Load ``grammar/<name>.lark`` with its compiled fast path (cached per process, and on disk
    between runs: :mod:`analyzer.grammar_cache`). The Lark parser is built when first needed."""
    path = grammar_path(name)

    def build() -> dict:
        text = path.read_text(encoding="utf-8")
        named = _named_terminals(text)
        shapes, markers = _Compiler(name, _lark_parser(name), named).compile()
        for item in [*shapes, *markers]:
            re.compile(item.regex)
        return {"shapes": [dataclasses.asdict(s) for s in shapes], "markers": [dataclasses.asdict(m) for m in markers],
                "named": sorted(named)}

    data = grammar_cache.load(name, path.parent, build, (Path(__file__), Path(grammar_compiler.__file__)))
    shapes = [Shape(s["name"], s["regex"], tuple(s["fields"]), s["has_message"]) for s in data["shapes"]]
    markers = [Marker(m["name"], m["priority"], m["regex"], m["literal"], tuple(m["fields"])) for m in data["markers"]]
    return LineGrammar(name, shapes, markers, frozenset(data["named"]))


@functools.lru_cache(maxsize=None)
def _lark_parser(name: str) -> Lark:
    """Lark's Earley parser for ``grammar/<name>.lark`` (the reference parse)."""
    from lark import Lark
    path = grammar_path(name)
    return Lark(path.read_text(encoding="utf-8"), parser="earley", lexer="dynamic", keep_all_tokens=True,
                start="line", import_paths=[str(path.parent)])
