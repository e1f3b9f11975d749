"""``wevtutil qe <log> /f:text`` exports (grammar/windows_wevtutil_text.lark).

Records start at ``Event[n]:`` (or, in a copy that starts inside the export, at the first
record's Log Name label); the header is two-space-indented ``Label: value``
lines; the rendered message follows ``Description:`` up to the next
``Event[n]:``. Labels are English in real exports (reference §2), but exports
from localised UIs are tolerated: the label words are data, known English, Japanese,
Chinese and Korean labels map to fields and unknown ones go to ``data`` as written.

The whole file goes through the grammar's vectorised fast path once; records are
then assembled with polars expressions (no per-line Python), and
:func:`analyzer.winevent.normalise` gives them meaning.
"""

from __future__ import annotations

import polars as pl

from .. import winevent
from ..grammars import load
from ..model import Note
from ._text import open_report, text_lines
from ._base import Input, Parsed, Source, add_note, add_omitted_note
from ._windows_text import data_from_pairs, iso_local, level_numbers

#: Label word (as written, stripped) → field. English per reference §2 (verified: wevtutil keeps
#: its labels English on Japanese, Chinese and Korean Windows, with localised values and
#: descriptions). The Japanese, Chinese (simplified, traditional) and Korean words are the UI's
#: terms for these fields, as Event Viewer writes them: tolerated input for an export whose
#: labels were translated, not a claim that wevtutil does so.
LABELS: dict[str, str] = {
    "Log Name": "channel", "Source": "provider", "Date": "date", "Event ID": "event_id", "Task": "Task",
    "Task Category": "Task", "Level": "level", "Opcode": "Opcode", "Keyword": "Keyword", "Keywords": "Keyword",
    "User": "User", "User Name": "User Name", "Computer": "computer", "Description": "description",
    "ログの名前": "channel", "ログ名": "channel", "ソース": "provider", "日付": "date", "イベント ID": "event_id",
    "イベントID": "event_id", "タスク": "Task", "タスクのカテゴリ": "Task", "レベル": "level", "オペコード": "Opcode",
    "キーワード": "Keyword", "ユーザー": "User", "ユーザー名": "User Name", "コンピューター": "computer",
    "コンピュータ": "computer", "説明": "description",
    # Chinese (simplified)
    "日志名称": "channel", "来源": "provider", "日期": "date", "事件 ID": "event_id", "任务": "Task",
    "任务类别": "Task", "级别": "level", "操作代码": "Opcode", "操作码": "Opcode", "关键字": "Keyword",
    "用户": "User", "用户名": "User Name", "计算机": "computer", "描述": "description",
    # Chinese (traditional)
    "記錄檔名稱": "channel", "來源": "provider", "事件識別碼": "event_id", "工作": "Task", "工作類別": "Task",
    "層級": "level", "作業碼": "Opcode", "關鍵字": "Keyword", "使用者": "User", "使用者名稱": "User Name",
    "電腦": "computer",
    # Korean
    "로그 이름": "channel", "원본": "provider", "날짜": "date", "이벤트 ID": "event_id", "작업": "Task",
    "작업 범주": "Task", "태스크 범주": "Task", "수준": "level", "옵코드": "Opcode", "키워드": "Keyword",
    "사용자": "User", "사용자 이름": "User Name", "컴퓨터": "computer", "설명": "description",
}

#: Fields that become raw-frame columns (everything else goes to ``data``).
COLUMN_FIELDS = ("channel", "provider", "date", "event_id", "level", "computer")


class WevtutilText(Source):
    name = "windows_wevtutil_text"
    description = "wevtutil qe /f:text export (Event[n]: blocks; English or localised labels)"
    free_text = True  # records take free text: the region search decides (ingest._read_whole)

    def sniff(self, item: Input) -> bool:
        grammar = load(self.name)
        seen = 0
        for line in item.head_text.splitlines()[:40]:
            if not line.strip():
                continue
            shape = grammar.match_shape(line)
            name = shape.name if shape else None
            if seen == 0:
                # Event[n]:, or a copy that starts at a record's Log Name label
                if name == "field" and LABELS.get(line.split(":", 1)[0].strip()) == "channel":
                    seen = 1
                    continue
                if name != "event":
                    return False
                seen = 1
                continue
            # the line after Event[n]: must be an indented label line
            return name == "field"
        return False

    def parse(self, item: Input) -> Parsed:
        decoded, report = open_report(self, item)
        raw, info = records_from_lines(text_lines(decoded.text), load(self.name), item.display)
        report.records = info["records"]
        report.skipped = info["skipped"]
        report.unrecognised = info["unrecognised"]
        for note in info["notes"]:
            add_note(report, note)
        add_omitted_note(report, item.display)
        # which clock each record used is in its ``clock`` column (local, or utc for ``…Z``);
        # analyzer.clock summarises it in report.clock
        return Parsed(winevent.normalise(raw).with_columns(pl.lit(self.name).alias("format")), report)


