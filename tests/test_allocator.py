"""The allocator setting is chosen from the input before polars loads: FAST only for a small input of
plain files that can be sized cheaply, SHORT for one that is analysed in parts, BOUNDED for everything
else (analyzer.allocator)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from analyzer import allocator, archives, compressed
from analyzer import parts
from analyzer.allocator import BOUNDED, FAST, SHORT, setting

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _default_parts_threshold(monkeypatch):
    monkeypatch.delenv(allocator.PARTS_ENV, raising=False)


def _sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of ``size`` bytes that takes no room (the size is what counts)."""
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def _log(path: Path, size: int = 2000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"[10:00:00.0001] line\n" * (size // 21 + 1))
    return path


def test_a_small_log_or_folder_runs_fast(tmp_path):
    log = _log(tmp_path / "pc" / "iPhone Restore.log")
    _log(tmp_path / "pc" / "sub" / "other.log")
    assert setting([str(log), "--format", "json"]) == FAST
    assert setting([str(tmp_path), "--tz", "Asia/Tokyo"]) == FAST
    assert setting([str(ROOT / "samples")]) == FAST


def test_a_big_input_runs_bounded(tmp_path):
    big = tmp_path / "big.log"
    with big.open("wb") as fh:  # sparse: the size is what counts
        fh.truncate(allocator.FAST_INPUT_BYTES)
    assert setting([str(big)]) == BOUNDED
    (tmp_path / "two").mkdir()
    for name in ("a.log", "b.log"):
        with (tmp_path / "two" / name).open("wb") as fh:
            fh.truncate(allocator.FAST_INPUT_BYTES // 2 + 1)
    assert setting([str(tmp_path / "two" / "a.log")]) == FAST
    assert setting([str(tmp_path / "two")]) == BOUNDED  # the sizes add up
    assert setting([str(tmp_path / "two" / "a.log"), str(tmp_path / "two" / "b.log")]) == BOUNDED


@pytest.mark.parametrize("pack", ["gzip", "bzip2", "xz", "zip", "zip_name"])
def test_a_compressed_file_or_archive_runs_bounded(tmp_path, pack):
    _log(tmp_path / "pc" / "setupapi.dev.log")
    data = b"line\n" * 100
    target = tmp_path / "pc" / "bundle"  # no telling name: the first bytes decide
    if pack == "gzip":
        target.write_bytes(gzip.compress(data))
    elif pack == "bzip2":
        target.write_bytes(bz2.compress(data))
    elif pack == "xz":
        target.write_bytes(lzma.compress(data))
    elif pack == "zip":
        with zipfile.ZipFile(target, "w") as z:
            z.writestr("iPhone Restore.log", data)
    else:
        target = tmp_path / "pc" / "PC7.ZIP"
        target.write_bytes(b"not really a zip")
    assert setting([str(tmp_path)]) == BOUNDED
    assert setting([str(target)]) == BOUNDED


def test_the_packed_formats_are_those_the_run_unpacks():
    assert set(compressed.MAGIC.values()) <= set(allocator.PACKED_MAGIC)
    assert set(archives.ARCHIVE_SUFFIXES) <= set(allocator.PACKED_SUFFIXES)


def test_too_many_files_runs_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(allocator, "MAX_FILES", 3)
    for i in range(3):
        _log(tmp_path / f"{i}.log", 100)
    assert setting([str(tmp_path)]) == FAST
    _log(tmp_path / "3.log", 100)
    assert setting([str(tmp_path)]) == BOUNDED


def test_no_input_help_and_collect_run_bounded(tmp_path):
    log = _log(tmp_path / "a.log")
    assert setting([]) == BOUNDED
    assert setting([str(tmp_path / "missing")]) == BOUNDED  # nothing to size: nothing is analysed
    assert setting(["--help"]) == BOUNDED
    assert setting([str(log), "--version"]) == BOUNDED
    assert setting(["collect", str(tmp_path)]) == BOUNDED


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks")
def test_hostile_folders_are_sized_without_hanging(tmp_path):
    pc = tmp_path / "pc"
    _log(pc / "a.log")
    (pc / "loop").symlink_to(pc, target_is_directory=True)
    (pc / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(pc / "fifo")  # never opened: only regular files are
    if sys.platform.startswith("linux"):
        (pc / "bad\udcff.log").write_bytes(b"x\n")  # a name that is not UTF-8
    locked = pc / "locked"
    locked.mkdir()
    _log(locked / "b.log")
    locked.chmod(0)
    try:
        assert setting([str(pc)]) == FAST
    finally:
        locked.chmod(0o755)


def test_the_cli_sets_it_before_polars_and_a_users_setting_wins(tmp_path):
    log = _log(tmp_path / "iPhone Restore.log")
    code = ("import os, sys\nfrom analyzer import cli\nsys.argv = ['analyze', sys.argv[1], '--format', 'json']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\nsys.stderr.write('CONF=' + os.environ['_RJEM_MALLOC_CONF'])\n")
    env = {k: v for k, v in os.environ.items() if k != allocator.ENV}

    def conf(extra: dict) -> str:
        done = subprocess.run([sys.executable, "-c", code, str(log)], env={**env, **extra}, capture_output=True,
                              text=True, timeout=120)
        return done.stderr.rsplit("CONF=", 1)[1]
    # (polars puts its own defaults in front of the setting it is given)
    assert conf({}).endswith(FAST)
    assert conf({allocator.ENV: "dirty_decay_ms:7"}).endswith("dirty_decay_ms:7")


def test_an_evtx_file_counts_for_a_share_of_its_size(tmp_path):
    evtx = tmp_path / "System.evtx"
    with evtx.open("wb") as fh:
        fh.write(allocator.EVTX_MAGIC)
        fh.truncate(allocator.FAST_INPUT_BYTES * 2)  # counts as two thirds of the limit
    assert setting([str(evtx)]) == FAST
    text = _sparse(tmp_path / "same size, not evtx.log", allocator.FAST_INPUT_BYTES + 1)
    assert setting([str(text)]) == BOUNDED
    with evtx.open("r+b") as fh:
        fh.truncate(allocator.FAST_INPUT_BYTES * allocator.EVTX_SHARE)
    assert setting([str(evtx)]) == BOUNDED


def test_one_folder_of_text_logs_analysed_in_parts_runs_short(tmp_path, monkeypatch):
    """From the parts threshold on, when the files lie in one folder (they are one PC, which is then
    analysed in parts) and none is a .evtx file (in parts, those peaked higher with SHORT)."""
    assert allocator.PARTS_BYTES > allocator.FAST_INPUT_BYTES
    pc = tmp_path / "pc"
    pc.mkdir()
    below = _sparse(pc / "below.log", allocator.PARTS_BYTES - 1)
    assert setting([str(below)]) == BOUNDED  # a whole read near the memory bound
    more = _log(pc / "more.log")
    assert setting([str(pc)]) == SHORT  # the two add up to the threshold
    assert setting([str(below), str(more)]) == SHORT  # given one by one: the same folder
    # the threshold the parts decision takes, the environment's included
    monkeypatch.setenv(allocator.PARTS_ENV, str(1 << 50))
    assert setting([str(pc)]) == BOUNDED
    monkeypatch.setenv(allocator.PARTS_ENV, "0")
    assert setting([str(below)]) == SHORT
    assert setting([str(more)]) == FAST  # (a small input keeps FAST, in parts or not)
    monkeypatch.delenv(allocator.PARTS_ENV)
    _sparse(pc / "System.evtx", 1 << 20, allocator.EVTX_MAGIC)
    assert setting([str(pc)]) == BOUNDED
    assert parts.big(sorted(pc.iterdir()))  # (in parts all the same)


def test_several_folders_never_run_short(tmp_path):
    """Files in several folders may be several PCs, each read whole near the memory bound (a fleet of
    two 60 MB PCs weighs 120 MB): SHORT is not taken for them, whatever they weigh."""
    for name in ("pc1", "pc2"):
        (tmp_path / "fleet" / name).mkdir(parents=True)
        _sparse(tmp_path / "fleet" / name / "iPhone Restore.log", allocator.PARTS_BYTES - 1)
    assert setting([str(tmp_path / "fleet")]) == BOUNDED
    assert setting([str(tmp_path / "fleet" / "pc1"), str(tmp_path / "fleet" / "pc2")]) == BOUNDED
    assert setting([str(tmp_path / "fleet" / "pc1")]) == BOUNDED  # one of them: whole, near the bound
    _log(tmp_path / "fleet" / "pc1" / "more.log")
    assert setting([str(tmp_path / "fleet" / "pc1")]) == SHORT  # one PC in parts
    nested = tmp_path / "pc" / "logs"
    nested.mkdir(parents=True)
    _sparse(tmp_path / "pc" / "setupapi.dev.log", 1000)
    _sparse(nested / "iPhone Restore.log", allocator.PARTS_BYTES)
    assert setting([str(tmp_path / "pc")]) == BOUNDED  # (a folder with a subfolder could be a fleet)


def test_the_parts_decision_and_the_allocator_weigh_alike(tmp_path, monkeypatch):
    """The allocator takes SHORT exactly for a text log that would be analysed in parts, at the
    threshold the parts decision takes (the environment's included)."""
    for weight in (allocator.PARTS_BYTES - 1, allocator.PARTS_BYTES):
        path = _sparse(tmp_path / f"{weight}.log", weight)
        assert parts.big([path]) == (setting([str(path)]) == SHORT), weight
    monkeypatch.setenv(allocator.PARTS_ENV, "12345")
    assert parts.threshold() == 12345
