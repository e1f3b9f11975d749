"""The per-attempt timeline chart of the HTML report, drawn here as inline SVG text.

Why server-side SVG and no script: the chart then shows in any browser, in a
mail client's preview and on paper, the page can forbid scripts outright
(Content-Security-Policy), and every piece of log text reaches the markup
through one escaping function. Dense lanes (thousands of firewall drops) are
merged into one marker per few pixels, whose tooltip counts what it stands for.

What is drawn comes reduced (:mod:`analyzer.report.chart_marks`: clusters, one phase segment per
pixel at most), so a bench log's attempt of hundreds of thousands of rows costs a chart's worth of
Python, not a row's worth each.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from .safe import shown
from .chart_marks import TOOLTIP_ROWS, WIDTH, Marks, Scale, chart_end, clusters, phase_rows
from .html_assets import LANES

TOP, LANE_H, PHASE_LANE_H, AXIS_H = 30, 34, 50, 28
PHASE_FILLS = ("#dbe7f6", "#e4f1e1", "#f3e8f7", "#fdf0d9", "#e0f2f1", "#f1e3de")
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def esc(text) -> str:
    """HTML/XML-escape any value (None becomes empty), control characters and bidi overrides shown
    as their escapes (:func:`analyzer.report.safe.shown`): the one way log text reaches the page."""
    return escape(shown(text), quote=True)


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


def _lane_tops() -> tuple[dict[str, float], float]:
    tops, y = {}, TOP
    for lane, _ in LANES:
        tops[lane] = y
        y += PHASE_LANE_H if lane == "restore" else LANE_H
    return tops, y


def _background(scale: Scale, tops: dict[str, float], bottom: float, t: dict) -> list[str]:
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


def band_note(drawn: int, total: int, t: dict) -> str:
    """The note under a chart whose phase band draws fewer segments than it has rows ("" if all)."""
    return "" if drawn == total else f'<p class="meta">{esc(t["band_reduced"].format(drawn=drawn, total=total))}</p>'


def _phase_band(phases: list[dict], scale: Scale, end: dt.datetime, top: float) -> list[str]:
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


def _markers(marks: Marks, scale: Scale, tops: dict[str, float], t: dict) -> list[str]:
    """One marker per cluster of a lane; a burst becomes a bar with its count."""
    chained, out = clusters(marks, scale), []
    starts: dict[str, list[float]] = {}
    for c in chained:
        starts.setdefault(c["lane"], []).append(scale.x(c["first"]))
    for c in chained:
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


def _start_and_failure(attempt: dict, scale: Scale, bottom: float, t: dict) -> list[str]:
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


def timeline_svg(marks: Marks, scale: Scale, attempt: dict, t: dict) -> str:
    """One attempt's chart (its :mod:`~analyzer.report.chart_marks` on ``scale``): phase band, swim
    lanes, start and failure markers, a UTC axis; a note under it when its phase band is reduced to
    one segment per pixel."""
    end = chart_end(attempt)
    tops, bottom = _lane_tops()
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {bottom + AXIS_H}" role="img" '
           f'font-family="system-ui,sans-serif" font-size="11" class="timeline">']
    out += _background(scale, tops, bottom, t)
    phases, total = phase_rows(marks)
    out += _phase_band(phases, scale, end, tops["restore"])
    out += _markers(marks, scale, tops, t)
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
