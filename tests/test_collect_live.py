"""The live steps of ``analyze collect`` (wevtutil epl, environment variables, log show, journalctl)
through a fake :class:`analyzer.collect_live.Runner`: no Windows or Mac needed."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

from analyzer.collect import collect, parse_since
from analyzer.collect_live import live_roots, live_steps, wevtutil_argv
from analyzer.locations import channel_file, table


class FakeRunner:
    """Answers like a machine would: wevtutil writes an .evtx for the channels it has, refuses others."""

    def __init__(self, system: str, env: dict[str, str], refuse: set[str] = frozenset()):
        self.system, self._env, self.refuse, self.calls = system, env, refuse, []

    def env(self, name: str) -> str | None:
        return self._env.get(name)

    def run(self, argv: list[str], stdout: Path | None = None) -> tuple[int, str]:
        self.calls.append(argv)
        if argv[0] == "wevtutil":
            if argv[2] in self.refuse:
                return 15007, "Failed to read configuration for log. The specified channel could not be found."
            Path(argv[3]).write_bytes(b"ElfFile\x00" + argv[2].encode())
            return 0, ""
        stdout.write_text(f"output of {argv[0]}\n")
        return 0, ""


def channels() -> list[str]:
    return [loc for loc in table().for_os("windows") if loc.take == "eventlog"][0].channels


def test_windows_event_logs_are_exported_with_wevtutil_and_failures_reported(tmp_path):
    fake = FakeRunner("windows", {"SystemDrive": "D:", "SystemRoot": "D:\\WINDOWS"},
                      refuse={"Microsoft-Windows-NCSI/Operational"})
    work = tmp_path / "work"
    work.mkdir()
    since = parse_since("7d")
    got, failed = live_steps(fake, work, since, "7d")
    assert [c[:3] for c in fake.calls] == [["wevtutil", "epl", c] for c in channels()]
    assert all(c[-2].startswith("/q:*[System[TimeCreated[timediff(@SystemTime) <= ") for c in fake.calls)
    assert [f["channel"] for f in failed] == ["Microsoft-Windows-NCSI/Operational"]
    assert "15007" in failed[0]["reason"]
    system = [g for g in got if g.how == "wevtutil epl System"][0]
    assert system.original == "D:\\WINDOWS\\System32\\winevt\\Logs\\System.evtx"
    assert system.member == "files/D/WINDOWS/System32/winevt/Logs/System.evtx"
    assert live_roots(fake)[0].drive == "D"


def test_a_live_bundle_holds_the_exports_and_not_the_locked_files(tmp_path):
    drive = tmp_path / "drive"
    (drive / "Windows/System32/winevt/Logs").mkdir(parents=True)
    (drive / "Windows/System32/winevt/Logs/System.evtx").write_bytes(b"locked")
    fake = FakeRunner("windows", {"SystemDrive": "C:"})
    work = tmp_path / "work"
    work.mkdir()
    got, failed = live_steps(fake, work, None, None)
    from analyzer.triage import Root

    collect([Root(drive, "windows", drive="C")], tmp_path / "b.zip", obtained=got, failed=failed, live=True,
            host="PC7")
    z = zipfile.ZipFile(tmp_path / "b.zip")
    manifest = json.loads(z.read("manifest.json"))
    exported = {e["obtained"] for e in manifest["files"] if e["kind"] == "event_log"}
    assert exported == {f"wevtutil epl {c}" for c in channels()}
    assert z.read("files/C/Windows/System32/winevt/Logs/System.evtx").startswith(b"ElfFile")
    assert manifest["live"] is True and manifest["host"] == "PC7"
    assert "win_event_logs" not in {m["location"] for m in manifest["not_found"]}


def test_without_since_wevtutil_exports_everything():
    argv = wevtutil_argv("System", Path("out.evtx"), None)
    assert argv == ["wevtutil", "epl", "System", "out.evtx", "/ow:true"]
    ms = int(wevtutil_argv("System", Path("o"), dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))[4]
             .split("<= ")[1].rstrip("]"))
    assert 86_000_000 < ms < 87_000_000


def test_mac_and_linux_commands_run_with_since(tmp_path):
    for system, first in (("macos", ["log", "show", "--last", "12h"]), ("linux", ["journalctl", "--no-pager"])):
        fake = FakeRunner(system, {})
        work = tmp_path / system
        work.mkdir()
        got, failed = live_steps(fake, work, parse_since("12h"), "12h")
        assert not failed and fake.calls[0][:len(first)] == first
        assert {g.member for g in got} == {f"files/root/{loc.globs[0]}" for loc in table().for_os(system)
                                           if loc.take == "command"}
    assert "-12h" in fake.calls[0]


def test_channel_files_are_named_as_windows_names_them():
    assert channel_file("Microsoft-Windows-Ntfs/Operational") == "Microsoft-Windows-Ntfs%4Operational.evtx"


def test_a_live_bundle_may_be_written_on_the_machines_own_disk(tmp_path):
    from analyzer.triage import Root

    drive = tmp_path / "drive"
    (drive / "etc").mkdir(parents=True)
    (drive / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    (drive / "home" / "taro").mkdir(parents=True)
    out = drive / "home" / "taro" / "b.zip"
    collect([Root(drive, "linux")], out, live=True)
    names = zipfile.ZipFile(out).namelist()
    assert "files/root/etc/hosts" in names and not any(n.endswith("b.zip") for n in names)
