"""The events-level outputs are written piece by piece (``--csv``, ``--format csv``,
``--timesketch``): the same bytes whatever the piece size, the Timesketch lines the same as
``json.dumps`` writes them row by row, and a file that fails half-way is never left behind."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from analyzer import analyze
from analyzer.report import csv_out, timesketch
from analyzer.report.flat import flat_events
from analyzer.report.write import atomic_stream
from conftest import SAMPLES


@pytest.fixture(scope="module")
def fleet():
    return analyze([SAMPLES])


def reference_event_lines(analysis) -> tuple[list[str], int]:
    """The Timesketch event lines row by row with json.dumps: what the file held before it was
    built in polars, and the reading of the format that the vectorised lines must equal."""
    flat = flat_events(analysis.events)
    micros = analysis.events.get_column("ts_utc").dt.epoch("us").to_list()
    tags = timesketch._cited(analysis)
    lines, dropped = [], 0
    for row, us in zip(flat.iter_rows(named=True), micros):
        if row["ts_utc"] is None:
            dropped += 1
            continue
        obj = {"message": row["message"] or str(row["kind"]), "datetime": row["ts_utc"], "timestamp": us,
               "timestamp_desc": timesketch.TIMESTAMP_DESC.get(row["format"], timesketch.DEFAULT_DESC),
               "data_type": f"analyzer:{row['format'] or 'unknown'}"}
        obj.update({k: v for k, v in row.items() if v is not None and k not in timesketch.RESERVED})
        tag = tags.get((row["host"], row["file"], row["line"], row["record"]))
        if tag:
            obj["tag"] = sorted(tag)
        lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
    return lines, dropped


def test_timesketch_event_lines_equal_json_dumps_row_by_row(fleet):
    expected, dropped = reference_event_lines(fleet)
    text, got_dropped = timesketch.to_jsonl(fleet)
    lines = text.splitlines(keepends=True)
    assert got_dropped == dropped > 0  # the samples hold configuration rows with no time
    assert lines[:len(expected)] == expected
    # then one verdict line per incident with a failure time
    verdicts = [json.loads(line) for line in lines[len(expected):]]
    assert len(verdicts) == sum(1 for i in fleet.incidents if i.failed_at is not None)
    assert all(v["data_type"] == "analyzer:verdict" for v in verdicts)
    assert any("analyzer_evidence" in json.loads(line).get("tag", []) for line in expected)


@pytest.mark.parametrize("module", [csv_out, timesketch])
def test_pieces_of_any_size_make_the_same_file(fleet, module, monkeypatch):
    whole = csv_out.to_csv(fleet) if module is csv_out else timesketch.to_jsonl(fleet)
    monkeypatch.setattr(module, "BATCH_ROWS", 97)
    pieces = list(csv_out.csv_pieces(fleet) if module is csv_out else timesketch.jsonl_pieces(fleet))
    assert len(pieces) > fleet.events.height // 97  # written in pieces, not held whole
    joined = "".join(pieces)
    assert joined == (whole if module is csv_out else whole[0])


def test_an_empty_timeline_is_a_header_only_csv_and_an_empty_jsonl(tmp_path):
    nothing = analyze([tmp_path])
    assert nothing.events.height == 0
    header = csv_out.to_csv(nothing)
    assert header.count("\n") == 1 and header.startswith("host,ts_utc,kind,")
    assert timesketch.to_jsonl(nothing) == ("", 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=8))
def test_text_is_escaped_as_json_dumps_escapes_it(values):
    got = pl.DataFrame({"v": pl.Series(values, dtype=pl.String)}).select(timesketch._text(pl.col("v"))).to_series()
    assert got.to_list() == [json.dumps(v, ensure_ascii=False) for v in values]  # (None: null)


def test_member_values_are_json_numbers_and_booleans():
    frame = pl.DataFrame({"n": [3, None, -7], "b": [True, False, None], "u": pl.Series([2**64 - 1, 0, 5], dtype=pl.UInt64)})
    got = frame.select(timesketch._value("n", pl.Int64), timesketch._value("b", pl.Boolean),
                       timesketch._value("u", pl.UInt64)).rows()
    assert got == [("3", "true", str(2**64 - 1)), (None, "false", "0"), ("-7", None, "5")]


def test_a_file_that_fails_half_way_leaves_the_old_one_and_no_temporary(tmp_path):
    target = tmp_path / "timeline.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_stream(target) as handle:
            handle.write(b"new first piece\n")
            raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timeline.jsonl"]
    with atomic_stream(target) as handle:
        handle.write(b"a\n")
        handle.write(b"b\n")
    assert target.read_text() == "a\nb\n"


def test_the_cli_streams_csv_to_stdout_as_to_csv_builds_it(fleet, tmp_path):
    import io

    out = io.StringIO()
    csv_out.write_text(fleet, out)
    assert out.getvalue() == csv_out.to_csv(fleet)
    path = tmp_path / "t.csv"
    csv_out.write_csv(fleet, path)
    assert path.read_bytes() == ("\ufeff" + csv_out.to_csv(fleet)).encode("utf-8")


def test_timesketch_file_counts_what_it_left_out(fleet, tmp_path):
    path = tmp_path / "t.jsonl"
    dropped = timesketch.write_timesketch(fleet, path)
    text, expected = timesketch.to_jsonl(fleet)
    assert dropped == expected and Path(path).read_text(encoding="utf-8") == text
    # every event with a time is a line: the counts agree with the table
    timed = fleet.events.filter(pl.col("ts_utc").is_not_null()).height
    assert sum(1 for line in text.splitlines() if json.loads(line)["data_type"] != "analyzer:verdict") == timed
    assert all(dt.datetime.fromisoformat(json.loads(line)["datetime"].replace("Z", "+00:00")) for line in text.splitlines())
