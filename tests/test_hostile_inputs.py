"""Bad and hostile input never crashes the run (issue 13): each hostile thing gets a located note,
everything beside it is still analysed, and the run says PARTIAL, never an internal error or a hang.

Every test builds one PC folder in tmp_path: the 4013 restore-log sample plus one hostile thing, and
checks the exit code, the note (code and path, and line or record where there is one) and that the
sample's failure is still diagnosed. Where the input is read in full after all (a name that is not
UTF-8, a Manifest.db with triggers), the run is not partial and the test says so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import analyzer.ingest
import analyzer.pipeline
from analyzer import walk
from analyzer.compressed import MAGIC_BYTES
from analyzer.cli import ExitCode, app
from analyzer.sources import _backup_db, _base
from analyzer.sources.windows_event_xml import blank, doctype_spans

from conftest import SAMPLES

SAMPLE = SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log"
BACKUP = SAMPLES / "pc_v22_backup_success" / "Backup"
UDID = "00008110-001C39A24E41801E"
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_hang():
    """A safety net, not a timing test: a regression that blocks (a FIFO opened) fails instead of
    stopping the suite for ever."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def stuck(*_):
        raise AssertionError("the run blocked (a FIFO or device opened?)")

    old = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(300)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _pc(tmp_path: Path) -> Path:
    pc = tmp_path / "pc"
    pc.mkdir()
    shutil.copy(SAMPLE, pc / "iTunes_restore.log")
    return pc


def _run(*paths: Path) -> tuple[int, dict]:
    result = runner.invoke(app, [*map(str, paths), "--format", "json"])
    assert "Traceback" not in (result.stderr or ""), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _notes(doc: dict, name: str) -> list[dict]:
    """The notes of every file report whose path ends with ``name``."""
    return [n for f in doc["files"] if f["path"].endswith(name) for n in f["errors"]]


def _status(doc: dict, name: str) -> str:
    (status,) = [f["status"] for f in doc["files"] if f["path"].endswith(name)]
    return status


def _diagnosed(doc: dict) -> bool:
    """The sample's own failure is still there, with its cause."""
    return any(i["error_code"] == 4013 and i["file"].endswith("iTunes_restore.log") and i["cause"]["id"] == "usb_connection"
               for i in doc["incidents"])


# -- links -------------------------------------------------------------------------------------------
def test_a_symlink_loop_is_noted_not_followed(tmp_path):
    pc = _pc(tmp_path)
    os.symlink("loop_b", pc / "loop_a")
    os.symlink("loop_a", pc / "loop_b")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [(n["code"], n["file"], n["params"]["target"]) for n in _notes(doc, "loop_a")] == [
        ("link_loop", f"{pc}/loop_a", "loop_b")]
    assert _status(doc, "loop_b") == "unreadable"


def test_a_folder_link_back_to_its_parent_is_not_followed(tmp_path):
    pc = _pc(tmp_path)
    (pc / "sub").mkdir()
    os.symlink("..", pc / "sub" / "up")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [(n["code"], n["params"]["target"], n["severity"]) for n in _notes(doc, "sub/up")] == [
        ("link_not_followed", "..", "warning")]
    assert len(doc["incidents"]) == 1  # the log was read once, not again through the cycle


def test_a_dangling_link_is_noted_as_missing(tmp_path):
    pc = _pc(tmp_path)
    os.symlink("does-not-exist.log", pc / "dangling.log")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [n["code"] for n in _notes(doc, "dangling.log")] == ["link_dangling"]
    assert _status(doc, "dangling.log") == "missing"


def test_a_link_out_of_the_evidence_is_not_read_and_one_inside_is_read_once(tmp_path):
    pc = _pc(tmp_path)
    outside = tmp_path / "examiner"
    outside.mkdir()
    shutil.copy(SAMPLE, outside / "restore.log")  # would give a second 4013 if it were read
    os.symlink(outside / "restore.log", pc / "hosts")
    os.symlink("iTunes_restore.log", pc / "a_copy.log")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL
    assert [(n["code"], n["params"]["target"]) for n in _notes(doc, "/hosts")] == [
        ("link_not_followed", str(outside / "restore.log"))]
    assert [i["error_code"] for i in doc["incidents"]] == [4013]  # the inside link: the same file, read once


