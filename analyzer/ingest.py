"""Handing each input file to its source, and what the reports say about each.

Nothing is skipped silently: every file that is walked ends up with a
:class:`~analyzer.model.FileReport`, recognised or not, with the reason.
Input files are opened read-only and never modified. Which files there are and which PC each
belongs to is :mod:`analyzer.discover`.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import polars as pl

from . import grammars, paste, regions, walk
from .model import FileReport, Note, conform
from .sources import Input, Parsed, claimants, registry
from .sources._backup_folder import payload_root
from .sources._base import Excerpt, Segments
from .textio import line_list, looks_binary
from .discover import Located, discover  # noqa: F401 - discover is part of this module's interface

#: Text files above this size are reported, not read (evtx is streamed by the Rust parser and exempt).
MAX_TEXT_BYTES = 1 << 30


def parse_file(path: Path, display: str | None = None, host: str = "") -> Parsed:
    """Sniff and parse one file (its first part, when it holds several logs: see
    :func:`parse_parts`). Never raises: failures become the report's notes."""
    return parse_parts(path, display, host)[0]


def parse_parts(path: Path, display: str | None = None, host: str = "") -> list[Parsed]:
    """Every part of one file: the file read whole, or each log region and the lines outside them."""
    return parse_all([Located(path, display or str(path), host)])[0]


def _claim(path: Path, display: str, host: str) -> Parsed | tuple[Input, FileReport, object]:
    """Everything before the source's parser: a finished :class:`Parsed` when the file is not
    read (unreadable, empty, unrecognised, too large), else (input, report, source)."""
    item = Input(path=path, display=display)
    try:
        st = path.stat()
    except OSError as exc:  # gone since the walk, or not ours to read
        note = Note(display, "cannot_read", {"reason": exc.strerror or str(exc)})
        return Parsed(conform(None), FileReport(display, None, host=host, not_read="unreadable", errors=[note]))
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device put in its place: opening it could block forever
        return Parsed(conform(None), replace(walk.not_regular(display, st.st_mode), host=host))
    size = st.st_size
    report = FileReport(path=display, format=None, size=size, host=host)
    if display == walk.shown(path) != str(path):  # shown escaped: bytes not UTF-8, or control characters
        report.errors.append(Note(display, "name_escaped", severity="info"))
    if size == 0:
        report.errors.append(Note(display, "empty_file", severity="warning"))
        report.not_read = "empty"
        return Parsed(conform(None), report)
    try:
        item, names = _without_margin(item, claimants(item))
    except OSError as exc:
        report.errors.append(Note(display, "cannot_read", {"reason": exc.strerror or str(exc)}))
        report.not_read = "unreadable"
        return Parsed(conform(None), report)
    if item.margin is not None:
        report.margin = item.margin.describe()
        report.errors.append(Note(display, "margin_removed", {"margin": _shown(item.margin)}, severity="info"))
    if not names:
        if looks_binary(item.head):
            report.errors.append(Note(display, "unrecognised_binary", severity="warning"))
        else:
            first = item.head_text.strip().splitlines()[0][:80] if item.head_text.strip() else None
            report.errors.append(Note(display, "unrecognised_text", line=1 if first else None, excerpt=first,
                                      severity="warning"))
        return Parsed(conform(None), report)
    if len(names) > 1:
        report.errors.append(Note(display, "claimed_by_several", {"sources": ", ".join(names), "source": names[0]},
                                  severity="warning"))
    source = registry()[names[0]]
    if not source.binary and size > MAX_TEXT_BYTES:
        report.format = source.name
        report.errors.append(Note(display, "too_large", {"size": size, "limit": MAX_TEXT_BYTES}))
        report.skipped = 1
        report.not_read = "too_large"
        return Parsed(conform(None), report)
    return item, report, source


def _without_margin(item: Input, names: list[str]) -> tuple[Input, list[str]]:
    """The file read without its pasted margin (analyzer.paste), when that is right, and its claimants.

    A margin never turns a recognised log into an unrecognised one or into another format, and a
    prefix that is not mere decoration is removed only when that makes the file recognisable.
    """
    if looks_binary(item.head):
        return item, names
    margin = paste.detect(item.head_text)
    if margin is None:
        return item, names
    bare = Input(path=item.path, display=item.display, margin=margin)
    bare_names = claimants(bare)
    if names and (not bare_names or bare_names[0] != names[0]):
        return item, names
    if not margin.decorative and (names or not bare_names):
        return item, names
    if names and not _reads_more_lines(names[0], bare.head_text, item.head_text):
        return item, names  # ``>>>`` opens a setupapi section: it is not a quote mark
    return bare, bare_names


def _reads_more_lines(source: str, bare: str, given: str) -> bool:
    """Does the source's grammar recognise more lines of the head without the margin than with it?
    (Sources without a line grammar, the XML export, take it off: a margin is no part of XML.)"""
    try:
        grammar = grammars.load(source)
    except FileNotFoundError:
        return True
    lines = lambda text: line_list(text)[:paste.SAMPLE_LINES]
    return grammar.shape_count(lines(bare)) > grammar.shape_count(lines(given))


