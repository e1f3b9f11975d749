"""Which host names are Apple's: the names a hosts entry, a failed DNS lookup or a TLS error must
name to be evidence about an Apple restore, update or iCloud connection.

One list for the hosts-file source, the Windows DNS rows and the rule language's derived field
``apple_host``, so that they agree. The suffixes are those of reference backup-and-network.md §5.3
(Apple's "Use Apple products on enterprise networks", 101555): any name that is or ends in one of
them. ``SIGNING_HOSTS`` are the hosts a restore or update cannot do without (signing, activation,
firmware catalogue); a redirect of one of them explains a 3194/3004/3014-type failure.
"""

from __future__ import annotations

import polars as pl

#: A name that is or ends in one of these is Apple's (§5.3).
APPLE_SUFFIXES = ("apple.com", "icloud.com", "apple-cloudkit.com", "cdn-apple.com", "mzstatic.com",
                  "icloud-content.com")

#: Hosts of the signing, activation and firmware path of a restore or update (§5.3, first row and mesu).
SIGNING_HOSTS = ("gs.apple.com", "albert.apple.com", "humb.apple.com", "tbsc.apple.com", "static.ips.apple.com",
                 "sq-device.apple.com", "mesu.apple.com", "appldnld.apple.com", "updates.cdn-apple.com",
                 "gdmf.apple.com", "ocsp.apple.com", "ocsp2.apple.com", "crl.apple.com", "valid.apple.com")

#: The same test as one anchored, case-insensitive regex (a trailing dot, the DNS root, allowed).
APPLE_HOST_RE = r"(?i)^(?:.*\.)?(?:" + "|".join(s.replace(".", r"\.") for s in APPLE_SUFFIXES) + r")\.?$"


def normal_name(name: str) -> str:
    """A host name as compared: lower case, without the root's trailing dot."""
    return name.strip().lower().rstrip(".")


def is_apple_host(name: str | None) -> bool:
    """Is ``name`` (a host name) one of Apple's?"""
    if not name:
        return False
    host = normal_name(name)
    return any(host == s or host.endswith("." + s) for s in APPLE_SUFFIXES)


def is_signing_host(name: str | None) -> bool:
    """Is ``name`` a host of the signing/activation/firmware path (SIGNING_HOSTS)?"""
    return bool(name) and normal_name(name) in SIGNING_HOSTS


def apple_host_expr(col: pl.Expr) -> pl.Expr:
    """:func:`is_apple_host` over a polars column (False on nulls)."""
    return col.str.contains(APPLE_HOST_RE).fill_null(False)
