"""macOS unified log as ``log show`` prints it: the default style (``Timestamp  Thread  Type  Activity
PID  TTL`` header, then ``2026-03-02 14:05:09.123456-0800 0x2f1a  Default  0x0  474  0
AMPDevicesAgent: …``), ``--style syslog``, ``--style compact``, and the unified prefix of device-side
logs (``… restored_external[7:443] …``). Reference apple-restore-logs.md §5.

Line shapes are in ``grammar/mac_unified_log.lark``; messages are read as :mod:`._mac_read` says (the
same MobileDevice markers and relay prefixes as the Console lines), and Apple's restore messages mean
what they mean in a restore log: a restore session relayed by AMPDevicesAgent becomes attempts.

Times: ``ts_wall`` is the wall time as written, ``clock`` "local", and the UTC offset the lines carry
(``-0800``) is the file's ``report.clock["utc_offset"]``, which :mod:`analyzer.clock` uses to put the
file on UTC (ahead of ``--tz``: the log says its own offset). The event table has no column for a
per-row offset, so a file whose lines carry two offsets (a DST change inside it) is read with the one
most lines carry, and a note says so. The compact style writes local time without an offset.
"""

from __future__ import annotations

import polars as pl

from ..model import Note
from ._base import Input, add_note
from ._mac_read import MacSource
from ._relay import lit
from ._unix_time import TS_FORMAT, file_offset, offset_text

c = pl.col
_OFFSET_SHAPES = ("default", "syslog", "unified")


class MacUnifiedLog(MacSource):
    name = "mac_unified_log"
    description = "macOS unified log (log show: default, syslog and compact styles; device-side unified lines)"

    def times(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        shape = c("shape")
        offsets = shape.is_in(list(_OFFSET_SHAPES))
        clock_text = pl.when(offsets).then(c("utime")).when(shape == "compact").then(c("ctime"))
        rows = rows.with_columns(
            pl.concat_str(c("date"), lit(" "), clock_text).str.strptime(pl.Datetime("us"), TS_FORMAT, strict=False).alias("ts_wall"),
            pl.when(offsets).then(pl.concat_str(c("date"), lit(" "), c("utime"), c("uoffset")))
            .when(shape == "compact").then(pl.concat_str(c("date"), lit(" "), c("ctime"))).alias("ts_raw"),
            pl.when(offsets).then(offset_text(c("uoffset"))).alias("_offset"))
        rows = rows.with_columns(pl.when(c("ts_wall").is_not_null()).then(lit("local")).otherwise(lit("none")).alias("clock"))
        offset, seen = file_offset(rows.get_column("_offset"))
        if offset:
            report.clock["utc_offset"] = offset
        if len(seen) > 1:
            report.clock["utc_offsets"] = seen
            add_note(report, Note(item.display, "utc_offsets_differ", {"offsets": ", ".join(seen), "used": offset},
                                  severity="warning"))
        return rows.drop("_offset")


SOURCE = MacUnifiedLog()
