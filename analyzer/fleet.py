"""The fleet view: one verdict per PC and what the failing PCs have in common.

Pure functions over an :class:`~analyzer.api.Analysis` (its files, events and
incidents); nothing here reads files or prints. :func:`summary` is what the JSON
document carries as ``fleet`` and what the terminal's fleet table shows:

* ``hosts``: per PC, its verdict (the most frequent determined cause of its
  failed attempts, ties to the latest failure; ``ok`` when every attempt
  succeeded, ``no_restore_log`` when no attempt was found), with the computer
  names its Windows logs record;
* ``causes``: per cause, how many incidents and which PCs;
* ``shared_factors``: host software and environment values (iTunes and Apple
  Mobile Device versions from the restore-log header, restore process, target
  build, Apple driver versions from Windows driver events, security products
  seen) held by two or more failing PCs, with how many PCs without a failure
  hold them too, so a factor common to everyone is visibly not a lead;
* ``time_clusters``: UTC hours and days in which two or more PCs failed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

import polars as pl

from .apple import about_apple
from .coverage import coverage
from .model import iso_utc
from .winevent_kinds import security_product_in

#: session_start detail keys (apple_restore source) reported as factors, with their factor names.
SESSION_FACTORS = {
    "itunes_version": "itunes_version",
    "apple_mobile_device_version": "apple_mobile_device_version",
    "process": "restore_process",
    "payload_build": "target_build",
}
#: Keys of a Windows driver event's data that carry the driver's version / name.
_DRIVER_VERSION_KEYS = ("DriverVersion", "driver_version", "Version")
_DRIVER_NAME_KEYS = ("DriverName", "driver_name", "DriverProvider", "ServiceName")

#: A factor must be held by at least this many failing PCs to be reported as shared.
MIN_SHARED = 2
#: A time bucket must hold failures of at least this many PCs to be a cluster.
MIN_CLUSTER_HOSTS = 2
MAX_CLUSTERS = 20
#: Failures this close in time chain into one burst (time_clusters).
BURST_GAP = dt.timedelta(minutes=10)
MAX_FACTORS = 30

FAILURE_FREE = ("ok", "no_outcome", "no_restore_log", "no_input")


def _json(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def host_verdict(incidents: list) -> tuple[str, float | None]:
    """The verdict for one PC from its incidents: most frequent determined cause, ties to the latest."""
    if not incidents:
        return "ok", None
    determined = [i for i in incidents if i.cause != "undetermined"]
    pool = determined or incidents
    counts = Counter(i.cause for i in pool)
    latest: dict[str, dt.datetime] = {}
    for i in pool:
        when = i.failed_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        latest[i.cause] = max(latest.get(i.cause, when), when)
    cause = max(counts, key=lambda c: (counts[c], latest[c], c))
    confidence = max(i.confidence for i in pool if i.cause == cause)
    return cause, confidence


def computers(events: pl.DataFrame) -> dict[str, list[str]]:
    """host → the computer names its Windows logs record (as written, first spelling of each name)."""
    if events.height == 0:
        return {}
    rows = (events.filter(pl.col("computer").is_not_null() & (pl.col("computer") != ""))
            .group_by("host").agg(pl.col("computer").unique(maintain_order=True)).to_dicts())
    out: dict[str, list[str]] = {}
    for row in rows:
        seen: dict[str, str] = {}
        for name in row["computer"]:
            seen.setdefault(name.lower(), name)
        out[row["host"]] = sorted(seen.values(), key=str.lower)
    return out


def _security_name(provider: str | None, subject: str | None) -> str | None:
    return security_product_in(f"{provider or ''} {subject or ''}") or provider or subject


def host_facts(events: pl.DataFrame) -> dict[str, dict]:
    """What the fleet summary reads of a PC's rows (its computer names, its factors), keyed by host:
    computed beside the PC's table, so that the run can summarise a fleet without its rows
    (:class:`analyzer.spill.Tables`). The PCs' facts put together equal the facts of their rows."""
    return {"computers": computers(events), "factors": factors(events)}


def _facts(analysis) -> dict[str, dict]:
    """The analysis's facts: those its PCs computed (``Analysis.facts``), else from its rows."""
    facts = getattr(analysis, "facts", None)
    return facts if facts is not None else host_facts(analysis.events)


