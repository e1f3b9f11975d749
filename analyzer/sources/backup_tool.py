"""Backup tools' console output: idevicebackup2 and pymobiledevice3 (``grammar/backup_tool.lark``).

Each run is an attempt (operation ``backup``): it starts at the command line or idevicebackup2's
``Backup directory is "…"`` (``session_start``) and ends at ``Backup Successful.`` (``result`` 0),
``Backup Failed (Error Code N).`` (``result`` N), ``Backup Aborted.`` (``result`` without a code,
``"outcome":"failed"``) or pymobiledevice3's ``Device link error: {'ErrorCode': N, …}`` (``result`` N).
The device's error chain (``… (MBErrorDomain/205). Underlying error: … (MBErrorDomain/11).``) becomes
one ``failure_detail`` row per code, outer first (``detail.depth`` 0, 1, …), each with the cause the
code table gives (``detail.cause``, :mod:`._backup_codes`). ``ERROR: Could not receive from
mobilebackup2 (N)`` and a lost connection in pymobiledevice3 are ``usb_io_error`` rows.

Times: pymobiledevice3's log lines (coloredlogs) and a PowerShell transcript's ``Start time:`` are
local; a line without a time of its own carries the last one before it (its ``ts_raw`` says which);
lines before any time have none (clock ``none``, noted).
"""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from ..model import Note, conform
from . import _backup_codes as bc
from ._base import Input, add_note
from ._text import GrammarLineSource, sniff_text

c = pl.col
#: Lines only the tools write, at the start of a line (a Mac log that relays an MBErrorDomain code is not one).
_SNIFF = re.compile(r'^(?:Started "com\.apple\.mobilebackup2" service|Backup directory is "|ErrorCode -?\d+: .*\(MBErrorDomain/|'
                    r"Backup (?:Successful\.|Failed \(Error Code|Aborted\.)|\S*(?:PyMobileDevice3Exception|Error): Device link error: \{'ErrorCode'|"
                    r"(?:[$%#] |PS [^>]*> )(?:idevicebackup2(?:\.exe)?|pymobiledevice3 backup2) backup\b)", re.M)
_CHAIN = re.compile(r"(.*?)\s*\(MBErrorDomain/(-?\d+)\)\.?")
_STARTS = ("cmd_backup", "backup_dir")
_RESULTS = ("backup_ok", "backup_failed", "backup_aborted", "link_error")
_PHASES = {"service_started": "service started", "backup_mode": None, "passcode_wait": "waiting for passcode",
           "files_received": "files received"}


def chain(text: str | None) -> list[tuple[int, str]]:
    """(code, text) of every ``(MBErrorDomain/N)`` in a message, outer first."""
    out = []
    for part in (text or "").split("Underlying error:"):
        m = _CHAIN.search(part)
        if m:
            out.append((int(m.group(2)), m.group(1).strip().strip("'\"").strip()))
    return out



