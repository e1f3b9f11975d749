"""The generated collection scripts match the location table, and the macOS one, run under bash on a
fake Mac, writes the bundle ``analyze collect`` writes."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from analyzer.collect import collect
from analyzer.collect_scripts import SCRIPTS, glob_ere, ps_locations, readme_table, render
from analyzer.locations import table
from analyzer.triage import find_roots

from collect_trees import build, listing
from conftest import ROOT


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_committed_scripts_are_what_the_table_generates(name):
    committed = (ROOT / "collect" / name).read_bytes().decode("utf-8").replace("\r\n", "\n")
    assert committed == render(name), f"collect/{name} is stale: run python -m analyzer.collect_scripts"


def test_the_readme_table_is_the_location_table():
    assert readme_table() in (ROOT / "README.md").read_text(encoding="utf-8"), \
        "README 'Where the logs are' is stale: paste python -m analyzer.collect_scripts --readme"


def test_the_powershell_script_names_every_windows_place_and_channel():
    script = render("collect-windows.ps1")
    assert ps_locations() in script
    for loc in table().for_os("windows"):
        assert f"id = '{loc.id}'" in script
        for channel in loc.channels:
            assert f"'{channel}'" in script
    for opening, closing in ("{}", "()", "[]"):
        assert script.count(opening) == script.count(closing), opening
    assert "Invoke-WebRequest" not in script and "Import-Module" not in script  # PowerShell 5.1, no modules


def test_glob_ere_agrees_with_the_python_matcher():
    rx = re.compile("^" + glob_ere("**/Logs/**/*") + "$", re.IGNORECASE)
    assert rx.match("LocalCache/Local/Logs/a.log") and rx.match("Logs/x") and not rx.match("Logsx/a")
    assert re.match("^" + glob_ere("pfirewall.log*") + "$", "pfirewall.log.old")
    assert not re.match("^" + glob_ere("setupapi.*.log") + "$", "setupapiXdevXlog")


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("zip") is None, reason="needs bash and zip")
def test_the_macos_script_run_under_bash_writes_the_same_bundle(tmp_path):
    mac = tmp_path / "mac"
    made = build(mac, "macos")
    (mac / "Users/taro/Library/Logs/CrashReporter/MobileDevice/escape").symlink_to(tmp_path, target_is_directory=True)
    before = listing(mac)
    out = tmp_path / "script.zip"
    proc = subprocess.run(["bash", str(ROOT / "collect" / "collect-macos.sh"), "--root", str(mac), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert listing(mac) == before
    z = zipfile.ZipFile(out)
    manifest = json.loads(z.read("manifest.json"))
    by_member = {e["member"]: e for e in manifest["files"]}
    assert {m.split("/", 2)[2] for m in by_member} == set(made)
    for member, entry in by_member.items():
        assert entry["sha256"] == made[member.split("/", 2)[2]] == hashlib.sha256(z.read(member)).hexdigest()
    assert [r["path"] for r in manifest["not_followed"]] == ["/Users/taro/Library/Logs/CrashReporter/MobileDevice/escape"]
    assert [m["location"] for m in manifest["not_found"]] == ["mac_unified_log"]
    python_manifest = _python_manifest(mac, tmp_path / "py.zip")
    assert set(manifest) == set(python_manifest)
    assert {(e["member"], e["sha256"], e["location"]) for e in manifest["files"]} == {
        (e["member"], e["sha256"], e["location"]) for e in python_manifest["files"]}
    assert manifest["kinds"] == python_manifest["kinds"]
    assert [b["entries"] for b in manifest["backups"]] == [b["entries"] for b in python_manifest["backups"]]


def _python_manifest(root: Path, out: Path) -> dict:
    collect(find_roots(root), out)
    return json.loads(zipfile.ZipFile(out).read("manifest.json"))


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("zip") is None, reason="needs bash and zip")
def test_the_macos_script_refuses_a_bundle_inside_the_root_and_leaves_out_old_logs(tmp_path):
    mac = tmp_path / "mac"
    build(mac, "macos")
    script = str(ROOT / "collect" / "collect-macos.sh")
    inside = subprocess.run(["bash", script, "--root", str(mac), "--out", str(mac / "b.zip")], capture_output=True)
    assert inside.returncode == 2 and not (mac / "b.zip").exists()
    old = mac / "private/var/log/system.logx"
    import os

    os.utime(old, (946684800, 946684800))
    out = tmp_path / "b.zip"
    subprocess.run(["bash", script, "--root", str(mac), "--out", str(out), "--since-days", "30"], check=True,
                   capture_output=True)
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert [o["path"] for o in manifest["older_than_since"]] == ["/private/var/log/system.logx"]
    assert "/private/etc/hosts" in {e["original_path"] for e in manifest["files"]}


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("zip") is None, reason="needs bash and zip")
def test_a_script_bundle_of_a_backup_is_judged_as_the_mac_it_came_from(tmp_path):
    from analyzer import analyze
    from conftest import SAMPLES

    mac = tmp_path / "mac"
    shutil.copytree(SAMPLES / "pc_s19_backup_defender" / "Backup",
                    mac / "Users/taro/Library/Application Support/MobileSync/Backup")
    (mac / "private/etc").mkdir(parents=True)
    (mac / "private/etc/hosts").write_text("127.0.0.1 localhost\n")
    out = tmp_path / "script.zip"
    subprocess.run(["bash", str(ROOT / "collect" / "collect-macos.sh"), "--root", str(mac), "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    assert not any("/Snapshot/" in n for n in zipfile.ZipFile(out).namelist())  # content never taken
    damage = lambda a: sorted(a.events.filter(a.events["kind"] == "backup_damage")["subject"].to_list())
    from_tree, from_bundle = analyze([mac]), analyze([out])
    assert damage(from_tree) == damage(from_bundle) == ["snapshot_leftover"]
    assert [(i.operation, i.cause) for i in from_tree.incidents] == [(i.operation, i.cause) for i in from_bundle.incidents]
    assert not from_bundle.partial
