"""Each device's backup history on a PC: every backup attempt with its device, times, outcome, code,
encryption and size, oldest first.

A helpdesk reading a failed backup first asks "when did this phone last back up fine, and what has
happened since?". The attempts table already holds every backup attempt (a backup folder's last
snapshot, a tool's run); what it lacks is the device and the folder's facts, which the backup
sources put on ``backup_info`` rows (device name, encryption, size) and on the attempt's own rows
(UDID). They are joined here, once, so the terminal, the HTML report and the JSON document show the
same history.

Two questions the history also answers, because a helpdesk asks them next:

* **Which device was that?** A tool run that names no UDID (idevicebackup2 without ``-u``,
  pymobiledevice3) is tied to a device when the evidence allows it unambiguously — the backup folders of
  exactly one device were written during the run (their Status.plist ``Date``), or the folder the tool
  names (``Backup directory is "…"``, the command's last argument) holds the folders of exactly one device
  — and said how (``udid_from``: ``own``, ``folder_written``, ``folder_named``); otherwise it stays
  untied (``udid_from`` ``untied``), never guessed.
* **Does an old failure still matter?** An unfinished or failed backup of a device followed by a later
  *finished* backup of the same device (same UDID, from its folder name or Info.plist) is
  ``superseded_by`` that backup's start: the device has backed up fine since, so its leftover snapshot
  is history, not today's cause (:func:`superseded_snapshots`: such a folder snapshot is no incident).
"""

from __future__ import annotations

import polars as pl

_KEYS = ["host", "file", "attempt"]
#: The 128 MiB the device adds to the upload size before it compares it with the host's free space.
MARGIN = 128 * 1024 * 1024
SCHEMA = {"host": pl.String, "udid": pl.String, "device_name": pl.String, "file": pl.String, "attempt": pl.Int32,
          "started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"), "outcome": pl.String,
          "error_code": pl.Int64, "encrypted": pl.Boolean, "size_bytes": pl.Int64, "udid_from": pl.String,
          "superseded_by": pl.Datetime("us", "UTC")}
#: Formats whose attempt is a backup folder's last snapshot (not a logged run).
FOLDER_FORMATS = ("backup_plist", "backup_plist_xml")
#: How far outside a run's span a folder's Status.plist date still counts as written by that run.
SLACK_S = 120


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


def _directories(events: pl.DataFrame) -> pl.DataFrame:
    """Per logged backup run: the folder it names (``Backup directory is``, else the command's last word)."""
    rows = events.filter(pl.col("attempt").is_not_null() & (pl.col("operation") == "backup") & pl.col("detail").is_not_null())
    named = pl.coalesce(pl.col("detail").str.json_path_match("$.directory"),
                        pl.col("detail").str.json_path_match("$.command").str.extract(r'"?([^" ]+)"?\s*$', 1))
    return (rows.select(*_KEYS, named.alias("directory")).drop_nulls("directory")
            .group_by(_KEYS).agg(pl.col("directory").first()))


def _last_part(path: pl.Expr) -> pl.Expr:
    return path.str.strip_chars_end("\\/").str.extract(r"([^\\/]+)$", 1).str.to_lowercase()


