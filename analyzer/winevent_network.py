"""What the network, clock and Wi-Fi events mean beyond their kind: the name a DNS failure was
for, a TLS alert's number, the size of a clock error or jump, the network a Wi-Fi event names, and
which service or device rows are software known to interfere (:mod:`analyzer.network_software`).

Kept beside :mod:`analyzer.winevent` (which applies it as one stage of its query) so that the
network meanings are read in one place, from EventData names (reference backup-and-network.md §4),
never from message text:

* DNS-Client 1014: ``subject`` = ``QueryName``;
* Schannel 36887/36888: ``error_code`` = the TLS alert (``AlertDesc``, else the first positional
  value; the name is the one common parsers use, unverified against a real record). The text exports
  (wevtutil text, Event Viewer .txt/.csv, Get-WinEvent) keep no EventData, only the rendered message:
  there, and only there, the number is read from the message (:data:`ALERT_IN_MESSAGE`), the one
  exception to "never from message text", since nothing else carries it;
* WLAN-AutoConfig 8001-8003/11002/11006/12013, NetworkProfile 10000/10001: ``subject`` = ``SSID``,
  else ``ProfileName``, else ``Name``; ``error_code`` = ``ReasonCode`` where given;
* Time-Service: ``subject`` "time service"; ``detail`` gains ``offset_s`` (34: the correction it refused, %1 seconds),
  ``unsynced_s`` (36: ``UnsynchronizedTimeSeconds`` in real records, else %1), ``offset_ms`` and ``for_s`` (50: %1 ms for %2 s),
  from the positional values these classic events carry;
* Kernel-General 1 (system time changed): ``subject`` "system time", ``detail`` gains ``jump_s``
  (``NewTime`` minus ``OldTime``, seconds to the ms).
"""

from __future__ import annotations

import polars as pl

from .network_software import CANDIDATE_KINDS, retag

#: EventData fields these meanings read (decoded with the others in winevent's one JSON pass).
FIELDS = ("QueryName", "AlertDesc", "UnsynchronizedTimeSeconds", "SSID", "ProfileName", "Name", "NewTime", "OldTime", "ReasonCode", "ImagePath")
#: Positional values read too ("1" is already read by winevent).
POSITIONAL = ("2",)


#: The alert number in Schannel's rendered 36887/36888 message, in the wordings public pastes show
#: (English: "The TLS protocol defined fatal alert code is 48." (36887), "... fatal error code is 70. The
#: Windows SChannel error state is 105." (36888), older "The following fatal alert was received: 47.";
#: Japanese: "TLS プロトコルで定義された致命的な警告コードは 48 です。", "…この致命的な警告のコードは 10 です。",
#: older "次の致命的な警告を受け取りました: 20。" / "次の致命的な警告が生成されました: 40。"). The number
#: must end where a sentence or word ends, so a value cut at the console width ("code is 4...") gives none.
ALERT_IN_MESSAGE = (r"(?i)(?:fatal (?:alert|error) code is|fatal alert was (?:received|generated):"
                    r"|警告(?:の)?コードは|警告を受け取りました[:：]|警告が生成されました[:：])"
                    r"\s*([0-9]{1,3})(?:\.(?:\s|$)|。|\s|$)")


#: Failing the wordings above (a Chinese or Korean export, whose wording no public paste shows:
#: unverified), the first whole number of the message that is a TLS alert (RFC 8446 §6 and the older
#: alerts): the rendered 36887/36888 messages hold the alert before any other number in every
#: language seen (36888 then gives the SChannel state). A number cut at the console width is no number.
ANY_NUMBER = r"(?:^|[^0-9.])([0-9]{1,3})(?:\.(?:\s|$)|[^0-9.]|$)"
TLS_ALERTS = (0, 10, 20, 21, 22, 30, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 60, 70, 71, 80, 86, 90, 100,
              109, 110, 111, 112, 113, 114, 115, 116, 120)


def _f(name: str) -> pl.Expr:
    return pl.col(f"_f_{name}")


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def _time(expr: pl.Expr) -> pl.Expr:
    """An ISO time as Windows writes it (``…T18:12:24.328125Z``, 0-9 fraction digits) to the µs."""
    # (extra fraction digits cut by length, YYYY-MM-DDTHH:MM:SS.ffffff being 26 characters: a regex
    # replace costs 7 ms per 100k rows even where they are null)
    bare = expr.str.strip_chars().str.strip_suffix("Z").str.head(26)
    return bare.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")


