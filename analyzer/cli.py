"""``analyze``: a thin typer layer over :func:`analyzer.api.analyze`.

Data goes to stdout (the report or the JSON document); talk goes to stderr
(warnings, the summary of what could not be read). The library checks the
analysis options and the CLI turns a refusal into exit status 2 with a
one-line message; the CLI itself checks only what is its own, the output
paths. ``run`` reads as the steps of one command; each step imports what it
needs, so ``analyze --help`` loads only typer and :mod:`analyzer.arguments`.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import List, NoReturn, Optional

import typer
from typer.core import TyperCommand

from .arguments import EXECUTORS, LANGS, LAYOUTS, SYMPTOMS, ArgumentError, one_of


class ExitCode(enum.IntEnum):
    """Exit statuses, documented in the README and in ``--help``."""

    OK = 0          # every file was read in full
    ERROR = 1       # analyzer itself failed (a bug: please report it)
    USAGE = 2       # bad command line
    PARTIAL = 3     # a report was produced, but some input was unrecognised, skipped or unreadable
    NO_INPUT = 4    # nothing given could be read as a log
    INCIDENT = 5    # only with --fail-on-incident: a failed restore was found


class OutputFormat(str, enum.Enum):
    terminal = "terminal"
    json = "json"
    csv = "csv"


def _choices(values: tuple[str, ...]) -> str:
    return "<" + "|".join(values) + ">"


EPILOG = ("Exit codes: 0 ok; 1 internal error; 2 usage; 3 partial input (report produced, some input not read); "
          "4 no input recognised; 5 failed restore found (only with --fail-on-incident).")

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def _show_version(value: bool) -> None:
    """``--version``: the version and nothing else (eager: no PATH needed)."""
    if value:
        from .version import __version__

        sys.stdout.write(f"analyze {__version__}\n")
        raise typer.Exit(ExitCode.OK)


class _Command(TyperCommand):
    """The command as a person reads it: ``analyze [OPTIONS] PATH...`` (typer would print
    ``{paths}...`` and the annotation ``<list[Path]>``)."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return ["[OPTIONS]", "PATH..."]