def _shown(margin: paste.Margin) -> str:
    """The margin as a report shows it: the prefix quoted, or what stands for it."""
    parts = [repr(margin.prefix)] if margin.prefix else []
    parts += ["line numbers"] if margin.gutter else []
    parts += ["' |' at the end"] if margin.suffix else []
    return " + ".join(parts)


def _finish(parsed: Parsed | Exception, report: FileReport, source, host: str, item: Input) -> Parsed:
    """The source's result for one file (or what it raised) with the run's columns and report fields,
    and the notes made before the source read it (a removed margin, several claimants) first."""
    display, size = report.path, report.size
    offset = item.first_line - 1 if isinstance(item, Excerpt) else 0
    if item.margin is not None and item.lacking_margin:
        lacking = item.lacking_margin
        report.errors.append(Note(display, "margin_lacking", {"count": len(lacking)}, line=lacking[0],
                                  severity="info"))
    if isinstance(parsed, Exception):
        report.format = source.name
        report.errors.append(Note(display, "parser_failed",
                                  {"source": source.name, "error": f"{type(parsed).__name__}: {parsed}"}))
        report.skipped = 1
        report.not_read = "parser_failed"
        return Parsed(conform(None), report)
    parsed.report.host = host
    parsed.report.path = display
    parsed.report.size = size
    parsed.report.margin = report.margin
    parsed.report.region = report.region
    if offset:
        parsed.events = parsed.events.with_columns(pl.col("line") + offset)
        for note in parsed.report.errors:
            note.line = note.line + offset if note.line is not None else None
    parsed.report.errors[:0] = report.errors
    if isinstance(parsed.events, Segments):
        parsed.events = Segments(_finished_segments(parsed.events, parsed.report, host, display))
        return parsed
    events = conform(parsed.events).with_columns(
        pl.lit(host or None, dtype=pl.String).alias("host"), pl.lit(display).alias("file"))
    parsed.events = events
    parsed.report.events = events.height
    return parsed


def _finished_segments(segments: Segments, report: FileReport, host: str, display: str) -> Iterator[pl.DataFrame]:
    """:func:`_finish` for a file's rows handed over a segment at a time (a whole file: no line offset),
    counted in its report as they go."""
    report.events = 0
    for frame in segments:
        frame = conform(frame).with_columns(pl.lit(host or None, dtype=pl.String).alias("host"),
                                            pl.lit(display).alias("file"))
        report.events += frame.height
        yield frame
        del frame  # (a generator holds its locals while the next segment is made)


def _line_sources() -> list[str]:
    """The text sources with a line grammar: those whose lines :mod:`analyzer.regions` can tell apart."""
    return [name for name, source in registry().items()
            if not source.binary and grammars.grammar_path(name).exists()]


def _sniffs(source, excerpt: Excerpt) -> bool:
    try:
        return bool(source.sniff(excerpt))
    except Exception:  # noqa: BLE001 - a sniffer bug must not stop the run (as in claimants)
        return False


def _split(claimed: Parsed | tuple, loc: Located) -> list:
    """One claim per log region when the file holds logs of several formats, or a log amid other
    text (a ticket, a mail); the claim as it was otherwise. Lines outside every region get a
    report of their own, so they are counted and located, never dropped."""
    report = claimed.report if isinstance(claimed, Parsed) else claimed[1]
    whole = None if isinstance(claimed, Parsed) else claimed[2].name
    if report.size > regions.MAX_BYTES or (whole is None and report.status != "unrecognised"):
        return [claimed]
    item = claimed[0] if whole else Input(path=loc.path, display=report.path)
    try:
        if whole and registry()[whole].binary or looks_binary(item.head):
            return [claimed]
    except OSError:  # gone or swapped since it was claimed: the claim's own report stands
        return [claimed]
    if whole and not grammars.grammar_path(whole).exists():
        return [claimed]  # a structured export (XML) holds no pasted logs of other formats
    read = _read_whole(claimed, loc)
    if read is not None and read.report.unrecognised < regions.MIN_LINES:
        return [read]  # the claimant placed every line: nothing else can be in the file
    try:
        decoded = item.decoded
    except OSError:
        return [read or claimed]
    found = regions.find(decoded.text, _line_sources(), claimant=whole)
    excerpts = [Excerpt(path=loc.path, display=report.path, text=regions.excerpt(decoded.text, r),
                        encoding=decoded.encoding, first_line=r.first) for r in found]
    kept = [(r, ex) for r, ex in zip(found, excerpts) if _sniffs(registry()[r.source], ex)]
    if not kept or (whole and not _pasted_together(whole, [r.source for r, _ in kept])):
        return [read or claimed]
    claims: list = []
    for r, ex in kept:
        part = FileReport(path=report.path, format=None, size=report.size, host=loc.host,
                          region={"first_line": r.first, "last_line": r.last}, margin=report.margin)
        claims.append((ex, part, registry()[r.source]))
    rest = regions.outside(decoded.text, [r for r, _ in kept])
    if rest:
        claims.append(Parsed(conform(None), _outside_report(report, loc.host, rest, decoded.text)))
    return claims


