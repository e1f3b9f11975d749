"""The backup sources: the folder read once and read-only, its payload counted not reported, hostile
plists and databases reported never followed, the tool-output grammar, and the MBErrorDomain table."""

from __future__ import annotations

import importlib.util
import os
import plistlib
import shutil
import sqlite3
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analyzer import analyze, grammars
from analyzer.ingest import parse_file
from analyzer.sources import Input, registry
from analyzer.sources._backup_codes import codes
from analyzer.sources._backup_db import scan
from analyzer.sources.backup_tool import chain

from conftest import ROOT, SAMPLES
from grammar_agreement import assert_fast_path_agrees

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
UDID = "00008110-001C39A24E41801E"
SUCCESS = SAMPLES / "pc_v22_backup_success"


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_run_changes_no_byte_and_no_modification_time_of_the_backup(tmp_path: Path):
    pc = tmp_path / "pc"
    shutil.copytree(SUCCESS, pc)
    folder = pc / "Backup" / UDID
    (folder / "Manifest.db-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 28)
    (folder / "Manifest.db-shm").write_bytes(b"\x00" * 64)
    before = _snapshot(pc)
    result = analyze([pc], layout="host")
    assert _snapshot(pc) == before
    assert result.attempts.height == 1 and result.attempts["outcome"][0] == "succeeded"


def test_payload_files_are_one_note_per_folder_and_the_folder_gives_its_rows_once():
    result = analyze([SAMPLES / "pc_r18_backup_usb_drop"], layout="host")
    payload = [f for f in result.files if f.format == "backup_payload"]
    assert len(payload) == 1 and payload[0].records == 7  # 4 payload files + 3 staged in Snapshot/
    assert [n.code for n in payload[0].errors] == ["backup_payload_not_read"]
    assert not any(f.status == "unrecognised" for f in result.files)
    kinds = result.events.group_by("kind").len().sort("kind")
    assert dict(kinds.iter_rows()) == {"backup_damage": 1, "backup_info": 1, "device_disconnect": 1,
                                       "device_identity": 1, "result": 1, "session_start": 1}


def test_the_folder_inside_a_zip_is_read_the_same(tmp_path: Path):
    archive = tmp_path / "pc_r18.zip"
    src = SAMPLES / "pc_r18_backup_usb_drop"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(src).as_posix())
    zipped = analyze([archive])
    plain = analyze([src], layout="host")
    assert [(i.cause, i.attempt) for i in zipped.incidents] == [(i.cause, i.attempt) for i in plain.incidents] == [
        ("usb_connection", 1)]
    assert sum(f.format == "backup_payload" for f in zipped.files) == 1


def test_an_encrypted_database_is_reported_as_encrypted_not_damage():
    parsed = parse_file(SAMPLES / "pc_w23_backup_encrypted" / "Backup" / "00008120-001A2B3C4D5E601E" / "Manifest.db")
    assert parsed.report.format == "backup_manifest_db" and parsed.events.height == 0
    assert [n.code for n in parsed.report.errors] == ["backup_db_encrypted"]
    result = analyze([SAMPLES / "pc_w23_backup_encrypted"], layout="host")
    assert result.incidents == [] and "backup_damage" not in result.events["kind"].cast(str).to_list()


def test_the_device_icloud_record_gives_its_errors_with_their_dates():
    rows = analyze([SUCCESS], layout="host").events.filter(result_kind := (__import__("polars").col("kind") == "icloud_error"))
    assert rows.select("operation", "message").rows() == [("icloud", "The last backup could not be completed.")]
    assert rows["ts_utc"][0].isoformat() == "2025-11-16T03:12:40+00:00"


def _db(path: Path, schema: str, rows: list[tuple]) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(schema)
    if rows:
        conn.executemany(f"INSERT INTO Files VALUES ({', '.join('?' * len(rows[0]))})", rows)
    conn.commit()
    conn.close()


def test_hostile_rows_are_counted_never_followed(tmp_path: Path):
    (tmp_path / "00").mkdir()
    (tmp_path / "x").write_text("outside")
    _db(tmp_path / "Manifest.db", "CREATE TABLE Files (fileID TEXT, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);",
        [("../../x", "HomeDomain", "../../etc/passwd", 1, None), ("0" * 40, "HomeDomain", "/abs", 1, None)])
    out = scan(tmp_path / "Manifest.db", tmp_path)
    assert (out.state, out.rows, out.invalid_ids, out.odd_paths, out.missing) == ("read", 2, 1, 2, 1)
    assert not (tmp_path / "Manifest.db-wal").exists() and not (tmp_path / "Manifest.db-shm").exists()


def test_a_wrong_schema_is_reported(tmp_path: Path):
    _db(tmp_path / "Manifest.db", "CREATE TABLE Other (a TEXT);", [])
    assert scan(tmp_path / "Manifest.db", tmp_path).state == "wrong_schema"
    assert scan(tmp_path / "missing.db", tmp_path).state == "not_sqlite"
    assert not (tmp_path / "missing.db").exists()


@SETTINGS
@given(data=st.binary(max_size=4000))
def test_the_database_reader_never_raises_on_arbitrary_bytes(tmp_path: Path, data):
    path = tmp_path / "Manifest.db"
    path.write_bytes(b"SQLite format 3\x00" + data)
    assert scan(path, tmp_path).state in ("read", "capped", "not_sqlite", "wrong_schema", "unreadable")


_PLIST_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(max_size=20)
                             | st.datetimes(), lambda inner: st.lists(inner, max_size=4)
                             | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
