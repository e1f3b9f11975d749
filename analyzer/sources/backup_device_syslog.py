"""The device's own syslog captured on a PC while a backup ran (``idevicesyslog``, reference
backup-and-network.md §2.4): BackupAgent2's lines become backup attempts (operation ``backup``).

Why a source of its own: the device decides whether a backup may go on (free space, lock state,
setup) and says so only in its own log, whose lines (``Nov 30 05:33:32 iPhone BackupAgent2[4308]
<Notice>: …``) no PC log shares (``]`` then `` <Level>:``). Syntax: ``grammar/backup_device_syslog.lark``.

Meaning:

* every BackupAgent2 process (one pid) that writes a backup line is one attempt, in order of its first
  line; its first line is the ``session_start`` (a row of its own when that line means something else);
* ``Failed to backup: …`` is the ``result``: ``error_code`` the outer MBErrorDomain code in any of
  the three spellings (``(MBErrorDomain/105)``, ``(MBErrorDomain:105)``, ``Error Domain=MBErrorDomain
  Code=105``), else null with ``"outcome":"failed"``; each code of the chain is a ``failure_detail``;
* ``Finished backup in …s`` is written on failure too (#853): it is the success (``error_code`` 0) only
  in a run without a failure line — an inference, said in ``detail.inferred``;
* preflight (§2.5): ``uploadSize:`` (``phase``, the bytes to send), ``Free disk space on drive:`` and
  ``Need extra space on host:`` (``disk_space`` rows carrying ``free_bytes``, ``upload_bytes`` and
  ``short_bytes``; the device's name is in the session_start's ``detail.device_name`` — for
  ``--redact`` — not in ``computer``: it is not the PC), which the host-storage rules and the verdict's
  space sentence (:func:`analyzer.backups.space_check`) read;
* the host link dropping (``Drive returned unexpected error code``, MobileDeviceLink's socket errors)
  is ``usb_io_error``; other lines are generic.

Times: the device's local wall clock (``clock`` "local"), with no year: a PowerShell transcript's
``Start time:`` in the file gives it (``year_method`` ``in_file``), else the file's modification time
(noted), else the lines have no time (noted).
"""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from ..model import Note, conform
from . import _backup_codes as bc
from ._base import Input, add_note
from ._text import GrammarLineSource, sniff_text
from ._unix_time import month_of, mtime_anchor, resolve_years, wall

c = pl.col
AGENT = "BackupAgent2"
_LINE = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? (?:\S+ )?[A-Za-z_][\w.-]*(?:\([^()]*\))?\[\d+\](?: <[A-Za-z]+>| ): ",
                   re.M)
_RUN_MARKERS = ("backup_start", "upload_size", "free_space", "need_space", "backup_failed", "backup_finished")