def _read_whole(claimed: Parsed | tuple, loc: Located) -> Parsed | None:
    """The file read whole by its claimant, when the claimant's count of lines it could not place
    can say whether other logs may be inside: then a log of one format costs no search at all (and
    in the rare file that does hold several, the whole read is dropped and each region read).
    None for sources whose records take free text (a description, a device's own lines), where
    another log's lines would not show as unplaced: the region search decides for those."""
    if isinstance(claimed, Parsed):
        return None
    item, report, source = claimed
    if source.free_text or source.batched:
        return None
    return _finish(source.parse_one_by_one([item])[0], report, source, loc.host, item)


def _pasted_together(whole: str, sources: list[str]) -> bool:
    """For a file one source claims whole: do its regions look like logs pasted one after another
    (another format's block beside the claimant's), rather than one format that embeds another
    (Event Viewer's "Copy details" carries each event's XML; its blocks alternate)?"""
    others = [s for s in sources if s != whole]
    return bool(others) and "windows_event_xml" not in others and len(sources) == len(set(sources))


def _outside_report(report: FileReport, host: str, rest: list[int], text: str) -> FileReport:
    first = line_list(text)[rest[0] - 1].strip()[:200]
    note = Note(report.path, "outside_regions", {"count": len(rest)}, line=rest[0], excerpt=first, severity="warning")
    return FileReport(path=report.path, format=None, size=report.size, host=host, records=len(rest),
                      unrecognised=len(rest), errors=[note], region={"outside": True})


def _backup_payload(located: list[Located]) -> dict[int, Parsed | None]:
    """The payload files of backup folders (hashed ``<xx>/<fileID>`` files and ``Snapshot/``, see
    :func:`analyzer.sources._backup_folder.payload_root`): not sniffed one by one, but counted in one
    report per folder (at the slot of its first file; the others get none)."""
    found: dict[int, Path] = {}
    for i, loc in enumerate(located):
        root = payload_root(loc.path)
        if root is not None:
            found[i] = root
    out: dict[int, Parsed | None] = {}
    firsts: dict[Path, int] = {}
    for i, root in found.items():
        firsts.setdefault(root, i)
        out[i] = None
    for root, first in firsts.items():
        loc = located[first]
        depth = len(loc.path.resolve().relative_to(root).parts)
        shown = str(Path(loc.display).parents[depth - 1])
        count = sum(1 for r in found.values() if r == root)
        note = Note(shown, "backup_payload_not_read", {"count": count, "folder": shown}, severity="info")
        out[first] = Parsed(conform(None), FileReport(path=shown, format="backup_payload", host=loc.host,
                                                      records=count, errors=[note]))
    return out


def _parsed(parse, item: Input) -> Parsed | Exception:
    """``parse(item)``, or what it raised (the caller reports it: Source.parse_one_by_one)."""
    try:
        return parse(item)
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others
        return exc


def parse_all(located: list[Located], segments: bool = False) -> list[list[Parsed]]:
    """Every file read, in order: for each, its parts (one, or one per log region and one for the
    lines outside them). Files of a batched source (``Source.batched``: evtx) are handed to its
    ``parse_many`` together, so that it can share fixed costs between them; results and reports
    are the same as file by file. ``segments``: a whole file of a ``segmented`` source gives its
    rows as :class:`Segments` (each read as it is finished; its report is complete after the last)."""
    out: list[tuple[int, Parsed | None]] = []
    grouped: dict[str, list[tuple[int, Input, FileReport, object, str]]] = {}
    payload = _backup_payload(located)
    for i, loc in enumerate(located):
        if i in payload:
            if payload[i] is not None:
                out.append((i, payload[i]))
            continue
        for claimed in _split(_claim(loc.path, loc.display or str(loc.path), loc.host), loc):
            if isinstance(claimed, Parsed):
                out.append((i, claimed))
                continue
            item, report, source = claimed
            if source.batched:
                slot = len(out)
                out.append((i, None))
                grouped.setdefault(source.name, []).append((slot, item, report, source, loc.host))
                continue
            parse = (source.parse_in_segments if segments and source.segmented and not isinstance(item, Excerpt)
                     else source.parse)
            out.append((i, _finish(_parsed(parse, item), report, source, loc.host, item)))
    for group in grouped.values():
        source = group[0][3]
        items = [item for _, item, _, _, _ in group]
        try:
            results = source.parse_many(items)
        except Exception:  # noqa: BLE001 - the batch itself failed: file by file, as parse_file does
            results = source.parse_one_by_one(items)
        for (slot, item, report, source, host), parsed in zip(group, results):
            out[slot] = (out[slot][0], _finish(parsed, report, source, host, item))
    parts: list[list[Parsed]] = [[] for _ in located]
    for i, parsed in out:
        parts[i].append(parsed)  # type: ignore[arg-type]
    return parts
