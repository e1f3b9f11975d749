"""What a Windows event is, from its provider and event ID alone: the kind tables, the security
products, and the per-(provider, event ID) decisions
built from them.

Kept apart from :mod:`analyzer.winevent` (which turns records into event-table rows) because
these are the facts a reviewer checks against the reference (reference/windows-events.md),
and because the decisions are made once per distinct (provider, event ID) pair in Python and
joined onto the records (:func:`with_lookup`), never per record. Providers are compared
lower-case and as words of their own, so "srv" is the provider "srv", not the end of "LsaSrv".
"""

from __future__ import annotations

import functools
import re

import polars as pl

#: Providers of third-party security products (matched case-insensitively as substrings).
SECURITY_PRODUCTS = (
    "symantec", "norton", "mcafee", "kaspersky", "eset", "avast", "avg", "bitdefender", "sophos",
    "trend micro", "malwarebytes", "f-secure", "webroot", "panda", "comodo", "zonealarm", "windows defender",
)

# (provider words, event ids, kind). First match wins; providers compared lower-case, the
# words as words of their own (see _word_in).
KIND_TABLE: list[tuple[str, tuple[int, ...], str]] = [
    ("driverframeworks-usermode", (2003,), "device_connect"),
    ("driverframeworks-usermode", (2004, 2005, 2006, 2010, 10100), "driver_load"),
    ("driverframeworks-usermode", (2011, 10110, 10111, 10112, 10101), "driver_failure"),
    ("driverframeworks-usermode", (10000, 10001), "driver_install"),
    # the device's configuration life: configured (400), needs a reboot to finish (403), deleted
    # (420), needs further installation (430); Status, where given, is the outcome
    ("kernel-pnp", (400, 403, 420, 430), "driver_install"),
    ("kernel-pnp", (410,), "driver_load"),
    ("kernel-pnp", (401, 411, 219), "driver_failure"),
    ("userpnp", (20001, 20003), "driver_install"),
    ("service control manager", (7031, 7034, 7000, 7001, 7009, 7011, 7022, 7023, 7024, 7032), "service_crash"),
    ("service control manager", (7036, 7045), "service_state"),
    ("microsoft-windows-ntfs", (142,), "disk_space"),
    # a disk arrived: capacity, bus type, model (an iPhone is not a disk; it never logs 1006)
    ("microsoft-windows-partition", (1006,), "disk_space"),
    ("srv", (2013,), "disk_space"),
    ("kernel-power", (41, 42, 105, 107, 109, 172, 506, 507), "power"),
    # network, clock, Wi-Fi (reference backup-and-network.md §4; fields read in winevent_network)
    ("dns-client", (1014,), "dns_failure"),
    ("schannel", (36887, 36888, 36871, 36874, 36876, 36881, 36882, 36884), "tls_error"),
    ("time-service", (34, 36, 38, 47, 48, 50, 129, 134), "clock_sync"),
    # the PC reached its time source again: its network was up (35 syncing with, 37 receiving valid
    # time from, 137 resolved its manual peer after a failure)
    ("time-service", (35, 37, 137), "network_up"),
    ("kernel-general", (1,), "clock_sync"),
    ("wlan-autoconfig", (8001,), "network_up"),
    ("wlan-autoconfig", (8002, 8003, 11002, 11006, 12013), "network_down"),
    ("networkprofile", (10000,), "network_up"),
    ("networkprofile", (10001,), "network_down"),
    ("nlasvc", (4101,), "network_up"),
    ("nlasvc", (4102, 4205), "network_down"),
    ("ncsi", (4040,), "network_up"),
    ("ncsi", (4041,), "network_down"),
    ("security-auditing", (5152, 5157, 5031), "firewall_block"),
    ("security-auditing", (5156, 5158), "firewall_allow"),
    ("firewall with advanced security", (2011,), "firewall_block"),
    ("firewall with advanced security", (2003, 2004, 2005, 2006, 2010, 2033, 2051, 2097, 2099), "firewall_config"),
    ("application error", (1000,), "app_crash"),
    ("application hang", (1002,), "app_crash"),
    ("windows error reporting", (1001,), "app_crash"),
    # Defender and Controlled Folder Access
    # (Microsoft-Windows-Windows Defender/Operational: 1116 detected, 1117 action taken, 1123 CFA
    # blocked a write, 1124 CFA audit; reference backup-and-network.md §4.6)
    ("windows defender", (1116, 1117, 1123, 1124), "security_block"),
]


