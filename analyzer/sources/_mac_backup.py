"""Backups and network errors in a Mac's logs (system.log, ``log show``): the meaning of the markers
``grammar/mac_syslog.lark`` gives AppleMobileBackup's, BackupAgent2's and CFNetwork's lines, and the
backup attempts they make (reference backup-and-network.md §2.3, §2.4; issue 15 for the network).

Attempts (operation ``backup``), numbered after the file's restore attempts so the two never share a
number: every AppleMobileBackup process (one pid) that wrote ``Backup message response: N …`` or
``Backup error: M``, and every BackupAgent2 process that wrote a backup line (a sysdiagnose's log
archive). Its first line is the ``session_start`` (a row of its own when that line means something
else); the ``result`` is the response's MBErrorDomain code (``Backup error: M`` alone, MobileSync's host
code whose table is unverified, is a failure without an MBErrorDomain code), or BackupAgent2's ``Failed
to backup:`` code; each code of the chain is a ``failure_detail``. AMPDevicesAgent (Finder) runs for
many operations under one pid, and no public line of it shows a backup: a line of it that carries an
MBErrorDomain code is read as a one-line failed backup attempt (unverified, said in ``detail``).
AppleMobileBackup's success line is not public either: a run without a response line is no attempt.

Network: ``NSURLErrorDomain`` codes from Apple's NSURLError constants: −1003 cannot find host
(``dns_failure``), −1001 timed out, −1004 cannot connect, −1005 connection lost, −1009 not connected
(``network_down``), −1200…−1206 secure connection failed / certificate untrusted, expired, not yet valid
(``tls_error``), and the SSL stream's ``kCFStreamErrorDomainSSL`` codes (−98xx, ``tls_error``); the
host of the failing URL, when the line names it, is the subject (so ``apple_host`` can read it).
``detail.tls`` says what a TLS failure points at: ``untrusted`` (−1202 untrusted server certificate,
−9813 no root certificate, −9807 invalid chain: TLS inspection) or ``date`` (−1201 certificate has a bad
date, −9814 expired, −9815 not yet valid: the clock); the trust evaluation names the failed check
(``[leaf AnchorTrusted]``: untrusted, ``[leaf TemporalValidity]``: date).
"""

from __future__ import annotations

import json

import polars as pl

from ..model import EVENT_SCHEMA
from . import _backup_codes as bc
from ._relay import json_of, lit, to_int

c = pl.col
#: NSURLErrorDomain / CFNetwork codes and the kind they are (Apple's NSURLError constants).
URL_KINDS = {-1003: "dns_failure", -1001: "network_down", -1004: "network_down", -1005: "network_down",
             -1009: "network_down", -1018: "network_down", -1020: "network_down",
             **{code: "tls_error" for code in range(-1206, -1199)}}
#: What a TLS code points at: an untrusted chain (inspection) or a certificate date (the clock).
TLS_MEANING = {-1202: "untrusted", -9813: "untrusted", -9807: "untrusted", -1201: "date", -9814: "date", -9815: "date"}
_URL_HOST = r"https?://([A-Za-z0-9.-]+)"
_NSERROR = r"Error Domain=(NSURLErrorDomain|kCFErrorDomainCFNetwork|MBErrorDomain) Code=(-?\d+)"
BACKUP_PROCS = ("AppleMobileBackup", "BackupAgent2")


def _url_row(code: pl.Expr, text: pl.Expr) -> dict:
    kind = code.replace_strict(URL_KINDS, default="generic", return_dtype=pl.String)
    host = text.str.extract(_URL_HOST, 1)
    return dict(kind=kind, subject=pl.coalesce(host, pl.concat_str(pl.lit("NSURLErrorDomain "), code.cast(pl.String))),
                error_code=code, detail=json_of(domain=pl.lit("NSURLErrorDomain"), host=host,
                                                tls=code.replace_strict(TLS_MEANING, default=None, return_dtype=pl.String)))


def rules() -> dict[str, dict]:
    """Marker → event columns (the :func:`._relay.apply_rules` table) for these lines."""
    fin = c("url_finished").str.extract(r"^(-?\d+)", 1).cast(pl.Int64, strict=False)
    ns_domain, ns_code = c("inner").str.extract(_NSERROR, 1), c("inner").str.extract(_NSERROR, 2).cast(pl.Int64, strict=False)
    ssl = to_int("ssl_code")
    other_kind = (pl.when(ns_domain == "MBErrorDomain").then(lit("generic"))
                  .otherwise(ns_code.replace_strict(URL_KINDS, default="generic", return_dtype=pl.String)))
    host = c("inner").str.extract(_URL_HOST, 1)
    return {
        "mb_response": dict(kind="generic", subject=pl.concat_str(lit("MBErrorDomain/"), c("mbr_code")), error_code=to_int("mbr_code"),
                            detail=json_of(domain=lit(bc.DOMAIN), text=c("mbr_text"))),
        "mb_host_error": dict(kind="generic", subject=lit("MobileSync backup error"), error_code=to_int("mbh_code"),
                              detail=json_of(domain=lit("MobileSync"))),
        "ba_upload_size": dict(kind="phase", subject=lit("preflight"),
                               detail=json_of(upload_bytes=to_int("ba_upload"), upload_files=to_int("ba_files"))),
        "ba_free_space": dict(kind="disk_space", subject=lit("backup drive"), detail=json_of(free_bytes=to_int("ba_free"), reported_by=lit("device"))),
        "ba_need_space": dict(kind="disk_space", subject=lit("backup drive"), detail=json_of(short_bytes=to_int("ba_need"), reported_by=lit("device"))),
        "ba_failed": dict(kind="generic", subject=lit("backup")),
        "ba_finished": dict(kind="phase", subject=lit("finished")),
        "ba_start": dict(kind="phase", subject=lit("backup")),
        "url_load_failed": _url_row(to_int("url_code"), c("inner")),
        "url_finished": _url_row(fin, c("inner")),
        "ssl_load_failed": dict(kind="tls_error", subject=lit("kCFStreamErrorDomainSSL"), error_code=ssl,
                                detail=json_of(domain=lit("kCFStreamErrorDomainSSL"),
                                               tls=ssl.replace_strict(TLS_MEANING, default=None, return_dtype=pl.String))),
        "tls_alert": dict(kind="tls_error", subject=lit("TLS fatal alert"), detail=json_of(text=c("tls_rest"))),
        "trust_failed": dict(kind="tls_error", subject=lit("certificate trust"), detail=json_of(
            text=c("tls_rest"), tls=pl.when(c("tls_rest").str.contains("AnchorTrusted")).then(lit("untrusted"))
            .when(c("tls_rest").str.contains("TemporalValidity")).then(lit("date")))),
        "other": dict(kind=other_kind, error_code=ns_code,
                      subject=pl.when(ns_domain.is_not_null()).then(pl.coalesce(host, pl.concat_str(ns_domain, lit(" "), ns_code.cast(pl.String)))),
                      detail=json_of(domain=ns_domain, host=host,
                                     tls=ns_code.replace_strict(TLS_MEANING, default=None, return_dtype=pl.String))),
    }