def factors(events: pl.DataFrame) -> dict[str, dict[str, set[str]]]:
    """host → factor → values seen on that PC."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    if events.height == 0:
        return {}
    kinds = pl.col("kind").cast(pl.String)
    starts = events.filter(kinds == "session_start").select("host", "detail")
    for row in starts.iter_rows(named=True):
        detail = _json(row["detail"])
        for key, name in SESSION_FACTORS.items():
            value = detail.get(key)
            if value not in (None, ""):
                out[row["host"]][name].add(str(value))
    drivers = (events.filter(kinds.is_in(["driver_install", "driver_load", "driver_failure"])
                             & pl.col("detail").is_not_null())
               .filter(about_apple()))  # the text search only on the few driver rows
    for row in drivers.select("host", "detail").iter_rows(named=True):
        detail = _json(row["detail"])
        version = next((detail[k] for k in _DRIVER_VERSION_KEYS if detail.get(k)), None)
        if not version:
            continue
        name = next((detail[k] for k in _DRIVER_NAME_KEYS if detail.get(k)), None)
        out[row["host"]]["apple_driver_version"].add(f"{name} {version}" if name else str(version))
    security = events.filter(kinds == "security_product").select("host", "provider", "subject")
    for row in security.iter_rows(named=True):
        name = _security_name(row["provider"], row["subject"])
        if name:
            out[row["host"]]["security_product"].add(name)
    return {h: {f: set(v) for f, v in fs.items()} for h, fs in out.items()}


#: Causes on the way between the PC and Apple's servers (clustered across PCs on their own).
NETWORK_CAUSES = ("network_connection", "apple_server", "hosts_file_redirect", "clock_wrong", "security_software")


def time_clusters(incidents: list, min_hosts: int = MIN_CLUSTER_HOSTS) -> list[dict[str, Any]]:
    """When failures of ``min_hosts`` or more PCs bunch, most PCs first: bursts (failures each
    within :data:`BURST_GAP` of the one before, however long the chain: a server outage does not
    keep to clock hours, and 09:58 and 10:02 are one event), then UTC hours and days."""
    timed = sorted((i for i in incidents if i.failed_at is not None),
                   key=lambda i: i.failed_at.astimezone(dt.timezone.utc))
    groups: list[tuple[str, dt.datetime, dt.datetime, list]] = []
    for inc in timed:
        t = inc.failed_at.astimezone(dt.timezone.utc)
        if groups and groups[-1][0] == "burst" and t - groups[-1][2] <= BURST_GAP:
            groups[-1] = ("burst", groups[-1][1], t, groups[-1][3] + [inc])
        else:
            groups.append(("burst", t, t, [inc]))
    for window, span in (("hour", dt.timedelta(hours=1)), ("day", dt.timedelta(days=1))):
        buckets: dict[dt.datetime, list] = defaultdict(list)
        for inc in timed:
            start = inc.failed_at.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
            buckets[start.replace(hour=0) if window == "day" else start].append(inc)
        groups.extend((window, start, start + span, items) for start, items in buckets.items())
    clusters = []
    for window in ("burst", "hour", "day"):
        found = []
        for kind, start, end, items in groups:
            hosts = sorted({i.host for i in items})
            if kind != window or len(hosts) < min_hosts:
                continue
            found.append({"window": window, "start": iso_utc(start), "end": iso_utc(end), "hosts": hosts,
                          "host_count": len(hosts), "incidents": len(items),
                          "causes": dict(sorted(Counter(i.cause for i in items).items()))})
        found.sort(key=lambda c: (-c["host_count"], c["start"]))
        clusters.extend(found[:MAX_CLUSTERS])
    return clusters


def _host_row(host: str, incs: list, files: list, seen: Counter, names: list[str]) -> dict[str, Any]:
    """One PC's line of the fleet table: its verdict and what it is based on."""
    if incs:
        verdict, confidence = host_verdict(incs)
    elif not any(f.format for f in files):
        verdict, confidence = "no_input", None
    elif not seen:
        verdict, confidence = "no_restore_log", None
    elif seen.get("succeeded"):
        verdict, confidence = "ok", None
    else:
        verdict, confidence = "no_outcome", None
    failed = [i.failed_at for i in incs if i.failed_at is not None]
    return {
        "host": host, "computers": names, "verdict": verdict, "confidence": confidence,
        "files": len(files), "unread": sum(1 for f in files if not f.complete),
        "attempts": sum(seen.values()), "failed": len(incs),
        "error_codes": sorted({i.error_code for i in incs if i.error_code is not None}),
        "last_failure": iso_utc(max(failed)) if failed else None,
    }


