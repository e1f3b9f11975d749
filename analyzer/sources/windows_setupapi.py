"""SetupAPI text logs: ``C:\\Windows\\INF\\setupapi.dev.log`` (device and driver installs),
``setupapi.setup.log`` / ``setupapi.offline.log`` (OS setup phases), rotated copies.

Line syntax lives in ``grammar/windows_setupapi.lark``; this module reads the
extracted rows and assembles *sections* (``>>>  [title]`` … ``<<<  [Exit status: …]``),
matching on structure, never on words (reference/windows-formats.md §7):

* one ``driver_install`` event per section, at its start time, with
  ``error_code`` = the ``FAILURE(0x…)`` code (0 for success, null when the
  section has no exit status), ``subject`` = the device instance / INF named in
  the title, and a JSON ``detail`` (title, start/end, status, boot session,
  warning/error counts, the first error lines);
* one ``driver_failure`` event per error body line (``!!!``) of an Apple
  device section (VID_05AC anywhere in title or body, or an Apple driver INF),
  timed by the last ``{…} HH:mm:ss.fff`` line before it in that section.

Sections can interleave (two installs at once). Lines carry no section id, so
an end marker closes the most recently opened section (nesting order); a
section that ended while others were open says so in ``detail.overlapping``.
All times are the PC's local wall clock without zone (``clock`` "local").
"""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl

from .. import grammars
from ..apple_usb import pid_mode
from ..model import Note, conform
from ._base import Input, Parsed, Source, add_note
from ._text import grammar_frame, sniff_text, text_lines

FORMAT = "windows_setupapi"

#: Apple device evidence in a title or body line: the vendor id, or one of Apple's driver INFs / filter.
APPLE_RX = r"(?i)vid_05ac|usbaapl(?:64)?\.inf|appleusb\.inf|netaapl(?:64)?\.inf|appleusbfilter"
_PID_RX = r"(?i)vid_05ac&(?:amp;)?pid_([0-9a-f]{4})"
_PID_RE = re.compile(_PID_RX)
# an Apple device instance (three path parts) named in a body line: the subject of a section
# whose title is not in the file
_INSTANCE_RX = r"(?i)(USB\\VID_05AC&(?:amp;)?PID_[0-9A-F]{4}\\[^\s]*[^\s.,;:])"
_HEX_RE = re.compile(r"0x([0-9a-fA-F]+)")
_STAMP_FMT = "%Y/%m/%d %H:%M:%S%.f"

# Sniffing: structure only (markers and stamp patterns), on the decoded head of the file.
_SNIFF_TITLE = re.compile(r"^>>>  \[[^\r\n]*\][ \t]*\r?$", re.M)
_SNIFF_STAMP = re.compile(r"^(?:>>>|<<<)  [^\[\d\s][^\r\n]*? \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+[ \t]*\r?$", re.M)
_SNIFF_EXIT = re.compile(r"^<<<  \[[^\]:\r\n]+: [^\]\r\n]+\][ \t]*\r?$", re.M)
_SNIFF_BOOT = re.compile(r"^\[[^\]:\r\n]+: \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+\][ \t]*\r?$", re.M)
# a piece copied from inside a section: body lines alone, some of them timed blocks
_SNIFF_BODY = re.compile(r"^(?:!!!  |!    |     )[a-z]{3}: ", re.M)
_SNIFF_TIMED = re.compile(r"^(?:!!!  |!    |     )[a-z]{3}: +\{[^{}\r\n]+\} \d\d:\d\d:\d\d\.\d{3}[ \t]*\r?$", re.M)



def _subject(title: str | None) -> str | None:
    if not title:
        return None
    head, sep, tail = title.partition(" - ")
    return tail.strip() if sep and tail.strip() else title.strip()


