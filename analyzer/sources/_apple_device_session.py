"""The device's restore log and idevicerestore's output: runs, their start and their result.

Why its own module: a host restore log states its outcome in a fixed end block (read by
:mod:`._apple_session`); these two formats never do. idevicerestore ends a failed run with
``ERROR: Unable to restore device`` or ``ERROR: Device failed to enter restore mode.`` and no code,
and the device's log records the failed step (``CHECKPOINT FAILURE:(FAILURE:N)``, nvram
``restore-step-codes``) but not what the host made of it. So:

* **runs** (``attempt``): a new run starts at idevicerestore's banner line when the current one
  already did something, or at ``Found device in … mode`` after the current run ended. The
  device's log alone is one run.
* **result**, one row per run that ended: at the run's last give-up line (``Unable to restore
  device``, ``Device failed to enter restore mode.``, ``RESTORE FAILED``); else, in a device log,
  at its last ``restore-step-codes`` / ``-results`` line with a code (the device's own record of
  the failed step), else at its last failed image step; else at ``DONE`` or ``Status: Restore
  Finished`` (succeeded, code 0). Its code is the device's last non-zero ``Status`` (the StatusMsg the device
  sent, restore-error-codes.md §4), else the last failed step's code, else null — the source then
  notes that the failure has no code.
* **session_start**: at the run's banner (or first ``Found device``), carrying what the console
  says about the firmware (product version and build, variant and so Erase or Update).

The loops run over the few marker rows only.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from ._apple_classify import attach

c = pl.col

GAVE_UP = ("unable_to_restore", "device_failed_restore_mode", "run_failed")
STATUS = ("status", "unhandled_status")
DONE = ("run_done",)
#: Device-side rows whose non-zero code is a failed step.
STEP_FAILURES = ("checkpoint", "checkpoint_done", "checkpoint_id", "restore_step", "image_failed")
#: Rows that show a run doing something (a banner after one of them starts a new run).
_ACTIVE_KINDS = ("phase", "progress", "state_change", "device_connect", "device_disconnect", "usb_io_error")
_CONSOLE_HEAD = ("banner", "product_version", "product_build", "console_variant")


def split_runs(rows: pl.DataFrame) -> pl.DataFrame:
    """Number the runs (column ``attempt``, 1-based) in a frame with ``rule`` and ``kind``."""
    marks = rows.filter(c("rule").is_in(["banner", "found_device", *GAVE_UP, *STATUS, *DONE]) | c("kind").is_in(_ACTIVE_KINDS))
    starts, lines = [], []
    run, active, ended = 1, False, False
    for line, rule in marks.select("line", "rule").iter_rows():
        if (rule == "banner" and active) or (rule == "found_device" and ended):
            run, active, ended = run + 1, False, False
            starts.append(run)
            lines.append(line)
        if rule != "banner":
            active = True
        if rule in GAVE_UP or rule in STATUS or rule in DONE:
            ended = True
    first = pl.DataFrame({"line": lines, "_run": starts}, schema={"line": pl.Int64, "_run": pl.Int32})
    rows = attach(rows, first)
    return rows.with_columns(c("_run").forward_fill().fill_null(1).cast(pl.Int32).alias("attempt")).drop("_run")


def _dumps(obj: dict[str, Any]) -> str | None:
    obj = {k: v for k, v in obj.items() if v is not None and v != []}
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if obj else None


def _anchor(recs: list[dict], failed_steps: list[dict], statuses: list[dict]) -> tuple[dict | None, bool]:
    """The row that carries a run's result, and whether the run failed."""
    gave_up = [r for r in recs if r["rule"] in GAVE_UP]
    if gave_up:  # the closing "RESTORE FAILED" only when nothing says more
        said = [r for r in gave_up if r["rule"] != "run_failed"]
        return (said or gave_up)[-1], True
    for rule in ("restore_step", "image_failed"):
        found = [r for r in failed_steps if r["rule"] == rule]
        if found:
            return found[-1], True
    done = [r for r in recs if r["rule"] in DONE] or [r for r in statuses if r["error_code"] == 0][-1:]
    if done and not (statuses and statuses[-1]["error_code"] != 0):
        return done[-1], False
    return None, False


def results(rows: pl.DataFrame) -> dict[int, tuple[int | None, str | None, str]]:
    """line → (error_code, detail, subject) of the result row of every run that ended."""
    parts = rows.filter(c("rule").is_in([*GAVE_UP, *STATUS, *DONE, *STEP_FAILURES])).select("line", "attempt", "rule", "error_code")
    out: dict[int, tuple[int | None, str | None, str]] = {}
    for (_,), group in parts.partition_by("attempt", as_dict=True, maintain_order=True).items():
        recs = group.sort("line").to_dicts()
        statuses = [r for r in recs if r["rule"] in STATUS and r["error_code"] is not None]
        failed_steps = [r for r in recs if r["rule"] in STEP_FAILURES and r["error_code"] not in (None, 0)]
        anchor, failed = _anchor(recs, failed_steps, statuses)
        if anchor is None:
            continue
        bad_status = [r["error_code"] for r in statuses if r["error_code"] != 0]
        code = bad_status[-1] if bad_status else (failed_steps[-1]["error_code"] if failed_steps else None)
        failed = failed or bool(bad_status)
        if not failed:
            code = 0
        detail = {"outcome": "failed" if failed else "succeeded", "status": statuses[-1]["error_code"] if statuses else None,
                  "step_codes": sorted({r["error_code"] for r in failed_steps}),
                  "codes": sorted({x for x in [*bad_status, *(r["error_code"] for r in failed_steps)] if x is not None})}
        out[anchor["line"]] = (code, _dumps(detail), f"restore {detail['outcome']}")
    return out


def session_starts(rows: pl.DataFrame) -> dict[int, tuple[str, str | None, str]]:
    """line → (kind, detail, subject) at the banner (else first ``Found device``) of every console run."""
    head = rows.filter(c("rule").is_in([*_CONSOLE_HEAD, "found_device"]))
    if head.height == 0:
        return {}
    head = head.select("line", "attempt", "rule", "tool_version", "product_version", "product_build", "console_variant")
    out: dict[int, tuple[str, str | None, str]] = {}
    for (_,), group in head.partition_by("attempt", as_dict=True, maintain_order=True).items():
        recs = group.sort("line").to_dicts()
        first = lambda key: next((r[key] for r in recs if r.get(key) is not None), None)  # noqa: E731
        opener = next((r for r in recs if r["rule"] == "banner"), None) or next(r for r in recs if r["rule"] == "found_device")
        variant = first("console_variant")
        behavior = ("Erase" if "Erase" in variant else "Update" if ("Upgrade" in variant or "Update" in variant) else None) if variant else None
        build = first("product_build")
        version = first("tool_version")
        detail = {"tool": "idevicerestore", "tool_version": version.split(" (")[0] if version else None,
                  "product_version": first("product_version"), "payload_build": build.split(" ")[0] if build else None,
                  "variant": variant, "behavior": behavior}
        subject = " ".join(x for x in (behavior, detail["payload_build"]) if x) or "restore"
        out[opener["line"]] = ("session_start", _dumps(detail), subject)
    return out