def test_a_bind_mount_of_the_folder_inside_itself_is_walked_once(tmp_path):
    pc = _pc(tmp_path)
    inner = pc / "sub" / "mnt"
    inner.mkdir(parents=True)
    mount = shutil.which("mount")
    if mount is None or subprocess.run([mount, "--bind", str(pc), str(inner)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here (needs Linux and the right to mount)")
    try:
        code, doc = _run(pc)
    finally:
        subprocess.run([shutil.which("umount") or "umount", str(inner)], check=True)
    assert code == ExitCode.PARTIAL and _diagnosed(doc) and len(doc["incidents"]) == 1
    assert [(n["code"], n["params"]["first"]) for n in _notes(doc, "sub/mnt")] == [("folder_repeated", str(pc))]


# -- files that are not regular ----------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_never_opened(tmp_path):
    pc = _pc(tmp_path)
    os.mkfifo(pc / "pipe.log")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    (note,) = _notes(doc, "pipe.log")
    assert note["code"] == "not_regular_file" and note["params"]["kind"]["code"] == "file_kind_fifo"
    assert note["message"] == "named pipe (FIFO), not a regular file: never opened"
    code, doc = _run(pc / "pipe.log", pc / "iTunes_restore.log")  # given on the command line
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [n["code"] for n in _notes(doc, "pipe.log")] == ["not_regular_file"]


def test_a_device_node_is_never_opened(tmp_path):
    pc = _pc(tmp_path)
    try:
        os.mknod(pc / "null.log", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (AttributeError, PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [n["params"]["kind"]["code"] for n in _notes(doc, "null.log")] == ["file_kind_char_device"]


def test_a_file_swapped_for_a_fifo_after_the_walk_is_refused(tmp_path, monkeypatch):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    pc = _pc(tmp_path)
    (pc / "swap.log").write_text("soon a pipe\n")
    real = analyzer.pipeline.discover

    def swap(*args, **kwargs):
        out = real(*args, **kwargs)
        (pc / "swap.log").unlink()
        os.mkfifo(pc / "swap.log")
        return out

    monkeypatch.setattr(analyzer.pipeline, "discover", swap)
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [n["code"] for n in _notes(doc, "swap.log")] == ["not_regular_file"]
    with pytest.raises(OSError):  # and should one get past that check, it is never opened to block
        _base.open_regular(pc / "swap.log")


# -- unreadable files and folders --------------------------------------------------------------------
def _chmod_stops_reading(path: Path) -> bool:
    try:
        with open(path, "rb"):
            return False
    except PermissionError:
        return True


def test_an_unreadable_file_is_noted(tmp_path):
    pc = _pc(tmp_path)
    secret = pc / "secret.log"
    shutil.copy(SAMPLE, secret)
    secret.chmod(0)
    try:
        if not _chmod_stops_reading(secret):
            pytest.skip("chmod 000 does not stop this user reading (running as root?)")
        code, doc = _run(pc)
    finally:
        secret.chmod(0o600)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [(n["code"], n["params"]["reason"]) for n in _notes(doc, "secret.log")] == [("cannot_read", "Permission denied")]


def test_a_file_refused_by_the_system_is_noted(tmp_path, monkeypatch):
    """The same as chmod 000, as root too: the open is refused."""
    pc = _pc(tmp_path)
    shutil.copy(SAMPLE, pc / "secret.log")
    real = _base.open_regular

    def refuse(path):
        if Path(path).name == "secret.log":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(_base, "open_regular", refuse)
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [(n["code"], n["params"]["reason"]) for n in _notes(doc, "secret.log")] == [("cannot_read", "Permission denied")]


def test_an_unreadable_folder_is_noted(tmp_path):
    pc = _pc(tmp_path)
    locked = pc / "locked"
    locked.mkdir()
    shutil.copy(SAMPLE, locked / "other.log")
    locked.chmod(0)
    try:
        try:
            os.listdir(locked)
            pytest.skip("chmod 000 does not stop this user listing (running as root?)")
        except PermissionError:
            pass
        code, doc = _run(pc)
    finally:
        locked.chmod(0o700)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [n["code"] for n in _notes(doc, "/locked")] == ["folder_unreadable"]


def test_a_folder_the_system_refuses_to_list_is_noted(tmp_path, monkeypatch):
    """The same as chmod 000 on a folder, as root too; before, os.walk dropped such a folder silently."""
    pc = _pc(tmp_path)
    (pc / "locked").mkdir()
    shutil.copy(SAMPLE, pc / "locked" / "other.log")
    real = os.scandir

    def refuse(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", refuse)
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [(n["code"], n["file"], n["params"]["reason"]) for n in _notes(doc, "/locked")] == [
        ("folder_unreadable", f"{pc}/locked", "Permission denied")]
    assert len(doc["incidents"]) == 1


# -- names -------------------------------------------------------------------------------------------
def test_a_name_that_is_not_utf8_is_shown_escaped_and_the_json_stays_valid(tmp_path):
    pc = _pc(tmp_path)
    try:
        weird = Path(os.fsdecode(bytes(pc) + b"/\xff\xfe.log"))
        shutil.copy(SAMPLE, weird)
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"this file system does not take a name that is not UTF-8: {exc}")
    result = runner.invoke(app, [str(pc), "--format", "json"])
    doc = json.loads(result.stdout.encode("utf-8"))  # valid JSON, valid UTF-8
    shown = f"{pc}/\\xff\\xfe.log"
    assert [(n["code"], n["severity"]) for n in _notes(doc, shown)] == [("name_escaped", "info")]
    assert sorted(i["file"] for i in doc["incidents"]) == [shown, f"{pc}/iTunes_restore.log"]
    assert result.exit_code == ExitCode.OK  # both logs read in full: the name is only shown escaped


def test_a_name_that_looks_like_markup_is_printed_as_written(tmp_path):
    """Before, ``pc/[/x].log`` in the terminal report was a closing tag: MarkupError, exit 1."""
    pc = tmp_path / "pc"
    (pc / "[").mkdir(parents=True)
    shutil.copy(SAMPLE, pc / "[" / "x].log")
    (pc / "[bold]notes.txt").write_text("a line [/bold] of [red]text[/red]\n")
    result = runner.invoke(app, [str(pc)])
    assert result.exit_code == ExitCode.PARTIAL, result.stderr
    assert "[/x].log" in result.stdout and "[bold]notes.txt" in result.stdout


# -- files that change while read --------------------------------------------------------------------
def test_a_file_that_vanishes_after_the_walk_is_noted(tmp_path, monkeypatch):
    pc = _pc(tmp_path)
    shutil.copy(SAMPLE, pc / "gone.log")
    real = analyzer.pipeline.discover

    def vanish(*args, **kwargs):
        out = real(*args, **kwargs)
        (pc / "gone.log").unlink()
        return out

    monkeypatch.setattr(analyzer.pipeline, "discover", vanish)
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [n["code"] for n in _notes(doc, "gone.log")] == ["cannot_read"]
    assert _status(doc, "gone.log") == "unreadable"


def test_a_file_that_vanishes_between_sniffing_and_reading_is_noted(tmp_path, monkeypatch):
    pc = _pc(tmp_path)
    shutil.copy(SAMPLE, pc / "gone.log")
    real = analyzer.ingest._claim

    def vanish(path, display, host):
        out = real(path, display, host)
        if path.name == "gone.log":
            path.unlink()
        return out

    monkeypatch.setattr(analyzer.ingest, "_claim", vanish)
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    (note,) = _notes(doc, "gone.log")
    assert note["code"] == "reading_unfinished" and "FileNotFoundError" in note["params"]["error"]


WRITTEN = b"[00:03:50.000] a line written while the file was read\n" * 50


class _Changing:
    """A file handle whose file is appended to (or cut) by someone else while it is read."""

    def __init__(self, fh, path: Path, how: str):
        self.fh, self.path, self.how = fh, path, how

    def fileno(self):
        return self.fh.fileno()

    def read(self, n: int = -1) -> bytes:
        if n not in (_base.HEAD_BYTES, MAGIC_BYTES):  # the file read, not a sniff of its head or magic
            if self.how == "grow":
                with open(self.path, "ab") as w:
                    w.write(WRITTEN)
            else:
                os.truncate(self.path, 1000)
        return self.fh.read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


@pytest.mark.parametrize("how", ["grow", "shrink"])
def test_a_file_that_changes_while_read_is_noted_and_read_as_opened(tmp_path, monkeypatch, how):
    pc = _pc(tmp_path)
    shutil.copy(SAMPLE, pc / "live.log")
    size = SAMPLE.stat().st_size
    real = _base.open_regular
    monkeypatch.setattr(_base, "open_regular",
                        lambda p: _Changing(real(p), Path(p), how) if Path(p).name == "live.log" else real(p))
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    (note,) = [n for n in _notes(doc, "live.log") if n["code"] == "file_changed_while_read"]
    assert note["params"]["before"] == size
    assert note["params"]["after"] == (size + len(WRITTEN) if how == "grow" else 1000)


# -- long lines --------------------------------------------------------------------------------------
def test_one_very_long_line_without_a_newline_is_noted(tmp_path):
    """A few MB stand for the 50 MB of the issue: the same path, a smaller file."""
    pc = _pc(tmp_path)
    (pc / "long.log").write_bytes(b"2025-02-15 00:00:00 " + b"A" * (4 << 20))
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    (note,) = _notes(doc, "long.log")
    assert (note["code"], note["line"]) == ("unrecognised_text", 1) and len(note["excerpt"]) <= 80


def test_a_very_long_line_inside_a_log_is_located_and_the_rest_read(tmp_path):
    pc = tmp_path / "pc"
    pc.mkdir()
    lines = SAMPLE.read_bytes().split(b"\n")
    lines.insert(10, b"x" * (4 << 20))
    (pc / "iTunes_restore.log").write_bytes(b"\n".join(lines))
    code, doc = _run(pc)
    assert _diagnosed(doc)
    (report,) = doc["files"]
    assert report["records"] == len(lines) - 1 and report["unrecognised"] == 1  # the sample ends in a newline
    unknown, cut = sorted((n for n in report["errors"] if n["line"] == 11), key=lambda n: n["code"])
    assert cut["code"] == "line_too_long" and cut["params"]["length"] == 4 << 20
    assert unknown["code"] == "line_shape_unknown" and len(unknown["excerpt"]) <= 120
    # the line's head (1 Mi characters) was read and its tail counted as skipped: a partial read
    assert report["skipped"] == 1 and code == ExitCode.PARTIAL


# -- XML ---------------------------------------------------------------------------------------------
EVENT = ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
         '<Provider Name="Service Control Manager"/><EventID Qualifiers="16384">7036</EventID><Level>4</Level>'
         '<TimeCreated SystemTime="2025-02-15T00:01:0{n}.000Z"/><EventRecordID>{n}</EventRecordID>'
         '<Channel>System</Channel><Computer>PC-7</Computer></System><EventData>'
         '<Data Name="param1">Apple Mobile Device Service</Data><Data Name="param2">{state}</Data>{extra}'
         '</EventData></Event>\n')
LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10))


def _export(doctype: str, used: str, extra: str = "") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + doctype + "\n<Events>\n"
            + EVENT.format(n=1, state="running", extra="") + EVENT.format(n=2, state=used, extra=extra) + "</Events>\n")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("analyzer tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.parametrize("doctype, entities", [
    (f'<!DOCTYPE Events [<!ENTITY lol1 "lol">{LAUGHS}]>', 9),                      # billion laughs
    ('<!DOCTYPE Events [<!ENTITY e SYSTEM "file:///etc/passwd">\n'
     '<!ENTITY h SYSTEM "http://192.0.2.1/x"> <!ENTITY % p SYSTEM "http://192.0.2.1/p"> %p;]>', 3),  # external
], ids=["billion_laughs", "external_entities"])
def test_an_xml_export_with_a_doctype_is_refused_the_declaration_and_read_otherwise(tmp_path, no_network, doctype,
                                                                                      entities):
    pc = _pc(tmp_path)
    used = "&lol9;" if "lol" in doctype else "&e;&h;"
    (pc / "System.xml").write_text(_export(doctype, used), encoding="utf-8")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    notes = _notes(doc, "System.xml")
    assert [(n["code"], n.get("line")) for n in notes][:1] == [("xml_doctype_refused", 2)]
    assert notes[0]["params"] == {"entities": entities}
    (malformed,) = [n for n in notes if n["code"] == "xml_event_malformed"]
    assert malformed["line"] == 5 + doctype.count("\n")  # the event that uses an entity: skipped, located
    (report,) = [f for f in doc["files"] if f["path"].endswith("System.xml")]
    assert (report["format"], report["records"], report["skipped"]) == ("windows_event_xml", 1, 1)
    assert "root:" not in json.dumps(doc)