def _outcome(status: str | None) -> tuple[str | None, int | None]:
    """(outcome, error_code) from an exit status text like ``FAILURE(0xe0000247)``."""
    if status is None:
        return None, None
    text = status.strip()
    if text.upper().startswith("SUCCESS"):
        return "success", 0
    match = _HEX_RE.search(text)
    code = int(match.group(1), 16) if match else None
    if code is not None and code >= 1 << 63:
        code = None
    if text.upper().startswith("FAIL") or code:
        return "failure", code
    return "unknown", code


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class WindowsSetupapi(Source):
    name = FORMAT
    description = "Windows SetupAPI device/driver install log (setupapi.dev.log, setupapi.setup.log)"

    def sniff(self, item: Input) -> bool:
        head = sniff_text(item)
        if head is None:
            return False
        head = head.replace("\r\n", "\n").replace("\r", "\n")  # the patterns read lines ending in \n
        first = next((ln.strip() for ln in head.splitlines()[:20] if ln.strip()), "")
        if first == "[Device Install Log]":
            return True
        if not _SNIFF_STAMP.search(head):
            return len(_SNIFF_BODY.findall(head[:16384])) >= 3 and bool(_SNIFF_TIMED.search(head[:16384]))
        return bool(_SNIFF_TITLE.search(head) or _SNIFF_EXIT.search(head) or _SNIFF_BOOT.search(head))

    def parse(self, item: Input) -> Parsed:
        report = self.new_report(item, item.source_encoding)
        report.clock = {"clock": "local"}
        display = item.display
        frame = grammar_frame(item, report, grammars.load(FORMAT))
        if frame is None:
            return Parsed(conform(None), report)

        structural = frame.filter(pl.col("shape").is_in(
            ["boot_session", "section_title", "section_start", "section_end", "exit_status"])).with_columns(
            pl.col("title").str.slice(1, pl.col("title").str.len_chars() - 2),
            *[pl.concat_str([pl.col(f"{k}_date"), pl.lit(" "), pl.col(f"{k}_time")]).alias(f"{k}_raw")
              for k in ("start", "end")],
        ).with_columns(
            *[pl.col(f"{k}_raw").str.strptime(pl.Datetime("us"), _STAMP_FMT, strict=False)
              .alias(f"{k}_ts") for k in ("start", "end")])
        body_lines = frame.filter(pl.col("shape") == "body").get_column("line")
        first_body = int(body_lines.min()) if len(body_lines) else None
        first_structure = int(structural.get_column("line").min()) if structural.height else None
        lead = first_body if first_body is not None and (first_structure is None or first_body < first_structure) else None
        sections, tops = self._assemble(structural, report, display, lead)

        body = frame.filter(pl.col("shape") == "body").select(
            "line", "text", "severity", "area", "body_time", "message", "exit_code")
        return Parsed(self._events(sections, tops, body, report, display), report)

    # -- sections ------------------------------------------------------------------------
    def _assemble(self, structural: pl.DataFrame, report, display: str, lead: int | None = None):
        """Walk the structural lines in order; returns (sections, top-of-stack changes). ``lead``:
        the line of body lines that come before any section line (a copy that starts inside a
        section), which then belong to a section whose title and start are not in the file."""
        sections: list[dict] = []
        stack: list[int] = []
        tops: list[tuple[int, int | None]] = []  # (line, section id on top after that line)
        boot: str | None = None
        cols = ["line", "shape", "title", "start_raw", "start_ts", "end_raw", "end_ts", "status",
                "boot_date", "boot_time"]

        def new(line: int, title: str | None, cut_before: bool = False) -> int:
            sections.append({"id": len(sections), "line": line, "title": title, "boot": boot, "start": None,
                             "start_ts": None, "end": None, "end_ts": None, "status": None, "status_line": None,
                             "overlapping": [], "cut_before": cut_before})
            return len(sections) - 1

        if lead is not None:
            add_note(report, Note(display, "setupapi_starts_inside_section", line=lead, severity="warning"))
            stack.append(new(lead, None, cut_before=True))
            tops.append((lead, stack[-1]))
        for row in structural.select(cols).iter_rows(named=True):
            shape, line = row["shape"], row["line"]
            if shape == "boot_session":
                boot = f"{row['boot_date']} {row['boot_time']}"
                continue
            if shape == "section_title":
                stack.append(new(line, row["title"]))
            elif shape == "section_start":
                target = next((i for i in reversed(stack) if sections[i]["start"] is None), None)
                if target is None:
                    add_note(report, Note(display, "section_start_untitled", line=line, severity="warning"))
                    target = new(line, None)
                    stack.append(target)
                sections[target]["start"], sections[target]["start_ts"] = row["start_raw"], row["start_ts"]
                if sections[target]["start_ts"] is None:
                    add_note(report, Note(display, "section_start_bad_date", line=line,
                                          excerpt=sections[target]["start"], severity="warning"))
            elif shape == "section_end":
                target = next((i for i in reversed(stack) if sections[i]["end"] is None), None)
                if target is None:
                    add_note(report, Note(display, "section_end_unopened", line=line, severity="warning"))
                    target = new(line, None)
                    stack.append(target)
                sections[target]["end"], sections[target]["end_ts"] = row["end_raw"], row["end_ts"]
            elif shape == "exit_status":
                if not stack:
                    add_note(report, Note(display, "exit_status_unopened", line=line, severity="warning"))
                    stack.append(new(line, None))
                target = stack.pop()
                sec = sections[target]
                sec["status"], sec["status_line"] = row["status"], line
                sec["overlapping"] = [sections[i]["title"] for i in stack if sections[i]["title"]]
            tops.append((line, stack[-1] if stack else None))
        for i in stack:
            add_note(report, Note(display, "section_unfinished",
                                  line=sections[i]["line"], excerpt=sections[i]["title"], severity="warning"))
        return sections, tops

    def _events(self, sections: list[dict], tops, body: pl.DataFrame, report, display: str) -> pl.DataFrame:
        if not sections and body.height == 0:
            return conform(None)
        body = _owned_body(body, tops)
        stats_by, first_errors, body_pid = _section_facts(body)
        rows: list[dict] = []
        apple_sections: dict[int, dict] = {}
        for sec in sections:
            row = _section_row(sec, stats_by.get(sec["id"], {}), first_errors.get(sec["id"], []), body_pid.get(sec["id"]))
            if "usb_vid" in row:  # an Apple device's section
                apple_sections[sec["id"]] = {**row, "title": sec["title"], "start_ts": sec["start_ts"],
                                             "start": sec["start"], "end_ts": sec["end_ts"]}
            rows.append(row)
        rows.extend(self._apple_failures(body, apple_sections))
        rows.sort(key=lambda r: (r["line"], r["kind"] != "driver_install"))
        return conform(rows)

    def _apple_failures(self, body: pl.DataFrame, apple_sections: dict[int, dict]) -> list[dict]:
        """driver_failure rows for ``!!!`` lines of Apple sections (or lines that name an Apple device)."""
        ids = list(apple_sections)
        cand = body.filter(pl.col("section").is_in(ids) | pl.col("is_apple"))
        if cand.height == 0:
            return []
        cand = cand.with_columns(pl.col("body_time").forward_fill().over("section").alias("last_time"))
        out = []
        for row in cand.filter(pl.col("is_error")).iter_rows(named=True):
            sec = apple_sections.get(row["section"])
            ts_raw, ts = (sec["start"], sec["start_ts"]) if sec else (None, None)
            base = (sec["start_ts"] or sec["end_ts"]) if sec else None  # a cut section has only its end
            if sec and row["last_time"] and base is not None:
                try:
                    clock = dt.datetime.strptime(row["last_time"][:15], "%H:%M:%S.%f").time()
                    when = dt.datetime.combine(base.date(), clock)
                    if sec["start_ts"] is not None and when < sec["start_ts"] - dt.timedelta(hours=12):
                        when += dt.timedelta(days=1)
                    elif sec["start_ts"] is None and when > base + dt.timedelta(hours=12):
                        when -= dt.timedelta(days=1)
                    ts_raw, ts = row["last_time"], when
                except ValueError:
                    pass
            m = _PID_RE.search(row["text"])
            pid = m.group(1).upper() if m else (sec or {}).get("usb_pid")
            text = (row["message"] or "").strip()
            detail = {"area": row["area"], "text": text, "section": sec["title"] if sec else None,
                      "section_line": sec["line"] if sec else None}
            out.append({
                "line": row["line"], "ts_wall": ts, "ts_raw": ts_raw, "clock": "local", "format": FORMAT,
                "kind": "driver_failure", "subject": sec["subject"] if sec else None, "level": 2,
                "usb_vid": "05AC", "usb_pid": pid, "device_mode": pid_mode(pid),
                "error_code": int(row["exit_code"], 16) if row["exit_code"] else None,
                "detail": _dumps(detail), "message": row["text"],
            })
        return out


