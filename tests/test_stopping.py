"""A run stopped from outside leaves nothing behind (issue 18): SIGTERM and SIGHUP at random points
of a run on a zip bundle and of a run writing every output; what a SIGKILLed run leaves is swept
by the next run, and a live run's temporaries never are (analyzer/stopping.py, leftovers.py)."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from analyzer import leftovers

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "pc_a1_usb_surprise_removal"
OUTPUTS = ("report.html", "timeline.csv", "sketch.jsonl")


def _big_log(path: Path, lines: int) -> None:
    """A restore log long enough that the run takes a few seconds (its own lines, repeated)."""
    text = (SAMPLE / "iTunes_restore.log").read_text(encoding="utf-8", errors="replace")
    path.write_text(text * max(1, lines // max(1, text.count("\n"))), encoding="utf-8")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    log = folder / "iTunes_restore.log"
    _big_log(log, 100_000)
    out = folder / "b.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(log, "PC/iTunes_restore.log")
        for member in sorted(SAMPLE.iterdir()):
            if member.name != log.name:
                z.write(member, f"PC/{member.name}")
    log.unlink()
    return out


def _start(args: list[str], tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "analyzer", *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(predicate, proc: subprocess.Popen, limit: float = 60.0) -> bool:
    """Poll until ``predicate()`` or the process ends (True when the predicate held first)."""
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def _stopped(proc: subprocess.Popen, sig: int) -> int:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert b"internal error" not in err, err
    return proc.returncode


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_during_a_zip_run_leaves_no_extracted_files(bundle, tmp_path, sig):
    rng = random.Random(sig * 7919)
    codes = []
    for attempt in range(3):
        tmpdir = tmp_path / f"tmp{attempt}"
        tmpdir.mkdir()
        proc = _start([str(bundle), "--format", "json"], tmpdir)
        # the scratch folder exists: extraction has begun; then a random point of the run after it
        assert _wait_for(lambda: any(p.name.startswith("analyzer-zip-") for p in tmpdir.iterdir()), proc)
        time.sleep(rng.uniform(0, 1.5))
        codes.append(_stopped(proc, sig))
        assert codes[-1] in (128 + sig, 0, 3, 5), codes  # finished before the signal: also fine
        assert list(tmpdir.iterdir()) == [], attempt
    assert 128 + sig in codes  # at least one run was stopped midway

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_while_writing_every_output_leaves_no_temporary_file(tmp_path, sig):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    _big_log(evidence / "iTunes_restore.log", 40_000)
    rng = random.Random(sig * 104729)
    codes = []
    for attempt in range(3):
        out, tmpdir = tmp_path / f"out{attempt}", tmp_path / f"tmp{attempt}"
        out.mkdir()
        tmpdir.mkdir()
        proc = _start([str(evidence), "--format", "json", "--html", str(out / "report.html"),
                       "--csv", str(out / "timeline.csv"), "--timesketch", str(out / "sketch.jsonl"),
                       "--parquet", str(out / "pq")], tmpdir)
        # stop at a random moment once writing has started (the first temporary or output appears)
        _wait_for(lambda: any(out.iterdir()), proc, limit=120)
        time.sleep(rng.uniform(0, 0.3))
        codes.append(_stopped(proc, sig))
        left = [p.name for p in out.rglob(".*.tmp")]
        assert left == [] and list(tmpdir.iterdir()) == [], (attempt, left)
        for name in OUTPUTS:  # an output is there in full or not at all
            if (out / name).exists():
                assert (out / name).stat().st_size > 0
    assert 128 + sig in codes  # at least one run was stopped midway


def test_what_a_killed_run_left_is_swept_and_a_live_runs_is_not(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    dead = tmpdir / "analyzer-zip-dead"
    dead.mkdir()
    (dead / leftovers.LOCK_NAME).touch()
    (dead / "0").mkdir()
    (dead / "0" / "copy.log").write_text("evidence copy")
    live = tmpdir / "analyzer-zip-live"
    live.mkdir()
    (live / leftovers.LOCK_NAME).touch()
    foreign = tmpdir / "analyzer-zip-nolock"  # not ours to judge: no lock file
    foreign.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    stale, fresh_live = out / ".report.html.abc123.tmp", out / ".report.html.def456.tmp"
    other = out / ".notes.txt.abc.tmp"  # not the name of an output written: left alone
    for p in (stale, fresh_live, other):
        p.write_text("half")
    old = time.time() - 60
    for p in (dead / leftovers.LOCK_NAME, live / leftovers.LOCK_NAME, stale, fresh_live, other):
        os.utime(p, (old, old))
    held = [os.open(live / leftovers.LOCK_NAME, os.O_RDWR), os.open(fresh_live, os.O_RDWR)]
    for fd in held:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        zipped = tmp_path / "b.zip"
        with zipfile.ZipFile(zipped, "w") as z:
            z.write(SAMPLE / "iTunes_restore.log", "iTunes_restore.log")
        proc = subprocess.run([sys.executable, "-m", "analyzer", str(zipped), "--format", "json",
                               "--html", str(out / "report.html")], cwd=ROOT, capture_output=True, timeout=300,
                              env={**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)})
        assert proc.returncode in (0, 3, 5), proc.stderr
        assert sorted(p.name for p in tmpdir.iterdir()) == ["analyzer-zip-live", "analyzer-zip-nolock"]
        assert sorted(p.name for p in out.iterdir()) == sorted([fresh_live.name, other.name, "report.html"])
    finally:
        for fd in held:
            os.close(fd)


def test_stopped_is_a_keyboard_interrupt_with_the_signal_exit_status():
    from analyzer.stopping import Stopped

    assert isinstance(Stopped(signal.SIGTERM), KeyboardInterrupt)
    assert Stopped(signal.SIGTERM).exit_code == 143 and Stopped(signal.SIGHUP).exit_code == 129


def test_a_full_disk_while_writing_leaves_no_temporary_and_says_so(tmp_path, monkeypatch):
    """A disk that fills up while an output is written: that output's temporary is removed, the
    outputs written before it are whole, and the run ends with a one-line message, not a traceback."""
    import errno

    from typer.testing import CliRunner

    from analyzer.cli import app
    from analyzer.report import write

    out = tmp_path / "out"
    out.mkdir()
    real_fdopen = os.fdopen
    filled: list[str] = []

    class FillsUp:
        """A file on a disk that fills up half-way through the first Parquet file."""

        def __init__(self, fd, mode):
            self.handle = real_fdopen(fd, mode)

        def write(self, data):
            self.handle.write(data[:len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def fdopen(fd, mode="r", *args, **kwargs):
        name = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else ""
        if ".events.parquet" in name:
            filled.append(name)
            return FillsUp(fd, mode)
        return real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr(write.os, "fdopen", fdopen)
    result = CliRunner().invoke(app, [str(SAMPLE), "--format", "json", "--csv", str(out / "t.csv"),
                                      "--parquet", str(out / "pq"), "--html", str(out / "r.html")])
    assert result.exit_code == 2 and len(filled) == 1, filled
    assert "--parquet" in result.stderr and os.strerror(errno.ENOSPC) in result.stderr
    assert "Traceback" not in result.stderr
    left = sorted(p.name for p in out.rglob("*"))
    assert not [name for name in left if name.endswith(".tmp")], left
    assert "t.csv" in left and "r.html" not in left  # written before the failure, whole; none after
    assert (out / "t.csv").read_text(encoding="utf-8-sig").count("\n") > 10


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_after_the_output_is_written_never_kills_a_finished_run(tmp_path, sig):
    """Python puts the default handlers back while it shuts down; a stop in those milliseconds
    killed a finished run (status -15/-1). Stops at moments after the document's last line end it
    with its own status, or as stopped: never as killed."""
    codes = []
    for delay in (0.0, 0.005, 0.01, 0.02, 0.04, 0.08):
        proc = subprocess.Popen([sys.executable, "-m", "analyzer", str(SAMPLE), "--format", "json"], cwd=ROOT,
                                env={**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for line in proc.stdout:
            if line.rstrip() == b"}":  # the document's last line
                break
        time.sleep(delay)
        proc.send_signal(sig)
        proc.communicate(timeout=120)
        codes.append(proc.returncode)
    assert all(code in (0, 3, 128 + sig) for code in codes), codes


@pytest.fixture
def own_handlers():
    """The test process's SIGTERM/SIGHUP handlers and stops received, put back after the test."""
    from analyzer import stopping

    before = {sig: signal.getsignal(sig) for sig in stopping.SIGNALS}
    received = list(stopping.received)
    yield stopping
    for sig, handler in before.items():
        signal.signal(sig, handler)
    stopping.received[:] = received


