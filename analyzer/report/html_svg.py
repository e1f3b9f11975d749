"""The per-attempt timeline chart of the HTML report, drawn here as inline SVG text.

Why server-side SVG and no script: the chart then shows in any browser, in a
mail client's preview and on paper, the page can forbid scripts outright
(Content-Security-Policy), and every piece of log text reaches the markup
through one escaping function. Dense lanes (thousands of firewall drops) are
merged into one marker per few pixels, whose tooltip counts what it stands for.

The rows come as a polars frame and are reduced there to what is drawn (clusters, one phase
segment per pixel at most), so a bench log's attempt of hundreds of thousands of rows costs a
chart's worth of Python, not a row's worth each.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import polars as pl

from .safe import shown
from .html_assets import BAD_KINDS, LANE_OF, LANES, PHASE_KINDS
from .marks import has_key

WIDTH, GUTTER, RIGHT = 1100, 150, 24
TOP, LANE_H, PHASE_LANE_H, AXIS_H = 30, 34, 50, 28
GAP_PX = 8
PHASE_FILLS = ("#dbe7f6", "#e4f1e1", "#f3e8f7", "#fdf0d9", "#e0f2f1", "#f1e3de")
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def esc(text) -> str:
    """HTML/XML-escape any value (None becomes empty), control characters and bidi overrides shown
    as their escapes (:func:`analyzer.report.safe.shown`): the one way log text reaches the page."""
    return escape(shown(text), quote=True)


def _style() -> pl.Expr:
    """Marker style class of each row: a fixed set, so no event text ever reaches an attribute."""
    kind, expected = pl.col("kind"), pl.col("expected")
    return (pl.when(kind == "result").then(pl.when(pl.col("error_code").fill_null(0) != 0).then(pl.lit("fail"))
                                           .otherwise(pl.lit("done")))
            .when(kind.is_in(["device_connect", "device_disconnect"]) & expected.eq_missing(True))
            .then(pl.lit("transition"))
            # only what the diagnosis calls unexpected; a removal nothing paired stays neutral
            .when((kind == "device_disconnect") & expected.eq_missing(False)).then(pl.lit("drop"))
            .when(kind.is_in(sorted(BAD_KINDS))).then(pl.lit("bad"))
            .otherwise(pl.lit("ok")))


def marker(style: str, x: float, y: float, cited: bool, cls: str = "m") -> str:
    """One marker; ``cls`` is ``m`` on the chart and ``key`` in the legend (so counting the chart's
    ``m drop`` markers counts drops, not the legend's sample)."""
    extra = ' stroke="#111" stroke-width="2"' if cited else ""
    if style == "transition":
        return (f'<polygon class="{cls} transition" points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} '
                f'{x - 6:.1f},{y:.1f}" fill="#fff" stroke="#78909c" stroke-width="{2 if cited else 1.5}"/>')
    if style == "drop":
        return (f'<polygon class="{cls} drop" points="{x - 7:.1f},{y - 6:.1f} {x + 7:.1f},{y - 6:.1f} {x:.1f},{y + 7:.1f}" '
                f'fill="#e65100"{extra}/>')
    if style == "fail":
        return (f'<path class="{cls} fail" d="M{x - 6:.1f},{y - 6:.1f}L{x + 6:.1f},{y + 6:.1f}M{x + 6:.1f},{y - 6:.1f}'
                f'L{x - 6:.1f},{y + 6:.1f}" stroke="#c62828" stroke-width="3.5"/>')
    fill = {"bad": "#c62828", "done": "#2e7d32"}.get(style, "#5472d3")
    return f'<circle class="{cls} {style}" cx="{x:.1f}" cy="{y:.1f}" r="{5.5 if style == "bad" else 4.5}" fill="{fill}"{extra}/>'


def _ticks(t0: dt.datetime, span: float) -> list[dt.datetime]:
    """Round UTC times (every 1 s … 1 day) across the span, at most about ten."""
    step = next((s for s in STEPS if span / s <= 10), STEPS[-1])
    base = t0.replace(microsecond=0)
    first = base + dt.timedelta(seconds=(-int(base.timestamp())) % step)
    if first < t0:
        first += dt.timedelta(seconds=step)
    out, t = [], first
    while (t - t0).total_seconds() <= span:
        out.append(t)
        t += dt.timedelta(seconds=step)
    return out


#: Rows a cluster's tooltip lists (the rest are counted).
TOOLTIP_ROWS = 5


def _clusters(rows: pl.DataFrame, scale: _Scale, cited: set[tuple]) -> list[dict]:
    """Chain events of one lane and style that lie within GAP_PX of each other into one cluster:
    each a dict of lane, style, n (rows), first and last time, cited, and the first
    TOOLTIP_ROWS rows' times, kinds, messages and ``expected``. Lanes and styles in the order
    they first appear, each in time order; faults last, so they are drawn on top."""
    lane = pl.col("kind").replace_strict(LANE_OF, default=None, return_dtype=pl.String)
    marked = (has_key(rows.with_row_index("_i"), cited, "_cited")
              .with_columns(lane.alias("_lane"), _style().alias("_style")).filter(pl.col("_lane").is_not_null()))
    if not marked.height:
        return []
    group = ["_lane", "_style"]
    x = scale.x_expr(pl.col("ts_utc"))
    ordered = (marked.with_columns(pl.col("_i").min().over(group).alias("_first"))
               .sort("_first", "ts_utc", maintain_order=True).with_columns(x.alias("_x")))
    gap = pl.col("_x") - pl.col("_x").shift(1).over(group)
    ordered = ordered.with_columns(gap.is_null().or_(gap > GAP_PX).cum_sum().alias("_cluster"))
    head = [pl.col(c).head(TOOLTIP_ROWS).alias(c) for c in ("ts_utc", "kind", "message", "expected")]
    out = (ordered.group_by("_cluster", maintain_order=True)
           .agg(pl.col("_lane").first().alias("lane"), pl.col("_style").first().alias("style"), pl.len().alias("n"),
                pl.col("ts_utc").first().alias("first"), pl.col("ts_utc").last().alias("last"),
                pl.col("_cited").any().alias("cited"), *head)).drop("_cluster").to_dicts()
    out.sort(key=lambda c: c["style"] in ("fail", "drop"))  # faults drawn last, on top
    return out


class _Scale:
    """The chart's time axis: the attempt's span (plus its rows), padded, onto pixels."""

    def __init__(self, rows: pl.DataFrame, start: dt.datetime, end: dt.datetime):
        times = [t for t in (rows.get_column("ts_utc").min(), rows.get_column("ts_utc").max()) if t is not None]
        t0, t1 = min([*times, start, end]), max([*times, start, end])
        span = max((t1 - t0).total_seconds(), 1.0)
        pad = span * 0.02
        self.t0, self.span = t0 - dt.timedelta(seconds=pad), span + 2 * pad

    def x(self, ts: dt.datetime) -> float:
        return GUTTER + (ts - self.t0).total_seconds() / self.span * (WIDTH - GUTTER - RIGHT)

    def x_expr(self, ts: pl.Expr) -> pl.Expr:
        """:meth:`x` of a column of times."""
        seconds = (ts - pl.lit(self.t0)).dt.total_microseconds() / 1_000_000
        return GUTTER + seconds / self.span * (WIDTH - GUTTER - RIGHT)


def _lane_tops() -> tuple[dict[str, float], float]:
    tops, y = {}, TOP
    for lane, _ in LANES:
        tops[lane] = y
        y += PHASE_LANE_H if lane == "restore" else LANE_H
    return tops, y


def _background(scale: _Scale, tops: dict[str, float], bottom: float, t: dict) -> list[str]:
    """Lane stripes with their names, the time grid and the axis labels."""
    out = []
    for i, (lane, _) in enumerate(LANES):
        h = PHASE_LANE_H if lane == "restore" else LANE_H
        out.append(f'<rect class="lane" x="0" y="{tops[lane]}" width="{WIDTH}" height="{h}" '
                   f'fill="{"#fafbfc" if i % 2 else "#ffffff"}"/>')
        out.append(f'<text x="8" y="{tops[lane] + h / 2 + 4:.0f}" fill="#333" font-weight="600">'
                   f'{esc(t["lanes"][lane])}</text>')
    day = scale.t0.date()
    for tick in _ticks(scale.t0, scale.span):
        x = scale.x(tick)
        label = tick.strftime("%H:%M:%S") if tick.date() == day else tick.strftime("%m-%d %H:%M")
        day = tick.date()
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" stroke="#e3e7ec"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#555">{label}</text>')
    out.append(f'<text x="8" y="{bottom + 16}" fill="#555">{esc(scale.t0.strftime("%Y-%m-%d"))} {esc(t["utc"])}</text>')
    return out


#: The chart's width for the time axis, in pixels: no more phase segments than this are drawn.
PLOT_PX = WIDTH - GUTTER - RIGHT


def _phase_rows(rows: pl.DataFrame, scale: _Scale) -> tuple[list[dict], int]:
    """The phase/state rows that open a segment of the band, and how many there are in all. Beyond
    one per pixel (a bench log's attempt holds tens of thousands), only the first of each pixel: the
    others could not be seen (the chart says so, :func:`band_note`)."""
    phases = rows.filter(pl.col("kind").is_in(list(PHASE_KINDS)) & pl.col("attempt").is_not_null())
    total = phases.height
    if total > PLOT_PX:
        pixel = scale.x_expr(pl.col("ts_utc")).floor()
        phases = phases.filter(pixel.ne_missing(pixel.shift(1)))
    return phases.select("ts_utc", "kind", "subject", "message").to_dicts(), total


def band_note(drawn: int, total: int, t: dict) -> str:
    """The note under a chart whose phase band draws fewer segments than it has rows ("" if all)."""
    return "" if drawn == total else f'<p class="meta">{esc(t["band_reduced"].format(drawn=drawn, total=total))}</p>'


def _phase_band(phases: list[dict], scale: _Scale, end: dt.datetime, top: float) -> list[str]:
    """Each phase/state row opens a segment that lasts until the next one."""
    band_y, out = top + 4, []
    for i, r in enumerate(phases):
        x0 = scale.x(r["ts_utc"])
        x1 = scale.x(phases[i + 1]["ts_utc"]) if i + 1 < len(phases) else scale.x(end)
        label = r.get("subject") or r.get("message") or r["kind"]
        w = max(x1 - x0, 1.0)
        out.append(f'<g class="phase"><title>{esc(r["ts_utc"].strftime("%H:%M:%S.%f")[:-3])} {esc(label)}</title>'
                   f'<rect x="{x0:.1f}" y="{band_y}" width="{w:.1f}" height="18" fill="{PHASE_FILLS[i % len(PHASE_FILLS)]}" '
                   f'stroke="#9fb3c8" stroke-width="0.5"/>')
        if w > 40:
            keep = int(w / 6.2)
            text = label if len(label) <= keep else label[: max(keep - 1, 1)] + "…"
            out.append(f'<text x="{x0 + 3:.1f}" y="{band_y + 13}" fill="#234">{esc(text)}</text>')
        out.append("</g>")
    return out


def _tooltip(cluster: dict, t: dict) -> str:
    lines = []
    for ts, kind, message, expected in zip(cluster["ts_utc"], cluster["kind"], cluster["message"], cluster["expected"]):
        note = f' ({t["expected"]})' if expected is True else (f' ({t["unexpected"]})' if expected is False else "")
        lines.append(f'{ts.strftime("%H:%M:%S.%f")[:-3]} [{kind}] {(message or "")[:160]}{note}')
    if cluster["n"] > TOOLTIP_ROWS:
        lines.append(f"+{cluster['n'] - TOOLTIP_ROWS} {t['more']}")
    if cluster["cited"]:
        lines.append(f"◀ {t['cited']}")
    return esc(chr(10).join(lines))


def _markers(rows: pl.DataFrame, scale: _Scale, tops: dict[str, float], cited: set[tuple], t: dict) -> list[str]:
    """One marker per cluster of a lane; a burst becomes a bar with its count."""
    clusters, out = _clusters(rows, scale, cited), []
    starts: dict[str, list[float]] = {}
    for c in clusters:
        starts.setdefault(c["lane"], []).append(scale.x(c["first"]))
    for c in clusters:
        lane, style, is_cited = c["lane"], c["style"], c["cited"]
        ys = tops[lane] + (36 if lane == "restore" else LANE_H / 2)
        xa, xb = scale.x(c["first"]), scale.x(c["last"])
        out.append(f'<g class="event{" cited" if is_cited else ""}"><title>{_tooltip(c, t)}</title>')
        if xb - xa > 2 and style not in ("fail", "transition", "drop"):
            colour = "#c62828" if style == "bad" else "#5472d3"
            ring = ' stroke="#111" stroke-width="2"' if is_cited else ""
            out.append(f'<rect class="m burst" x="{xa - 5:.1f}" y="{ys - 5:.1f}" width="{xb - xa + 10:.1f}" height="10" '
                       f'rx="5" fill="{colour}"{ring}/>')
        else:
            out.append(marker(style, (xa + xb) / 2, ys, is_cited))
        crowded = any(xb < other - 5 < xb + 26 for other in starts[lane])
        if c["n"] > 1 and not crowded:
            out.append(f'<text x="{xb + 8:.1f}" y="{ys + 4:.1f}" font-size="10" fill="#444">×{c["n"]}</text>')
        out.append("</g>")
    return out


def _start_and_failure(attempt: dict, scale: _Scale, bottom: float, t: dict) -> list[str]:
    xs = scale.x(attempt["started_at"])
    out = [f'<g class="start-marker"><line x1="{xs:.1f}" y1="{TOP - 4}" x2="{xs:.1f}" y2="{bottom}" stroke="#2e7d32" '
           f'stroke-width="1.5" stroke-dasharray="4 3"/><text x="{xs + 3:.1f}" y="{TOP - 8}" fill="#2e7d32">'
           f'{esc(t["start"])}</text></g>']
    failed = attempt.get("failed_at")
    if failed is not None:
        xf = scale.x(failed)
        code = attempt.get("error_code")
        label = f'✕ {t["failure"]}' + (f' ({t["error"]} {code})' if code is not None else "")
        anchor = "end" if xf > WIDTH - 200 else "start"
        dx = -6 if anchor == "end" else 6
        out.append(f'<g class="failure-marker"><title>{esc(failed.isoformat())} {esc(label)}</title>'
                   f'<line x1="{xf:.1f}" y1="{TOP - 14}" x2="{xf:.1f}" y2="{bottom}" stroke="#c62828" stroke-width="2.5"/>'
                   f'<polygon points="{xf - 6:.1f},{TOP - 20} {xf + 6:.1f},{TOP - 20} {xf:.1f},{TOP - 12}" fill="#c62828"/>'
                   f'<text x="{xf + dx:.1f}" y="{TOP - 12}" text-anchor="{anchor}" fill="#c62828" font-weight="700">'
                   f'{esc(label)}</text></g>')
    return out


def timeline_svg(rows: pl.DataFrame, attempt: dict, cited: set[tuple], t: dict) -> str:
    """One attempt's chart: phase band, swim lanes, start and failure markers, a UTC axis; a note
    under it when its phase band is reduced to one segment per pixel."""
    start = attempt["started_at"]
    end = attempt.get("failed_at") or attempt["ended_at"] or start
    scale = _Scale(rows, start, end)
    tops, bottom = _lane_tops()
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {bottom + AXIS_H}" role="img" '
           f'font-family="system-ui,sans-serif" font-size="11" class="timeline">']
    out += _background(scale, tops, bottom, t)
    phases, total = _phase_rows(rows, scale)
    out += _phase_band(phases, scale, end, tops["restore"])
    out += _markers(rows, scale, tops, cited, t)
    out += _start_and_failure(attempt, scale, bottom, t)  # drawn last so they sit on top
    out.append("</svg>")
    return "".join(out) + band_note(len(phases), total, t)


def legend(t: dict) -> str:
    items = [("ok", t["legend_ok"]), ("bad", t["legend_bad"]), ("transition", t["legend_transition"]),
             ("drop", t["legend_drop"]), ("fail", t["failure"])]
    parts = [f'<span><svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">{marker(s, 8, 8, False, "key")}'
             f'</svg> {esc(label)}</span>' for s, label in items]
    parts.append(f'<span><svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">{marker("ok", 8, 8, True, "key")}'
                 f'</svg> {esc(t["cited"])}</span>')
    return '<div class="legend">' + "".join(parts) + "</div>"
