"""A restore log finished a segment at a time (analyzer.sources._apple_segments) gives the rows and
the report it gives finished whole: on every sample, on the real corpus, on logs pasted one after
another (offsets that disagree), and cut anywhere an attempt starts."""

from __future__ import annotations

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


def _same_in_segments(path: Path, monkeypatch, limit: int = 1, chunk: int = 7) -> int:
    """Asserts the segments stacked are the whole file's rows, with the same report; the segments' count."""
    whole, whole_report = _read(path, monkeypatch, WHOLE, 100_000)
    cut, cut_report = _read(path, monkeypatch, limit, chunk)
    assert len(whole) <= 1
    if not whole:
        assert not cut
    else:
        assert pl.concat(cut, how="vertical").equals(whole[0]), path.name
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


def test_a_log_of_two_attempts_is_cut_into_two_segments_at_the_second_header(monkeypatch):
    path = next(p for p in SAMPLE_LOGS if "pc_l12_two_attempts_cable" in p.as_posix())
    assert _same_in_segments(path, monkeypatch) == 2
    segments, _ = _read(path, monkeypatch, 1, 7)
    assert [s.get_column("attempt").unique().to_list() for s in segments] == [[1], [2]]
    # the second segment starts on the dated header line that opens the second attempt
    first = segments[1].row(0, named=True)
    assert first["clock"] == "local" and first["attempt"] == 2


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

    def failing(self, rows, item, report, decided):
        calls.append(rows.height)
        if len(calls) == 2:
            raise RuntimeError("disk gone")
        return finish(rows, item, report, decided)
    monkeypatch.setattr(type(SOURCE), "_finished", failing)
    segments, report = _read(path, monkeypatch, 1, 7)
    assert len(segments) == 1 and segments[0].get_column("attempt").unique().to_list() == [1]
    notes = [n for n in report.errors if n.code == "reading_unfinished"]
    assert len(notes) == 1 and "disk gone" in notes[0].params["error"]