def _tie(out: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """``udid`` and ``udid_from`` for the runs that name no device (see the module docstring)."""
    folders = out.filter(pl.col("info_udid").is_not_null())
    own = pl.when(pl.col("udid").is_not_null()).then(pl.lit("own"))
    loose = out.filter(pl.col("udid").is_null())
    if loose.height == 0 or folders.height == 0:
        return out.with_columns(own.otherwise(pl.lit("untied")).alias("udid_from"))
    written = (loose.select(*_KEYS, "started_at", "ended_at")
               .join(folders.select("host", pl.col("udid").alias("w_udid"), pl.col("started_at").alias("w_at")), on="host")
               .filter((pl.col("w_at") >= pl.col("started_at") - pl.duration(seconds=SLACK_S))
                       & (pl.col("w_at") <= pl.col("ended_at") + pl.duration(seconds=SLACK_S)))
               .group_by(_KEYS).agg(pl.col("w_udid").unique().alias("written")))
    parents = folders.select("host", "udid", _last_part(pl.col("folder")).alias("name"),
                             _last_part(pl.col("folder").str.replace(r"[\\/][^\\/]*$", "")).alias("parent"))
    named = (loose.select(*_KEYS).join(_directories(events), on=_KEYS, how="inner", nulls_equal=True)
             .with_columns(_last_part(pl.col("directory")).alias("dir_name"))
             .join(parents, on="host")
             .filter((pl.col("dir_name") == pl.col("parent")) | (pl.col("dir_name") == pl.col("name")))
             .group_by(_KEYS).agg(pl.col("udid").unique().alias("named")))
    out = (out.join(written, on=_KEYS, how="left", nulls_equal=True).join(named, on=_KEYS, how="left", nulls_equal=True))
    one_written = pl.col("written").list.len() == 1
    one_named = pl.col("named").list.len() == 1
    agree = pl.col("named").is_null() | (one_named & (pl.col("named").list.first() == pl.col("written").list.first()))
    tied = (pl.when(pl.col("udid").is_not_null()).then(pl.col("udid"))
            .when(one_written & agree).then(pl.col("written").list.first())
            .when(pl.col("written").is_null() & one_named).then(pl.col("named").list.first()))
    how = (own.when(one_written & agree).then(pl.lit("folder_written"))
           .when(pl.col("written").is_null() & one_named).then(pl.lit("folder_named")).otherwise(pl.lit("untied")))
    return out.with_columns(tied.alias("udid"), how.alias("udid_from")).drop("written", "named")


def _superseded(out: pl.DataFrame) -> pl.DataFrame:
    """``superseded_by``: the start of the first later finished backup of the same device."""
    done = (out.filter((pl.col("outcome") == "succeeded") & pl.col("udid").is_not_null())
            .select("host", "udid", pl.col("started_at").alias("superseded_by")).sort("superseded_by"))
    if done.height == 0:
        return out.with_columns(pl.lit(None, dtype=SCHEMA["superseded_by"]).alias("superseded_by"))
    keyed = out.with_row_index("_row").filter(pl.col("udid").is_not_null() & (pl.col("outcome") != "succeeded")
                                               & pl.col("started_at").is_not_null())
    later = (keyed.select("_row", "host", "udid", "started_at").sort("started_at")
             .join_asof(done, left_on="started_at", right_on="superseded_by", by=["host", "udid"], strategy="forward",
                        allow_exact_matches=False, check_sortedness=False))
    return (out.with_row_index("_row").join(later.select("_row", "superseded_by"), on="_row", how="left").drop("_row"))


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
           .with_columns(pl.coalesce("udid", "info_udid").alias("udid")))
    out = _superseded(_tie(out, events))
    out = (out.join(by_device, on=["host", "udid"], how="left", nulls_equal=True)
           .with_columns(pl.coalesce("device_name", "d_name").alias("device_name"),
                         pl.coalesce("encrypted", "d_enc").alias("encrypted")))
    return history_order(out.select(list(SCHEMA)))


def history_order(history: pl.DataFrame | None) -> pl.DataFrame:
    """Backup histories in their order: by host, device and start time (stable, so that the PCs'
    histories put together equal one history of their rows); None is an empty history."""
    if history is None:
        return pl.DataFrame(schema=SCHEMA)
    return history.sort("host", "udid", "started_at", nulls_last=True, maintain_order=True)