def test_a_plist_with_entity_declarations_is_not_expanded(tmp_path):
    """plistlib refuses entity declarations itself (its own check, on every Python analyzer runs on)."""
    pc = _pc(tmp_path)
    plist = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             f'<!DOCTYPE plist [<!ENTITY lol1 "lol">{LAUGHS}<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
             '<plist version="1.0"><dict><key>SnapshotState</key><string>&lol9;&e;</string>'
             '<key>IsFullBackup</key><false/></dict></plist>\n')
    (pc / "Status.plist").write_text(plist, encoding="utf-8")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [(n["code"], n.get("line")) for n in _notes(doc, "Status.plist")] == [("unrecognised_text", 1)]


def test_deeply_nested_event_data_is_kept_flat_below_a_depth(tmp_path):
    pc = _pc(tmp_path)
    deep = "<ComplexData Name='x'>" + "<a>" * 5000 + "deep" + "</a>" * 5000 + "</ComplexData>"
    (pc / "System.xml").write_text(_export("", "stopped", deep), encoding="utf-8")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    (note,) = _notes(doc, "System.xml")
    assert (note["code"], note["line"], note["params"]) == ("xml_event_nesting_cut", 5, {"depth": 32})
    (report,) = [f for f in doc["files"] if f["path"].endswith("System.xml")]
    assert (report["records"], report["events"]) == (2, 2)


