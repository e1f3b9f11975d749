"""The HTML chart reduces an attempt's rows in polars to what it draws: the clusters are the ones
the row-by-row chaining makes, and a band of more phase rows than pixels keeps one per pixel, so a
bench log's attempt of hundreds of thousands of rows draws a chart's worth of marks."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import polars as pl
from hypothesis import given, settings, strategies as st

from analyzer.report.html_assets import BAD_KINDS, LANE_OF
from analyzer.report import chart_marks
from analyzer.report.chart_marks import GAP_PX, ChartFold, PLOT_PX, TOOLTIP_ROWS, Scale, clusters, marks_of, phase_rows
from analyzer.report.html_svg import timeline_svg

T0 = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.timezone.utc)
KINDS = ["phase", "usb_io_error", "device_disconnect", "device_connect", "result", "firewall_block", "progress",
         "driver_install"]
SCHEMA = {"ts_utc": pl.Datetime("us", "UTC"), "kind": pl.String, "file": pl.String, "line": pl.Int64,
          "record": pl.Int64, "attempt": pl.Int32, "expected": pl.Boolean, "error_code": pl.Int64,
          "subject": pl.String, "message": pl.String}


def reference_style(row: dict) -> str:
    """The marker style as the chart decided it row by row (before it was an expression)."""
    kind = row["kind"]
    if kind == "result":
        return "fail" if (row.get("error_code") or 0) != 0 else "done"
    if kind in ("device_connect", "device_disconnect") and row.get("expected") is True:
        return "transition"
    if kind == "device_disconnect" and row.get("expected") is False:
        return "drop"
    return "bad" if kind in BAD_KINDS else "ok"


def reference_clusters(rows: list[dict], scale: Scale, cited: set[tuple]) -> list[tuple]:
    """The row-by-row chaining: rows of one lane and style within GAP_PX of the previous one."""
    by_key: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        lane = LANE_OF.get(r["kind"])
        if lane is not None:
            by_key.setdefault((lane, reference_style(r)), []).append(r)
    out = []
    for (lane, style), group in by_key.items():
        group.sort(key=lambda r: r["ts_utc"])
        current = [group[0]]
        for r in group[1:]:
            if scale.x(r["ts_utc"]) - scale.x(current[-1]["ts_utc"]) <= GAP_PX:
                current.append(r)
            else:
                out.append((lane, style, current))
                current = [r]
        out.append((lane, style, current))
    out.sort(key=lambda c: c[1] in ("fail", "drop"))
    return [(lane, style, len(g), g[0]["ts_utc"], g[-1]["ts_utc"],
             any((r["file"], r["line"], r["record"]) in cited for r in g),
             [r["ts_utc"] for r in g[:TOOLTIP_ROWS]], [r["message"] for r in g[:TOOLTIP_ROWS]]) for lane, style, g in out]


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA)


row_strategy = st.fixed_dictionaries({
    "ms": st.integers(0, 600_000), "kind": st.sampled_from(KINDS), "expected": st.sampled_from([None, True, False]),
    "error_code": st.sampled_from([None, 0, 4013]), "cited": st.booleans()})


@settings(max_examples=200, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=60), st.integers(1, 3600))
def test_clusters_are_the_row_by_row_chaining(specs, span_s):
    rows = _rows(specs)
    cited = {("r.log", n, None) for n, s in enumerate(specs, 1) if s["cited"]}
    scale = Scale.of_rows(frame(rows), T0, T0 + dt.timedelta(seconds=span_s))
    got = [(c["lane"], c["style"], c["n"], c["first"], c["last"], c["cited"], c["ts_utc"], c["message"])
           for c in clusters(marks_of(frame(rows), scale, cited), scale)]
    assert got == reference_clusters(rows, scale, cited)


def _rows(specs: list[dict]) -> list[dict]:
    """Rows of the specs in window order (by time, then line), as the chart is given them."""
    rows = [{"ts_utc": T0 + dt.timedelta(milliseconds=s["ms"]), "kind": s["kind"], "file": "r.log", "line": n,
             "record": None, "attempt": 1, "expected": s["expected"], "error_code": s["error_code"],
             "subject": f"step {n}", "message": f"line {n}"} for n, s in enumerate(specs, 1)]
    return sorted(rows, key=lambda r: (r["ts_utc"], r["line"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=80), st.integers(1, 3600), st.lists(st.integers(0, 80), max_size=6),
       st.integers(1, 40))
def test_the_marks_of_pieces_are_the_marks_of_the_whole(specs, span_s, cuts, pixels):
    """Rows folded a piece at a time (the stretches of a PC read in parts, in any order) give the same
    clusters and phase band as all at once, also when the band has more rows than pixels."""
    whole = frame(_rows(specs))
    cited = {("r.log", n, None) for n, s in enumerate(specs, 1) if s["cited"]}
    scale = Scale.of_rows(whole, T0, T0 + dt.timedelta(seconds=span_s))
    bounds = sorted({0, whole.height, *(c for c in cuts if c < whole.height)})
    pieces = [whole.slice(a, b - a) for a, b in zip(bounds, bounds[1:])]
    with mock.patch.object(chart_marks, "PLOT_PX", pixels):  # (a band of more rows than pixels)
        fold = ChartFold({}, scale, cited)
        for piece in reversed(pieces):
            fold.add_rows(piece)
        once, parts = marks_of(whole, scale, cited), fold.marks()
    assert clusters(parts, scale) == clusters(once, scale)
    assert phase_rows(parts) == phase_rows(once)


def test_a_band_of_more_phases_than_pixels_keeps_the_first_of_each_pixel():
    rows = [{"ts_utc": T0 + dt.timedelta(milliseconds=7 * n), "kind": "phase", "file": "r.log", "line": n,
             "record": None, "attempt": 1, "expected": None, "error_code": None, "subject": f"phase {n}",
             "message": None} for n in range(20_000)]
    big = frame(rows)
    scale = Scale.of_rows(big, T0, T0 + dt.timedelta(milliseconds=7 * 20_000))
    kept, total = phase_rows(marks_of(big, scale))
    assert total == 20_000
    pixels = [int(scale.x(r["ts_utc"])) for r in kept]
    assert PLOT_PX // 2 < len(kept) <= PLOT_PX + 1
    assert pixels == sorted(set(pixels))  # one per pixel, in time order
    assert kept[0]["subject"] == "phase 0"
    # a band of no more rows than pixels keeps every row, even rows that share a pixel
    small = big.head(300)
    assert len(phase_rows(marks_of(small, Scale.of_rows(small, T0, T0 + dt.timedelta(hours=1))))[0]) == 300
    # and the whole chart stays a chart's size
    ends = Scale.of_rows(big, T0, T0 + dt.timedelta(seconds=140))
    svg = timeline_svg(marks_of(big, ends), ends, {"started_at": T0, "failed_at": None,
                                                   "ended_at": T0 + dt.timedelta(seconds=140), "error_code": None}, _words())
    assert svg.count('<g class="phase">') == len(kept) and len(svg) < 400_000
    # and says so under the chart; a band drawn whole has no note
    assert f"{len(kept)} of 20000 phase and state lines drawn" in svg
    hour = Scale.of_rows(small, T0, T0 + dt.timedelta(hours=1))
    whole = timeline_svg(marks_of(small, hour), hour, {"started_at": T0, "failed_at": None,
                                                       "ended_at": T0 + dt.timedelta(hours=1), "error_code": None}, _words())
    assert "phase and state lines drawn" not in whole


def _words() -> dict:
    from analyzer.report.i18n import Catalogue

    cat = Catalogue("en")
    return {**cat.section("html"), "error": cat["common.error"], "more": cat["common.more"]}
