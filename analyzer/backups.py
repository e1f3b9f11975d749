"""Each device's backup history on a PC: every backup attempt with its device, times, outcome, code,
encryption and size, oldest first.

A helpdesk reading a failed backup first asks "when did this phone last back up fine, and what has
happened since?". The attempts table already holds every backup attempt (a backup folder's last
snapshot, a tool's run); what it lacks is the device and the folder's facts, which the backup
sources put on ``backup_info`` rows (device name, encryption, size) and on the attempt's own rows
(UDID). They are joined here, once, so the terminal, the HTML report and the JSON document show the
same history.
"""

from __future__ import annotations

import polars as pl

_KEYS = ["host", "file", "attempt"]
SCHEMA = {"host": pl.String, "udid": pl.String, "device_name": pl.String, "file": pl.String, "attempt": pl.Int32,
          "started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"), "outcome": pl.String,
          "error_code": pl.Int64, "encrypted": pl.Boolean, "size_bytes": pl.Int64}


def _folder(column: str) -> pl.Expr:
    """The folder a file is in (a backup folder's plists share it)."""
    return pl.col(column).str.replace(r"[\\/][^\\/]*$", "")


def _info(events: pl.DataFrame) -> pl.DataFrame:
    """Per backup folder: its device and facts, from its ``backup_info`` row."""
    rows = events.filter(pl.col("kind") == "backup_info")
    detail = pl.col("detail")
    return rows.select(
        "host", _folder("file").alias("folder"), pl.col("udid").alias("info_udid"),
        detail.str.json_path_match("$.device_name").alias("device_name"),
        (detail.str.json_path_match("$.is_encrypted") == "true").alias("encrypted"),
        detail.str.json_path_match("$.size_bytes").cast(pl.Int64, strict=False).alias("size_bytes"),
    ).unique(subset=["host", "folder"], keep="last", maintain_order=True)


def backup_history(events: pl.DataFrame, attempts: pl.DataFrame) -> pl.DataFrame:
    """One row per backup attempt (SCHEMA), by host, device and start time."""
    tries = attempts.filter((pl.col("operation") == "backup") & ~pl.col("reported").fill_null(False))
    if tries.height == 0 or events.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    devices = (events.filter(pl.col("attempt").is_not_null() & (pl.col("operation") == "backup"))
               .group_by(_KEYS).agg(pl.col("udid").drop_nulls().first().alias("udid")))
    info = _info(events)
    by_device = (info.filter(pl.col("info_udid").is_not_null())
                 .unique(subset=["host", "info_udid"], keep="last", maintain_order=True)
                 .select("host", pl.col("info_udid").alias("udid"), pl.col("device_name").alias("d_name"),
                         pl.col("encrypted").alias("d_enc")))
    out = (tries.join(devices, on=_KEYS, how="left", nulls_equal=True)
           .with_columns(_folder("file").alias("folder"))
           .join(info, on=["host", "folder"], how="left", nulls_equal=True)
           .with_columns(pl.coalesce("udid", "info_udid").alias("udid"))
           .join(by_device, on=["host", "udid"], how="left", nulls_equal=True)
           .with_columns(pl.coalesce("device_name", "d_name").alias("device_name"),
                         pl.coalesce("encrypted", "d_enc").alias("encrypted")))
    return out.select(list(SCHEMA)).sort("host", "udid", "started_at", nulls_last=True)
