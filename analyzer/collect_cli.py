"""``analyze collect``: the command line of :mod:`analyzer.collect`, a typer app of its own.

``analyze PATH...`` is one typer command; :func:`analyzer.cli.main` hands the arguments here when
the first one is ``collect``, so every option of the analysis keeps working. A folder that is
literally named ``collect`` is still analysed when written as a path: ``analyze ./collect``.
Exit codes as the analysis's: 0 everything found was read, 2 usage, 3 some file could not be read
or exported, 4 nothing at all was found.
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)

EPILOG = ("Backups: only their metadata files (Info/Manifest/Status.plist, Manifest.db) are taken, never their "
          "content. Exit codes: 0 ok; 2 usage; 3 some file could not be read or exported; 4 nothing found.")


@app.command(epilog=EPILOG)
def collect(
    root: Optional[List[Path]] = typer.Option(None, "--root", metavar="DIR", help="A mounted disk image, a triage copy (C/Windows/..., C%3A/...) or a copied user profile, read in place. Repeat for several. Without it: this machine (live; event logs exported with wevtutil)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="30d|YYYY-MM-DD", help="Leave out logs last written before this (12h, 30d, or a day); event logs are exported from then on."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="The bundle to write (default: analyzer-<pc>-<time>.zip here). Never inside a folder being read."),
    redact: bool = typer.Option(False, "--redact", help="Replace user names, ECIDs, UDIDs, serials and host names in text logs and the manifest by tokens; binary files (event logs, plists) are then left out and listed."),
) -> None:
    """Gather the evidence the location table names into one zip with manifest.json."""
    from .collect import CollectError, collect as write_bundle, parse_since
    from .triage import find_roots

    try:
        cutoff = parse_since(since)
        if root:
            roots, obtained, failed, host, live = _given(root, find_roots), [], [], root[0].resolve().name, False
        else:
            roots, obtained, failed, host, live = _live(cutoff, since)
        target = out or Path.cwd() / f"analyzer-{_safe(host or roots[0].path.name or 'pc')}-{_stamp()}.zip"
        bundle = write_bundle(roots, target, since=cutoff, redact=redact, obtained=obtained, failed=failed,
                              live=live, host=host)
    except CollectError as exc:
        _say(f"analyze collect: error: {exc}")
        raise typer.Exit(2)
    raise typer.Exit(_summary(bundle, target))


def _given(paths: list[Path], find_roots) -> list:
    from .collect import CollectError

    roots = []
    for path in paths:
        if not path.is_dir():
            raise CollectError(f"--root {path}: no such folder")
        found = find_roots(path)
        if not found:
            raise CollectError(f"--root {path}: no Windows, macOS or Linux folders (Windows/, Users/, C/, C%3A/, "
                               "private/etc, AppData/, Library/) found in it")
        roots.extend(found)
    return roots


def _live(cutoff, since):
    import tempfile

    from .collect_live import SystemRunner, live_roots, live_steps

    runner = SystemRunner()
    work = Path(tempfile.mkdtemp(prefix="analyzer-collect-"))
    _LIVE_DIRS.append(work)
    obtained, failed = live_steps(runner, work, cutoff, since)
    return live_roots(runner), obtained, failed, socket.gethostname(), True


_LIVE_DIRS: list[Path] = []


def _summary(bundle, target: Path) -> int:
    m = bundle.manifest
    _say(f"analyze collect: {bundle.files} file(s) into {target}")
    _say(f"  evidence present: {', '.join(m['kinds']['present']) or 'none'}; "
         f"missing: {', '.join(m['kinds']['missing']) or 'none'}")
    for item in m["unreadable"]:
        _say(f"  not read: {item.get('path')}: {item.get('reason')}")
    for item in m["not_followed"]:
        _say(f"  not followed: {item['path']} ({item['reason']})")
    if not bundle.files:
        return 4
    return 3 if m["unreadable"] else 0


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40] or "pc"


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def main(argv: list[str]) -> None:
    """Run ``analyze collect`` with ``argv`` (the words after ``collect``); live temp folders removed after."""
    import shutil

    try:
        app(args=argv, prog_name="analyze collect")
    finally:
        for work in _LIVE_DIRS:
            shutil.rmtree(work, ignore_errors=True)