def test_a_stop_that_comes_while_the_stops_are_being_ignored_is_ignored(own_handlers, monkeypatch):
    """Python runs a pending handler inside ``signal.signal``: a SIGHUP that came just before
    ``finished`` raised from it, out of the run's last ``finally``, and ended it as status 1."""
    stopping = own_handlers
    stopping.install()
    real = stopping.signal.signal
    calls = []

    def pending_then_set(sig, handler):
        calls.append(sig)
        if len(calls) == 1:  # the pending SIGHUP's handler runs first
            stopping._stop(signal.SIGHUP, None)
        return real(sig, handler)
    monkeypatch.setattr(stopping.signal, "signal", pending_then_set)
    stopping.finished()  # (raised Stopped before)
    monkeypatch.setattr(stopping.signal, "signal", real)
    assert stopping.received[-1] == signal.SIGHUP
    assert all(signal.getsignal(sig) == signal.SIG_IGN for sig in stopping.SIGNALS)


def test_a_stop_as_the_run_ends_ends_it_as_stopped(own_handlers, monkeypatch, capsys):
    """A stop between the output's last flush and ``finished``: the status is the stop's (129),
    not an internal error (1)."""
    from analyzer import cli

    stopping = own_handlers
    real = stopping.finished
    monkeypatch.setattr(stopping, "finished", lambda: (monkeypatch.setattr(stopping, "finished", real),
                                                       stopping._stop(signal.SIGHUP, None)))
    monkeypatch.setattr(sys, "argv", ["analyze", str(SAMPLE), "--format", "json"])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 128 + signal.SIGHUP
    assert capsys.readouterr().out.rstrip().endswith("}")  # (the document was written whole before)
