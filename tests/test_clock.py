"""One UTC clock: per-file decisions, inference from events seen by two sources, skew, round trips."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.alignment import infer_offset
from analyzer.clock import _to_utc, format_offset, normalise, parse_zone
from analyzer.model import FileReport, conform

BASE = dt.datetime(2026, 5, 2, 23, 40, 0)


def row(path, seconds, clock, kind="generic", **extra):
    return {"host": "pc", "file": path, "ts_wall": BASE + dt.timedelta(seconds=seconds), "clock": clock,
            "kind": kind, **extra}


def reports(*paths, **clock_by_path):
    return [FileReport(path=p, format="x", host="pc", clock=dict(clock_by_path.get(p.replace(".", "_"), {})))
            for p in paths]


@pytest.mark.parametrize("text,expected", [("UTC", "UTC"), ("+09:00", "+09:00"), ("-0530", "-05:30"),
                                           ("Asia/Tokyo", "Asia/Tokyo"), ("+9", None), ("Mars/Base", None)])
def test_parse_zone(text, expected):
    if expected is None:
        with pytest.raises(ValueError):
            parse_zone(text)
    else:
        assert parse_zone(text) == expected


def test_bracket_offset_makes_header_local_and_brackets_utc():
    ev = conform([row("r.log", 0, "local"), row("r.log", 1, "bracket")])
    reps = [FileReport(path="r.log", format="apple_restore", host="pc", clock={"bracket_minus_header_hours": 9})]
    out = normalise(ev, reps).get_column("ts_utc").to_list()
    assert out[0] == (BASE + dt.timedelta(hours=9)).replace(tzinfo=dt.timezone.utc)
    assert out[1] == (BASE + dt.timedelta(seconds=1)).replace(tzinfo=dt.timezone.utc)
    assert reps[0].clock["local_zone"] == "-09:00" and reps[0].clock["local_zone_method"] == "restore_header"


def test_tz_option_wins_and_handles_dst():
    ev = conform([{"host": "pc", "file": "s.log", "ts_wall": dt.datetime(2026, 7, 1, 12, 0), "clock": "local", "kind": "generic"}])
    reps = [FileReport(path="s.log", format="windows_setupapi", host="pc")]
    out = normalise(ev, reps, tz="Europe/Berlin")
    assert out.item(0, "ts_utc") == dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.timezone.utc)  # CEST = UTC+2
    assert reps[0].clock["local_zone_method"] == "tz_option"



def test_a_normalised_tz_converts_and_an_unnormalised_one_is_refused_not_misread():
    ev = conform([{"host": "pc", "file": "s.log", "ts_wall": dt.datetime(2026, 7, 1, 16, 20), "clock": "local", "kind": "generic"}])
    reps = [FileReport(path="s.log", format="windows_setupapi", host="pc")]
    out = normalise(ev, reps, tz=parse_zone("+0930"))
    assert out.item(0, "ts_utc") == dt.datetime(2026, 7, 1, 6, 50, tzinfo=dt.timezone.utc)
    assert reps[0].clock["local_zone"] == "+09:30"
    with pytest.raises(ValueError, match="not normalised"):  # it used to become +09:00: 07:20Z, no error
        normalise(ev, [FileReport(path="s.log", format="windows_setupapi", host="pc")], tz="+0930")


@pytest.mark.parametrize("zone", ["+0930", "+9:30", "+09:3", "-05:30:00"])
def test_conversion_refuses_an_offset_that_is_not_normalised(zone):
    # read by position, "+0930" used to become +09:00: a wrong time with no error
    with pytest.raises(ValueError, match="not normalised"):
        _to_utc(pl.col("ts_wall"), zone)

def test_local_file_zone_inferred_from_events_seen_by_a_utc_source():
    # Kernel-PnP (UTC) configured the iPhone at these instants; setupapi (local, UTC+9) logged the installs.
    utc_times = [0, 95, 3700]
    apple = {"usb_vid": "05AC"}
    ev = conform([row("dfum.evtx", t, "utc", "driver_install", **apple) for t in utc_times]
                 + [row("dfum.evtx", t, "utc", "power") for t in (10, 20)]
                 + [row("setupapi.dev.log", t + 9 * 3600 + 2, "local", "driver_install", **apple) for t in utc_times]
                 + [row("setupapi.dev.log", 50, "local", "generic")])
    reps = [FileReport(path="dfum.evtx", format="windows_evtx", host="pc"),
            FileReport(path="setupapi.dev.log", format="windows_setupapi", host="pc")]
    out = normalise(ev, reps)
    setup = reps[1].clock
    assert setup["local_zone"] == "+09:00"
    assert (setup["local_zone_method"], setup["aligned_events"], setup["aligned_with"]) == ("aligned", 3, ["dfum.evtx"])
    assert setup["skew_s"] == {"dfum.evtx": 2.0}
    first = out.filter((pl.col("file") == "setupapi.dev.log") & (pl.col("kind") == "driver_install")).item(0, "ts_utc")
    assert first == (BASE + dt.timedelta(seconds=2)).replace(tzinfo=dt.timezone.utc)
    assert not any(n.severity == "warning" for n in reps[1].errors)


def test_single_coincidence_is_not_enough_and_machine_zone_is_flagged():
    apple = {"usb_vid": "05AC"}
    ev = conform([row("dfum.evtx", 0, "utc", "device_connect", **apple),
                  row("setupapi.dev.log", 3600, "local", "driver_install", **apple)])
    reps = [FileReport(path="dfum.evtx", format="windows_evtx", host="pc"),
            FileReport(path="setupapi.dev.log", format="windows_setupapi", host="pc")]
    normalise(ev, reps)
    assert reps[1].clock["local_zone_method"] == "assumed"
    assert any("pass --tz" in n.message for n in reps[1].errors)


def test_events_of_another_host_are_not_used_for_inference():
    apple = {"usb_vid": "05AC"}
    local = conform([row("s.log", t + 3600, "local", "driver_install", **apple) for t in (0, 60, 600)])
    other = conform([{**row("d.evtx", t, "utc", "driver_install", **apple), "host": "other"} for t in (0, 60, 600)])
    assert infer_offset(local, pl.concat([other]).with_columns(pl.col("ts_wall").dt.replace_time_zone("UTC").alias("ts_utc"))) is not None
    reps = [FileReport(path="s.log", format="windows_setupapi", host="pc"), FileReport(path="d.evtx", format="windows_evtx", host="other")]
    normalise(pl.concat([local, other]), reps)
    assert reps[0].clock["local_zone_method"] == "assumed"


@settings(max_examples=200, deadline=None)
@given(wall=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1)),
       quarter_hours=st.integers(-12 * 4, 14 * 4))
def test_local_to_utc_round_trips(wall, quarter_hours):
    wall = wall.replace(microsecond=(wall.microsecond // 1000) * 1000)
    zone = format_offset(dt.timedelta(minutes=15 * quarter_hours))
    ev = conform([{"host": "pc", "file": "a", "ts_wall": wall, "clock": "local", "kind": "generic"}])
    utc = normalise(ev, [FileReport(path="a", format="x", host="pc")], tz=zone).item(0, "ts_utc")
    back = utc.replace(tzinfo=None) + dt.timedelta(minutes=15 * quarter_hours)
    assert back == wall


# -- logs with times of day only (a pasted restore-log tail) ------------------------------------
SENTINEL = dt.datetime(1900, 1, 1)


def _tail(**report_clock) -> tuple[pl.DataFrame, list[FileReport]]:
    """A restore-log tail as the source gives it: bracket times on the sentinel day, attempt 1."""
    rows = [
        {"host": "pc", "file": "tail.log", "line": 1, "ts_wall": SENTINEL + dt.timedelta(hours=23, minutes=58),
         "clock": "bracket", "kind": "phase", "attempt": 1, "format": "apple_restore", "message": "Restoring image"},
        {"host": "pc", "file": "tail.log", "line": 2, "ts_wall": SENTINEL + dt.timedelta(days=1, minutes=1),
         "clock": "bracket", "kind": "device_disconnect", "attempt": 1, "expected": False, "format": "apple_restore",
         "message": "RestoreOS mode device disconnected"},
        {"host": "pc", "file": "tail.log", "line": 3, "ts_wall": SENTINEL + dt.timedelta(days=1, minutes=11),
         "clock": "bracket", "kind": "result", "attempt": 1, "error_code": 4042, "format": "apple_restore",
         "message": "Restore completed, status: 4042"},
    ]
    report = FileReport(path="tail.log", format="apple_restore", host="pc",
                        clock={"date_unknown": True, "bracket_zone_unknown": True, **report_clock})
    return conform(rows), [report]


def test_a_tail_without_a_date_stays_off_the_clock_and_says_so():
    events, reps = _tail()
    out = normalise(events, reps)
    assert out.get_column("ts_utc").null_count() == 3
    assert reps[0].clock["local_zone_method"] == "date_unknown" and reps[0].clock["local_zone"] is None
    (note,) = [n for n in reps[0].errors if n.code == "date_unplaced"]
    assert note.severity == "warning" and "--date" in note.message


def test_a_tail_is_put_on_the_day_given_with_its_rollover_and_brackets_as_utc():
    events, reps = _tail()
    out = normalise(events, reps, date=dt.date(2025, 2, 14))
    assert out.get_column("ts_utc").to_list() == [
        dt.datetime(2025, 2, 14, 23, 58, tzinfo=dt.timezone.utc), dt.datetime(2025, 2, 15, 0, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2025, 2, 15, 0, 11, tzinfo=dt.timezone.utc)]
    assert (reps[0].clock["local_zone_method"], reps[0].clock["date"]) == ("date_option", "2025-02-14")
    assert not any(n.code == "date_unplaced" for n in reps[0].errors)


def test_an_undated_failed_attempt_is_still_an_incident_with_its_own_evidence():
    from analyzer.diagnose import diagnose

    events, reps = _tail()
    (incident,), table = diagnose(normalise(events, reps))
    assert table.row(0, named=True)["outcome"] == "failed" and table.row(0, named=True)["failed_line"] == 3
    assert (incident.error_code, incident.failed_at, incident.cause) == (4042, None, "usb_connection")
    assert [(e["line"], e.get("rule")) for e in incident.evidence] == [(2, "unexpected_disconnect"), (3, None)]


def test_a_tail_is_put_on_the_day_its_events_share_with_a_utc_log_of_the_pc():
    """The tail's disconnect and a reconnect seen by DriverFrameworks (UTC) on 2025-02-15: the
    tail's brackets are UTC+0 here, so the day and a zero offset come out."""
    events, reps = _tail()
    extra = conform([
        {"host": "pc", "file": "dfum.evtx", "ts_wall": dt.datetime(2025, 2, 15, 0, 1, 2), "clock": "utc",
         "kind": "device_disconnect", "usb_vid": "05AC", "format": "windows_evtx"},
        {"host": "pc", "file": "dfum.evtx", "ts_wall": dt.datetime(2025, 2, 14, 23, 58, 1), "clock": "utc",
         "kind": "phase", "format": "windows_evtx"}])
    tail = events.with_columns(pl.when(pl.col("line") == 3).then(pl.lit("device_connect")).otherwise(pl.col("kind"))
                               .cast(events.schema["kind"]).alias("kind"))
    extra = pl.concat([extra, conform([{"host": "pc", "file": "dfum.evtx", "ts_wall": dt.datetime(2025, 2, 15, 0, 11, 3),
                                        "clock": "utc", "kind": "device_connect", "usb_vid": "05AC",
                                        "format": "windows_evtx"}])])
    reps.append(FileReport(path="dfum.evtx", format="windows_evtx", host="pc"))
    out = normalise(pl.concat([tail, extra]), reps)
    clock = reps[0].clock
    assert (clock["local_zone_method"], clock["date"], clock["aligned_events"]) == ("date_aligned", "2025-02-14", 2)
    first = out.filter(pl.col("file") == "tail.log").sort("line").item(0, "ts_utc")
    assert first == dt.datetime(2025, 2, 14, 23, 58, tzinfo=dt.timezone.utc)
    assert not any(n.code == "date_unplaced" for n in reps[0].errors)


