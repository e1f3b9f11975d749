"""Reasoning across the attempts of one device: what the other tries say about this failure.

A repair bench or a patient user restores the same iPhone several times. The other attempts of the
same device (same ECID) on the same PC are evidence:

* a later attempt that **succeeded** says the device and its firmware can be restored: the failure
  was the connection (all the more when the later one ran on another USB location);
* the **same failure at the same stage** on another USB location says the cable or port is not it:
  the device fails whatever it is plugged into.

:func:`history` gives, per failed attempt, these facts as columns the rules read (the derived fields
``later_success``, ``later_success_moved`` and ``same_failure_moved``) and the attempts they rest
on, so the verdict can say which attempts its reasoning used.
"""

from __future__ import annotations

import polars as pl

_KEYS = ["host", "file", "attempt"]
#: Kinds whose subject names the step an attempt was at.
STAGE_KINDS = ["phase", "state_change", "progress"]

SCHEMA = {"host": pl.String, "file": pl.String, "attempt": pl.Int32, "later_success": pl.Boolean,
          "later_success_moved": pl.Boolean, "same_failure_moved": pl.Int64,
          "related": pl.List(pl.Struct({"file": pl.String, "attempt": pl.Int32, "outcome": pl.String,
                                        "error_code": pl.Int64, "usb_location": pl.String,
                                        "relation": pl.String}))}


def _profiles(events: pl.DataFrame, attempts: pl.DataFrame) -> pl.DataFrame:
    """Per attempt: its device (ECID), USB location, the step it failed at, outcome, code, order."""
    # lazily, so that only the columns used are filtered: a bench log has millions of rows, and an
    # eager filter would copy every column of them first
    own = events.lazy().filter(pl.col("attempt").is_not_null())
    # the few rows that say something here first, then the grouping
    device = (own.filter(pl.col("ecid").is_not_null() | (pl.col("kind") == "device_identity"))
              .group_by(_KEYS).agg(
                  pl.col("ecid").drop_nulls().first().alias("ecid"),
                  pl.col("detail").filter(pl.col("kind") == "device_identity")
                  .str.json_path_match("$.usb_location").drop_nulls().first().alias("usb_location"))).collect()
    # a backup's success says nothing about a restore's failure: attempts compare within their family
    family = pl.when(pl.col("operation") == "backup").then(pl.lit("backup")).otherwise(pl.lit("restore"))
    profiles = (attempts.filter(~pl.col("reported").fill_null(False))
                .select(*_KEYS, "outcome", "error_code", "started_at", "failed_line", family.alias("family"))
                .join(device, on=_KEYS, how="left", nulls_equal=True))
    # the stage matters only to attempts that have another of their device to compare with, and
    # one of them failed (most logs: none; a bench log's stage rows are most of its lines)
    group = ["host", "ecid", "family"]
    compared = profiles.filter(pl.col("ecid").is_not_null() & (pl.len().over(group) > 1)
                               & (pl.col("outcome") == "failed").any().over(group))
    return profiles.join(_stages(own, compared), on=_KEYS, how="left", nulls_equal=True)


def _stages(own: pl.LazyFrame, compared: pl.DataFrame) -> pl.DataFrame:
    """The step each of the ``compared`` attempts reached before it failed (``stage``)."""
    if compared.height == 0:
        return pl.DataFrame(schema={**{k: SCHEMA[k] for k in _KEYS}, "stage": pl.String})
    # joined on a hash of the attempt's key, as a join on the key's texts would copy them out for
    # every line of a bench log first (+127 MB at 800k lines)
    key = pl.struct(_KEYS).hash().alias("_key")
    limits = compared.lazy().select(key, *_KEYS, "failed_line")
    return (own.filter(pl.col("kind").is_in(list(STAGE_KINDS)) & pl.col("subject").is_not_null()
                       & pl.col("attempt").is_in(compared.get_column("attempt").unique().implode()))
            .select(key, "line", pl.col("subject").cast(pl.String))
            .join(limits.select("_key", "failed_line"), on="_key", how="inner")
            .filter(pl.col("failed_line").is_null() | (pl.col("line") <= pl.col("failed_line")))
            .group_by("_key").agg(pl.col("subject").get(pl.col("line").arg_max()).alias("stage"))
            .join(limits.select("_key", *_KEYS), on="_key").drop("_key")).collect()


def _relations(profiles: pl.DataFrame) -> pl.DataFrame:
    """Every (failed attempt, other attempt of the same device on the same PC) pair, with how they relate."""
    failed = profiles.filter((pl.col("outcome") == "failed") & pl.col("ecid").is_not_null())
    others = profiles.filter(pl.col("ecid").is_not_null()).select(
        "host", "ecid", "family", *[pl.col(c).alias(f"o_{c}") for c in ("file", "attempt", "outcome", "error_code",
                                                               "usb_location", "stage", "started_at")])
    pairs = failed.join(others, on=["host", "ecid", "family"], how="inner")
    pairs = pairs.filter(~((pl.col("o_file") == pl.col("file")) & (pl.col("o_attempt") == pl.col("attempt"))))
    # in one log the attempt numbers give the order (its clocks can disagree); across logs, time
    later = (pl.when(pl.col("o_file") == pl.col("file")).then(pl.col("o_attempt") > pl.col("attempt"))
             .otherwise(pl.col("o_started_at") > pl.col("started_at")))
    moved = (pl.col("o_usb_location") != pl.col("usb_location")).fill_null(False)
    relation = (pl.when((pl.col("o_outcome") == "succeeded") & later.fill_null(False))
                .then(pl.when(moved).then(pl.lit("later_success_moved")).otherwise(pl.lit("later_success")))
                .when((pl.col("o_outcome") == "failed") & (pl.col("o_error_code") == pl.col("error_code"))
                      & (pl.col("o_stage") == pl.col("stage")).fill_null(False) & moved)
                .then(pl.lit("same_failure_moved")))
    return pairs.with_columns(relation.alias("relation")).filter(pl.col("relation").is_not_null())


def history(events: pl.DataFrame, attempts: pl.DataFrame) -> pl.DataFrame:
    """Per failed attempt with a known device: what its other attempts say (SCHEMA)."""
    if attempts.height == 0 or "ecid" not in events.columns:
        return pl.DataFrame(schema=SCHEMA)
    pairs = _relations(_profiles(events, attempts))
    if pairs.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    related = pl.struct(pl.col("o_file").alias("file"), pl.col("o_attempt").alias("attempt"),
                        pl.col("o_outcome").alias("outcome"), pl.col("o_error_code").alias("error_code"),
                        pl.col("o_usb_location").alias("usb_location"), "relation")
    rel = pl.col("relation")
    return (pairs.group_by(_KEYS, maintain_order=True)
            .agg((rel.is_in(["later_success", "later_success_moved"])).any().alias("later_success"),
                 (rel == "later_success_moved").any().alias("later_success_moved"),
                 (rel == "same_failure_moved").sum().cast(pl.Int64).alias("same_failure_moved"),
                 related.alias("related"))
            .select(list(SCHEMA)))
