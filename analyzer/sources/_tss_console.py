"""idevicerestore's signing (TSS) exchange and curl's errors: from marker to kind, subject, codes.

Why a table of its own beside :mod:`._apple_device_rules`: these lines are the host's network, not
the device; they become the same kinds a Windows PC's network evidence has (``dns_failure``,
``tls_error``) or the restore log's TSS rows (``tss_request``, ``tss_error``), so the network rules
read a Linux or Windows idevicerestore run the way they read iTunes' log and the PC's events.

What the lines are (``grammar/apple_device_restore.lark``, idevicerestore / libtatsu ``tss.c``):
``Request URL set to <url>`` names the server of each try (``tss_request``, subject the host);
``Sending TSS request attempt N... response successfully received`` is an answered try; curl's own
messages after a try that got no answer: ``Could not resolve host: H`` (``dns_failure``, subject H,
so ``apple_host`` applies), ``Failed to connect to H port P: …``, ``… timed out after N
milliseconds``, ``Empty reply from server`` (``tss_error``: no answer), ``SSL: … target host name
'H'`` / ``SSL certificate problem: …`` (``tls_error``: whoever answered did not prove to be H);
``TSS server returned: <body>``: the server's own answer (``STATUS=94&MESSAGE=…`` → error_code 94;
an HTTP error page → ``detail.http_status``, the server's failure); ``ERROR: TSS request failed …
(status=N…)`` and ``ERROR: Unable to send TSS request``: the give-up (``tss_error``).
"""

from __future__ import annotations

import polars as pl

from ._apple_classify import _int, _json, _lit

c = pl.col

#: An HTTP status in a body that is no TSS answer: a status line, or an error page's title/heading.
_HTTP_STATUS = r"(?i)(?:HTTP/[0-9.]+ |<title>|<h1>)([1-5][0-9]{2})\b"
#: The server an "SSL:" message names ("… target host name 'gs.apple.com'").
_SSL_HOST = r"target host name '([^']+)'"


def _host_of(url: pl.Expr) -> pl.Expr:
    return url.str.extract(r"^[a-z]+://([^/:?]+)", 1)


def tss_rules() -> dict[str, dict[str, pl.Expr | str]]:
    """marker → kind and column expressions for idevicerestore's TSS and curl lines."""
    body = c("tss_body")
    status = body.str.extract(r"STATUS=(-?[0-9]+)", 1).cast(pl.Int64, strict=False)
    http = body.str.extract(_HTTP_STATUS, 1).cast(pl.Int64, strict=False)
    fail = c("tss_fail_text")
    ssl_host = c("ssl_text").str.extract(_SSL_HOST, 1)
    reason = c("connect_reason").str.extract(r": (.+)$", 1)
    return {
        "tss_url": dict(kind="tss_request", subject=_host_of(c("tss_url")), detail=_json(url=c("tss_url"))),
        "tss_sent": dict(kind="tss_request", subject=pl.concat_str(_lit("TSS request attempt "), c("tss_try")),
                         detail=_json(attempt=_int("tss_try"),
                                      answered=pl.when(c("tss_reply").str.contains("successfully received"))
                                      .then(pl.lit(True)))),
        "tss_returned": dict(kind="tss_error", error_code=status,
                             subject=pl.coalesce(body.str.extract(r"MESSAGE=(.+)$", 1), _lit("TSS server returned")),
                             detail=_json(http_status=pl.when(status.is_null()).then(http), text=body.str.slice(0, 200))),
        "tss_failed": dict(kind="tss_error", subject=_lit("TSS request failed"),
                           error_code=fail.str.extract(r"status=(-?[0-9]+)", 1).cast(pl.Int64, strict=False),
                           detail=_json(text=fail.str.strip_prefix(":").str.strip_chars())),
        "tss_unable_send": dict(kind="tss_error", subject=pl.concat_str(_lit("unable to send "), c("send_what"), _lit(" request"))),
        "curl_resolve": dict(kind="dns_failure", subject=c("net_host").str.to_lowercase(), detail=_json(tool=_lit("curl"))),
        "curl_connect": dict(kind="tss_error", subject=_lit("connection failed"),
                             detail=_json(host=c("net_host"), port=_int("net_port"), reason=reason)),
        "curl_timeout": dict(kind="tss_error", subject=_lit("timed out"), detail=_json(timeout_ms=_int("timeout_ms"))),
        "curl_empty": dict(kind="tss_error", subject=_lit("empty reply from server")),
        "curl_ssl": dict(kind="tls_error", subject=ssl_host.str.to_lowercase(), detail=_json(tool=_lit("curl"))),
    }
