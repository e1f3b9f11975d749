"""``--html PATH``: one self-contained page for review: timelines, verdicts, evidence, remedies, coverage.

Why it is built this way:

* it renders :func:`analyzer.report.json_doc.document` (plus the event table for
  the swim lanes), so it can never say something the JSON document does not;
* one file, no network: CSS and SVG are inline, there is no script, no font or
  image fetch, and a Content-Security-Policy of ``default-src 'none'`` makes the
  browser refuse any request the markup might still contain;
* every string that came from a log or a file name passes through one escaping
  function (:func:`analyzer.report.html_svg.esc`), so a log line such as
  ``<script>…</script>`` stays text. The swim-lane rows shown are the same
  window the diagnosis looked at (``PRE_S``/``POST_S``); generic and progress
  rows are left out of the tables, as in the terminal report. Configuration with no time of its own
  (a hosts entry) is a table above the timeline, never a mark on its axis.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..model import from_iso
from .html_assets import CSS, LANE_OF
from .html_svg import esc as _e, legend, timeline_svg
from ..fleet import FAILURE_FREE
from .fleet_terminal import summary_text
from .config_rows import config_rows, entry_words
from .i18n import Catalogue
from .json_doc import document
from .many import by_host, rest_text, shown_attempts
from .chart_marks import ChartFold, axis
from .marks import counted_keys, with_counted
from .shown_rows import attempt_key, fold, host_runs
from .verdict_words import backup_note, band
from .write import atomic_write

MAX_TABLE_ROWS = 400
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _path(text: str) -> str:
    """An escaped path that may wrap after each folder separator."""
    return _e(text).replace("/", "/<wbr>").replace("\\", "\\<wbr>")


def _where(item: dict) -> str:
    if item.get("line") is not None:
        return f'{item["file"]}:{item["line"]}'
    return f'{item["file"]} #{item.get("record")}' if item.get("record") is not None else item["file"]


#: The columns of the event table the chart and the rows table read.
_DRAWN = ["host", "ts_utc", "file", "line", "record", "attempt", "kind", "expected", "error_code", "subject", "message"]


def _rows_table(rows: pl.DataFrame, count: int, cited: set[tuple], t: dict) -> str:
    """The first rows of an attempt's window that have a lane (:class:`~analyzer.report.shown_rows.Shown`:
    at most MAX_TABLE_ROWS), under a heading that counts them all."""
    c = t["cols"]
    head = (f'<details><summary>{_e(t["rows"])} ({count})</summary><table class="events"><tr><th>{_e(c["time"])}'
            f'</th><th>{_e(c["lane"])}</th><th>{_e(c["kind"])}</th><th>{_e(c["text"])}</th><th>{_e(c["source"])}</th></tr>')
    body = []
    for r in rows.to_dicts():
        key = (r["file"], r.get("line"), r.get("record"))
        cls = "failed" if r["kind"] == "result" and (r.get("error_code") or 0) != 0 else ("cited" if key in cited else "")
        note = f' ({t["expected"]})' if r.get("expected") is True else (
            f' ({t["unexpected"]})' if r.get("expected") is False else "")
        body.append(f'<tr class="{cls}"><td class="t">{_e(r["ts_utc"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])}</td>'
                    f'<td>{_e(t["lanes"][LANE_OF[r["kind"]]])}</td><td>{_e(r["kind"])}</td>'
                    f'<td class="msg">{_e(r.get("message"))}{_e(note)}{" ◀" if key in cited else ""}</td>'
                    f'<td class="msg">{_e(_where(r))}</td></tr>')
    tail = f'<p class="meta">{_e(t["shown"].format(n=MAX_TABLE_ROWS))}</p>' if count > MAX_TABLE_ROWS else ""
    return head + "".join(body) + "</table>" + tail + "</details>"


def _timelines(analysis, attempts: list[dict], cited: set[tuple], counted: set[tuple], t: dict) -> dict[tuple, str]:
    """Each dated attempt's chart and rows table, from two reads of the rows near the attempts
    (:meth:`~analyzer.api.Analysis.timeline_pieces`, a piece at a time): the first finds each
    window's first rows, count and span (:class:`~analyzer.report.shown_rows.FirstRows`), the second
    folds its rows into the marks drawn on that span (:class:`~analyzer.report.chart_marks.ChartFold`).
    What is held is what is shown: a 14M-line attempt read whole to be drawn held 5.3 GB."""
    dated = [a for a in attempts if a["started_at"] is not None]
    if not dated:
        return {}
    table = shown_attempts(analysis.attempts, dated)

    def pieces():
        return analysis.timeline_pieces(table, LANE_OF, columns=[*_DRAWN, "usb_vid", "detail"])
    drawn = pl.col("kind").cast(pl.String).is_in(list(LANE_OF)) & pl.col("ts_utc").is_not_null()
    first = fold(pieces(), dated, drawn, MAX_TABLE_ROWS)
    views = [(a, first.of(a)) for a in dated]
    charts = [ChartFold(a, axis(a, view.first, view.last), cited, counted, first.side) for a, view in views]
    of_host: dict[str, list[ChartFold]] = {}
    for a, chart in zip(dated, charts):
        of_host.setdefault(a["host"], []).append(chart)
    for piece in pieces():
        for host, rows in host_runs(piece):
            for chart in of_host.get(host, ()):
                chart.add(rows)
    out = {}
    for (a, view), chart in zip(views, charts):
        rows = with_counted(view.rows.with_columns(pl.col("kind").cast(pl.String)), counted)
        out[attempt_key(a)] = (f'<h3>{_e(t["timeline"])}</h3><div class="chart">'
                               f'{timeline_svg(chart.marks(), chart.scale, a, t)}</div>'
                               + legend(t) + _rows_table(rows, view.count, cited, t))
    return out


def _config(analysis, host: str, cited: set[tuple], cat: Catalogue) -> str:
    """The PC's configuration found (hosts entries, :mod:`analyzer.report.config_rows`): it has no time,
    so it is a table above the timeline, never a mark on its time axis."""
    rows = config_rows(analysis, host)
    if not rows:
        return ""
    out = [f'<h3>{_e(cat["config.title"])}</h3><table class="events config"><tr><th>{_e(cat["config.col_what"])}</th>'
           f'<th>{_e(cat["config.col_entry"])}</th><th>{_e(cat["config.col_source"])}</th></tr>']
    for r in rows[:MAX_TABLE_ROWS]:
        mark = (r["file"], r.get("line"), r.get("record")) in cited
        out.append(f'<tr class="{"cited" if mark else ""}"><td>{_e(cat["config." + str(r["kind"])])}</td>'
                   f'<td class="msg">{_e(entry_words(r, cat))}{" ◀" if mark else ""}</td><td class="msg">{_e(_where(r))}</td></tr>')
    return "".join(out) + "</table>"


def _verdict(inc: dict, t: dict, cat: Catalogue) -> str:
    c = t["cols"]
    cause = inc["cause"]["id"]
    conf = float(inc["cause"]["confidence"])
    code = "" if inc["error_code"] is None else f' · {_e(t["error"])} {_e(inc["error_code"])}'
    out = [f'<section class="verdict {_e(cause)}"><h3>{_e(t["verdict"])}</h3>',
           f'<div class="cause">{_e(cat.cause(cause))} <small>({_e(cause)})</small></div>',
           f'<div>{_e(t["confidence"])} <span class="meter"><i style="width:{conf * 100:.0f}%"></i></span>'
           f'{conf:.2f}{code}</div>']
    if inc.get("code_meaning"):
        out.append(f'<p class="meta">{_e(t["error"])} {_e(inc["error_code"])}: {_e(inc["code_meaning"])} '
                   f'({_e(cat.text("common.grade", grade=inc.get("code_grade")))})</p>')
    if inc.get("space"):  # a backup refused for disk space: free against needed
        out.append(f'<p class="meta">{_e(inc["space"]["text"])}</p>')
    for u in inc.get("underlying_codes", []):
        if u.get("depth", 0) > 0:
            out.append(f'<p class="meta">{_e(cat.text("common.underlying", depth=u.get("depth"), code=u.get("code"), text=u.get("text", "")))}</p>')
    if cat.related(inc.get("related_attempts", [])):
        out.append(f'<p class="meta">{_e(cat.related(inc["related_attempts"]))}</p>')
    out.append(f'<h3>{_e(t["evidence"])}</h3><table class="evidence"><tr><th>{_e(c["time"])}</th><th>{_e(c["kind"])}'
               f'</th><th>{_e(c["text"])}</th><th>{_e(c["source"])}</th><th>{_e(t["rule"])}</th></tr>')
    for ev in inc["evidence"]:
        out.append(f'<tr><td class="t">{_e(ev.get("ts"))}</td><td>{_e(ev["kind"])}</td><td class="msg">{_e(ev.get("text"))}'
                   f'</td><td class="msg">{_e(_where(ev))}</td><td>{_e(ev.get("rule", ""))}</td></tr>')
    out.append(f'</table><h3>{_e(t["considered"])}</h3><table class="alternatives"><tr><th>{_e(t["cause"])}</th>'
               f'<th>{_e(t["confidence"])}</th><th>{_e(t["why_not"])}</th></tr>')
    for alt in inc["alternatives"]:
        out.append(f'<tr><td>{_e(cat.cause(alt["id"]))}</td><td class="n">{float(alt["confidence"]):.2f}</td>'
                   f'<td>{_e(alt["why_not"])}</td></tr>')
    out.append("</table>")
    if inc.get("missing"):
        out.append(f'<h3>{_e(t["missing"])}</h3><ul>' + "".join(f"<li>{_e(m)}</li>" for m in inc["missing"]) + "</ul>")
    out.append(f'<h3>{_e(t["remedy"])}</h3><ol class="remedy">'
               + "".join(f"<li>{_e(step)}</li>" for step in inc["remedy"]) + "</ol></section>")
    return "".join(out)


def _coverage(files: list[dict], t: dict) -> str:
    c = t["cols"]
    cols = ("host", "file", "format", "status", "size", "encoding", "records", "events", "skipped", "unrecognised", "notes")
    # fixed widths (percent of the page), so long paths and notes wrap instead of widening the page
    widths = (10, 22, 10, 7, 6, 6, 5, 5, 5, 6, 18)
    out = [f'<h2 id="coverage">{_e(t["coverage"])}</h2><table class="coverage"><colgroup>'
           + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup><tr>"
           + "".join(f"<th>{_e(c[k])}</th>" for k in cols) + "</tr>"]
    for f in files:
        status = f["status"]
        notes = "<br>".join(f'{_e(_where({"file": n["file"], "line": n.get("line"), "record": n.get("record")}))}: '
                            f'{_e(n["message"])}' for n in f["errors"][:5])
        if len(f["errors"]) > 5:
            notes += f'<br>+{len(f["errors"]) - 5} {_e(t["more"])}'
        out.append(f'<tr><td>{_e(f.get("host"))}</td><td class="msg">{_path(f["path"])}</td><td>{_e(f["format"] or "—")}</td>'
                   f'<td class="status-{status}">{_e(t["status"][status])}</td><td class="n">{_e(f["size"])}</td>'
                   f'<td>{_e(f.get("encoding") or "")}</td>'
                   + "".join(f'<td class="n">{_e(f[k])}</td>' for k in ("records", "events", "skipped", "unrecognised"))
                   + f"<td>{notes}</td></tr>")
    return "".join(out) + "</table>"


def _backups(doc: dict, cat) -> str:
    """Each device's backups, oldest first (the JSON document's ``backups``)."""
    if not doc["backups"]:
        return ""
    cols = ("host", "device", "started", "outcome", "code", "encrypted", "size", "source", "note")
    out = [f'<h2 id="backups">{_e(cat["terminal.backups"])}</h2><table class="fleet"><tr>'
           + "".join(f'<th>{_e(cat[f"terminal.col_backup_{c}"])}</th>' for c in cols) + "</tr>"]
    for b in doc["backups"]:
        device = " ".join(x for x in (b["device_name"], f"({b['udid']})" if b["udid"] else None) if x) or "?"
        outcome = cat.section("outcome").get(b["outcome"], b["outcome"])
        encrypted = {True: cat["common.yes"], False: cat["common.no"]}.get(b["encrypted"], "")
        cells = (b["host"], device, b["started_at"] or "", outcome, "" if b["error_code"] is None else b["error_code"],
                 encrypted, "" if b["size_bytes"] is None else b["size_bytes"], b["file"], backup_note(b, cat))
        cls = ' class="failed"' if b["outcome"] == "failed" else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return "".join(out) + "</table>"


#: A verdict's mark beside its words: failure, undetermined, no failure, nothing to read.
MARKS = {"failed": "✖", "undetermined": "?", "ok": "✔", "none": "–"}


def _verdict_cell(h: dict, cat: Catalogue) -> str:
    """A PC's verdict in words, coloured and marked by what it is (the id stays in the JSON)."""
    verdict = h["verdict"]
    if verdict in FAILURE_FREE:
        kind, words = ("ok" if verdict == "ok" else "none"), cat[f"words.verdict_{verdict}"]
    elif verdict == "undetermined":
        kind, words = "undetermined", cat["words.verdict_undetermined"]
    else:
        kind, words = "failed", cat.cause(verdict)
        if h["confidence"] is not None:
            words += f" — {band(h['confidence'], cat)} ({h['confidence']:.2f})"
    return f'<td class="v-{kind}"><span class="mark">{MARKS[kind]}</span> {_e(words)}</td>'


