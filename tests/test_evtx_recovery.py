""".evtx damage beyond what the ``evtx`` parser reads: truncation against the header's promise,
records carved from bad chunks (analyzer/sources/_evtx_recover.py, _evtx_salvage.py).

The corpus counts are pinned against what libevtx (Plaso) recovers from the same files,
measured with libevtx-python 20260705: 267 + 81 recovered = 348 distinct record ids for
``evtxrs_broken_bad_chunk_magic.evtx``, 335 + 114 = 449 for ``evtxrs_broken_zero_data_size_event.evtx``.
"""

from __future__ import annotations

import json
import struct
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from evtx_writer import Record, evtx_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.ingest import parse_file
from analyzer.sources._evtx_recover import carve_chain, header_promise, recover


def _recovered(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(pl.col("detail").str.starts_with('{"recovered":true'))


def test_bad_chunk_magic_gives_at_least_what_libevtx_recovers(windows_corpus):
    result = parse_file(windows_corpus / "evtxrs_broken_bad_chunk_magic.evtx", display="f", host="t")
    ids = result.events["record"]
    assert ids.n_unique() == ids.len() == 351 >= 348
    marked = _recovered(result.events)
    assert marked.height == 81
    # the carved rows are the records of the zeroed chunks 6 and 10 and of chunk 7's slack
    assert marked["record"].min() == 45641 and marked["record"].max() == 47705
    assert not set(marked["record"]) & set(result.events.head(270)["record"])
    note = next(n for n in result.report.errors if n.code == "evtx_recovered")
    assert note.params == {"count": 81, "first": 45641, "last": 47705} and note.severity == "warning"
    unrendered = next(n for n in result.report.errors if n.code == "evtx_carved_unrendered")
    assert unrendered.params == {"count": 82}
    assert result.report.skipped == 2 + 82 and not result.report.complete
    assert marked["ts_wall"].null_count() == 0 and marked["event_id"].null_count() == 0


def test_zero_size_record_gives_at_least_what_libevtx_recovers(windows_corpus):
    result = parse_file(windows_corpus / "evtxrs_broken_zero_data_size_event.evtx", display="f", host="t")
    ids = result.events["record"]
    assert ids.n_unique() == ids.len() == 449
    # every id 1..450 but the zero-size record 3
    assert set(ids) == set(range(1, 451)) - {3}
    marked = _recovered(result.events)
    assert sorted(marked["record"]) == list(range(4, 118))
    first = marked.filter(pl.col("record") == 4)
    assert first.select("provider", "event_id").row(0) == ("Microsoft-Windows-Kernel-Power", 109)
    assert first["ts_wall"].item() == datetime(2015, 7, 10, 12, 22, 57, 950476, tzinfo=first["ts_wall"].item().tzinfo)
    assert json.loads(first["detail"].item()) == {"recovered": True, "ShutdownActionType": 4,
                                                  "ShutdownEventCode": 0, "ShutdownReason": 5}


def test_truncated_file_is_partial_with_chunks_and_records_promised_against_found(windows_corpus, tmp_path):
    cut = tmp_path / "cut.evtx"
    cut.write_bytes((windows_corpus / "plaso_System.evtx").read_bytes()[:300_000])
    result = parse_file(cut, display="cut.evtx", host="t")
    note = next(n for n in result.report.errors if n.code == "evtx_truncated")
    assert note.params == {"chunks": 27, "expected_size": 4096 + 27 * 65536, "size": 300_000,
                           "chunks_found": 4, "last_promised": 5009, "last_found": 680}
    assert note.severity == "error" and not result.report.complete and result.report.status == "partial"
    # 4 whole chunks (605 records) read; the records wholly inside the cut fifth chunk carved
    assert result.report.records == result.events.height == 680
    assert sorted(_recovered(result.events)["record"]) == list(range(606, 681))


def test_sound_corpus_files_are_not_truncated_and_carve_nothing_new(windows_corpus):
    for path in sorted(windows_corpus.glob("*.evtx")):
        promise = header_promise(str(path))
        assert promise is not None and not promise["truncated"], path.name
    result = parse_file(windows_corpus / "plaso_System.evtx")
    assert not any(n.code.startswith("evtx_") for n in result.report.errors)


def _records(n: int) -> list[Record]:
    start = datetime(2025, 3, 8, 14, 0, 0)
    return [Record(provider="Service Control Manager", event_id=7036, level=4, time=start + timedelta(seconds=i),
                   record_id=100 + i, channel="System", computer="PC-1",
                   data={"param1": f"Service {i}", "param2": "running"}) for i in range(n)]


def _offsets(data: bytes) -> list[int]:
    return [i for i in range(4096 + 512, len(data) - 4) if data[i:i + 4] == b"**\x00\x00"]


def test_records_after_a_zero_size_record_are_recovered_and_marked(tmp_path):
    data = bytearray(evtx_bytes(_records(12)))
    offsets = _offsets(bytes(data))
    struct.pack_into("<I", data, offsets[4] + 4, 0)  # record 104: size 0
    path = tmp_path / "z.evtx"
    path.write_bytes(bytes(data))
    result = parse_file(path, display="z.evtx", host="t")
    assert sorted(result.events["record"]) == [100, 101, 102, 103, *range(105, 112)]
    assert sorted(_recovered(result.events)["record"]) == list(range(105, 112))
    assert not result.report.complete  # the zero-size record itself is lost, and said so


def test_a_zeroed_chunk_header_is_recovered(tmp_path):
    data = bytearray(evtx_bytes(_records(6)))
    data[4096:4096 + 512] = bytes(512)
    path = tmp_path / "h.evtx"
    path.write_bytes(bytes(data))
    result = parse_file(path, display="h.evtx", host="t")
    assert sorted(result.events["record"]) == list(range(100, 106))
    assert _recovered(result.events).height == 6
    assert set(result.events["subject"]) == {f"Service {i}" for i in range(6)}


def test_a_file_cut_inside_its_only_chunk(tmp_path):
    data = evtx_bytes(_records(10))
    offsets = _offsets(data)
    path = tmp_path / "t.evtx"
    path.write_bytes(data[:offsets[7] + 10])  # records 100-106 whole, 107 cut
    result = parse_file(path, display="t.evtx", host="t")
    assert sorted(result.events["record"]) == list(range(100, 107))
    note = next(n for n in result.report.errors if n.code == "evtx_truncated")
    assert note.params["chunks"] == 1 and note.params["chunks_found"] == 0
    assert note.params["last_promised"] == 109 and note.params["last_found"] == 106


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096), st.integers(min_value=0, max_value=65535))
def test_carving_never_raises_on_arbitrary_bytes(blob, at):
    chunk = bytearray(65536)
    chunk[at:at + len(blob)] = blob[:65536 - at]
    chain = carve_chain(bytes(chunk))
    end = 512
    for start, size, _ in chain:
        assert start >= end and size >= 28
        end = start + size


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=4096 + 65535), st.integers(0, 255)), max_size=30))
def test_recovery_never_raises_on_damaged_files(tmp_path_factory, damage):
    data = bytearray(evtx_bytes(_records(8)))
    for at, value in damage:
        if at < len(data):
            data[at] = value
    path: Path = tmp_path_factory.mktemp("d") / "d.evtx"
    path.write_bytes(bytes(data))
    found, failed = recover(str(path), set())
    assert failed >= 0 and len({r["event_record_id"] for r in found}) == len(found)
    parse_file(path, display="d.evtx", host="t")