def classify(lines: pl.Series, grammar) -> pl.DataFrame:
    """The grammar's line shapes for every line, vectorised, with cheap prefilters.

    Same result as ``grammar.extract`` (checked by the tests): shapes are tried in
    grammar order (event, field, blank, text), but each shape regex only runs on
    the lines that can match it: ``Event[`` lines for *event*, indented lines for
    *field*. That halves the regex work on big exports, where most lines are
    header labels or description text.
    """
    regex = {shape.name: "^" + shape.regex + "$" for shape in grammar.shapes}
    prefix = {shape.name: f"s{i}_" for i, shape in enumerate(grammar.shapes)}
    text = pl.col("text")
    f = pl.DataFrame({"text": lines}).with_row_index("line", offset=1).with_columns(pl.col("line").cast(pl.Int64))
    ev = pl.when(text.str.starts_with("Event[")).then(text).otherwise(pl.lit(None, dtype=pl.String))
    ind = pl.when(text.str.starts_with(" ")).then(text).otherwise(pl.lit(None, dtype=pl.String))
    out = f.with_columns(
        ev.str.extract_groups(regex["event"]).struct.field(prefix["event"] + "ordinal").alias("ordinal"),
        ind.str.extract_groups(regex["field"]).alias("_g"),
    ).with_columns(
        pl.col("_g").struct.field(prefix["field"] + "label").alias("label"),
        pl.col("_g").struct.field(prefix["field"] + "value").alias("value"),
    )
    blank = text.str.contains(regex["blank"])
    return out.select(
        "line", "text",
        pl.when(pl.col("ordinal").is_not_null()).then(pl.lit("event"))
          .when(pl.col("label").is_not_null()).then(pl.lit("field"))
          .when(blank).then(pl.lit("blank"))
          .otherwise(pl.lit("text")).alias("shape"),
        "ordinal", "label", "value",
    )


def _scatter(n: int, rec: pl.Series, values: pl.Series) -> pl.Series:
    """Values placed by record number 1..n (first occurrence wins), nulls elsewhere."""
    out = pl.Series(values.name, [None] * n, dtype=values.dtype)
    if len(rec):
        # scatter keeps the last write: write in reverse so the first occurrence wins
        out = out.scatter((rec - 1).reverse(), values.reverse())
    return out


def records_from_lines(lines: pl.Series | list[str], grammar, display: str = "") -> tuple[pl.DataFrame, dict]:
    """Assemble raw records from the lines of a wevtutil text export (vectorised); ``info["notes"]``
    are located in ``display``."""
    if not isinstance(lines, pl.Series):
        lines = pl.Series("text", lines, dtype=pl.String)
    f = _by_record(classify(lines, grammar))
    n = int(f.get_column("rec").max() or 0)
    head = f.filter((pl.col("rec") > 0) & (pl.col("state") == 0))
    notes, unrecognised = _stray_line_notes(f, head, display)
    headless = f.filter(pl.col("start") & (pl.col("shape") != "event")).get_column("line")
    notes += [Note(display, "wevtutil_event_line_missing", line=line, severity="info") for line in headless.head(5)]
    rec = pl.DataFrame(_record_columns(f, head, n)).with_columns(
        pl.col("event_id").str.strip_chars().cast(pl.Int64, strict=False).alias("event_id_n"),
        iso_local(pl.col("date")).alias("ts_wall"),
    )
    notes += _record_notes(rec, display)
    notes.sort(key=lambda n: n.line or 0)
    skipped = rec.filter(pl.col("event_id_n").is_null()).height
    info = {"records": n, "skipped": skipped, "unrecognised": unrecognised, "notes": notes}
    return winevent.raw_frame(_raw_columns(rec.filter(pl.col("event_id_n").is_not_null()))), info


def _by_record(ex: pl.DataFrame) -> pl.DataFrame:
    """The classified lines with their record (``rec``: 0 before the first record), the field
    their label names (``key``), ``start`` (the line starts a record) and ``state``: 0 in a
    record header, 1 from its Description label on (forward-filled).

    A record starts at ``Event[n]:``, or, in a copy that starts inside the export, at a Log
    Name label that no ``Event[n]:`` line precedes (before the file's first ``Event[n]:``)."""
    shape = pl.col("shape")
    event = shape == "event"
    keyed = ex.with_columns(
        pl.col("label").str.strip_chars().alias("label"),
    ).with_columns(
        pl.col("label").replace_strict(LABELS, default=None, return_dtype=pl.String).alias("key"),
        (event.cast(pl.Int32).cum_sum() == 0).alias("_before"),
    )
    headless = (pl.col("key") == "channel") & pl.col("_before") & (shape == "field")
    return keyed.with_columns((event | headless).alias("start")).with_columns(
        pl.col("start").cast(pl.Int32).cum_sum().alias("rec"),
    ).with_columns(
        pl.when(pl.col("start")).then(pl.lit(0, dtype=pl.Int8))
          .when((shape == "field") & (pl.col("key") == "description")).then(pl.lit(1, dtype=pl.Int8))
          .otherwise(pl.lit(None, dtype=pl.Int8)).forward_fill().alias("state"),
    ).drop("_before")