def test_deep_json_given_as_a_file_is_only_unrecognised(tmp_path):
    """No source reads JSON files; one nested 100,000 deep is text no format claims, not a RecursionError."""
    pc = _pc(tmp_path)
    (pc / "export.json").write_text("[" * 100_000 + "]" * 100_000)
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert [n["code"] for n in _notes(doc, "export.json")] == ["unrecognised_text"]


# -- SQLite ------------------------------------------------------------------------------------------
def _with_db(tmp_path: Path, script: str) -> tuple[Path, Path]:
    pc = _pc(tmp_path)
    shutil.copytree(BACKUP, pc / "Backup")
    db = pc / "Backup" / UDID / "Manifest.db"
    db.unlink()
    conn = sqlite3.connect(db)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return pc, db


FILES = "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);"


def test_a_manifest_db_whose_files_view_never_ends_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(_backup_db, "MAX_ROWS", 1000)  # the same bound, reached sooner
    pc, _ = _with_db(tmp_path, "CREATE VIEW Files AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
                               "SELECT printf('%040x', x) AS fileID, 'HomeDomain' AS domain, 'f' AS relativePath, "
                               "1 AS flags, NULL AS file FROM n;")
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    notes = {n["code"]: n for n in _notes(doc, "Manifest.db")}
    assert notes["backup_db_capped"]["params"] == {"rows": 1000} and notes["backup_db_capped"]["severity"] == "error"
    assert notes["backup_db_schema_unexpected"]["params"] == {"objects": "view Files"}