def _per_host(analysis, names: dict[str, list[str]]) -> list[dict[str, Any]]:
    incidents_by_host: dict[str, list] = defaultdict(list)
    for inc in analysis.incidents:
        incidents_by_host[inc.host].append(inc)
    files_by_host: dict[str, list] = defaultdict(list)
    for f in analysis.files:
        if f.host is not None:
            files_by_host[f.host].append(f)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    if analysis.attempts is not None and analysis.attempts.height:
        for host, outcome in analysis.attempts.select("host", "outcome").iter_rows():
            outcomes[host][outcome] += 1
    hosts = sorted(set(analysis.hosts) | set(incidents_by_host) | set(files_by_host))
    return [_host_row(h, incidents_by_host.get(h, []), files_by_host.get(h, []), outcomes.get(h, Counter()),
                      names.get(h, [])) for h in hosts]


def _causes(incidents: list, verdicts: Counter) -> list[dict[str, Any]]:
    causes: dict[str, dict[str, Any]] = {}
    for inc in incidents:
        entry = causes.setdefault(inc.cause, {"cause": inc.cause, "incidents": 0, "hosts": set()})
        entry["incidents"] += 1
        entry["hosts"].add(inc.host)
    out = [{"cause": c["cause"], "incidents": c["incidents"], "host_count": len(c["hosts"]),
            "verdict_hosts": verdicts.get(c["cause"], 0), "hosts": sorted(c["hosts"])} for c in causes.values()]
    return sorted(out, key=lambda c: (-c["host_count"], -c["incidents"], c["cause"]))


def _shared(per_host: list[dict[str, Any]], host_factors: dict) -> list[dict[str, Any]]:
    """Factor values held by MIN_SHARED or more failing PCs, with how many other PCs hold them."""
    failing = {h["host"] for h in per_host if h["verdict"] not in FAILURE_FREE}
    others = len(per_host) - len(failing)
    verdict_of = {h["host"]: h["verdict"] for h in per_host}
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for host, fs in host_factors.items():
        for name, values in fs.items():
            for value in values:
                holders[(name, value)].add(host)
    shared = []
    for (name, value), held in holders.items():
        fail_hold = sorted(held & failing)
        if len(fail_hold) < MIN_SHARED:
            continue
        shared.append({
            "factor": name, "value": value, "failing_hosts": len(fail_hold), "of_failing": len(failing),
            "other_hosts": len(held - failing), "of_other": others,
            "causes": dict(sorted(Counter(verdict_of[h] for h in fail_hold).items())), "hosts": fail_hold,
        })
    shared.sort(key=lambda s: (-s["failing_hosts"], s["other_hosts"], s["factor"], s["value"]))
    return shared[:MAX_FACTORS]


def summary(analysis) -> dict[str, Any]:
    """The fleet summary of an analysis (one host or many)."""
    facts = _facts(analysis)
    per_host = _per_host(analysis, facts["computers"])
    verdicts = Counter(h["verdict"] for h in per_host)
    return {
        "host_count": len(per_host),
        "failing_hosts": sum(1 for h in per_host if h["verdict"] not in FAILURE_FREE),
        "verdicts": dict(sorted(verdicts.items())),
        "hosts": per_host,
        "causes": _causes(analysis.incidents, verdicts),
        "shared_factors": _shared(per_host, facts["factors"]),
        "time_clusters": time_clusters(analysis.incidents),
        "operations": dict(sorted(Counter(i.operation for i in analysis.incidents).items())),
        # many PCs failing to reach Apple in the same hour points at the network they share, or at Apple
        "network_clusters": time_clusters([i for i in analysis.incidents if i.cause in NETWORK_CAUSES]),
        # per PC, the kinds of evidence read and lacking (analyzer.coverage): which PCs to ask again
        "evidence": [{"host": host, **row} for host, row in coverage(analysis.files).items()],
    }
