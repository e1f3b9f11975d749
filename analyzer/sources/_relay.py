"""What the Mac, Linux and ASL sources share: reading the message inside a line, and giving Apple's
messages the meaning they have in restore logs.

Why one module: a Mac console line, a unified-log line, a Linux journal line and an ASL line differ in
their prefix (the line shape, in each source's grammar) but carry messages of a few families —
MobileDevice's, usbmuxd's, the kernel's, and Apple's restore messages. Each family is read by one
grammar's markers wherever its messages appear:

* :func:`read_messages` runs a family's grammar over the message text and unwraps *relay* markers
  (markers with a ``relayed`` field: ``tid:4217 - …``, ``(MobileDevice) …``, ``[3] …``) until the
  innermost message is left in ``inner``; the prefix fields stay as columns;
* :func:`apply_rules` turns a family's markers into event columns from a table of expressions per
  marker (the same idea as the restore log's classifier, for messages it does not know);
* :func:`apple_layer` reads every innermost message with the restore log's own grammar markers and
  classifier (:mod:`._apple_classify`), marks ``expected`` with the restore log's transition logic
  (:mod:`._apple_session`), and numbers attempts when the file holds a restore session's header or
  result lines — so ``BootedOS mode device disconnected`` means the same in a console line as in an
  iTunes restore log;
* :func:`finish` merges the two into the schema: a family marker's meaning first (they are specific:
  ``Connected to v2.0 device``, ``Entered:_AMMuxedDeviceDisconnected``), Apple's meaning for the
  messages no family marker explained.
"""

from __future__ import annotations

import polars as pl

from .. import grammars
from ..model import conform
from ._apple_classify import HEADER, RESULT_PARTS, attach, classify, ecid_expr, hex_id
from ._apple_session import mark_expected, split_attempts
from .apple_restore import AppleRestoreSource  # its per-attempt summaries (session_start, result, identity), reused as they are

c = pl.col
#: Relay prefixes read one inside the other at most this many times (``(Sender) [sub:cat] tid:1 - …``).
MAX_RELAYS = 4
#: The event columns a rule table may give (and their types).
OUT = {"kind": pl.String, "subject": pl.String, "error_code": pl.Int64, "detail": pl.String,
       "device_mode": pl.String, "ecid_text": pl.String, "udid": pl.String, "serial": pl.String,
       "chip_id": pl.String, "usb_vid": pl.String, "usb_pid": pl.String}
_APPLE_COLUMNS = ("kind", "subject", "error_code", "detail", "device_mode", "ecid", "udid", "serial", "chip_id",
                  "board_id", "usb_vid", "usb_pid")


def lit(text: str | None) -> pl.Expr:
    return pl.lit(text, dtype=pl.String)


def to_int(name: str) -> pl.Expr:
    return c(name).str.strip_chars().cast(pl.Int64, strict=False)


def json_of(**fields: pl.Expr) -> pl.Expr:
    """Compact JSON of the non-null fields (null when all are null), keys in the order given;
    numbers stay numbers (the restore log's classifier writes its detail the same way)."""
    raw = pl.struct(**fields).struct.json_encode()
    cleaned = (raw.str.replace_all(r'"[A-Za-z_]+":null,', "")
               .str.replace_all(r',"[A-Za-z_]+":null', "")
               .str.replace_all(r'^\{"[A-Za-z_]+":null\}$', "{}"))
    return pl.when(cleaned == "{}").then(None).otherwise(cleaned)