@pytest.mark.parametrize("damage", ["header", "page"])
def test_a_damaged_manifest_db_is_noted(tmp_path, damage):
    pc, db = _with_db(tmp_path, FILES + "INSERT INTO Files VALUES ('" + "a" * 40 + "', 'HomeDomain', 'f', 1, NULL);")
    data = bytearray(db.read_bytes())
    where = slice(16, 100) if damage == "header" else slice(100, 4096)  # after the magic; the schema page
    data[where] = b"\xa5" * (where.stop - where.start)
    db.write_bytes(bytes(data))
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    (note,) = [n for n in _notes(doc, "Manifest.db") if n["code"] == "backup_db_unreadable"]
    assert note["record"] == 1 and "DatabaseError" in note["params"]["error"]


def test_a_manifest_db_with_triggers_and_a_huge_blob_is_read_without_running_them(tmp_path):
    big = "x" * (3 << 20)
    pc, db = _with_db(tmp_path, FILES + "CREATE TABLE seen (n INTEGER); "
                                        "CREATE TRIGGER t AFTER UPDATE ON Files BEGIN INSERT INTO seen VALUES (1); END; "
                                        f"INSERT INTO Files VALUES ('{big}', 'HomeDomain', 'f', 1, zeroblob(3000000));")
    before = db.read_bytes()
    code, doc = _run(pc)
    assert _diagnosed(doc) and db.read_bytes() == before
    notes = {n["code"]: n for n in _notes(doc, "Manifest.db")}
    assert notes["backup_db_schema_unexpected"]["params"] == {"objects": "trigger t"}
    assert notes["backup_db_invalid_ids"]["params"] == {"count": 1}  # the 3 MB "file ID" is never a path
    assert code == ExitCode.OK  # every row was read; what is odd is said (warnings), nothing was skipped


