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
  rows are left out of the tables, as in the terminal report.
"""

from __future__ import annotations

from pathlib import Path

from ..correlate import window_rows
from ..model import from_iso
from .html_assets import CSS, LANE_OF
from .html_svg import esc as _e, legend, timeline_svg
from .fleet_rows import fleet_tables
from .i18n import Catalogue
from .json_doc import document
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


def _window(events, attempt: dict) -> list[dict]:
    """The attempt's rows of the evidence window (:func:`analyzer.correlate.window_rows`) that
    can be drawn: those with a time, of a kind that has a lane (progress feeds the phase band)."""
    rows = window_rows(events, attempt).to_dicts()
    return [{**r, "kind": str(r["kind"])} for r in rows
            if r["ts_utc"] is not None and (str(r["kind"]) in LANE_OF or str(r["kind"]) == "progress")]


def _rows_table(rows: list[dict], cited: set[tuple], t: dict) -> str:
    c = t["cols"]
    shown = [r for r in rows if r["kind"] != "progress"]
    head = (f'<details><summary>{_e(t["rows"])} ({len(shown)})</summary><table class="events"><tr><th>{_e(c["time"])}'
            f'</th><th>{_e(c["lane"])}</th><th>{_e(c["kind"])}</th><th>{_e(c["text"])}</th><th>{_e(c["source"])}</th></tr>')
    body = []
    for r in shown[:MAX_TABLE_ROWS]:
        key = (r["file"], r.get("line"), r.get("record"))
        cls = "failed" if r["kind"] == "result" and (r.get("error_code") or 0) != 0 else ("cited" if key in cited else "")
        note = f' ({t["expected"]})' if r.get("expected") is True else (
            f' ({t["unexpected"]})' if r.get("expected") is False else "")
        body.append(f'<tr class="{cls}"><td class="t">{_e(r["ts_utc"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])}</td>'
                    f'<td>{_e(t["lanes"][LANE_OF[r["kind"]]])}</td><td>{_e(r["kind"])}</td>'
                    f'<td class="msg">{_e(r.get("message"))}{_e(note)}{" ◀" if key in cited else ""}</td>'
                    f'<td class="msg">{_e(_where(r))}</td></tr>')
    tail = f'<p class="meta">{_e(t["shown"].format(n=MAX_TABLE_ROWS))}</p>' if len(shown) > MAX_TABLE_ROWS else ""
    return head + "".join(body) + "</table>" + tail + "</details>"


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
    out = [f'<h2 id="coverage">{_e(t["coverage"])}</h2><table class="coverage"><tr>'
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
    cols = ("host", "device", "started", "outcome", "code", "encrypted", "size", "source")
    out = [f'<h2 id="backups">{_e(cat["terminal.backups"])}</h2><table class="fleet"><tr>'
           + "".join(f'<th>{_e(cat[f"terminal.col_backup_{c}"])}</th>' for c in cols) + "</tr>"]
    for b in doc["backups"]:
        device = " ".join(x for x in (b["device_name"], f"({b['udid']})" if b["udid"] else None) if x) or "?"
        outcome = cat.section("outcome").get(b["outcome"], b["outcome"])
        encrypted = {True: cat["common.yes"], False: cat["common.no"]}.get(b["encrypted"], "")
        cells = (b["host"], device, b["started_at"] or "", outcome, "" if b["error_code"] is None else b["error_code"],
                 encrypted, "" if b["size_bytes"] is None else b["size_bytes"], b["file"])
        cls = ' class="failed"' if b["outcome"] == "failed" else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return "".join(out) + "</table>"


def _fleet(doc: dict, t: dict) -> str:
    """The fleet summary as tables (only when more than one PC was analysed)."""
    fleet = doc.get("fleet") or {}
    if fleet.get("host_count", 0) < 2:
        return ""
    out = [f'<h2 id="fleet">{_e(t["fleet"])}: {_e(fleet["host_count"])} PCs, {_e(fleet["failing_hosts"])} '
           f'{_e(t["fleet_failing"])}</h2>']
    for name, rows in fleet_tables(fleet).items():
        cols = list(rows[0])
        out.append(f'<h3>{_e(t["fleet_tables"].get(name, name))}</h3><table class="fleet"><tr>'
                   + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>")
        out.extend("<tr>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
        out.append("</table>")
    return "".join(out)


def render_html(analysis, lang: str = "en") -> str:
    """The whole page as text."""
    cat = Catalogue(lang)
    t = {**cat.section("html"), "outcome": cat.section("outcome"), "error": cat["common.error"],
         "confidence": cat["common.confidence"], "more": cat["common.more"]}
    doc = document(analysis, lang)
    s = doc["summary"]
    cited = {(e["file"], e.get("line"), e.get("record")) for i in doc["incidents"] for e in i["evidence"]}
    incidents = {(i["host"], i["file"], i["attempt"]): i for i in doc["incidents"]}
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
    out.append(_fleet(doc, t))
    if not doc["attempts"]:
        out.append(f"<p>{_e(t['no_attempts'])}</p>")
    elif not doc["incidents"]:
        out.append(f"<p>{_e(t['no_incident'])}</p>")
    for n, a in enumerate(doc["attempts"], 1):
        attempt = {**a, **{k: from_iso(a[k]) for k in ("started_at", "ended_at", "failed_at", "window_start",
                                                         "window_end")}}
        outcome = t["outcome"].get(a["outcome"], a["outcome"])
        out.append(f'<section class="attempt" id="attempt-{n}"><h2>{_e(a["host"])} — {_e(cat.what(a))} '
                   f'({_e(outcome)})</h2>')
        if attempt["started_at"] is not None:
            rows = _window(analysis.events, attempt)
            out.append(f'<h3>{_e(t["timeline"])}</h3><div class="chart">{timeline_svg(rows, attempt, cited, t)}</div>')
            out.append(legend(t) + _rows_table(rows, cited, t))
        else:
            out.append(f'<p class="warn">{_e(t["no_chart"])}</p>')
        inc = incidents.get((a["host"], a["file"], a["attempt"]))
        if inc:
            out.append(_verdict(inc, t, cat))
        out.append("</section>")
    out.append(_backups(doc, cat))
    out.append(_coverage(doc["files"], t))
    out.append(f'<footer>{_e(t["generated"])} {_e(doc["analyzer"])}</footer></body></html>')
    return "".join(out)


def write_html(analysis, path: Path, lang: str = "en") -> None:
    atomic_write(path, render_html(analysis, lang=lang).encode("utf-8"))
