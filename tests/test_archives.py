"""Zip archives of one PC: read safely (traversal, links, bombs, nesting refused) and the rest still analysed."""

from __future__ import annotations

import datetime as dt
import io
import stat
import zipfile

import pytest

from analyzer.api import analyze
from analyzer.archives import Limits, extract, safe_member_name
from analyzer.fleet import summary
from fleet_helpers import host_files

START = dt.datetime(2025, 3, 10, 8, 5)


def files_of(cause="usb_connection", n=1):
    return host_files({"cause": cause, "start": START, "ecid": 0x1A2B3C4D5E6F00 + n, "serial": "F2LXK7Q9JC68",
                       "user": "clerk", "itunes": "12.13.5.3", "amd": "18.1.0.2", "computer": f"DESKTOP-{n}",
                       "security": None})


def member(name: str, data: bytes, mode: int | None = None, compress=zipfile.ZIP_DEFLATED) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, date_time=(2025, 3, 10, 8, 0, 0))
    info.compress_type = compress
    if mode is not None:
        info.external_attr = mode << 16
        info.create_system = 3
    return info, data


def make_zip(path, members) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)


def zip_bytes(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.log", "a/../../evil.log", "/etc/evil.log", "\\evil.log", "C:/evil.log",
                                  "c:evil.log", "..\\..\\evil.log", "", "a/\x01b"])
def test_unsafe_names_are_refused(name):
    assert safe_member_name(name) is None


def test_safe_names_are_kept_inside_and_sanitised():
    assert safe_member_name("logs/iTunes restore.log") == "logs/iTunes restore.log"
    assert safe_member_name("./logs//a:b*c?.log") == "logs/a_b_c_.log"


def test_traversal_and_symlink_members_are_refused_and_nothing_escapes(tmp_path):
    good = files_of()["iTunes_restore.log"]
    archive = tmp_path / "pc.zip"
    make_zip(archive, [
        member("logs/iTunes_restore.log", good),
        member("../escaped.log", b"x"),
        member("/abs.log", b"x"),
        member("C:\\Windows\\evil.log", b"x"),
        member("link.log", b"/etc/passwd", mode=stat.S_IFLNK | 0o777),
        member("fifo", b"", mode=stat.S_IFIFO | 0o644),
    ])
    dest = tmp_path / "out"
    dest.mkdir()
    out = extract(archive, dest, "pc.zip")
    assert out.fatal is None
    assert [m.display for m in out.members] == ["pc.zip!logs/iTunes_restore.log"]
    reasons = {n.file: n.message for n in out.notes}
    assert set(reasons) == {"pc.zip!../escaped.log", "pc.zip!/abs.log", "pc.zip!C:\\Windows\\evil.log",
                            "pc.zip!link.log", "pc.zip!fifo"}
    assert reasons["pc.zip!link.log"] == "symbolic link refused"
    assert "unsafe member name" in reasons["pc.zip!../escaped.log"]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["out/f/logs/iTunes_restore.log", "pc.zip"]
    assert out.members[0].path.read_bytes() == good


def test_zip_bomb_by_ratio_and_by_total_size(tmp_path):
    archive = tmp_path / "bomb.zip"
    make_zip(archive, [member("zeros.log", b"\0" * (4 << 20)), member("ok.log", b"hello\n")])
    out = extract(archive, tmp_path / "a", "bomb.zip", Limits(ratio=100, ratio_min_bytes=1 << 20))
    assert [m.display for m in out.members] == ["bomb.zip!ok.log"]
    assert "compression ratio" in out.notes[0].message and out.notes[0].file == "bomb.zip!zeros.log"
    (tmp_path / "b").mkdir()
    out = extract(archive, tmp_path / "b", "bomb.zip", Limits(total_bytes=1 << 20))
    assert out.fatal and "zip bomb guard" in out.fatal.message and out.members == []
    assert not any(p.is_file() for p in (tmp_path / "b").rglob("*"))


def test_member_that_lies_about_its_size_is_stopped(tmp_path):
    archive = tmp_path / "liar.zip"
    make_zip(archive, [member("a.log", b"A" * 5000, compress=zipfile.ZIP_STORED)])
    raw = bytearray(archive.read_bytes())
    # shrink the declared uncompressed size in the central directory (stored: CRC is over the real bytes)
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    archive.write_bytes(bytes(raw))
    (tmp_path / "d").mkdir()
    out = extract(archive, tmp_path / "d", "liar.zip")
    assert out.members == [] and (out.fatal or out.notes)