def superseded_snapshots(events: pl.DataFrame, attempts: pl.DataFrame) -> pl.DataFrame:
    """host, file, attempt of the failed folder snapshots a later finished backup of the same device
    superseded: no incident (a logged failure stays one; its history row says it was superseded)."""
    history = backup_history(events, attempts)
    folder = history.join(events.filter(pl.col("format").is_in(list(FOLDER_FORMATS))).select("host", "file").unique(),
                          on=["host", "file"], how="semi")
    return folder.filter(pl.col("superseded_by").is_not_null()).select(_KEYS)


#: Sources that read the device's own account of a backup (BackupAgent2 in a device log).
DEVICE_FORMATS = ("backup_device_syslog",)


def device_side_copies(events: pl.DataFrame, attempts: pl.DataFrame) -> pl.DataFrame:
    """host, file, attempt of the failed backups a device log records that a host log (a tool's run,
    a folder's snapshot) also records, within SLACK_S of each other: one backup seen from both ends
    is one incident, the host's, whose evidence window holds the device's lines anyway."""
    formats = events.select("host", "file", "format").unique(subset=["host", "file"], keep="first")
    failed = (attempts.filter((pl.col("operation") == "backup") & (pl.col("outcome") == "failed")
                              & ~pl.col("reported").fill_null(False))
              .join(formats, on=["host", "file"], how="left", nulls_equal=True)
              .with_columns(pl.coalesce("ended_at", "started_at").alias("_end")))
    device = failed.filter(pl.col("format").is_in(list(DEVICE_FORMATS)))
    host_side = failed.filter(~pl.col("format").is_in(list(DEVICE_FORMATS)))
    if device.height == 0 or host_side.height == 0:
        return pl.DataFrame(schema={"host": pl.String, "file": pl.String, "attempt": pl.Int32})
    slack = pl.duration(seconds=SLACK_S)
    pairs = device.join(host_side.select("host", pl.col("started_at").alias("h_start"), pl.col("_end").alias("h_end")),
                        on="host")
    return (pairs.filter((pl.col("started_at") <= pl.col("h_end") + slack) & (pl.col("_end") >= pl.col("h_start") - slack))
            .select(_KEYS).unique(maintain_order=True))


def space_check(rows: pl.DataFrame) -> dict | None:
    """Free space against the needed size, from one incident's evidence (both known, else None).

    Free: what the device was told (BackupAgent2's ``Free disk space on drive``), else the lowest free
    space Windows logged for a volume (Ntfs 142). Needed: the device's ``uploadSize``, else the size of
    the device's existing backup folder (``backup_info``). The device goes on only when free > needed +
    128 MiB (backup-and-network.md §2.5), so the margin is said beside them."""
    detail = pl.col("detail")
    free = rows.filter(pl.col("kind") == "disk_space").with_columns(
        pl.coalesce(detail.str.json_path_match("$.free_bytes"),
                    detail.str.json_path_match("$.LowestFreeSpaceInBytes")).cast(pl.Int64, strict=False).alias("_free"),
        detail.str.json_path_match("$.free_bytes").is_not_null().alias("_device"),
        detail.str.json_path_match("$.upload_bytes").cast(pl.Int64, strict=False).alias("_need"))
    free = free.filter(pl.col("_free").is_not_null()).sort("_device", "ts_utc", descending=[True, True])
    need = free.filter(pl.col("_need").is_not_null())
    size = "_need"
    if need.height == 0:
        need = rows.filter(pl.col("kind") == "backup_info").with_columns(
            detail.str.json_path_match("$.size_bytes").cast(pl.Int64, strict=False).alias("_size")).drop_nulls("_size")
        size = "_size"
    if free.height == 0 or need.height == 0:
        return None
    f, n = free.row(0, named=True), need.row(0, named=True)
    return {"free_bytes": f["_free"], "needed_bytes": n[size], "margin_bytes": MARGIN,
            "fits": f["_free"] > n[size] + MARGIN, "free_from": _where(f), "needed_from": _where(n)}


def _where(row: dict) -> dict:
    return {k: row[k] for k in ("file", "line", "record") if row.get(k) is not None}