def merge_json(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Two compact JSON objects (either may be null) as one; keys of both must differ."""
    both = pl.concat_str(a.str.strip_suffix("}"), lit(","), b.str.strip_prefix("{"))
    return pl.when(a.is_null()).then(b).when(b.is_null()).then(a).otherwise(both)


def udid_ids(udid: pl.Expr) -> dict[str, pl.Expr]:
    """ECID text and chip id inside a new-style UDID (``00008030-001A2B3C4D5E602E``: chip, ECID in hex)."""
    new_style = udid.str.contains(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{16}$").fill_null(False)
    return {"ecid_text": pl.when(new_style).then(pl.concat_str(lit("0x"), udid.str.slice(9))),
            "chip_id": pl.when(new_style).then(hex_id(udid.str.slice(0, 8)))}


# -- messages --------------------------------------------------------------------------------------------
def read_messages(rows: pl.DataFrame, routes: dict[str, grammars.LineGrammar], first_pass: str | None) -> pl.DataFrame:
    """Each row's message read by its family's grammar (``family`` column → ``routes``), relays unwrapped.

    Rows whose family grammar is ``first_pass`` (the grammar ``rows`` were extracted with) keep the
    markers found then; the others are read with :meth:`~analyzer.grammars.LineGrammar.extract_messages`;
    rows of no routed family get no marker. Adds ``inner`` (the innermost message) and every field of
    the grammars used. Works on masks over the whole frame: only the rows re-read are copied.
    """
    family = c("family")
    kept = [name for name, g in routes.items() if g.name == first_pass]
    rows = rows.with_columns(c("message").alias("inner"),
                             pl.when(family.is_in(kept).fill_null(False)).then(c("marker")).alias("marker"))
    for name, grammar in routes.items():
        if grammar.name == first_pass:
            continue
        sub = rows.filter((family == name) & c("message").is_not_null()).select("line", "message")
        if sub.height:
            rows = _overwrite(rows, grammar, grammar.extract_messages(sub.get_column("message"), "relayed"), sub.get_column("line"))
    by_grammar: dict[str, list[str]] = {}
    for name, grammar in routes.items():
        by_grammar.setdefault(grammar.name, []).append(name)
    for gname, families in by_grammar.items():
        rows = _unwrap(rows, routes[families[0]], families)
    return rows


def _fields(grammar: grammars.LineGrammar) -> list[str]:
    return sorted({f for m in grammar.markers for f in m.fields})


def _overwrite(rows: pl.DataFrame, grammar: grammars.LineGrammar, read: pl.DataFrame, lines: pl.Series,
               keep: frozenset[str] = frozenset()) -> pl.DataFrame:
    """Put ``read``'s marker and fields (one row per line of ``lines``) in place of the old ones on
    those lines; fields in ``keep`` only where the new value is not null."""
    names = ["marker", *_fields(grammar)]
    new = read.select(names).with_columns(lines.alias("line")).rename({n: f"{n}__n" for n in names})
    rows = attach(rows, new)
    hit = c("marker__n").is_not_null()
    updates = []
    for n in names:
        old = c(n) if n in rows.columns else pl.lit(None, dtype=pl.String)
        updates.append((pl.coalesce(c(f"{n}__n"), old) if n in keep else pl.when(hit).then(c(f"{n}__n")).otherwise(old)).alias(n))
    return rows.with_columns(updates).drop([f"{n}__n" for n in names])


def _unwrap(rows: pl.DataFrame, grammar: grammars.LineGrammar, families: list[str]) -> pl.DataFrame:
    """Replace relay markers by what the relayed text says, keeping the prefix fields."""
    relay = [m.name for m in grammar.markers if "relayed" in m.fields]
    prefix = frozenset({f for m in grammar.markers if m.name in relay for f in m.fields} - {"relayed"})
    for _ in range(MAX_RELAYS if relay else 0):
        sub = rows.filter(c("family").is_in(families) & c("marker").is_in(relay)).select("line", "relayed")
        if sub.height == 0:
            break
        lines = sub.get_column("line")
        inner = pl.DataFrame({"line": lines, "inner__n": sub.get_column("relayed")})
        rows = attach(rows, inner).with_columns(pl.coalesce(c("inner__n"), c("inner")).alias("inner")).drop("inner__n")
        rows = _overwrite(rows, grammar, grammar.extract_messages(sub.get_column("relayed"), "relayed"), lines, prefix)
    return rows


def apply_rules(rows: pl.DataFrame, rules: dict[str, dict]) -> pl.DataFrame:
    """``line`` plus the OUT columns of each row from the table entry of its ``rule`` column (a
    marker name, usually); rows whose rule has no entry are kind "generic" with nulls. An entry's
    ``kind`` is a kind name, or an expression where one marker means two kinds (a URB status that is
    an error or only a cancel)."""
    needed = {n for spec in rules.values() for e in spec.values() if isinstance(e, pl.Expr) for n in e.meta.root_names()}
    narrow = rows.select("line", "rule", *sorted(needed & set(rows.columns)))
    parts = []
    for (key,), part in narrow.partition_by("rule", as_dict=True, include_key=True).items():
        spec = dict(rules.get(key, {})) if key is not None else {}
        kind = spec.pop("kind", "generic")
        exprs = [(kind if isinstance(kind, pl.Expr) else lit(kind)).alias("kind")]
        for name, dtype in OUT.items():
            if name != "kind":
                exprs.append((spec.get(name) if spec.get(name) is not None else pl.lit(None)).cast(dtype, strict=False).alias(name))
        parts.append(part.select("line", *exprs))
    if not parts:
        return pl.DataFrame(schema={"line": pl.Int64, **OUT})
    return pl.concat(parts, how="vertical").sort("line")


# -- Apple's meaning -------------------------------------------------------------------------------------
def apple_layer(rows: pl.DataFrame) -> pl.DataFrame:
    """Apple's restore-log meaning of every row's ``inner`` message (``line``, ``provider`` given).

    Returns ``line``, ``apple`` (an Apple marker matched), ``attempt``, ``expected`` and the Apple
    event columns. Attempts are numbered only on the rows of the processes that wrote a restore
    session's header or result lines (the restore log relayed in a console); every other row stays
    outside attempts, its connects/disconnects still marked with the restore log's logic.
    """
    if rows.height == 0:
        return pl.DataFrame(schema={"line": pl.Int64, "attempt": pl.Int32, "expected": pl.Boolean,
                                    **{n: (pl.UInt64 if n == "ecid" else pl.Int64 if n == "error_code" else pl.String)
                                       for n in _APPLE_COLUMNS}, "apple": pl.Boolean})
    grammar = grammars.load(AppleRestoreSource.name)
    read = grammar.extract_messages(rows.get_column("inner").fill_null(""), "relayed")
    read = read.with_columns(rows.get_column("line"), rows.get_column("provider"))
    found = classify(read)
    restore_rules = list(HEADER + RESULT_PARTS)
    writers = found.filter(c("rule").is_in(restore_rules)).get_column("provider").drop_nulls().unique().to_list()
    in_session = c("provider").is_in(writers)
    session = found.filter(in_session)
    others = found.filter(~in_session).with_columns(pl.lit(1, dtype=pl.Int32).alias("attempt"))
    parts = [mark_expected(others).with_columns(pl.lit(None, dtype=pl.Int32).alias("attempt"))]
    if session.height:
        parts.append(AppleRestoreSource._summaries(mark_expected(split_attempts(session))))
    found = pl.concat([p.select("line", "rule", "attempt", "expected", *[n if n != "ecid" else "ecid_value" for n in _APPLE_COLUMNS])
                       for p in parts], how="vertical").sort("line")
    return found.rename({"ecid_value": "ecid"}).with_columns((c("rule") != "relayed").alias("apple")).drop("rule")


def finish(rows: pl.DataFrame, local: pl.DataFrame, source: str, apple_rows: pl.Expr | None = None) -> pl.DataFrame:
    """The event table: the family's own meaning where one of its markers matched, else Apple's
    meaning where an Apple marker matched, else a generic row.

    Only rows no family marker explained (and, with ``apple_rows``, only those it selects: a kernel
    message is never a restore message) are read with the restore log's markers, which keeps the
    Apple pass to the messages that can be Apple's.

    ``rows`` carries line, ts_wall, ts_raw, clock, provider, computer, level, context (JSON of the
    prefix fields), message and text; ``local`` is :func:`apply_rules`' output. The event's message is
    the line's message after its prefix (time, host, process), the whole line where it has none.
    """
    candidates = c("marker").is_null() | (c("marker") == "other")
    if apple_rows is not None:
        candidates = candidates & apple_rows.fill_null(True)
    apple = apple_layer(rows.filter(candidates).select("line", "inner", "provider"))
    local = local.with_columns(ecid_expr(c("ecid_text")).alias("ecid")).drop("ecid_text")
    both = attach(rows.select("line", "ts_wall", "ts_raw", "clock", "provider", "computer", "level", "context",
                              pl.coalesce(c("message"), c("text")).alias("text")),
                  local.rename({n: f"{n}__l" for n in local.columns if n != "line"}))
    both = attach(both, apple)
    apple_hit = c("apple").fill_null(False)
    pick = [pl.when(apple_hit).then(c(n)).otherwise(c(f"{n}__l")).alias(n) for n in _APPLE_COLUMNS if n != "board_id"]
    both = both.with_columns(*pick, pl.when(apple_hit).then(c("expected")).alias("expected"))
    both = both.with_columns(merge_json(c("detail"), c("context")).alias("detail"))
    return conform(both.select(
        "line", "ts_wall", "ts_raw", "clock", lit(source).alias("format"), "kind", "attempt", "error_code", "expected",
        "device_mode", "ecid", "udid", "serial", "chip_id", "board_id", "usb_vid", "usb_pid", "computer", "provider",
        "level", "subject", "detail", c("text").alias("message")))
