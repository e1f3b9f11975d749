"""``analyze collect --root``: fake Windows, macOS and Linux trees and triage layouts, built from the
location table (tests/collect_trees.py), collected into a bundle whose manifest is checked."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.collect import CollectError, collect, parse_since
from analyzer.collect_cli import app as collect_app
from analyzer.locations import BACKUP_METADATA, table
from analyzer.sources._backup_db import LISTING
from analyzer.triage import find_roots

from collect_trees import UDID, USER, build, listing

runner = CliRunner()


def bundle_of(root: Path, out: Path, **kw) -> tuple[dict, zipfile.ZipFile]:
    collect(find_roots(root), out, **kw)
    z = zipfile.ZipFile(out)
    return json.loads(z.read("manifest.json")), z


@pytest.mark.parametrize("os_name", ["windows", "macos", "linux"])
def test_every_table_entry_is_found_with_its_hash_and_nothing_is_written_into_the_root(tmp_path, os_name):
    root = tmp_path / "pc"
    made = build(root, os_name)
    before = listing(root)
    manifest, z = bundle_of(root, tmp_path / "b.zip")
    assert listing(root) == before
    got = {e["member"].split("/", 2)[2]: e for e in manifest["files"]}
    assert set(got) == set(made)
    for rel, digest in made.items():
        entry = got[rel]
        assert entry["sha256"] == digest
        assert hashlib.sha256(z.read(entry["member"])).hexdigest() == digest
        assert entry["size"] == (root / rel).stat().st_size
    wanted = {loc.id for loc in table().for_os(os_name) if loc.take != "command"}
    assert {e["location"] for e in manifest["files"]} == wanted
    commands = {loc.id for loc in table().for_os(os_name) if loc.take == "command"}
    assert {m["location"] for m in manifest["not_found"]} == commands
    assert all(m["why"] == "only on the live machine" for m in manifest["not_found"])


def test_windows_original_paths_and_backup_metadata_only(tmp_path):
    root = tmp_path / "pc"
    build(root, "windows")
    manifest, z = bundle_of(root, tmp_path / "b.zip")
    originals = {e["original_path"] for e in manifest["files"]}
    assert "C:\\Windows\\INF\\setupapi.x.log" in originals
    assert f"C:\\Users\\{USER}\\Apple\\MobileSync\\Backup\\{UDID}\\Status.plist" in originals
    backup_members = [n for n in z.namelist() if "MobileSync" in n]
    assert backup_members and {n.rsplit("/", 1)[1] for n in backup_members} == {*BACKUP_METADATA, LISTING}
    sidecar = json.loads(z.read(listed_member := [n for n in backup_members if n.endswith(LISTING)][0]))
    assert {e["name"] for e in sidecar["entries"]} >= {"0a", "0a/0a" + "1" * 38, "Info.plist"}
    assert listed_member in {b["listing_member"] for b in manifest["backups"]}
    listed = [b for b in manifest["backups"] if b["location"] == "win_backups_store"][0]
    assert any(item["name"].startswith("0a/0a") for item in listed["listing"])
    assert "never" in manifest["backups_policy"]
    assert not any(b"private photo bytes" in z.read(n) for n in z.namelist())


@pytest.mark.parametrize("layout,drive", [("C", "C"), ("C%3A", "C"), ("uploads/auto/D%3A", "D"),
                                          ("uploads/ntfs/%5C%5C.%5CC%3A", "C")])
def test_triage_copy_layouts(tmp_path, layout, drive):
    top = tmp_path / "triage"
    build(top / layout, "windows")
    roots = find_roots(top)
    assert [(r.os, r.drive) for r in roots] == [("windows", drive)]
    manifest, _ = bundle_of(top, tmp_path / "b.zip")
    assert f"{drive}:\\Windows\\System32\\drivers\\etc\\hosts" in {e["original_path"] for e in manifest["files"]}


def test_a_copied_user_profile_is_a_root_of_its_own(tmp_path):
    build(tmp_path / "full", "windows")
    profile = tmp_path / "full" / "Users" / USER
    roots = find_roots(profile)
    assert [(r.os, r.profile) for r in roots] == [("windows", True)]
    manifest, _ = bundle_of(profile, tmp_path / "b.zip")
    assert {e["kind"] for e in manifest["files"]} == {"apple_log", "backup"}
    assert all(e["original_path"].startswith("%USERPROFILE%\\") for e in manifest["files"])


def test_missing_and_unreadable_locations_are_reported(tmp_path, monkeypatch):
    root = tmp_path / "pc"
    build(root, "windows", skip=("win_firewall_log", "win_setupapi"))
    locked = root / "Windows/System32/drivers/etc/hosts"

    def guarded_open(path, *args, **kw):  # a file Windows or the disk refuses (tests may run as root)
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kw)

    monkeypatch.setattr("analyzer.collect.open", guarded_open, raising=False)
    manifest, _ = bundle_of(root, tmp_path / "b.zip")
    assert {"win_firewall_log", "win_setupapi"} <= {m["location"] for m in manifest["not_found"]}
    assert {"firewall", "setupapi"} <= set(manifest["kinds"]["missing"])
    bad = [u for u in manifest["unreadable"] if u["path"].endswith("\\etc\\hosts")]
    assert bad and bad[0]["reason"] == "Permission denied"
    assert "hosts" not in {e["kind"] for e in manifest["files"]}


def test_symlinks_out_of_the_root_are_not_followed(tmp_path):
    root = tmp_path / "pc"
    build(root, "windows")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.log").write_text("not part of the PC\n")
    logs = root / f"Users/{USER}/AppData/Roaming/Apple Computer/Logs"
    (logs / "escape").symlink_to(outside, target_is_directory=True)
    (logs / "secret.log").symlink_to(outside / "secret.log")
    (root / "Users" / "intruder").symlink_to(outside, target_is_directory=True)
    manifest, z = bundle_of(root, tmp_path / "b.zip")
    assert not any("secret" in n or "escape" in n for n in z.namelist())
    refused = {Path(r["read_from"]).name for r in manifest["not_followed"]}
    assert {"escape", "secret.log", "intruder"} <= refused


def test_the_bundle_is_never_written_inside_the_root(tmp_path):
    root = tmp_path / "pc"
    build(root, "linux")
    with pytest.raises(CollectError):
        collect(find_roots(root), root / "b.zip")
    result = runner.invoke(collect_app, ["--root", str(root), "--out", str(root / "var" / "b.zip")])
    assert result.exit_code == 2 and not (root / "var" / "b.zip").exists()


def test_since_leaves_out_old_logs_but_keeps_configuration(tmp_path):
    root = tmp_path / "pc"
    build(root, "windows")
    old = root / f"Users/{USER}/AppData/Roaming/Apple Computer/Logs/sub/x"
    hosts = root / "Windows/System32/drivers/etc/hosts"
    for path in (old, hosts):
        os.utime(path, (946684800, 946684800))  # 2000-01-01
    manifest, z = bundle_of(root, tmp_path / "b.zip", since=parse_since("30d"))
    originals = {e["original_path"] for e in manifest["files"]}
    assert "C:\\Windows\\System32\\drivers\\etc\\hosts" in originals
    assert f"C:\\Users\\{USER}\\AppData\\Roaming\\Apple Computer\\Logs\\sub\\x" not in originals
    assert [o["location"] for o in manifest["older_than_since"]] == ["win_itunes_logs"]


def test_since_accepts_durations_and_days_only():
    assert parse_since("2026-03-01").isoformat() == "2026-03-01T00:00:00+00:00"
    with pytest.raises(CollectError):
        parse_since("last week")


def test_redact_rewrites_text_and_leaves_binary_out(tmp_path):
    root = tmp_path / "pc"
    build(root, "windows")
    logs = root / f"Users/{USER}/AppData/Roaming/Apple Computer/Logs"
    (logs / "restore.log").write_text(f"path C:\\Users\\{USER}\\AppData\\Local\\Temp\\x ECID: 0x1A2B3C4D5E6F\n")
    (logs / "blob.bin").write_bytes(b"\x00\x01\x02" * 100 + USER.encode())
    manifest, z = bundle_of(root, tmp_path / "b.zip", redact=True)
    blob = b"".join(z.read(n) for n in z.namelist()) + json.dumps(manifest).encode()
    assert USER.encode() not in blob and b"1A2B3C4D5E6F" not in blob
    assert any(u["reason"].startswith("binary file") for u in manifest["unreadable"])
    assert manifest["redacted"] is True


def test_cli_collect_writes_the_bundle_and_names_what_is_missing(tmp_path):
    root = tmp_path / "mac"
    build(root, "macos", skip=("mac_hosts",))
    result = runner.invoke(collect_app, ["--root", str(root), "--out", str(tmp_path / "b.zip")])
    assert result.exit_code == 0, result.output
    assert "missing: hosts" in result.stderr
    assert runner.invoke(collect_app, ["--root", str(tmp_path / "nothing")]).exit_code == 2
    (tmp_path / "plain").mkdir()
    assert runner.invoke(collect_app, ["--root", str(tmp_path / "plain")]).exit_code == 2


def _main(*argv: str, cwd: Path) -> "subprocess.CompletedProcess":
    import subprocess
    import sys

    code = f"import sys\nfrom analyzer.cli import main\nsys.argv = ['analyze', *{list(argv)!r}]\nmain()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_analyze_collect_is_a_subcommand_and_a_folder_named_collect_is_still_analysed(tmp_path):
    from conftest import SAMPLES

    root = tmp_path / "pc"
    build(root, "linux")
    made = _main("collect", "--root", str(root), "--out", str(tmp_path / "b.zip"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert zipfile.ZipFile(tmp_path / "b.zip").read("manifest.json")
    (tmp_path / "collect").mkdir()
    (tmp_path / "collect" / "restore.log").write_bytes((SAMPLES / "restore_4013_usb_drop/iTunes_restore.log").read_bytes())
    analysed = _main("./collect", "--format", "json", cwd=tmp_path)
    assert analysed.returncode == 0, analysed.stderr
    assert json.loads(analysed.stdout)["hosts"] == ["collect"]


def test_a_read_that_fails_midway_is_reported_with_the_partial_member(tmp_path, monkeypatch):
    import io

    root = tmp_path / "pc"
    build(root, "linux")
    hosts = root / "etc" / "hosts"

    class Failing(io.BytesIO):
        def read(self, *args):
            if self.tell():
                raise OSError(5, "Input/output error")
            return super().read(4)

    monkeypatch.setattr("analyzer.collect.open", lambda p, *a, **k: Failing(b"127.0.0.1 x\n") if Path(p) == hosts
                        else open(p, *a, **k), raising=False)
    manifest, z = bundle_of(root, tmp_path / "b.zip")
    (bad,) = [u for u in manifest["unreadable"] if u["path"] == "/etc/hosts"]
    assert bad["reason"] == "Input/output error" and bad["partial_member"] in z.namelist()
    assert "/etc/hosts" not in {e["original_path"] for e in manifest["files"]}