def _fleet(doc: dict, t: dict, cat: Catalogue) -> str:
    """The fleet summary as tables with human headers (only when more than one PC was analysed)."""
    fleet = doc.get("fleet") or {}
    if fleet.get("host_count", 0) < 2:
        return ""
    c = t["fleet_cols"]
    out = [f'<h2 id="fleet">{_e(cat.text("fleet.fleet", hosts=fleet["host_count"], failing=fleet["failing_hosts"]))}</h2>',
           f'<p class="meta">{_e(summary_text(fleet, cat))}</p>',
           f'<h3>{_e(t["fleet_tables"]["hosts"])}</h3><table class="fleet"><tr>'
           + "".join(f"<th>{_e(c[k])}</th>" for k in ("host", "verdict", "codes", "failed", "last", "computers"))
           + "</tr>"]
    for h in fleet["hosts"]:
        out.append(f'<tr><td>{_e(h["host"])}</td>{_verdict_cell(h, cat)}'
                   f'<td>{_e(", ".join(str(x) for x in h["error_codes"]))}</td><td class="n">{h["failed"]}/{h["attempts"]}</td>'
                   f'<td class="t">{_e((h["last_failure"] or "").replace("T", " ")[:16])}</td>'
                   f'<td>{_e(", ".join(h["computers"]))}</td></tr>')
    out.append("</table>")
    if fleet["causes"]:
        out.append(f'<h3>{_e(t["fleet_tables"]["causes"])}</h3><table class="fleet"><tr><th>{_e(c["cause"])}</th>'
                   f'<th>{_e(c["pcs"])}</th><th>{_e(c["incidents"])}</th><th>{_e(c["hosts"])}</th></tr>')
        out.extend(f'<tr><td>{_e(cat.cause(x["cause"]))}</td><td class="n">{x["host_count"]}</td>'
                   f'<td class="n">{x["incidents"]}</td><td>{_e(", ".join(x["hosts"]))}</td></tr>' for x in fleet["causes"])
        out.append("</table>")
    if fleet["shared_factors"]:
        out.append(f'<h3>{_e(t["fleet_tables"]["shared_factors"])}</h3><table class="fleet"><tr><th>{_e(c["factor"])}'
                   f'</th><th>{_e(c["value"])}</th><th>{_e(c["failing_pcs"])}</th><th>{_e(c["other_pcs"])}</th></tr>')
        out.extend(f'<tr><td>{_e(cat.section("fleet.factor").get(x["factor"], x["factor"]))}</td><td>{_e(x["value"])}</td>'
                   f'<td class="n">{x["failing_hosts"]}/{x["of_failing"]}</td><td class="n">{x["other_hosts"]}/{x["of_other"]}'
                   f'</td></tr>' for x in fleet["shared_factors"])
        out.append("</table>")
    if fleet["time_clusters"]:
        out.append(f'<h3>{_e(t["fleet_tables"]["time_clusters"])}</h3><table class="fleet"><tr><th>{_e(c["window"])}'
                   f'</th><th>{_e(c["from"])}</th><th>{_e(c["pcs"])}</th><th>{_e(c["causes"])}</th></tr>')
        out.extend(f'<tr><td>{_e(cat["fleet.window_" + x["window"]])}</td><td class="t">{_e(x["start"].replace("T", " ")[:16])}'
                   f'</td><td class="n">{x["host_count"]}</td><td>{_e(", ".join(f"{cat.cause(k)} {v}" for k, v in x["causes"].items()))}'
                   f'</td></tr>' for x in fleet["time_clusters"])
        out.append("</table>")
    out.append(_network_clusters(fleet, t, cat))
    return "".join(out)