@functools.lru_cache(maxsize=64)
def _word_re(words: str) -> re.Pattern:
    return re.compile(r"(?<![a-z0-9])(?:" + words + r")(?![a-z0-9])")


def _word_in(needle: str, text: str) -> bool:
    """Is ``needle`` in the lower-case ``text`` as words of their own ("srv" is the provider
    "srv", not the end of "LsaSrv")?"""
    return _word_re(re.escape(needle)).search(text) is not None


def security_product_in(text: str | None) -> str | None:
    """The security product ``text`` (a provider name, a subject) names, lower-case, or None: as
    words of their own ("ESET Security"), never inside another word
    ("Microsoft-Windows-DeviceSetupManager" holds "eset")."""
    found = _word_re("|".join(map(re.escape, SECURITY_PRODUCTS))).search((text or "").lower())
    return found.group(0) if found else None


@functools.lru_cache(maxsize=4096)
def kind_of(provider: str | None, event_id: int | None) -> str:
    """Kind from provider + event ID alone (the KIND_TABLE, then the security-product rule)."""
    prov = (provider or "").lower()
    for needle, ids, kind in KIND_TABLE:
        if event_id in ids and _word_in(needle, prov):
            return kind
    if security_product_in(prov):
        return "security_product"
    return "generic"


@functools.lru_cache(maxsize=4096)
def needs_fields(provider: str | None, event_id: int | None) -> bool:
    """Is a record of this (provider, event ID) classified, i.e. are its data fields read?
    (A kind from the table or the security-product rule, or DriverFrameworks-UserMode 2100,
    whose fields decide whether it is a removal.) Everything else is a generic record."""
    return kind_of(provider, event_id) != "generic" or (
        event_id == 2100 and "driverframeworks-usermode" in (provider or "").lower())


#: The per-(provider, event_id) columns of _pair_lookup, joined onto the records.
LOOKUP_COLUMNS = {"_kind": pl.String, "_dfum": pl.Boolean, "_wer": pl.Boolean, "_scm": pl.Boolean, "_full": pl.Boolean,
                  "_msg": pl.String}


def _pair_lookup(frame: pl.DataFrame) -> pl.DataFrame:
    """The kind of every distinct (provider, event_id) in ``frame``: a handful of rows, decided
    in Python once per pair instead of ~20 string scans per record. ``_full``: see needs_fields."""
    pairs = frame.select("provider", "event_id").unique()
    provs = pairs.get_column("provider").to_list()
    ids = pairs.get_column("event_id").to_list()
    low = [(p or "").lower() for p in provs]
    columns = {
        "_kind": [kind_of(p, i) for p, i in zip(provs, ids)],
        "_dfum": ["driverframeworks-usermode" in p for p in low],
        "_wer": ["windows error reporting" in p for p in low],
        "_scm": ["service control manager" in p for p in low],
        "_full": [needs_fields(p, i) for p, i in zip(provs, ids)],
        "_msg": [f"{p if p is not None else '?'} {i}" if i is not None else None for p, i in zip(provs, ids)],
    }
    return pairs.hstack([pl.Series(name, values, dtype=LOOKUP_COLUMNS[name]) for name, values in columns.items()])


def with_lookup(frame: pl.DataFrame) -> pl.LazyFrame:
    """``frame`` (with provider and event_id) with the LOOKUP_COLUMNS joined on, lazily (the
    join runs in the query that collects the result)."""
    keys = frame.select("provider", "event_id")
    # joined on the key columns alone (a join gathers every column it carries), then put beside
    looked = keys.lazy().join(_pair_lookup(keys).lazy(), on=["provider", "event_id"], how="left",
                              nulls_equal=True, maintain_order="left").select(list(LOOKUP_COLUMNS))
    return pl.concat([frame.lazy(), looked], how="horizontal")
