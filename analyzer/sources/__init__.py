"""The source registry: every module in this package that defines ``SOURCE``.

Adding a format is a new module (plus its grammar and samples); this file is
never edited. Sniffing asks every source, in name order, and exactly one may
claim a file: zero claimants makes the file "not recognised", two is reported
as an ambiguity naming both (and the test suite forbids it on the samples).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from ..textio import looks_binary
from ._base import Input, Parsed, Segments, Source


@lru_cache(maxsize=1)
def registry() -> dict[str, Source]:
    found: dict[str, Source] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        source = getattr(module, "SOURCE", None)
        if source is None:
            continue
        if source.name != info.name:
            raise RuntimeError(f"analyzer/sources/{info.name}.py: SOURCE.name is {source.name!r}, expected {info.name!r}")
        found[source.name] = source
    return found


def claimants(item: Input) -> list[str]:
    """Names of the sources whose sniffer accepts ``item``. A sniffer that raises (on input
    it did not foresee) is taking no claim: this is the one guard, so sniffers need none.

    Binary data (NULs without a UTF-16 pattern) is offered only to binary sources and
    text only to text sources: no text format can be binary, and skipping the text
    sniffers spares every .evtx file a decode of its head (most of the sniffing cost).
    """
    binary = looks_binary(item.head)
    names = []
    for name, source in registry().items():
        if source.binary != binary:
            continue
        try:
            if source.sniff(item):
                names.append(name)
        except Exception:  # noqa: BLE001 - a sniffer bug must not stop the run
            continue
    return names


__all__ = ["Input", "Parsed", "Source", "registry", "claimants"]