def _network_clusters(fleet: dict, t: dict, cat: Catalogue) -> str:
    """Failures with a network cause bunched in time across PCs (``fleet.network_clusters``): the network
    they share, or Apple's side."""
    if not fleet.get("network_clusters"):
        return ""
    c = t["fleet_cols"]
    out = [f'<h3>{_e(t["fleet_tables"]["network_clusters"])}</h3><table class="fleet"><tr><th>{_e(c["window"])}</th>'
           f'<th>{_e(c["from"])}</th><th>{_e(c["pcs"])}</th><th>{_e(c["causes"])}</th><th>{_e(c["hosts"])}</th></tr>']
    out.extend(f'<tr><td>{_e(cat["fleet.window_" + x["window"]])}</td><td class="t">{_e(x["start"].replace("T", " ")[:16])}</td>'
               f'<td class="n">{x["host_count"]}</td><td>{_e(", ".join(f"{cat.cause(k)} {v}" for k, v in x["causes"].items()))}'
               f'</td><td>{_e(", ".join(x["hosts"]))}</td></tr>' for x in fleet["network_clusters"])
    return "".join(out) + "</table>"


def render_html(analysis, lang: str = "en") -> str:
    """The whole page as text."""
    cat = Catalogue(lang)
    t = {**cat.section("html"), "outcome": cat.section("outcome"), "error": cat["common.error"],
         "confidence": cat["common.confidence"], "more": cat["common.more"]}
    doc = document(analysis, lang)
    s = doc["summary"]
    cited = {(e["file"], e.get("line"), e.get("record")) for i in doc["incidents"] for e in i["evidence"]}
    incidents = {(i["host"], i["file"], i["attempt"]): i for i in doc["incidents"]}
    counted = counted_keys(doc["incidents"])
    out = [f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f'<meta name="referrer" content="no-referrer"><title>{_e(t["title"])}</title><style>{CSS}</style></head><body>',
           f'<h1>{_e(t["title"])}</h1><p class="meta">{_e(t["generated"])} {_e(doc["analyzer"])} · '
           f'{_e(t["document"])} {_e(doc["version"])} · {_e(t["hosts"])}: {_e(", ".join(doc["hosts"]))}</p>'
           f'<div class="summary">']
    for key in ("files", "recognised", "events", "attempts", "incidents"):
        out.append(f'<div><b>{_e(s[key])}</b>{_e(t[key])}</div>')
    out.append("</div>")
    if s["partial"]:
        out.append(f'<p class="warn"><a href="#coverage">{_e(t["partial"])}</a></p>')
    out.append(_fleet(doc, t, cat))
    if not doc["attempts"]:
        out.append(f"<p>{_e(t['no_attempts'])}</p>")
    elif not doc["incidents"]:
        out.append(f"<p>{_e(t['no_incident'])}</p>")
    attempts = [{**a, "cause": (incidents.get((a["host"], a["file"], a["attempt"])) or {}).get("cause", {}).get("id")}
                for a in doc["attempts"]]
    attempts, rest = by_host(attempts, lambda a: a["host"], lambda a: a["outcome"] == "failed")
    for name, left in rest.items():  # a bench PC: the latest attempts one by one, the rest counted
        out.append(f'<p class="warn">{_e(name)}: {_e(rest_text(left, cat))}</p>')
    timelines = _timelines(analysis, [{**a, **{k: from_iso(a[k]) for k in ("started_at", "ended_at", "failed_at",
                                                                        "window_start", "window_end")}}
                                      for a in attempts], cited, counted, t)
    configs: dict[str, str] = {}  # (each PC's read once, not once per attempt)
    for n, a in enumerate(attempts, 1):
        outcome = t["outcome"].get(a["outcome"], a["outcome"])
        out.append(f'<section class="attempt" id="attempt-{n}"><h2>{_e(a["host"])} — {_e(cat.what(a))} '
                   f'({_e(outcome)})</h2>')
        if a["host"] not in configs:
            configs[a["host"]] = _config(analysis, a["host"], cited, cat)
        out.append(configs[a["host"]])
        if a["started_at"] is not None:
            out.append(timelines[attempt_key(a)])
        else:
            out.append(f'<p class="warn">{_e(t["no_chart"])}</p>')
        inc = incidents.get((a["host"], a["file"], a["attempt"]))
        if inc:
            out.append(_verdict(inc, t, cat))
        elif a["outcome"] == "failed" and a.get("operation") == "backup":  # superseded, or a device-side copy
            out.append(f'<p class="meta">{_e(t["no_verdict_own"])}</p>')
        out.append("</section>")
    out.append(_backups(doc, cat))
    out.append(_coverage(doc["files"], t))
    out.append(f'<footer>{_e(t["generated"])} {_e(doc["analyzer"])}</footer></body></html>')
    return "".join(out)


def write_html(analysis, path: Path, lang: str = "en") -> None:
    atomic_write(path, render_html(analysis, lang=lang).encode("utf-8"))
