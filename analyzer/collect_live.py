"""The steps ``analyze collect`` takes only on a live machine, behind one small interface.

Windows keeps its event logs open and locked, so on a live PC they are exported with Windows' own
``wevtutil epl <channel> <file>`` (the channels and the ``--since`` filter from the location table)
instead of being copied; the Mac's unified log and Linux's journal exist only through their
commands (``log show``, ``journalctl``). Where the drive and the profiles are comes from the
environment (``SystemDrive``, ``SystemRoot``). All of it goes through a :class:`Runner`, so tests
drive these steps with a fake one and nothing here needs the OS it is written for.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from .collect import Obtained
from .locations import Location, channel_file, table
from .triage import Root

#: How far back a command looks when no ``--since`` is given (event logs are exported whole).
DEFAULT_SINCE = "30d"
#: Seconds a single export or command may take.
TIMEOUT = 600


class Runner(Protocol):
    """What the live steps need from the machine: its OS, its environment and running a program."""

    system: str  # windows | macos | linux

    def env(self, name: str) -> str | None: ...

    def run(self, argv: list[str], stdout: Path | None = None) -> tuple[int, str]:
        """Run ``argv``; its output into ``stdout`` when given. Returns (exit status, error text)."""


class SystemRunner:
    """This machine."""

    def __init__(self) -> None:
        self.system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")

    def env(self, name: str) -> str | None:
        return os.environ.get(name)

    def run(self, argv: list[str], stdout: Path | None = None) -> tuple[int, str]:
        try:
            if stdout is None:
                proc = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
            else:
                with open(stdout, "wb") as fh:
                    proc = subprocess.run(argv, stdout=fh, stderr=subprocess.PIPE, timeout=TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            return 127, str(exc)
        return proc.returncode, proc.stderr.decode("utf-8", "replace").strip()


def live_roots(runner: Runner) -> list[Root]:
    """The machine's own root: the system drive (``%SystemDrive%``, every profile under its Users
    folder: all of them readable when run as administrator), or ``/``."""
    if runner.system == "windows":
        drive = (runner.env("SystemDrive") or "C:").rstrip("\\/")
        return [Root(Path(drive + "\\"), "windows", drive=drive[:1].upper())]
    return [Root(Path("/"), runner.system)]


def live_steps(runner: Runner, workdir: Path, since: dt.datetime | None,
               since_text: str | None) -> tuple[list[Obtained], list[dict]]:
    """Every live step for the runner's OS: the files they produced (in ``workdir``) and the failures."""
    got: list[Obtained] = []
    failed: list[dict] = []
    root = live_roots(runner)[0]
    for loc in table().for_os(runner.system):
        if loc.take == "eventlog" and runner.system == "windows":
            for channel in loc.channels:
                _export(runner, root, loc, channel, workdir, since, got, failed)
        elif loc.take == "command":
            _command(runner, root, loc, workdir, since_text or DEFAULT_SINCE, got, failed)
    return got, failed


def wevtutil_argv(channel: str, out: Path, since: dt.datetime | None) -> list[str]:
    """``wevtutil epl``, with an XPath time filter when ``--since`` is given."""
    argv = ["wevtutil", "epl", channel, str(out)]
    if since is not None:
        ms = max(0, int((dt.datetime.now(dt.timezone.utc) - since).total_seconds() * 1000))
        argv.append(f"/q:*[System[TimeCreated[timediff(@SystemTime) <= {ms}]]]")
    return argv + ["/ow:true"]


def _export(runner: Runner, root: Root, loc: Location, channel: str, workdir: Path,
            since: dt.datetime | None, got: list[Obtained], failed: list[dict]) -> None:
    name = channel_file(channel)
    out = workdir / name
    status, err = runner.run(wevtutil_argv(channel, out, since))
    rel = f"{loc.folder().replace('Windows', _system_dir(runner), 1)}/{name}"
    if status != 0 or not out.is_file():
        failed.append({"path": root.original(rel), "location": loc.id, "channel": channel,
                       "reason": f"wevtutil epl exited {status}: {err}" if err else f"wevtutil epl exited {status}"})
        return
    got.append(Obtained(out, root.member(rel), root.original(rel), f"wevtutil epl {channel}", loc.id, loc.kind))


def _command(runner: Runner, root: Root, loc: Location, workdir: Path, since: str,
             got: list[Obtained], failed: list[dict]) -> None:
    name = loc.globs[0]
    out = workdir / name
    argv = [a.replace("{since}", since) for a in loc.argv]
    status, err = runner.run(argv, stdout=out)
    if status != 0 or not out.is_file():
        failed.append({"path": " ".join(argv), "location": loc.id,
                       "reason": f"{argv[0]} exited {status}: {err}" if err else f"{argv[0]} exited {status}"})
        return
    got.append(Obtained(out, root.member(name), "output of: " + " ".join(argv), "command output", loc.id, loc.kind))


def _system_dir(runner: Runner) -> str:
    """The Windows folder's name on this drive (``%SystemRoot%`` without its drive)."""
    system_root = runner.env("SystemRoot") or "C:\\Windows"
    return system_root.replace("\\", "/").split(":", 1)[-1].strip("/") or "Windows"
