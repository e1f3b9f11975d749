"""The compiled fast path of each grammar, kept on disk between runs.

Why: compiling a grammar means building Lark's Earley parser and walking its tables, about
40 ms a grammar; sniffing a folder touches several. The result (the line shapes' and markers'
regexes) depends only on the grammar files, this compiler and Lark's version, so it is stored
under a key made of all three and read back in a millisecond. The ``.lark`` file stays the
source of truth: any edit changes the key and the next run compiles afresh. The Lark parser
itself is built only when a line must be explained.

The folder is ``$ANALYZER_CACHE_DIR``, else ``$XDG_CACHE_HOME/analyzer``, else
``~/.cache/analyzer``. A cache that cannot be read or written is ignored (the grammar is
compiled in memory as before); a damaged entry is compiled again and replaced. Writes are
atomic (a temporary file renamed), so two runs at once never see half an entry.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

CACHE_ENV = "ANALYZER_CACHE_DIR"
#: Bump when the stored layout changes.
LAYOUT = 1


def cache_dir() -> Path:
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "analyzer"


@functools.lru_cache(maxsize=None)
def _fingerprint(grammar_dir: Path, compiler: tuple[Path, ...] = ()) -> str:
    """What a compiled grammar depends on: every grammar file (imports included), the compiler's
    own source and Lark's version."""
    # Lark's installed copy (where and how big its entry module is) stands for its version: reading
    # that costs nothing, importing Lark on every run would
    spec = importlib.util.find_spec("lark")
    origin = Path(spec.origin) if spec and spec.origin else None
    stamp = f"{origin}:{origin.stat().st_size}:{origin.stat().st_mtime_ns}" if origin else "none"
    digest = hashlib.sha256(f"{LAYOUT}|{stamp}|".encode())
    for source in compiler:
        digest.update(source.read_bytes())
    for path in sorted(grammar_dir.glob("*.lark")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def load(name: str, grammar_dir: Path, build: Callable[[], dict[str, Any]],
         compiler: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The compiled form of grammar ``name``: from the cache when present and whole, else ``build()``
    (stored for the next run when the cache folder is writable). ``compiler`` are the source files
    of the code that builds it (their edits change the key too)."""
    try:
        path = cache_dir() / f"grammar-{name}-{_fingerprint(grammar_dir, compiler)}.json"
    except OSError:
        return build()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("name") == name and data.get("layout") == LAYOUT:
            return data
    except (OSError, ValueError, AttributeError):
        pass
    data = {**build(), "name": name, "layout": LAYOUT}
    _store(path, data)
    return data


def _store(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".grammar-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