class BackupTool(GrammarLineSource):
    name: ClassVar[str] = "backup_tool"
    description: ClassVar[str] = "idevicebackup2 / pymobiledevice3 backup console output"

    def sniff(self, item: Input) -> bool:
        head = sniff_text(item)
        return head is not None and _SNIFF.search(head) is not None

    def events(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        rows = _times(rows, item, report)
        rows = _attempts(rows)
        return conform(_classify(rows.to_dicts(), self.name))


def _times(rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
    stamped = pl.concat_str(c("cl_date"), pl.lit(" "), c("cl_time")).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    transcript = c("transcript_start").str.to_datetime("%Y%m%d%H%M%S", strict=False)
    raw = pl.coalesce(pl.concat_str(c("cl_date"), pl.lit(" "), c("cl_time")), c("transcript_start"))
    rows = rows.with_columns(pl.coalesce(stamped, transcript).forward_fill().alias("ts_wall"),
                             raw.forward_fill().alias("ts_raw"))
    rows = rows.with_columns(pl.when(c("ts_wall").is_not_null()).then(pl.lit("local")).otherwise(pl.lit("none")).alias("clock"))
    untimed = rows.filter(c("ts_wall").is_null())
    if untimed.height:
        add_note(report, Note(item.display, "no_timestamps", line=untimed.get_column("line")[0], severity="warning"))
    report.clock = {"clock": "local" if untimed.height < rows.height else "none",
                    "source": "coloredlogs / transcript start, carried to the lines after"}
    return rows


def _attempts(rows: pl.DataFrame) -> pl.DataFrame:
    """Attempt N = the lines after the (N-1)th result up to the Nth; groups without a start or a
    result (text after the last run) are no attempt."""
    is_result = c("marker").is_in(list(_RESULTS))
    group = (is_result.cast(pl.Int32).cum_sum() - is_result.cast(pl.Int32) + 1).alias("_group")
    rows = rows.with_columns(group)
    has = rows.group_by("_group").agg(c("marker").is_in(list(_STARTS + _RESULTS)).any().alias("_real"))
    rows = rows.join(has, on="_group", how="left").sort("line")
    rank = pl.when(c("_real")).then(c("_group").rank("dense").over("_real")).cast(pl.Int32)
    first_start = c("marker").is_in(list(_STARTS)) & (c("marker").is_in(list(_STARTS)).cast(pl.Int32).cum_sum().over("_group") == 1)
    return rows.with_columns(rank.alias("attempt"), first_start.alias("_start"))


def _classify(rows: list[dict], fmt: str) -> list[dict]:
    table = bc.codes()
    out = []
    for r in rows:
        base = {k: r.get(k) for k in ("line", "ts_wall", "ts_raw", "clock", "attempt")}
        base.update(format=fmt, message=r["text"], kind="generic",
                    operation="backup" if r.get("attempt") is not None else None,
                    provider=r.get("cl_name"))
        marker = r.get("marker")
        if marker in _STARTS:
            base.update(kind="session_start" if r["_start"] else "phase", subject="backup",
                        detail=bc.detail_json(command=r.get("cmd_line"), directory=r.get("bk_dir")))
        elif marker in _PHASES:
            base.update(kind="phase", subject=_PHASES[marker] or f"{r.get('bk_mode', '').lower()} backup")
        elif marker in ("backup_ok", "backup_failed", "backup_aborted"):
            code = 0 if marker == "backup_ok" else (int(r["bf_code"]) if marker == "backup_failed" else None)
            info = table.get(code, {}) if code else {}
            base.update(kind="result", subject="backup", error_code=code,
                        detail=bc.detail_json(outcome="failed" if marker == "backup_aborted" else None,
                                       reason="aborted" if marker == "backup_aborted" else None,
                                       domain=bc.DOMAIN if code else None, cause=info.get("cause")))
        elif marker == "link_error":
            code = int(r["le_code"])
            base.update(kind="result", subject="backup", error_code=code,
                        detail=bc.detail_json(domain=bc.DOMAIN, cause=table.get(code, {}).get("cause"), exception=r.get("le_exc")))
        elif marker == "receive_error":
            base.update(kind="usb_io_error", subject="mobilebackup2 receive", error_code=int(r["re_code"]))
        elif marker == "conn_exception":
            base.update(kind="usb_io_error", subject=r.get("exc_class"), detail=bc.detail_json(text=r.get("exc_text")))
        elif marker == "upload_warning":
            base.update(subject="upload failed", detail=bc.detail_json(file=r.get("uw_file"), device_file=r.get("uw_device"),
                                                                reason=r.get("uw_reason")))
        text = r.get("ec_text") if marker == "mb_coded" else (r.get("le_text") if marker == "link_error" else None)
        links = chain(text)
        if not (marker == "mb_coded" and links):
            out.append(base)  # an error-chain line is its failure_detail rows
        for depth, (code, said) in enumerate(links):
            info = table.get(code, {})
            out.append({**{k: base[k] for k in ("line", "ts_wall", "ts_raw", "clock", "attempt", "operation", "format")},
                        "kind": "failure_detail", "error_code": code, "subject": f"MBErrorDomain/{code}",
                        "message": r["text"], "detail": bc.detail_json(domain=bc.DOMAIN, depth=depth, text=said[:300],
                                                                cause=info.get("cause"), grade=info.get("grade"))})
    return out


SOURCE = BackupTool()