@app.command(epilog=EPILOG, cls=_Command)
def run(
    paths: Optional[List[Path]] = typer.Argument(None, metavar="PATH", hidden=True, show_default=False),
    output_format: OutputFormat = typer.Option(OutputFormat.terminal, "--format", "-f", help="terminal report, JSON document or CSV timeline on stdout."),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE", help="The PC's time zone for local-time logs (IANA name like Asia/Tokyo, or +09:00)."),
    tz_force: bool = typer.Option(False, "--tz-force", help="Use --tz even for a log whose own clock proves another offset (normally that offset is used and the disagreement reported)."),
    date: Optional[str] = typer.Option(None, "--date", metavar="YYYY-MM-DD", help="The day of the restore, for logs that give times of day only (a pasted restore-log tail)."),
    symptom: Optional[str] = typer.Option(None, "--symptom", metavar=_choices(SYMPTOMS), help="What the user reports failed when no log line says so (an iCloud error in Settings): opens a reported incident on each PC."),
    at: Optional[str] = typer.Option(None, "--at", metavar="TIME", help="When the reported failure happened: '2026-03-14 09:30' (the PC's local time; --tz or the zone learnt from its logs) or with a zone ('...Z', '...+09:00'). Without it, the whole evidence span."),
    window: Optional[str] = typer.Option(None, "--window", metavar="DURATION", help="Evidence counted either side of --at: 10m (default), 90s, 1h, or minutes."),
    layout: str = typer.Option("auto", "--layout", metavar=_choices(LAYOUTS), help="host: each PATH is one PC; fleet: each subfolder is one PC; auto: a folder of only subfolders is a fleet."),
    lang: str = typer.Option("en", "--lang", metavar=_choices(LANGS), help="Language of the reports: verdicts, remedies and notes on the input (en, ja)."),
    fail_on_incident: bool = typer.Option(False, "--fail-on-incident", help="Exit 5 when a failed restore is found."),
    jobs: int = typer.Option(1, "--jobs", "-j", metavar="<N>", help="Analyse this many PCs at once (spawn process pool; 1 or more)."),
    executor: str = typer.Option("local", "--executor", metavar=_choices(EXECUTORS), help="local: this machine; ray: Ray tasks (pip install 'analyzer[ray]')."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", metavar="ADDR", help="Ray cluster address (default: start a local Ray)."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", metavar="PATH", help="Also write the timeline as CSV (UTF-8 with BOM, formula cells neutralised). Outputs: an input file is never overwritten; an output that cannot be written exits 2 before analysis."),
    parquet_dir: Optional[Path] = typer.Option(None, "--parquet", metavar="DIR", help="Also write DIR/events.parquet and DIR/incidents.parquet (DIR is created; its parent must exist)."),
    timesketch_path: Optional[Path] = typer.Option(None, "--timesketch", metavar="PATH", help="Also write a Timesketch-importable JSONL timeline."),
    html_path: Optional[Path] = typer.Option(None, "--html", metavar="PATH", help="Also write one self-contained offline HTML report (timelines, verdicts, coverage)."),
    details: bool = typer.Option(False, "--details", help="Terminal report: after the verdicts, every PC's files, clocks, timelines and device activity."),
    host: Optional[List[str]] = typer.Option(None, "--host", metavar="NAME", help="Terminal report of a fleet: the full report of this PC (repeatable)."),
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    redact: bool = typer.Option(False, "--redact", help="Replace device and personal identifiers (ECIDs, UDIDs, serials, IMEI/MEID, user and computer names, device names, e-mails, phone numbers) by stable tokens in every output (key: $ANALYZER_REDACT_KEY, else random per run)."),
    this_pc: bool = typer.Option(False, "--this-pc", help="Also analyse this machine: the places analyzer knows on its system drive, read in place (nothing copied). `analyze collect` gathers them into a zip."),
) -> None:
    """Read restore logs and Windows evidence, and say why an iPhone/iPad restore failed.

    PATH: log files or folders (searched recursively), zips, a folder of PCs (one subfolder each), or a
    mounted disk or triage copy (Windows/, Users/, C/, C%3A/), read as one PC. `analyze collect --help`:
    gather the evidence of a PC into one zip.
    """
    paths = _inputs(paths or [], this_pc)
    outputs = _checked_outputs(paths, csv=csv_path, parquet=parquet_dir, timesketch=timesketch_path, html=html_path)
    if lang not in LANGS:  # the reports' language: checked before any work, like the outputs
        _usage_error(ArgumentError("lang", lang, one_of(LANGS)).describe(_option))
    analysis = _analysis(paths, tz=tz or None, tz_force=tz_force, date=date, layout=layout, jobs=jobs, executor=executor,
                         ray_address=ray_address, symptom=symptom, at=at, window=window, contain_crashes=True)
    if redact:
        from .redact import redact as redact_analysis

        analysis = redact_analysis(analysis)
    _write_files(analysis, outputs, lang)
    _print_report(analysis, output_format, lang, details=details, hosts=host or [])
    raise typer.Exit(_exit_code(analysis, fail_on_incident, lang))


def _inputs(paths: list[Path], this_pc: bool) -> list[Path]:
    """The PATHs, and this machine's root with ``--this-pc``; neither is a usage error."""
    if this_pc:
        from .triage import this_pc_root

        paths = [this_pc_root(), *paths]
    if not paths:
        _usage_error("missing PATH: give log files or folders, or --this-pc")
    return paths


def _say(message: str, *, soft_wrap: bool = True) -> None:
    """One message on stderr, printed as written (no markup, no highlighting), on one line
    however long (a script greps notes line by line; a terminal wraps them itself)."""
    from rich.console import Console

    from .report.safe import shown  # a control character from the input is shown, never sent

    Console(stderr=True).print(shown(message), highlight=False, markup=False, soft_wrap=soft_wrap)


def _usage_error(message: str) -> NoReturn:
    _say(f"analyze: error: {message}")
    raise typer.Exit(ExitCode.USAGE)


def _option(argument: str) -> str:
    """How the command line spells an argument of analyze(): ``ray_address`` is ``--ray-address``;
    an environment variable stays as it is."""
    return argument if argument.isupper() else "--" + argument.replace("_", "-")


def _checked_outputs(paths: list[Path], **files: Optional[Path]):
    """The report files to write, each checked before any analysis (exit 2 for one that cannot be)."""
    from .report.outputs import OutputError, Outputs, preflight

    outputs = Outputs(**files)
    try:
        preflight(outputs, paths)
    except OutputError as exc:
        _usage_error(str(exc))
    return outputs