_KEYS = st.sampled_from(["SnapshotState", "Date", "Lockdown", "IsEncrypted", "Last Backup Date", "iTunes Version",
                         "BackupStateInfo", "Target Identifier", "Unique Identifier", "errors", "BackupState"])


@SETTINGS
@given(data=st.dictionaries(_KEYS, _PLIST_VALUES.filter(lambda v: v is not None), max_size=6),
       binary=st.booleans(), name=st.sampled_from(["Status.plist", "Info.plist", "x.plist"]))
def test_plist_sources_never_raise_on_arbitrary_plists(tmp_path: Path, data, binary, name):
    path = tmp_path / name
    try:
        path.write_bytes(plistlib.dumps(data, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML))
    except (TypeError, ValueError, OverflowError):
        return
    parsed = parse_file(path)
    assert not any(n.code in ("reading_unfinished", "parser_failed") for n in parsed.report.errors)


@SETTINGS
@given(data=st.binary(max_size=3000), name=st.sampled_from(["backup_plist", "backup_plist_xml", "backup_manifest_db", "backup_tool"]))
def test_backup_parsers_never_raise_on_arbitrary_bytes(tmp_path: Path, data, name):
    path = tmp_path / "Status.plist"
    path.write_bytes(b"bplist00" + data if name == "backup_plist" else data)
    parsed = registry()[name].parse(Input(path, "Status.plist"))
    assert not any(n.code == "reading_unfinished" for n in parsed.report.errors)


def _tool_lines() -> list[str]:
    lines = []
    for path in sorted(SAMPLES.rglob("*.txt")):
        if registry()["backup_tool"].sniff(Input(path, path.name)):
            lines += path.read_text(encoding="utf-8").splitlines()
    return lines


def test_tool_grammar_fast_path_agrees_with_lark_on_the_sample_lines():
    lines = _tool_lines()
    assert len(lines) > 40
    assert_fast_path_agrees(grammars.load("backup_tool"), lines)


_WORDS = ["ErrorCode 205: ", "(MBErrorDomain/11)", "Backup Failed (Error Code ", "Backup directory is \"", "\"", ")", ".",
          "Device link error: {'ErrorCode': ", "2025-11-21 14:03:09 h n[1] INFO ", "Start time: 20251114093005", " ", "x"]


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.sampled_from(_WORDS), max_size=5), tail=st.text(alphabet=st.sampled_from(list("0123456789 ().:'x")), max_size=12))
def test_tool_grammar_fast_path_agrees_with_lark_on_generated_lines(words, tail):
    line = "".join(words) + tail
    # a coloredlogs prefix with nothing after it: Lark reads it as a plain line (its message cannot be
    # empty), the fast path as a prefix with an empty message; the one known difference (empty_message_ok)
    assume(not line.endswith(" INFO "))
    assert_fast_path_agrees(grammars.load("backup_tool"), [line], empty_message_ok=True)


@pytest.mark.parametrize("code", sorted(codes()))
def test_every_mberrordomain_code_gives_its_cause(tmp_path: Path, code):
    entry = codes()[code]
    path = tmp_path / "console.txt"
    path.write_text(f'Backup directory is "/b"\nErrorCode {code}: something (MBErrorDomain/{code})\n'
                    f"Backup Failed (Error Code {code}).\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.report.format == "backup_tool"
    details = parsed.events.filter(parsed.events["error_code"] == code)["detail"].to_list()
    assert len(details) == 2 and all(f'"cause":"{entry["cause"]}"' in d for d in details)
    assert entry["grade"] in "LCSU" and entry["meaning"]["en"] and entry["meaning"]["ja"]


def test_the_error_chain_is_read_outer_first():
    text = ("Error reading backup properties (MBErrorDomain/205). Underlying error: Error deserializing properties: "
            "Cannot parse a NULL or zero-length data (MBErrorDomain/11).")
    assert [c for c, _ in chain(text)] == [205, 11]


def test_the_committed_samples_are_what_the_generator_writes(tmp_path: Path, monkeypatch):
    spec = importlib.util.spec_from_file_location("backups_gen", ROOT / "tests" / "samplegen" / "backups.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(gen, "SAMPLES", tmp_path)
    for make in gen.ALL:
        make()
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written and all((SAMPLES / rel).is_file() for rel in written)
    for rel in written:
        if rel.name == "Manifest.db" and (tmp_path / rel).read_bytes()[:6] == b"SQLite":
            assert gen.db_rows(tmp_path / rel) == gen.db_rows(SAMPLES / rel), rel
        else:
            assert (tmp_path / rel).read_bytes() == (SAMPLES / rel).read_bytes(), rel
    assert os.sep  # (paths compared relative to each root)


def test_a_manifest_db_that_is_a_link_is_not_followed(tmp_path: Path):
    """A Manifest.db link may point out of the evidence (at the examiner's own files): the folder
    says so and the database behind it is never opened."""
    pc = tmp_path / "pc"
    shutil.copytree(SUCCESS, pc)
    folder = pc / "Backup" / UDID
    outside = tmp_path / "outside.db"
    (folder / "Manifest.db").rename(outside)
    (folder / "Manifest.db").symlink_to(outside)
    result = analyze([pc], layout="host")
    damage = result.events.filter(pl.col("kind") == "backup_damage")
    assert "manifest_db_link" in " ".join(damage["detail"].to_list())
    assert not any("Manifest.db" in f.path and f.events for f in result.files)