def test_skews_against_several_files_in_one_query():
    """Each reference gets the median of its nearest same-kind pairs within the tolerance; a file
    with nothing close enough, or no anchors at all, is left out."""
    from analyzer.alignment import skews

    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)

    def rows(kinds_and_seconds):
        return pl.DataFrame({"kind": [k for k, _ in kinds_and_seconds],
                             "ts_utc": [t0 + dt.timedelta(seconds=s) for _, s in kinds_and_seconds]})

    mine = rows([("device_connect", 0), ("device_disconnect", 60), ("device_connect", 120)])
    near = rows([("device_connect", -2), ("device_disconnect", 57), ("device_connect", 117)])  # 2, 3, 3 s behind
    far = rows([("device_connect", 500)])
    other_kind = rows([("result", 0)])
    got = skews(mine, {"near.evtx": near, "far.evtx": far, "kind.log": other_kind, "empty.log": rows([])})
    assert got == {"near.evtx": 3.0}


def test_each_files_clocks_are_found_by_run_also_when_its_rows_are_apart():
    """A file's clocks are those of all its rows, wherever they sit in the PC's frame (grouped by run
    of rows, then by file), and a format read twice in one file is its own key."""
    from analyzer.clock import _clocks_per_file, _key

    ev = conform([row("a.log", 0, "local"), row("a.log", 1, "bracket"), row("b.log", 2, "utc"),
                  row("a.log", 3, "utc"), row("c.log", 4, None)]).with_columns(pl.lit("x").alias("format"))
    ev = ev.with_columns(pl.when(pl.col("file") == "b.log").then(pl.lit("y")).otherwise(pl.col("format")).alias("format"))
    got = _clocks_per_file(ev)
    assert got == {_key("a.log", "x"): {"local", "bracket", "utc"}, _key("b.log", "y"): {"utc"}, _key("c.log", "x"): set()}