def _analysis(paths: list[Path], **options):
    """:func:`analyzer.api.analyze`; an argument it refuses, or a missing Ray, is exit 2."""
    from .api import analyze
    from .parallel import ExecutorUnavailable

    try:
        return analyze(paths, **options)
    except ArgumentError as exc:
        _usage_error(exc.describe(_option))
    except ExecutorUnavailable as exc:
        _usage_error(str(exc))


def _write_files(analysis, outputs, lang: str) -> None:
    from .report.outputs import OutputError, write_all

    try:
        for note in write_all(analysis, outputs, lang=lang):
            _say(f"analyze: note: {note}")
    except OutputError as exc:
        _usage_error(str(exc))


def _print_report(analysis, output_format: OutputFormat, lang: str, details: bool = False,
                  hosts: list[str] = ()) -> None:
    """The report on stdout: the JSON document, the CSV timeline or the terminal report."""
    if output_format is OutputFormat.json:
        from .report.json_doc import write

        write(analysis, sys.stdout, lang=lang)
    elif output_format is OutputFormat.csv:
        from .report.csv_out import write_text

        write_text(analysis, sys.stdout)
    else:
        from .report.console import stdout_console
        from .report.terminal import render

        render(analysis, stdout_console(), lang=lang, details=details, hosts=list(hosts))


def _exit_code(analysis, fail_on_incident: bool, lang: str = "en") -> ExitCode:
    """Name each file not read in full on stderr (in the reports' language), and say how the run ended."""
    from .report.i18n import Catalogue

    cat = Catalogue(lang)
    for f in analysis.files:
        for note in (n for n in f.errors if n.code in ("tz_disagrees", "tz_forced")):  # a --tz not taken as given
            _say(f"analyze: note: {cat.note_location(note)}: {cat.note(note)}", soft_wrap=False)
        if not f.complete:
            first = f.errors[0] if f.errors else None
            reason = f"{cat.note_location(first)}: {cat.note(first)}" if first else cat["cli.not_fully_read"]
            _say(f"analyze: note: {reason}")
    if not analysis.recognised:
        _say(f"analyze: {cat['cli.no_input']}")
        return ExitCode.NO_INPUT
    if fail_on_incident and analysis.incidents:
        return ExitCode.INCIDENT
    return ExitCode.PARTIAL if analysis.partial else ExitCode.OK


def main() -> None:
    """``analyze``: :func:`_main`, and a stop that comes as it ends (after its own handling, before
    the stops are ignored) ends the run as stopped, never as an internal error."""
    from . import stopping

    try:
        _main()
    except KeyboardInterrupt:
        stopping.finished()
        sys.exit(stopping.exit_code(130))


def _main() -> None:
    import os

    from . import allocator, stopping

    # before polars is loaded (it reads the setting once); a user's own setting wins
    # (``_RJEM_MALLOC_CONF=`` empty restores jemalloc's default), and pool workers inherit it
    os.environ.setdefault(allocator.ENV, allocator.setting(sys.argv[1:]))
    stopping.install()  # SIGTERM/SIGHUP unwind like Ctrl-C, so temporaries are removed on the way out
    try:
        if sys.argv[1:2] == ["collect"]:  # `analyze collect ...` (a folder named collect: `analyze ./collect`)
            from .collect_cli import main as collect_main

            collect_main(sys.argv[2:])
        app()
    except BrokenPipeError:  # `analyze ... | head` is fine
        sys.stderr.close()
        sys.exit(ExitCode.OK)
    except KeyboardInterrupt:
        sys.exit(stopping.exit_code(130))
    except SystemExit:  # click turns an interrupt into "Aborted!" and status 1: say which stop it was
        if stopping.received:
            sys.exit(stopping.exit_code(130))
        raise
    except Exception as exc:  # noqa: BLE001 - last resort: one line, no locals
        sys.stderr.write(f"analyze: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(ExitCode.ERROR)
    finally:
        try:
            sys.stdout.flush()
        except KeyboardInterrupt:  # a stop while the output drains ends the run as stopped
            stopping.finished()
            sys.exit(stopping.exit_code(130))
        except Exception:  # noqa: BLE001 - a closed or broken stdout: the branches above said so
            pass
        stopping.finished()


if __name__ == "__main__":
    main()