_detail = bc.detail_json


def _merge(detail: str | None, **fields) -> str | None:
    out = json.loads(detail) if detail else {}
    out.update({k: v for k, v in fields.items() if v is not None})
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False) if out else None


def attempts(events: pl.DataFrame, procs: pl.DataFrame) -> pl.DataFrame:
    """The backup attempts of a Mac log's rows (see the module docstring). ``procs`` gives each line's
    ``pid`` and ``marker``; rows keep their order, inserted start and failure_detail rows share a line."""
    joined = events.with_row_index("_i").join(procs, on="line", how="left")
    mb = c("message").str.contains("MBErrorDomain").fill_null(False)
    mine = joined.filter(c("provider").is_in(list(BACKUP_PROCS)) | ((c("provider") == "AMPDevicesAgent") & mb))
    if mine.height == 0:
        return events
    first = int(events.get_column("attempt").max() or 0)
    groups: dict[tuple, list[dict]] = {}
    for r in mine.to_dicts():
        key = (r["provider"], r["pid"]) if r["provider"] != "AMPDevicesAgent" else (r["provider"], r["pid"], r["line"])
        groups.setdefault(key, []).append(r)
    replaced: dict[int, list[dict]] = {}
    n = first
    for key, rows in sorted(groups.items(), key=lambda kv: kv[1][0]["_i"]):
        made = _attempt(rows, n + 1)
        if made:
            n += 1
            replaced.update(made)
    if not replaced:
        return events
    out = []
    for i, r in enumerate(events.to_dicts()):
        out.extend(replaced.get(i, [r]))
    return pl.DataFrame(out, schema=events.schema)


def _attempt(rows: list[dict], number: int) -> dict[int, list[dict]]:
    """Row index → its replacement rows, for one process's backup attempt (empty: no attempt)."""
    markers = [r["marker"] for r in rows]
    amp = rows[0]["provider"] == "AMPDevicesAgent"
    if not amp and not any(m in ("mb_response", "mb_host_error") or (m or "").startswith("ba_") for m in markers):
        return {}
    failed = any(m in ("mb_response", "ba_failed") for m in markers) or amp
    result_done = False
    out: dict[int, list[dict]] = {}
    for k, r in enumerate(rows):
        base = {key: v for key, v in r.items() if key in EVENT_SCHEMA}
        base.update(attempt=number, operation="backup")
        rows_here = []
        if k == 0 and r["marker"] != "ba_start":
            rows_here.append({**base, "kind": "session_start", "subject": "backup", "error_code": None, "expected": None,
                              "detail": _detail(pid=_int(r["pid"]), inferred="first line of the process" if not amp else
                                                "AMPDevicesAgent line with an MBErrorDomain code (unverified shape)")})
        marker = r["marker"]
        if marker == "ba_start":
            base.update(kind="session_start" if k == 0 else "phase")
        links = bc.chain(r["message"]) if marker in ("mb_response", "ba_failed") or amp else []
        if not result_done and (links or marker in ("mb_response", "ba_failed") or (amp and k == 0)):
            code = links[0][0] if links else None
            base.update(kind="result", subject="backup", error_code=code,
                        detail=_merge(base.get("detail"), outcome=None if code is not None else "failed",
                                      cause=bc.codes().get(code, {}).get("cause") if code is not None else None))
            result_done = True
            rows_here += [base] + bc.detail_rows(base, links)
        elif marker == "mb_host_error" and not any(m == "mb_response" for m in markers) and not result_done:
            base.update(kind="result", subject="backup", error_code=None,
                        detail=_merge(base.get("detail"), outcome="failed", mobilesync_code=_int(r.get("mbh_code"))))
            result_done = True
            rows_here.append(base)
        elif marker == "ba_finished" and not failed and not result_done:
            base.update(kind="result", subject="backup", error_code=0,
                        detail=_merge(base.get("detail"), inferred="finished without a failure line"))
            result_done = True
            rows_here.append(base)
        else:
            rows_here.append(base)
        out[r["_i"]] = rows_here
    return out


def _int(text) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None

