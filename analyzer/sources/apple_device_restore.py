"""The restore as the device and idevicerestore see it (Linux, Mac and Windows alike).

Two producers, one source, because real files mix them: the device's own restore log
(restored / restored_external, reference apple-restore-logs.md §6) is handed over on its own, and
idevicerestore's console output and log file (§7) relay that log line for line. Both print most
messages without any prefix, so an unprefixed line *is* a line of this format — which is why this
is not :mod:`.apple_restore`, where such a line is unrecognised and counted as such. They also
keep other clocks: the device writes GMT (``[HH:MM:SS.ffff-GMT]``, ``SYSLOG:``; only unified-log
lines carry a date), idevicerestore's console no time at all and its log file the host's local
time of day.

Syntax: ``grammar/apple_device_restore.lark`` through the compiled fast path; meaning:
:mod:`._apple_device_rules` (with the markers shared with host logs in :mod:`._apple_classify`);
clocks: :func:`._apple_time.resolve_device`; runs, results and the start of each run:
:mod:`._apple_device_session`; identity blocks and expected disconnects as in host logs
(:mod:`._apple_session`). Never raises on bad input; what is missing is said in located notes: no
date (times on the placeholder day), no time at all, a failure without a code.
"""

from __future__ import annotations

import re

import polars as pl

from ..model import Note, conform
from ._apple_classify import classify
from ._apple_device_rules import device_rules
from ._apple_device_session import results, session_starts, split_runs
from ._apple_session import identities, mark_expected, overlay
from ._apple_time import PLACEHOLDER_DAY, resolve_device
from ._base import Input, add_note
from ._text import GrammarLineSource

SNIFF_LINES = 80

_DEVICE = re.compile(r"^\[\d{2}:\d{2}:\d{2}\.\d{4}-GMT\]\{\d+>\d+\} ")
_DEVICE_WORDS = re.compile(r"^(?:(?:executing /usr/sbin/nvram )?restore-step-[a-z-]+ ?=|ASR (?:STATUS|RESTORE PROGRESS|VERIFY PROGRESS): |"
                           r"SYSLOG: [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ restored|recv\(\d+, \d+\) failed: connection closed$|"
                           r"restore_apfs_image : )")
_CONSOLE = re.compile(r"^(?:(?:\d{2}:\d{2}:\d{2}\.\d{3} +<(?:Error|Warning|Notice|Info|Verbose|Debug)> )?"
                      r"(?:idevicerestore \d|Found device in (?:DFU|Recovery|Restore|WTF|Normal|Port DFU) mode$|"
                      r"Identified device as |(?:irecv|idevice)_event_cb: device [0-9a-f]{16} |_irecv_event_handler: found new: |"
                      r"Waiting for device to enter restore mode|Got status message$|Checkpoint \d+ complete with code |"
                      r"Checkpoint (?:completed|started|WARNING|FAILURE) +id: 0x))")
#: A host restore log's own lines: such a file is apple_restore's, relayed device lines and all.
_HOST = re.compile(r"^(?:\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (?:iTunes\.exe|iTunes|AMPDevicesAgent)?\[\d+:[0-9A-Fa-f]+\]: |"
                   r"\[\d{2}:\d{2}:\d{2}\.\d{4}\] |\d{2}:\d{2}:\d{2}\.\d{3}: )")
_DEVICE_SHAPES = ("device", "syslog", "unified")
_DEVICE_MARKERS = ("checkpoint", "checkpoint_note", "restore_step", "asr_progress", "asr_status", "asr_could_not",
                   "asr_checksum", "image_failed", "recv_closed", "message_size", "mux_refused", "waiting_host")
#: Columns the shared helpers of _apple_session read that this grammar does not have.
_SHARED_COLUMNS = ("device_obj", "operation", "phase_result", "from_state", "to_state", "identity_key", "identity_value")


class AppleDeviceRestoreSource(GrammarLineSource):
    name = "apple_device_restore"
    description = "the device's own restore log (restored) and idevicerestore's console output and log file"
    free_text = True  # records take free text: the region search decides (ingest._read_whole)

    def sniff(self, item: Input) -> bool:
        """Device restore-log or idevicerestore lines near the start, and no host restore-log line.
        Content only."""
        lines = [ln for ln in item.head_text.splitlines()[:SNIFF_LINES * 4] if ln.strip()][:SNIFF_LINES]
        if any(_HOST.match(ln) for ln in lines):
            return False
        device = sum(1 for ln in lines if _DEVICE.match(ln) or _DEVICE_WORDS.match(ln))
        return device >= 2 or any(_CONSOLE.match(ln.lstrip("> ")) for ln in lines)

    def events(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        rows = rows.filter(pl.col("text").str.strip_chars() != "")
        if rows.height == 0:
            return conform(None)
        rows = rows.with_columns([pl.lit(None, dtype=pl.String).alias(n) for n in _SHARED_COLUMNS if n not in rows.columns])
        rows = classify(rows, device_rules())
        rows = resolve_device(rows, report.clock)
        rows = self._provider(rows)
        rows = split_runs(rows)
        rows = mark_expected(rows)
        rows = self._summaries(rows)
        self._notes(rows, item, report)
        return conform(rows.select(
            "line", "ts_wall", "ts_raw", "clock", pl.lit(self.name).alias("format"), "kind", "attempt", "error_code",
            "expected", "device_mode", pl.col("ecid_value").alias("ecid"), "udid", "serial", "chip_id", "board_id",
            "usb_vid", "usb_pid", "provider", "subject", "detail", "message"))

    @staticmethod
    def _provider(rows: pl.DataFrame) -> pl.DataFrame:
        """Who wrote each line: the device (its process where the line names it) or idevicerestore.
        A free-text line is the device's in a file with no idevicerestore line, else idevicerestore's."""
        shape, rule = pl.col("shape"), pl.col("rule")
        console = rows.filter((shape == "logged") | ~(rule.is_in([*_DEVICE_MARKERS, *_DEVICE_SHAPES, "plain"]))).height > 0
        device = shape.is_in(_DEVICE_SHAPES) | rule.is_in(_DEVICE_MARKERS)
        return rows.with_columns(
            pl.when(shape == "syslog").then(pl.col("sys_proc")).when(shape == "unified").then(pl.col("uproc"))
            .when(device).then(pl.lit("device")).when(shape == "logged").then(pl.lit("idevicerestore"))
            .otherwise(pl.lit("idevicerestore" if console else "device")).alias("provider"))

    @staticmethod
    def _summaries(rows: pl.DataFrame) -> pl.DataFrame:
        """Overlay the per-run session_start/result rows and the per-block identity rows."""
        return overlay(rows, session_starts(rows), results(rows), identities(rows))

    @staticmethod
    def _notes(rows: pl.DataFrame, item: Input, report) -> None:
        """Say what the file does not give: a date, any time, a failure's code."""
        placed = rows.filter(pl.col("ts_wall").dt.year() == PLACEHOLDER_DAY.year)
        for clock, line in placed.group_by("clock").agg(pl.col("line").min()).sort("line").iter_rows():
            add_note(report, Note(item.display, "date_unknown", {"clock": clock}, line=line, severity="warning"))
        if rows.get_column("ts_wall").null_count() == rows.height:
            add_note(report, Note(item.display, "no_timestamps", {}, line=rows.item(0, "line"), severity="warning"))
        unknown = rows.filter((pl.col("kind") == "result") & pl.col("error_code").is_null())
        for line in unknown.get_column("line").to_list():
            add_note(report, Note(item.display, "result_code_unknown", {}, line=line, severity="warning"))


SOURCE = AppleDeviceRestoreSource()
