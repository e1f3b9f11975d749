"""A restore log finished a segment at a time (analyzer.sources._apple_segments) gives the rows and
the report it gives finished whole: on every sample, on the real corpus, on logs pasted one after
another (offsets that disagree), and cut anywhere an attempt starts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from analyzer.sources import Input, Segments, _apple_segments, apple_restore
from analyzer.sources.apple_restore import SOURCE

from conftest import SAMPLES

WHOLE = 1 << 40


def _restore_logs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and SOURCE.sniff(Input(p, p.name)))


def _read(path: Path, monkeypatch, limit: int, chunk: int) -> tuple[list[pl.DataFrame], object]:
    """The file's segments and report, read ``chunk`` lines at a time and cut after ``limit`` rows."""
    monkeypatch.setattr(_apple_segments, "SEGMENT_ROWS", limit)
    monkeypatch.setattr(apple_restore, "CHUNK_LINES", chunk)
    parsed = SOURCE.parse_in_segments(Input(path, path.name))
    assert isinstance(parsed.events, Segments)
    return list(parsed.events), parsed.report


def _report(report) -> tuple:
    return (report.records, report.unrecognised, report.skipped, report.clock,
            [(n.code, n.line, n.params) for n in report.errors])


LATE = "session_header_after_cut"


def _same_in_segments(path: Path, monkeypatch, limit: int = 1, chunk: int = 7) -> int:
    """Asserts the segments stacked are the whole file's rows, with the same report; the segments' count.

    The one difference allowed is the one a note names: a header field found after a cut inside its
    attempt is missing from that attempt's session_start row (detail and subject), and nothing else."""
    whole, whole_report = _read(path, monkeypatch, WHOLE, 100_000)
    cut, cut_report = _read(path, monkeypatch, limit, chunk)
    assert len(whole) <= 1
    late: dict[int, set[str]] = {}
    for note in cut_report.errors:
        if note.code == LATE:  # (one note per field, at the first line that gave it)
            late.setdefault(note.params["attempt"], set()).update(note.params["fields"].split(", "))
    if not whole:
        assert not cut
    else:
        rows, want = pl.concat(cut, how="vertical"), whole[0]
        noted = (pl.col("kind") == "session_start") & pl.col("attempt").is_in(list(late))
        assert rows.select(~noted).to_series().equals(want.select(~noted).to_series()), path.name
        assert rows.filter(~noted).equals(want.filter(~noted)), path.name
        assert rows.filter(noted).drop("detail", "subject").equals(want.filter(noted).drop("detail", "subject"))
        pairs = zip(rows.filter(noted).get_column("detail"), want.filter(noted).get_column("detail"),
                    rows.filter(noted).get_column("attempt"))
        for got, full, attempt in pairs:
            got, full = json.loads(got), json.loads(full)
            missing = {k for k in full if k not in got}
            assert {k: full[k] for k in got} == got and missing == late[attempt], (path.name, attempt)
    cut_report.errors = [n for n in cut_report.errors if n.code != LATE]
    assert _report(cut_report) == _report(whole_report), path.name
    return len(cut)


SAMPLE_LOGS = _restore_logs(SAMPLES)


def test_the_samples_hold_restore_logs_of_several_attempts():
    assert len(SAMPLE_LOGS) >= 20
    counts = {p.relative_to(SAMPLES).as_posix(): p for p in SAMPLE_LOGS}
    assert "restore_mac_two_attempts/iTunes_restore.log" in counts or any("two_attempts" in k for k in counts)


@pytest.mark.parametrize("path", SAMPLE_LOGS, ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_each_sample_finished_in_segments_is_the_sample_finished_whole(path, monkeypatch):
    _same_in_segments(path, monkeypatch)


def test_a_log_of_two_attempts_is_cut_at_the_second_header(monkeypatch):
    path = next(p for p in SAMPLE_LOGS if "pc_l12_two_attempts_cable" in p.as_posix())
    # segments of more rows than either attempt has (75 and 70 lines): one cut, at the second header
    assert _same_in_segments(path, monkeypatch, limit=80) == 2
    segments, _ = _read(path, monkeypatch, 80, 7)
    assert [s.get_column("attempt").unique().to_list() for s in segments] == [[1], [2]]
    # the second segment starts on the dated header line that opens the second attempt
    first = segments[1].row(0, named=True)
    assert first["clock"] == "local" and first["attempt"] == 2
    # one row a segment: cut inside the attempts too, never across the second header
    segments, _ = _read(path, monkeypatch, 1, 7)
    assert len(segments) > 2 and all(s.get_column("attempt").n_unique() == 1 for s in segments)
    second = next(s for s in segments if s.item(0, "attempt") == 2)
    assert second.item(0, "clock") == "local"


def test_real_restore_logs_finish_the_same_in_segments(corpus, monkeypatch):
    logs = _restore_logs(corpus / "apple")
    assert len(logs) >= 4
    cuts = [_same_in_segments(path, monkeypatch) for path in logs]
    assert sum(cuts) >= len(logs)


def _pasted(tmp_path: Path, names: list[str]) -> Path:
    """Sample restore logs pasted one after another into one file (a bench PC's log over months)."""
    out = tmp_path / "pasted.log"
    out.write_bytes(b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for name in names
                             for p in SAMPLE_LOGS if p.relative_to(SAMPLES).as_posix() == name))
    return out