def _clock_fields() -> pl.Expr:
    """The JSON members a clock_sync row gains (without braces), or null. The fields are read on
    clock_sync rows only (null elsewhere, where the steps cost nothing: unmasked, on 95k .evtx
    records this took 48 ms, and the merge three times that)."""
    eid = pl.col("event_id")

    def f(name: str) -> pl.Expr:
        return pl.when(pl.col("kind") == "clock_sync").then(_f(name))
    one, two = _int(f("1")), _int(f("2"))
    unsynced = pl.coalesce(_int(f("UnsynchronizedTimeSeconds")), one)
    jump = pl.col("_jump")
    member = [
        pl.when(jump.is_not_null()).then(pl.format('"jump_s":{}', jump)),
        pl.when((eid == 34) & one.is_not_null()).then(pl.format('"offset_s":{}', one)),
        pl.when((eid == 36) & unsynced.is_not_null()).then(pl.format('"unsynced_s":{}', unsynced)),
        pl.when((eid == 50) & one.is_not_null()).then(pl.format('"offset_ms":{}', one)),
        pl.when((eid == 50) & two.is_not_null()).then(pl.format('"for_s":{}', two)),
    ]
    return pl.concat_str(member, separator=",", ignore_nulls=True)


def _with_members(detail: pl.Expr, members: pl.Expr) -> pl.Expr:
    """``detail`` (a JSON object) with ``members`` put first; unchanged where members is empty."""
    body = detail.str.strip_chars().str.strip_prefix("{").str.strip_suffix("}").str.strip_chars()
    merged = (pl.when(body.is_null() | (body == "")).then(pl.concat_str(pl.lit("{"), members, pl.lit("}")))
              .otherwise(pl.concat_str(pl.lit("{"), members, pl.lit(","), body, pl.lit("}"))))
    return pl.when(members.is_null() | (members == "")).then(detail).otherwise(merged)


def stages() -> list[list[pl.Expr]]:
    """The stages winevent runs after it has set kind, subject, error_code and detail."""
    kind = pl.col("kind")
    net = kind.is_in(["network_up", "network_down"])
    subject = (pl.when(kind == "dns_failure").then(pl.coalesce(_f("QueryName"), pl.col("subject")))
               .when(net).then(pl.coalesce(_f("SSID"), _f("ProfileName"), _f("Name"), pl.col("subject")))
               .when((kind == "clock_sync") & _f("NewTime").is_not_null()).then(pl.lit("system time"))
               .when(kind == "clock_sync").then(pl.lit("time service"))
               .otherwise(pl.col("subject")))
    # (the inputs of the costly steps are masked to the rows that use them: a when/then computes
    # its branches on every row, and a null costs nothing; on 95k .evtx records the unmasked
    # message regexes and detail strips cost 195 ms)
    alerting = pl.col("event_id").is_in([36887, 36888])
    message = pl.when(alerting).then(pl.col("message"))
    in_message = message.str.extract(ALERT_IN_MESSAGE, 1)
    number = message.str.extract(ANY_NUMBER, 1)
    any_alert = pl.when(number.cast(pl.Int64, strict=False).is_in(TLS_ALERTS)).then(number)
    alert = pl.when(alerting).then(pl.coalesce(_f("AlertDesc"), _f("1"), in_message, any_alert))
    code = (pl.when(kind == "tls_error").then(_int(alert))
            .when(kind == "network_down").then(_int(_f("ReasonCode")))
            .otherwise(pl.col("error_code")))
    clock = kind == "clock_sync"
    # (the members a column of their own: _with_members reads them three times)
    detail = pl.when(clock).then(_with_members(pl.when(clock).then(pl.col("detail")), pl.col("_clock")))
    first = [subject.alias("subject"), code.alias("error_code"), detail.otherwise(pl.col("detail")).alias("detail")]
    candidate = pl.col("kind").is_in(CANDIDATE_KINDS)
    text = pl.concat_str([pl.when(candidate).then(pl.col(name)).fill_null("")
                          for name in ("subject", "_f_ImagePath", "detail")], separator=" ")
    new_kind, new_detail = retag(pl.col("kind"), text, pl.col("detail"))
    masked = pl.when(kind == "clock_sync")
    jump = (_time(masked.then(_f("NewTime"))) - _time(masked.then(_f("OldTime")))).dt.total_milliseconds()
    jump = (jump / 1000).round(3)
    # (the jump, then the members, columns of their own: each is read more than once)
    return [[jump.alias("_jump")], [_clock_fields().alias("_clock")], first,
            [new_kind.alias("kind"), new_detail.alias("detail")]]
