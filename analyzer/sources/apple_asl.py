"""ASL text logs of Apple Mobile Device Support's helpers on Windows (``%APPDATA%\\Apple Computer\\Logs\\
asl.HHMMSS_DDMonYY.log``; reference apple-restore-logs.md §4).

Lines are ``[pid @ Www Mmm DD HH:MM:SS YYYY] [component program] message`` (``grammar/apple_asl.lark``)
between unprefixed banner lines (``====``, ``AppleMobileDeviceHelper.exe begins``). The program is the
row's ``provider`` and the component goes in ``detail``; the helper's parent (``parent process: 8852
"iTunes.exe"``) is kept. Apple's restore messages, should a helper write them, mean what they mean in a
restore log (:func:`._relay.apple_layer`). Times are the PC's local wall clock with their year
(``clock`` "local"); banner lines have none.
"""

from __future__ import annotations

import re

import polars as pl

from .. import grammars
from ._base import Input
from ._relay import apply_rules, finish, json_of, lit, read_messages, to_int
from ._text import GrammarLineSource, sniff_text

c = pl.col
_LINE = re.compile(r"^\[\d+ @ [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] \[[^\[\]]+\]")
_BANNER = re.compile(r"^[A-Za-z0-9_.-]+\.exe (?:begins|ends|exits)$")
RULES = {"parent_process": dict(kind="generic", subject=pl.concat_str(lit("parent "), c("parent")),
                                detail=json_of(parent=c("parent"), parent_pid=to_int("parent_pid")))}


class AppleAsl(GrammarLineSource):
    name = "apple_asl"
    description = "ASL text logs of Apple Mobile Device Support helpers on Windows (asl.HHMMSS_DDMonYY.log)"

    def sniff(self, item: Input) -> bool:
        head = sniff_text(item)
        if head is None:
            return False
        lines = [ln.strip() for ln in head.splitlines()[:80] if ln.strip()]
        return any(_LINE.match(ln) for ln in lines) and all(_LINE.match(ln) or _BANNER.match(ln) or set(ln) == {"="}
                                                            for ln in lines[:5])

    def events(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        rows = rows.with_columns(pl.when(c("message").is_not_null()).then(lit("asl")).alias("family"))
        rows = read_messages(rows, {"asl": grammars.load(self.name)}, self.name).with_columns(c("marker").alias("rule"))
        when = c("asl_date").str.slice(4).str.replace_all(" +", " ").str.strptime(pl.Datetime("us"), "%b %d %H:%M:%S %Y", strict=False)
        program = c("component").str.extract(r"(\S+\.exe)$", 1)
        rows = rows.with_columns(
            when.alias("ts_wall"), c("asl_date").alias("ts_raw"),
            pl.when(when.is_not_null()).then(lit("local")).otherwise(lit("none")).alias("clock"),
            pl.coalesce(program, c("component"), c("banner_exe")).alias("provider"), pl.lit(None, dtype=pl.String).alias("computer"),
            pl.lit(None, dtype=pl.Int32).alias("level"),
            json_of(component=c("component"), pid=to_int("asl_pid"), banner=c("banner_what")).alias("context"))
        return finish(rows, apply_rules(rows, RULES), self.name)


SOURCE = AppleAsl()