#: Windows logs with a dated header (the bracket fraction's unit is decided on a file's first
#: segment: a Mac log pasted after a Windows one would be read in the Windows unit once cut).
WINDOWS_LOGS = [p.relative_to(SAMPLES).as_posix() for p in SAMPLE_LOGS
                if p.read_text(encoding="utf-8", errors="replace").lstrip()[:1].isdigit()
                and not re.search(r"^\S+ \S+ (?:iTunes|AMPDevicesAgent)\[", p.read_text(encoding="utf-8"), re.M)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.sampled_from(WINDOWS_LOGS), min_size=2, max_size=4),
       limit=st.integers(1, 400), chunk=st.integers(1, 60))
def test_logs_pasted_together_finish_the_same_cut_anywhere(tmp_path_factory, monkeypatch, names, limit, chunk):
    path = _pasted(tmp_path_factory.mktemp("pasted"), names)
    _same_in_segments(path, monkeypatch, limit, chunk)


def test_a_later_attempts_other_offset_is_reported_as_whole(tmp_path, monkeypatch):
    """A log whose second attempt was written across a DST change (header and brackets 7 h apart
    instead of 8): the first offset is used and the other is reported, cut or not."""
    path = next(p for p in SAMPLE_LOGS if "pc_l12_two_attempts_cable" in p.as_posix())
    text = path.read_text(encoding="utf-8")
    _, report = _read(path, monkeypatch, WHOLE, 100_000)
    hours = report.clock["bracket_minus_header_hours"]
    lines = text.splitlines()
    second = [i for i, ln in enumerate(lines) if ln[:1].isdigit()]
    # move the second attempt's header lines one hour later: its brackets are then 1 h nearer
    starts = [i for i in second if i and not lines[i - 1][:1].isdigit()]
    assert starts
    for i in second:
        if i >= starts[-1]:
            hh = int(lines[i][11:13])
            lines[i] = lines[i][:11] + f"{(hh + 1) % 24:02d}" + lines[i][13:]
    shifted = tmp_path / "dst.log"
    shifted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _same_in_segments(shifted, monkeypatch)
    _, cut_report = _read(shifted, monkeypatch, 1, 7)
    assert cut_report.clock["bracket_minus_header_hours"] == hours
    assert cut_report.clock["other_offsets_seen"] == [hours - 1]
    assert any(n.code == "bracket_offsets_disagree" for n in cut_report.errors)


def test_a_failure_while_reading_keeps_the_segments_before_it_and_says_so(monkeypatch):
    path = next(p for p in SAMPLE_LOGS if "pc_l12_two_attempts_cable" in p.as_posix())
    calls = []
    finish = SOURCE._finished

    def failing(self, rows, before, item, report, decided):
        calls.append(rows.height)
        if len(calls) == 2:
            raise RuntimeError("disk gone")
        return finish(rows, before, item, report, decided)
    monkeypatch.setattr(type(SOURCE), "_finished", failing)
    segments, report = _read(path, monkeypatch, 80, 7)
    assert len(segments) == 1 and segments[0].get_column("attempt").unique().to_list() == [1]
    notes = [n for n in report.errors if n.code == "reading_unfinished"]
    assert len(notes) == 1 and "disk gone" in notes[0].params["error"]


