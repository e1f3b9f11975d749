"""``analyze DIR`` on a whole PC (a mounted disk, a triage copy): the locations found under it, one PC;
and a collected bundle gives the same verdicts as the tree it came from."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.collect import collect
from analyzer.ingest import discover
from analyzer.triage import find_roots, is_system_root, pc_files

from collect_trees import USER, build
from conftest import SAMPLES

#: Where a sample file goes on a PC, by its name in samples/ (each placement is a table location).
PLACES = {
    "iTunes_restore.log": f"Users/{USER}/AppData/Roaming/Apple Computer/Logs/iPhone Restore.log",
    "AMPDevicesAgent_restore.log": f"Users/{USER}/AppData/Roaming/Apple Computer/Logs/AMPDevicesAgent.log",
    "System.evtx": "Windows/System32/winevt/Logs/System.evtx",
    "Application.evtx": "Windows/System32/winevt/Logs/Application.evtx",
    "setupapi.dev.log": "Windows/INF/setupapi.dev.log",
    "pfirewall.log": "Windows/System32/LogFiles/Firewall/pfirewall.log",
    "hosts": "Windows/System32/drivers/etc/hosts",
    "Backup": f"Users/{USER}/Apple/MobileSync/Backup",
    "Defender_Operational.evtx": "Windows/System32/winevt/Logs/Microsoft-Windows-Windows Defender%4Operational.evtx",
}
#: Sample PCs whose every file has a place on a PC (exports such as Event Viewer XML do not).
PLACEABLE = ["pc_d4_tss_firewall", "pc_ad30_killer_decoy", "pc_y25_3194_hosts_redirect", "pc_h8_old_itunes",
             "pc_z26_3014_dns", "pc_f6_unsigned_quiet_firewall", "pc_ae31_apple_server", "restore_4013_usb_drop",
             "pc_s19_backup_defender"]


def placed(sample: str, root: Path) -> Path:
    for f in (SAMPLES / sample).iterdir():
        target = root / PLACES[f.name]
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.is_dir():
            shutil.copytree(f, target, symlinks=True)
        else:
            shutil.copy2(f, target)
    (root / "Windows/System32/config").mkdir(parents=True, exist_ok=True)
    (root / "Windows/System32/config/SOFTWARE").write_bytes(b"regf" + b"\x00" * 64)  # not in the table
    return root


def verdicts(paths) -> list[tuple]:
    return sorted((i.host, i.error_code, i.cause) for i in analyze(paths).incidents)


@pytest.mark.parametrize("sample", PLACEABLE)
def test_a_bundle_and_the_tree_it_came_from_give_the_same_verdicts(tmp_path, sample):
    tree = placed(sample, tmp_path / "pc")
    out = tmp_path / "pc.zip"
    collect(find_roots(tree), out)
    from_tree, from_bundle, from_sample = verdicts([tree]), verdicts([out]), verdicts([SAMPLES / sample])
    assert from_tree and [v[1:] for v in from_tree] == [v[1:] for v in from_bundle] == [v[1:] for v in from_sample]
    assert {v[0] for v in from_tree} == {"pc"}


def test_a_pc_tree_is_one_pc_and_only_the_table_places_are_read(tmp_path):
    tree = placed("pc_d4_tss_firewall", tmp_path / "disk")
    (tree / "Users" / USER / "Documents").mkdir(parents=True)
    (tree / "Users" / USER / "Documents" / "notes.txt").write_text("not evidence\n")
    located, missing = discover([tree])
    assert not missing and {loc.host for loc in located} == {"disk"}
    assert sorted(loc.path.name for loc in located) == ["iPhone Restore.log", "pfirewall.log"]


def test_an_unpacked_bundle_is_a_triage_copy_too(tmp_path):
    tree = placed("pc_y25_3194_hosts_redirect", tmp_path / "pc")
    collect(find_roots(tree), tmp_path / "b.zip")
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(tmp_path / "b.zip").extractall(unpacked)
    assert [(r.os, r.drive) for r in find_roots(unpacked)] == [("windows", "C")]
    assert sorted(p.name for p in pc_files(unpacked)) == ["hosts", "iPhone Restore.log"]


def test_a_folder_of_triage_copies_is_a_fleet_of_pcs(tmp_path):
    fleet = tmp_path / "fleet"
    placed("pc_d4_tss_firewall", fleet / "pc1" / "C")
    placed("pc_h8_old_itunes", fleet / "pc2" / "C%3A")
    assert pc_files(fleet) is None  # two PCs' drives are not one PC
    located, _ = discover([fleet])
    assert {loc.host for loc in located} == {"pc1", "pc2"}
    assert {loc.path.name for loc in located} == {"iPhone Restore.log", "pfirewall.log", "Application.evtx"}


def test_plain_log_folders_are_not_pc_trees():
    for sample in ("restore_4013_usb_drop", "pc_v22_backup_success", "mac_console_usb_drop", "linux_bench_libusb_errors"):
        assert find_roots(SAMPLES / sample) == [], sample


@pytest.mark.parametrize("os_name", ["macos", "linux"])
def test_mac_and_linux_roots_are_recognised(tmp_path, os_name):
    build(tmp_path / "r", os_name)
    assert [r.os for r in find_roots(tmp_path / "r")] == [os_name]


def test_the_system_root_is_named_after_this_machine():
    assert is_system_root(Path("/")) and not is_system_root(SAMPLES)


def test_a_bundle_is_read_like_its_tree_manifest_aside(tmp_path):
    tree = placed("pc_d4_tss_firewall", tmp_path / "pc")
    collect(find_roots(tree), tmp_path / "pc.zip")
    from_bundle, from_tree = analyze([tmp_path / "pc.zip"]), analyze([tree])
    assert not from_bundle.partial and not from_tree.partial
    shown = lambda a: sorted(Path(f.path).name for f in a.files)
    assert shown(from_bundle) == shown(from_tree) == ["iPhone Restore.log", "pfirewall.log"]


@pytest.mark.parametrize("damage", ["payload_missing", "snapshot_left"])
def test_a_backup_taken_as_metadata_only_is_judged_as_the_whole_folder(tmp_path, damage):
    tree = placed("pc_v22_backup_success", tmp_path / "pc")
    (device,) = (tree / f"Users/{USER}/Apple/MobileSync/Backup").iterdir()
    if damage == "payload_missing":
        next(p for p in device.rglob("*") if p.is_file() and len(p.parent.name) == 2).unlink()
    else:
        (device / "Snapshot" / "ab").mkdir(parents=True)
        (device / "Snapshot" / "ab" / ("ab" + "0" * 38)).write_bytes(b"partial")
    out = tmp_path / "pc.zip"
    collect(find_roots(tree), out)
    assert not any(len(Path(n).parent.name) == 2 for n in zipfile.ZipFile(out).namelist())  # no payload taken
    from_tree, from_bundle = analyze([tree]), analyze([out])
    damage_of = lambda a: sorted(a.events.filter(a.events["kind"] == "backup_damage")["subject"].to_list())
    assert damage_of(from_tree) == damage_of(from_bundle) != []
    assert verdicts([tree]) == verdicts([out]) != []
    assert from_tree.backups.drop("file").rows() == from_bundle.backups.drop("file").rows()


def test_beside_a_triage_copy_loose_logs_join_it_and_another_pc_makes_a_fleet(tmp_path):
    case = tmp_path / "case"
    placed("pc_d4_tss_firewall", case / "C")
    (case / "KAPE_ConsoleLog.txt").write_text("KAPE version 1.3 started\n")
    shutil.copy2(SAMPLES / "pc_h8_old_itunes" / "Application.evtx", case / "Application.evtx")
    located, _ = discover([case])
    assert {loc.host for loc in located} == {"case"}
    assert sorted(loc.path.name for loc in located) == ["Application.evtx", "iPhone Restore.log", "pfirewall.log"]
    (case / "Application.evtx").unlink()  # a loose log would make the folder one PC, as before
    other = case / "pc2"
    other.mkdir()
    shutil.copy2(SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log", other / "restore.log")
    located, _ = discover([case])
    # two PCs: the fleet layout (the console log beside them listed as before), the copy still read as one
    assert {(loc.host, loc.path.name) for loc in located} == {
        ("C", "iPhone Restore.log"), ("C", "pfirewall.log"), ("pc2", "restore.log"), ("case", "KAPE_ConsoleLog.txt")}


def test_this_pc_reads_the_machines_own_places_in_place(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from analyzer.cli import app

    tree = placed("pc_y25_3194_hosts_redirect", tmp_path / "thispc")
    before = sorted(p.stat().st_mtime_ns for p in tree.rglob("*"))
    monkeypatch.setattr("analyzer.triage.this_pc_root", lambda: tree)
    result = CliRunner().invoke(app, ["--this-pc", "--format", "json"])
    doc = json.loads(result.stdout)
    assert sorted(Path(f["path"]).name for f in doc["files"]) == ["hosts", "iPhone Restore.log"]
    assert [i["cause"]["id"] for i in doc["incidents"]] == [v[2] for v in verdicts([SAMPLES / "pc_y25_3194_hosts_redirect"])]
    assert sorted(p.stat().st_mtime_ns for p in tree.rglob("*")) == before
    assert CliRunner().invoke(app, []).exit_code == 2  # neither PATH nor --this-pc


def test_logs_at_the_top_of_a_pc_tree_are_read_with_its_places(tmp_path):
    """A helpdesk folder that is a drive itself (``Users/`` in it) and holds a log at its top: the log
    is read with the table's places, not dropped."""
    tree = placed("pc_d4_tss_firewall", tmp_path / "disk")
    shutil.copy(SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log", tree / "handed_over.log")
    (tree / "notes.txt").write_text("not a log\n")
    located, missing = discover([tree])
    names = sorted(loc.path.name for loc in located)
    assert "handed_over.log" in names and "notes.txt" not in names and not missing