def read_header(item: Input) -> dict[str, str]:
    """The ``key = value`` lines of the log's header block (OS Version, Suite, …), the first
    value of each. Not in the events; for people and tests."""
    frame = _extracted(item)
    header: dict[str, str] = {}
    if frame is not None:
        for key, value in frame.filter(pl.col("shape") == "header_value").select("key", "value").iter_rows():
            header.setdefault(key, value.strip())
    return header


def boot_sessions(item: Input) -> list[str]:
    """The log's ``[Boot Session: …]`` times, in order (each section's detail names the one it
    ran in, so sessions without a section appear only here). For people and tests."""
    frame = _extracted(item)
    if frame is None:
        return []
    boots = frame.filter(pl.col("shape") == "boot_session").select("boot_date", "boot_time")
    return [f"{date} {time}" for date, time in boots.iter_rows()]


def _extracted(item: Input) -> pl.DataFrame | None:
    """The log's lines through the grammar's fast path (None for a file with no lines)."""
    lines = text_lines(item.decoded.text)
    return grammars.load(FORMAT).extract(lines) if len(lines) else None


def _owned_body(body: pl.DataFrame, tops) -> pl.DataFrame:
    """Body lines with the section they belong to (the one on top of the stack at that line)
    and whether each is an error, a warning, or Apple device evidence."""
    if tops:
        owner = pl.DataFrame({"line": [t[0] for t in tops], "section": [t[1] for t in tops]},
                             schema={"line": pl.Int64, "section": pl.Int64})
        body = body.join_asof(owner, on="line", strategy="backward")
    else:
        body = body.with_columns(pl.lit(None, dtype=pl.Int64).alias("section"))
    sev = pl.col("severity").str.strip_chars()
    return body.with_columns(
        (sev == "!!!").alias("is_error"),
        (sev == "!").alias("is_warning"),
        pl.col("text").str.contains(APPLE_RX).alias("is_apple"),
    )