# -- invariants --------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_a_shown_path_is_printable_utf8_for_any_bytes(raw):
    text = walk.shown("/evidence/" + os.fsdecode(raw) if os.name != "nt" else raw.decode("latin-1"))
    assert text.encode("utf-8").decode("utf-8") == text
    assert text.isprintable()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<!DOCTYPE", "<!ENTITY", "[", "]", ">", "'", '"', "<!--", "-->", "\n", "x", "<Event>"]),
                max_size=30).map("".join))
def test_every_doctype_is_blanked_and_lines_keep_their_numbers(text):
    blanked = blank(text, doctype_spans(text))
    assert "<!DOCTYPE" not in blanked
    assert len(blanked) == len(text) and [i for i, c in enumerate(blanked) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"]


def test_a_file_that_vanishes_between_its_claim_and_the_region_search_is_its_claim(tmp_path, monkeypatch):
    """An unrecognised file is opened again to look for pasted logs in it; gone by then, the claim's
    report stands (unrecognised) and the rest of the PC is analysed."""
    pc = _pc(tmp_path)
    notes = pc / "notes.txt"
    notes.write_text("nothing a source reads\nsecond line\n", encoding="utf-8")
    real = analyzer.ingest._claim

    def claim_then_vanish(path, display, host):
        got = real(path, display, host)
        if Path(path).name == "notes.txt":
            notes.unlink()
        return got

    monkeypatch.setattr(analyzer.ingest, "_claim", claim_then_vanish)
    code, doc = _run(pc)
    assert code == ExitCode.PARTIAL and _diagnosed(doc)
    assert _status(doc, "notes.txt") == "unrecognised"