def _long_attempt(tmp_path: Path, noise: int = 3000, late_variant: bool = False, after_outcome: bool = False) -> Path:
    """The 4013 sample's one attempt made long: ``noise`` generic lines just before midnight (its
    brackets cross it after them), or after its outcome lines; with ``late_variant`` the header's
    "requested variant" line moved after them."""
    lines = (SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log").read_text(encoding="utf-8").splitlines()
    variant = next(ln for ln in lines if "requested variant" in ln)
    if late_variant:
        lines.remove(variant)
    at = len(lines) if after_outcome else next(i for i, ln in enumerate(lines) if "operation 13 progress 34" in ln) + 1
    filler = ["[23:59:58.0975] Found known device, nudging state machine."] * noise
    if late_variant:
        filler.append("[23:59:58.0976] " + variant.split("] ", 1)[1])
    path = tmp_path / "iPhone Restore.log"
    path.write_text("\n".join(lines[:at] + filler + lines[at:]) + "\n", encoding="utf-8")
    return path


def test_an_attempt_longer_than_a_segment_is_cut_inside_and_reads_as_whole(tmp_path, monkeypatch):
    """One attempt of 3,000+ lines, segments of 500 rows: cut inside it, each segment goes on from
    the one before (its date and the midnight after the cut, the process, the transitions, the
    attempt's number and its one session_start), and the rows are the whole read's."""
    path = _long_attempt(tmp_path)
    assert _same_in_segments(path, monkeypatch, limit=500, chunk=64) >= 6
    segments, report = _read(path, monkeypatch, 500, 64)
    assert all(s.get_column("attempt").unique().to_list() == [1] for s in segments)
    rows = pl.concat(segments, how="vertical")
    assert rows.filter(pl.col("kind") == "session_start").height == 1
    assert rows.filter(pl.col("kind") == "result").get_column("error_code").to_list() == [4013]
    # the brackets after the cuts still cross midnight onto the next day
    assert segments[-1].get_column("ts_wall").max().date() == dt.date(2025, 2, 15)
    assert not [n for n in report.errors if n.code == LATE]


def test_a_header_line_after_a_cut_inside_its_attempt_is_noted(tmp_path, monkeypatch):
    """The one thing a cut inside an attempt cannot give as a whole read does: a header field
    written after the cut, on the session_start row made before it. The note names the field."""
    path = _long_attempt(tmp_path, late_variant=True)
    _same_in_segments(path, monkeypatch, limit=500, chunk=64)
    segments, report = _read(path, monkeypatch, 500, 64)
    (note,) = [n for n in report.errors if n.code == LATE]
    assert note.params == {"attempt": 1, "fields": "variant"}
    assert "requested variant" in path.read_text(encoding="utf-8").splitlines()[note.line - 1]
    whole, _ = _read(path, monkeypatch, WHOLE, 100_000)
    detail = lambda rows: json.loads(rows.filter(pl.col("kind") == "session_start").item(0, "detail"))  # noqa: E731
    assert detail(whole[0])["variant"] == "Erase Install (IPSW)"
    assert "variant" not in detail(pl.concat(segments, how="vertical"))


def test_an_attempt_is_not_cut_after_its_outcome(tmp_path, monkeypatch):
    """After an outcome line the attempt's result may still change (a later part of it decides where
    the row goes): the rest of the attempt stays in the segment that holds its outcome."""
    path = _long_attempt(tmp_path, after_outcome=True)
    assert _same_in_segments(path, monkeypatch, limit=500, chunk=64) == 1
    path = _long_attempt(tmp_path, noise=1500)
    path.write_text(path.read_text(encoding="utf-8") + "[00:03:45.0001] state machine idle callback fired\n" * 1500,
                    encoding="utf-8")
    segments, _ = _read(path, monkeypatch, 500, 64)
    assert segments[-1].height > 1500 and segments[-1].filter(pl.col("kind") == "result").height == 1
    _same_in_segments(path, monkeypatch, limit=500, chunk=64)


def test_a_repair_tools_log_is_cut_inside_its_attempt_and_its_midnights_go_on(tmp_path, monkeypatch):
    """3uTools' log (no header: nowhere to cut by attempt) written across midnight and made long: cut
    inside its attempt, its lines' placeholder day goes on counting midnights from the segment
    before, and the rows are the whole read's."""
    src = next(p for p in SAMPLE_LOGS if "thirdparty_itunesflash" in p.as_posix())
    lines = src.read_text(encoding="utf-8").splitlines()

    def earlier(line: str) -> str:  # 00:3x -> 23:5x the day before: midnight falls inside the restore
        if not re.match(r"\d\d:\d\d:\d\d\.\d{3}:", line):
            return line
        hh, mm = int(line[:2]), int(line[3:5])
        total = (hh * 60 + mm - 36) % (24 * 60)
        return f"{total // 60:02d}:{total % 60:02d}" + line[5:]
    lines = [earlier(ln) for ln in lines]
    for marker in ("operation 13 progress 20", "operation 13 progress 0"):  # (before and after midnight)
        at = next(i for i, ln in enumerate(lines) if marker in ln) + 1
        lines[at:at] = [lines[at - 1][:13] + " Found known device, nudging state machine."] * 1000
    path = tmp_path / "3uTools_iTunesFlash.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _same_in_segments(path, monkeypatch, limit=300, chunk=64) >= 5
    segments, report = _read(path, monkeypatch, 300, 64)
    assert report.clock.get("date_unknown")
    days = pl.concat(segments, how="vertical").get_column("ts_wall").dt.date()
    assert days.min() == dt.date(1900, 1, 1) and days.max() == dt.date(1900, 1, 2)
    # (segments wholly after midnight: their day comes from the segment before)
    assert segments[-2].get_column("ts_wall").dt.date().min() == dt.date(1900, 1, 2)