def _stray_line_notes(f: pl.DataFrame, head: pl.DataFrame, display: str) -> tuple[list[Note], int]:
    """Notes on the first lines that belong to no record, or sit in a record header without
    being ``label: value``; and how many such lines there are in all (unrecognised)."""
    notes: list[Note] = []
    pre = f.filter((pl.col("rec") == 0) & (pl.col("shape") != "blank"))
    for row in pre.head(5).iter_rows(named=True):
        notes.append(Note(display, "text_before_first_event", line=row["line"], excerpt=row["text"][:120]))
    stray = head.filter(pl.col("shape") == "text")
    for row in stray.head(20).iter_rows(named=True):
        notes.append(Note(display, "header_line_not_label", line=row["line"], excerpt=row["text"][:120]))
    return notes, pre.height + stray.height


def _record_columns(f: pl.DataFrame, head: pl.DataFrame, n: int) -> dict[str, pl.Series]:
    """One value per record 1..n: id, first line, the COLUMN_FIELDS, the other labels as
    ``data`` and the message."""
    shape = pl.col("shape")
    fields = head.filter(shape == "field").select("rec", "label", "key", pl.col("value").str.strip_chars())
    starts = f.filter(pl.col("start"))
    columns: dict[str, pl.Series] = {
        "record": starts.get_column("ordinal").cast(pl.Int64, strict=False),
        "first_line": starts.get_column("line"),
    }
    for k in COLUMN_FIELDS:
        sub = fields.filter(pl.col("key") == k)
        columns[k] = _scatter(n, sub.get_column("rec"), sub.get_column("value").alias(k))
    extra = fields.filter((pl.col("key").is_null() | ~pl.col("key").is_in(list(COLUMN_FIELDS)))
                          & pl.col("value").is_not_null() & (pl.col("value") != ""))
    extra = extra.select("rec", pl.coalesce(pl.col("key"), pl.col("label")).alias("key"), "value")
    data = data_from_pairs(extra, by="rec")
    columns["data"] = _scatter(n, data.get_column("rec"), data.get_column("data"))
    messages = _messages(f)
    columns["message"] = _scatter(n, messages.get_column("rec"), messages.get_column("message"))
    return columns


def _messages(f: pl.DataFrame) -> pl.DataFrame:
    """Each record's message: the Description label's own value (if any) and every line after it."""
    desc_line = (pl.col("shape") == "field") & (pl.col("key") == "description") & (pl.col("state") == 1)
    msg_lines = f.filter((pl.col("rec") > 0) & (pl.col("state") == 1)).select(
        "rec",
        pl.when(desc_line).then(pl.col("value").str.strip_chars()).otherwise(pl.col("text")).alias("text"),
        desc_line.alias("_d"),
    ).filter(~pl.col("_d") | (pl.col("text").is_not_null() & (pl.col("text") != "")))
    messages = msg_lines.group_by("rec", maintain_order=True).agg(pl.col("text").str.join("\n").alias("message"))
    messages = messages.with_columns(pl.col("message").str.strip_chars_end().str.strip_chars_start("\n"))
    return messages.filter(pl.col("message") != "")


def _record_notes(rec: pl.DataFrame, display: str) -> list[Note]:
    """Notes on the first records skipped (no usable Event ID) and kept without a time."""
    notes: list[Note] = []
    missing_id = rec.filter(pl.col("event_id_n").is_null())
    for row in missing_id.head(20).iter_rows(named=True):
        where = {"line": row["first_line"], "record": row["record"]}
        if row["event_id"] is None:
            notes.append(Note(display, "record_skipped_no_event_id", **where))
        else:
            notes.append(Note(display, "record_skipped_event_id_not_number", {"value": row["event_id"]}, **where))
    bad_date = rec.filter(pl.col("event_id_n").is_not_null() & pl.col("ts_wall").is_null())
    for row in bad_date.head(20).iter_rows(named=True):
        where = {"line": row["first_line"], "record": row["record"], "severity": "warning"}
        if row["date"] is None:
            notes.append(Note(display, "record_no_date_label", **where))
        else:
            notes.append(Note(display, "record_date_not_understood", {"value": row["date"]}, **where))
    return notes


def _raw_columns(kept: pl.DataFrame) -> pl.DataFrame:
    """The kept records in the raw record frame's columns (the clock: ``utc`` for a ``Z`` date)."""
    date = pl.col("date").str.strip_chars()
    raw = kept.select(
        pl.col("record"),
        pl.col("first_line").alias("line"),
        pl.col("ts_wall"),
        pl.col("date").alias("ts_raw"),
        pl.when(date.is_null()).then(None)
          .when(date.str.ends_with("Z") | date.str.ends_with("z")).then(pl.lit("utc"))
          .otherwise(pl.lit("local")).alias("clock"),
        pl.col("channel"), pl.col("provider"), pl.col("event_id_n").alias("event_id"),
        pl.col("level"),
        pl.col("computer"), pl.col("data"), pl.col("message"),
    )
    return raw.with_columns(level_numbers(raw.get_column("level")))


SOURCE = WevtutilText()