class BackupDeviceSyslog(GrammarLineSource):
    name: ClassVar[str] = "backup_device_syslog"
    description: ClassVar[str] = "the device's syslog (idevicesyslog) with BackupAgent2's backup lines"

    def sniff(self, item: Input) -> bool:
        head = sniff_text(item)
        return head is not None and len(_LINE.findall(head)) >= 2 and AGENT in head

    def events(self, rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
        rows = _times(rows, item, report)
        out = _classify(rows.filter(c("shape").is_in(["named", "bare"])).to_dicts(), self.name)
        return conform(out)


def _times(rows: pl.DataFrame, item: Input, report) -> pl.DataFrame:
    """ts_wall / ts_raw / clock; the year from the transcript header, else the file's modification time."""
    start = c("transcript_start").str.to_datetime("%Y%m%d%H%M%S", strict=False)
    seq = rows.select("line", pl.coalesce(month_of(c("mon")), start.dt.month()).alias("month"),
                      start.dt.year().alias("year"))
    years, method = resolve_years(seq, None)
    if method == "unknown":
        years, method = resolve_years(seq, mtime_anchor(item.path))
        if method == "end_anchor":
            method = "file_time"
            add_note(report, Note(item.display, "year_from_file_time", {"year": int(years[-1])}, severity="warning"))
    report.clock["year_method"] = method
    rows = rows.with_columns(years.alias("_year"))
    rows = rows.with_columns(
        wall(c("_year"), month_of(c("mon")), c("day").str.strip_chars().cast(pl.Int32, strict=False), c("time")).alias("ts_wall"),
        pl.concat_str(c("mon"), pl.lit(" "), c("day"), pl.lit(" "), c("time")).alias("ts_raw"))
    rows = rows.with_columns(pl.when(c("ts_wall").is_not_null()).then(pl.lit("local")).otherwise(pl.lit("none")).alias("clock"))
    missing = rows.filter(c("shape").is_in(["named", "bare"]) & c("ts_wall").is_null()).height
    if missing:
        add_note(report, Note(item.display, "year_unknown", {"count": missing}, severity="warning"))
    return rows.drop("_year")


def _runs(rows: list[dict]) -> dict[str, int]:
    """BackupAgent2 pid → attempt number, for the pids that wrote a backup line, by first line."""
    order: list[str] = []
    for r in rows:
        if r.get("proc") == AGENT and r.get("marker") in _RUN_MARKERS and r["pid"] not in order:
            order.append(r["pid"])
    return {pid: i + 1 for i, pid in enumerate(order)}


def _classify(rows: list[dict], fmt: str) -> list[dict]:
    runs = _runs(rows)
    failed = {r["pid"] for r in rows if r.get("proc") == AGENT and r.get("marker") == "backup_failed"}
    seen: set[str] = set()
    space: dict[str, dict] = {}
    out: list[dict] = []
    for r in rows:
        attempt = runs.get(r["pid"]) if r.get("proc") == AGENT else None
        base = {k: r.get(k) for k in ("line", "ts_wall", "ts_raw", "clock")}
        base.update(format=fmt, message=r["text"], kind="generic", attempt=attempt,
                    operation="backup" if attempt else None, provider=r.get("proc"),
                    level=_LEVELS.get((r.get("level") or "").strip(" <>")))
        if attempt and r["pid"] not in seen:
            seen.add(r["pid"])
            if r.get("marker") != "backup_start":
                out.append({**base, "kind": "session_start", "subject": "backup",
                            "detail": bc.detail_json(pid=int(r["pid"]), device_name=r.get("dev_host"))})
                space.setdefault(r["pid"], {})["_started"] = True
        out.extend(_meaning(r, base, attempt is not None and r["pid"] in failed, space.setdefault(r["pid"], {})))
    return out


_LEVELS = {"Emergency": 1, "Alert": 1, "Critical": 1, "Error": 2, "Warning": 3, "Notice": 4, "Info": 4, "Debug": 5}


def _meaning(r: dict, base: dict, run_failed: bool, space: dict) -> list[dict]:
    """The rows of one line: its own, and the failure_detail rows of an MBErrorDomain chain."""
    marker, table = r.get("marker"), bc.codes()
    if marker == "backup_start" and base["attempt"]:
        first = not space.get("_started")
        space["_started"] = True
        return [{**base, "kind": "session_start" if first else "phase", "subject": "backup",
                 "detail": bc.detail_json(pid=int(r["pid"]), device_name=r.get("dev_host") if first else None)}]
    if marker == "upload_size":
        space["upload_bytes"] = int(r["up_bytes"])
        return [{**base, "kind": "phase", "subject": "preflight",
                 "detail": bc.detail_json(upload_bytes=int(r["up_bytes"]), upload_files=int(r["up_files"]))}]
    if marker in ("free_space", "need_space"):
        if marker == "free_space":
            space["free_bytes"] = int(r["free_bytes"])
        up = space.get("upload_bytes")
        return [{**base, "kind": "disk_space", "subject": "backup drive",
                 "detail": bc.detail_json(free_bytes=space.get("free_bytes"), upload_bytes=up,
                                   short_bytes=int(r["need_bytes"]) if marker == "need_space" else None,
                                   reported_by="device")}]
    if marker == "backup_failed" and base["attempt"]:
        links = bc.chain(r.get("fail_text"))
        code = links[0][0] if links else None
        info = table.get(code, {}) if code is not None else {}
        rows = [{**base, "kind": "result", "subject": "backup", "error_code": code,
                 "detail": bc.detail_json(outcome=None if code is not None else "failed", domain=bc.DOMAIN if code is not None else None,
                                   cause=info.get("cause"))}]
        return rows + bc.detail_rows(base, links)
    if marker == "backup_finished" and base["attempt"]:
        if run_failed:
            return [{**base, "kind": "phase", "subject": "finished", "detail": bc.detail_json(seconds=float(r["finished_s"]))}]
        return [{**base, "kind": "result", "subject": "backup", "error_code": 0,
                 "detail": bc.detail_json(seconds=float(r["finished_s"]), inferred="finished without a failure line")}]
    if marker == "upload_failed":
        links = bc.chain(r.get("uf_text"))
        return [{**base, "subject": "upload failed", "error_code": links[0][0] if links else None,
                 "detail": bc.detail_json(domain=bc.DOMAIN if links else None, text=(r.get("uf_text") or "")[:300])}]
    if marker == "drive_error":
        return [{**base, "kind": "usb_io_error", "subject": "device link to the host", "error_code": int(r["drive_code"])}]
    if marker == "socket_error":
        return [{**base, "kind": "usb_io_error", "subject": f"Socket{r['sock_op']}: {r['sock_text']}",
                 "error_code": int(r["sock_errno"]), "detail": bc.detail_json(what=r.get("sock_what"), where=r.get("sock_where"))}]
    return [base]


SOURCE = BackupDeviceSyslog()
