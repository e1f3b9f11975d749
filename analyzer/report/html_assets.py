"""Static parts of the HTML report: the style sheet and the swim-lane plan (its words are in the
catalogue, :mod:`analyzer.report.i18n`).

Why a separate module: the page must work offline from one file, so every
asset is inline text; keeping that text here keeps :mod:`analyzer.report.html`
about structure. Fonts are the reader's own (no web fonts); the style sheet has
no ``url()`` at all, so nothing can make the browser fetch anything.
"""

from __future__ import annotations

from ..kinds import KINDS, LANES as LANE_IDS, kinds_where, lane_of

#: Swim lanes, top to bottom: (id, event kinds), from the kinds' one declaration. The restore
#: lane carries the phase band.
LANES: tuple[tuple[str, tuple[str, ...]], ...] = tuple((lane, tuple(k for k in KINDS if lane_of(k) == lane))
                                                      for lane in LANE_IDS)
LANE_OF = {kind: lane for lane, kinds in LANES for kind in kinds}
#: Kinds that open a new segment of the phase band.
PHASE_KINDS = kinds_where(phase=True)
#: Kinds drawn in the alarm colour.
BAD_KINDS = set(kinds_where(alarm=True))

CSS = """
:root{--fg:#1d232b;--muted:#5b6573;--line:#d5dae1;--bg:#fff;--panel:#f6f8fa;--bad:#c62828;--warn:#e65100;
--ok:#2e7d32;--accent:#1f5fa8}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI","Meiryo","Yu Gothic UI","Yu Gothic",
"YuGothic","Hiragino Sans","Hiragino Kaku Gothic ProN","Noto Sans CJK JP","Noto Sans JP","Source Han Sans JP",sans-serif;
color:var(--fg);background:var(--bg);max-width:100%;overflow-wrap:anywhere}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid var(--line);
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.meta{color:var(--muted);margin:0 0 12px}.summary{display:flex;gap:12px;flex-wrap:wrap;margin:10px 0}
.summary div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:6px 12px}
.summary b{font-size:18px;display:block}
.warn{background:#fff4e5;border:1px solid #f0b36b;border-radius:6px;padding:8px 12px}
table{border-collapse:collapse;margin:6px 0 12px;width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600;overflow-wrap:normal}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.t{white-space:nowrap;font-variant-numeric:tabular-nums}td.msg{font-family:ui-monospace,Consolas,
"MS Gothic","Osaka-Mono","Noto Sans Mono CJK JP",monospace;font-size:12px;overflow-wrap:anywhere;min-width:12em}
table.coverage{table-layout:fixed}table.coverage td,table.coverage th{overflow-wrap:anywhere}
td.v-failed{color:var(--bad);font-weight:600}td.v-undetermined{color:var(--warn);font-weight:600}
td.v-ok{color:var(--ok)}td.v-none{color:var(--muted)}.mark{display:inline-block;width:1.2em;text-align:center}
tr.cited td{background:#fff8e1}tr.failed td{background:#fdecea}
.chart{border:1px solid var(--line);border-radius:6px;background:#fff;padding:4px;overflow-x:auto}
.chart svg{display:block;width:100%;min-width:760px;height:auto}
.legend{display:flex;gap:16px;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:4px 0}
.legend svg{vertical-align:middle}
.verdict{border:2px solid var(--bad);border-radius:8px;padding:10px 16px;margin:12px 0}
.verdict.undetermined{border-color:#f0b36b}
.cause{font-size:18px;font-weight:700}.cause small{font-weight:400;color:var(--muted)}
.meter{display:inline-block;width:160px;height:10px;background:var(--panel);border:1px solid var(--line);
border-radius:5px;vertical-align:middle;margin:0 6px;overflow:hidden}.meter i{display:block;height:100%;
background:var(--bad)}
.status-read{color:var(--ok)}.status-partial,.status-unreadable,.status-too_large,.status-parser_failed,
.status-missing{color:var(--warn);font-weight:600}.status-unrecognised,.status-empty{color:var(--muted);font-weight:600}
details summary{cursor:pointer;color:var(--accent)}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{body{padding:0}.chart{overflow:visible}details{display:block}}
"""