def test_one_level_of_nesting_is_read_two_are_refused(tmp_path):
    good = files_of()["iTunes_restore.log"]
    inner2 = zip_bytes([member("deep.log", good)])
    inner = zip_bytes([member("restore.log", good), member("deeper.zip", inner2)])
    archive = tmp_path / "outer.zip"
    make_zip(archive, [member("inner.zip", inner)])
    (tmp_path / "d").mkdir()
    out = extract(archive, tmp_path / "d", "outer.zip")
    assert [m.display for m in out.members] == ["outer.zip!inner.zip!restore.log"]
    assert [(n.file, n.message) for n in out.notes] == [
        ("outer.zip!inner.zip!deeper.zip", "archive nested more than 1 level deep refused")]


def test_bad_archives_are_located_notes_and_the_rest_of_the_fleet_is_analysed(tmp_path):
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "pcA").mkdir()
    for name, data in files_of(n=1).items():
        (fleet / "pcA" / name).write_bytes(data)
    (fleet / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    make_zip(fleet / "pcB.zip", [member(f"logs/{k}", v) for k, v in files_of(n=2).items()]
             + [member("../../outside.log", b"x"), member("evil", b"/etc", mode=stat.S_IFLNK | 0o777)])
    make_zip(fleet / "pcC.zip", [member("zeros.log", b"\0" * (300 << 20))])
    analysis = analyze([fleet], tz="UTC")
    assert analysis.hosts == ["broken", "pcA", "pcB", "pcC"]
    by_path = {f.path: f for f in analysis.files}
    broken = by_path[str(fleet / "broken.zip")]
    assert broken.format is None and broken.host == "broken" and "cannot open archive" in broken.errors[0].message
    pcb = by_path[str(fleet / "pcB.zip")]
    assert pcb.format == "zip" and pcb.host == "pcB"
    assert [n.file for n in pcb.errors] == [f"{fleet / 'pcB.zip'}!../../outside.log", f"{fleet / 'pcB.zip'}!evil"]
    pcc = by_path[str(fleet / "pcC.zip")]
    assert "compression ratio" in pcc.errors[0].message
    assert not (tmp_path / "outside.log").exists()
    verdicts = {h["host"]: h["verdict"] for h in summary(analysis)["hosts"]}
    assert verdicts == {"broken": "no_input", "pcA": "usb_connection", "pcB": "usb_connection", "pcC": "no_input"}
    assert analysis.partial


def test_a_zip_given_directly_is_one_pc_named_after_it(tmp_path):
    make_zip(tmp_path / "kiosk-12.zip", [member(k, v) for k, v in files_of().items()])
    analysis = analyze([tmp_path / "kiosk-12.zip"], tz="UTC")
    assert analysis.hosts == ["kiosk-12"]
    assert [i.cause for i in analysis.incidents] == ["usb_connection"]
    assert not analysis.partial


@pytest.mark.parametrize("name, value", [
    ("ANALYZER_ZIP_MAX_BYTES", "2GB"), ("ANALYZER_ZIP_MAX_BYTES", "-5"), ("ANALYZER_ZIP_MAX_BYTES", "0"),
    ("ANALYZER_ZIP_MAX_RATIO", "lots"), ("ANALYZER_ZIP_MAX_RATIO", "nan"), ("ANALYZER_ZIP_MAX_RATIO", "inf"),
])
def test_a_bad_limit_in_the_environment_is_an_error_naming_it(monkeypatch, name, value):
    from analyzer.archives import env_limits
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} must be .* got '{value}'"):
        env_limits()


def test_limits_from_the_environment_are_used(monkeypatch):
    from analyzer.archives import env_limits
    monkeypatch.setenv("ANALYZER_ZIP_MAX_BYTES", "12345")
    monkeypatch.setenv("ANALYZER_ZIP_MAX_RATIO", "7.5")
    limits = env_limits()
    assert (limits.total_bytes, limits.ratio) == (12345, 7.5)
    monkeypatch.delenv("ANALYZER_ZIP_MAX_BYTES")
    monkeypatch.delenv("ANALYZER_ZIP_MAX_RATIO")
    assert (env_limits().total_bytes, env_limits().ratio) == (Limits().total_bytes, Limits().ratio)