def _section_facts(body: pl.DataFrame) -> tuple[dict[int, dict], dict[int, list[str]], dict[int, tuple]]:
    """Per section id: body line counts (lines, warnings, errors, Apple evidence), its first
    three error lines, and the first Apple product id and device instance named in its body."""
    stats = body.filter(pl.col("section").is_not_null()).group_by("section").agg(
        pl.len().alias("body_lines"),
        pl.col("is_warning").sum().alias("warnings"),
        pl.col("is_error").sum().alias("errors"),
        pl.col("is_apple").any().alias("apple"),
    )
    stats_by = {r["section"]: r for r in stats.iter_rows(named=True)}
    first_errors: dict[int, list[str]] = {}
    errs = body.filter(pl.col("is_error") & pl.col("section").is_not_null())
    if errs.height:
        errs = errs.group_by("section", maintain_order=True).head(3)
        for sec, area, text in errs.select("section", "area", "message").iter_rows():
            first_errors.setdefault(sec, []).append(f"{area}: {(text or '').strip()}")
    apple_body = body.filter(pl.col("is_apple") & pl.col("section").is_not_null())
    body_pid: dict[int, tuple[str | None, str | None]] = {}
    if apple_body.height:
        pids = apple_body.with_columns(pl.col("text").str.extract(_PID_RX, 1).str.to_uppercase().alias("pid"),
                                       pl.col("text").str.extract(_INSTANCE_RX, 1).alias("instance"))
        for sec, pid, instance in pids.group_by("section", maintain_order=True) \
                .agg(pl.col("pid").drop_nulls().first(), pl.col("instance").drop_nulls().first()).iter_rows():
            body_pid[sec] = (pid, instance)
    return stats_by, first_errors, body_pid


def _section_row(sec: dict, st: dict, first_errors: list[str], body_ids: tuple | None) -> dict:
    """The driver_install row of one section (with the Apple device columns when the title or
    body names an Apple device; without a title, the device instance its body names is the
    subject)."""
    title = sec["title"]
    apple = bool(st.get("apple")) or bool(title and re.search(APPLE_RX, title))
    pid = None
    if title:
        m = _PID_RE.search(title)
        pid = m.group(1).upper() if m else None
    body_pid, body_instance = body_ids or (None, None)
    pid = pid or body_pid
    outcome, code = _outcome(sec["status"])
    errors, warnings = int(st.get("errors") or 0), int(st.get("warnings") or 0)
    detail = {
        "title": title, "start": sec["start"], "end": sec["end"], "status": sec["status"],
        "outcome": outcome, "boot_session": sec["boot"], "warnings": warnings, "errors": errors,
        "first_errors": first_errors, "body_lines": int(st.get("body_lines") or 0),
        "end_line": sec["status_line"],
    }
    if sec["overlapping"]:
        detail["overlapping"] = sec["overlapping"]
    if sec["cut_before"]:
        detail["cut_before"] = True  # the file starts inside it: no title, no start
    if apple:
        detail["apple"] = True
    ts_raw, ts = (sec["start"], sec["start_ts"]) if sec["start"] else (sec["end"], sec["end_ts"])
    level = 2 if outcome == "failure" else 3 if (outcome is None or outcome == "unknown" or errors) else 4
    row = {
        "line": sec["line"], "ts_wall": ts, "ts_raw": ts_raw, "clock": "local", "format": FORMAT,
        "kind": "driver_install", "error_code": code, "subject": _subject(title) if title else body_instance,
        "level": level,
        "detail": _dumps(detail),
        "message": f"[{title if title is not None else '?'}] {sec['status'] or 'no exit status'}",
    }
    if apple:
        row.update({"usb_vid": "05AC", "usb_pid": pid, "device_mode": pid_mode(pid)})
    return row


SOURCE = WindowsSetupapi()
