"""Logs compressed one file at a time (gzip, bzip2, xz): read like the log they hold."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.archives import Limits
from analyzer.compressed import compression, decompress

from conftest import SAMPLES

LOG = SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log"


@pytest.mark.parametrize("kind, pack, suffix", [("gzip", gzip.compress, ".gz"), ("bzip2", bz2.compress, ".bz2"),
                                                ("xz", lzma.compress, ".xz")])
def test_a_compressed_log_is_read_like_the_log(tmp_path: Path, kind, pack, suffix):
    packed = tmp_path / ("iPhone Restore.log" + suffix)
    packed.write_bytes(pack(LOG.read_bytes()))
    assert compression(packed) == kind
    plain, expanded = analyze([LOG]), analyze([packed])
    assert [(i.error_code, i.cause) for i in expanded.incidents] == [(i.error_code, i.cause) for i in plain.incidents]
    assert expanded.events.height == plain.events.height == 87
    (report,) = expanded.files
    assert report.path == f"{packed}!iPhone Restore.log" and report.format == "apple_restore"


def test_the_content_decides_not_the_name(tmp_path: Path):
    named = tmp_path / "restore.log.gz"
    named.write_bytes(LOG.read_bytes())  # not compressed, whatever the name says
    assert compression(named) is None
    assert [i.error_code for i in analyze([named]).incidents] == [4013]
    hidden = tmp_path / "restore.txt"
    hidden.write_bytes(gzip.compress(LOG.read_bytes()))  # compressed, whatever the name says
    assert [i.error_code for i in analyze([hidden]).incidents] == [4013]


def test_a_stream_cut_short_keeps_what_it_held_and_says_so(tmp_path: Path):
    whole = gzip.compress(LOG.read_bytes())
    cut = tmp_path / "restore.log.gz"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    result = analyze([cut])
    damaged = [n for f in result.files for n in f.errors if n.code == "compressed_damaged"]
    assert len(damaged) == 1 and damaged[0].params["format"] == "gzip" and damaged[0].params["bytes"] > 0
    assert result.partial and result.events.height > 0


def test_a_bomb_stops_at_the_budget(tmp_path: Path):
    bomb = tmp_path / "bomb.log.gz"
    bomb.write_bytes(gzip.compress(b"A" * (8 << 20)))
    member, notes = decompress(bomb, tmp_path, "bomb.log.gz", Limits(total_bytes=1 << 20))
    assert member is None and [n.code for n in notes] == ["compressed_refused"]
    assert not (tmp_path / "bomb.log").exists()


def test_a_compressed_log_inside_a_zip_is_read_too(tmp_path: Path):
    import zipfile
    bundle = tmp_path / "pc7.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("logs/iPhone Restore.log.1.gz", gzip.compress(LOG.read_bytes()))
    result = analyze([bundle])
    assert [i.error_code for i in result.incidents] == [4013]
    assert any(f.path.endswith("iPhone Restore.log.1.gz!iPhone Restore.log.1") for f in result.files)