def _offset_one_candidate_at_a_time(local: pl.DataFrame, reference: pl.DataFrame):
    """The reference reading of infer_offset: each candidate offset paired in a query of its own."""
    from analyzer.alignment import ANCHOR_TOLERANCE_S, CANDIDATE_STEPS

    ref = (reference.select(pl.col("kind").cast(pl.String), pl.col("ts_utc").dt.replace_time_zone(None).alias("t"))
           .drop_nulls().sort("kind", "t").with_columns(pl.col("t").alias("ref_t")))
    loc = local.select(pl.col("kind").cast(pl.String), pl.col("ts_wall").alias("wall")).drop_nulls()
    scores = []
    for step in CANDIDATE_STEPS:
        shifted = loc.with_columns((pl.col("wall") - pl.duration(minutes=15 * step)).alias("t")).sort("kind", "t")
        joined = shifted.join_asof(ref, on="t", by="kind", strategy="nearest", tolerance=f"{ANCHOR_TOLERANCE_S}s",
                                   check_sortedness=False)
        scores.append((joined.get_column("ref_t").is_not_null().sum(), step))
    scores.sort(reverse=True)
    best, step = scores[0]
    return None if best < 2 or scores[1][0] == best else (dt.timedelta(minutes=15 * step), best)


anchor = st.tuples(st.sampled_from(["device_connect", "device_disconnect", "driver_install"]), st.integers(0, 4 * 3600))


@settings(max_examples=80, deadline=None)
@given(st.lists(anchor, min_size=1, max_size=25), st.lists(anchor, min_size=1, max_size=25),
       st.integers(-14 * 4, 14 * 4), st.integers(1, 200))
def test_every_candidate_offset_in_one_query_is_each_in_its_own(locals_, refs, step, per_query):
    """infer_offset pairs the candidates together (a few at a time when the anchors are many): the
    offset and count are those of pairing each candidate alone. Half the reference's anchors are the
    local ones shifted by ``step`` quarter hours, so that an offset is often found."""
    from unittest import mock

    from analyzer import alignment

    local = conform([row("s.log", t, "local", kind) for kind, t in locals_])
    shifted = [(kind, t - step * 900) for kind, t in locals_[: len(locals_) // 2]]
    reference = conform([row("d.evtx", t, "utc", kind) for kind, t in refs + shifted]).with_columns(
        pl.col("ts_wall").dt.replace_time_zone("UTC").alias("ts_utc"))
    with mock.patch.object(alignment, "OFFSET_QUERY_ROWS", per_query):
        assert infer_offset(local, reference) == _offset_one_candidate_at_a_time(local, reference)
