"""``analyze``: a thin typer layer over :func:`analyzer.api.analyze`.

Data goes to stdout (the report or the JSON document); talk goes to stderr
(warnings, the summary of what could not be read). Heavy imports happen
inside the command so ``analyze --help`` starts quickly.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import List, Optional

import typer


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


class Layout(str, enum.Enum):
    auto = "auto"
    host = "host"
    fleet = "fleet"


class Executor(str, enum.Enum):
    local = "local"
    ray = "ray"


class Lang(str, enum.Enum):
    en = "en"
    ja = "ja"


EPILOG = ("Exit codes: 0 ok; 1 internal error; 2 usage; 3 partial input (report produced, some input not read); "
          "4 no input recognised; 5 failed restore found (only with --fail-on-incident).")

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@app.command(epilog=EPILOG)
def run(
    paths: List[Path] = typer.Argument(..., help="Log files or folders (searched recursively).", show_default=False),
    output_format: OutputFormat = typer.Option(OutputFormat.terminal, "--format", "-f", help="terminal report, JSON document or CSV timeline on stdout."),
    tz: Optional[str] = typer.Option(None, "--tz", help="The PC's time zone for local-time logs (IANA name like Asia/Tokyo, or +09:00)."),
    layout: Layout = typer.Option(Layout.auto, "--layout", help="host: each PATH is one PC; fleet: each subfolder is one PC; auto: a folder of only subfolders is a fleet."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of verdicts and remedies (en, ja)."),
    fail_on_incident: bool = typer.Option(False, "--fail-on-incident", help="Exit 5 when a failed restore is found."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Analyse this many PCs at once (spawn process pool)."),
    executor: Executor = typer.Option(Executor.local, "--executor", help="local: this machine; ray: Ray tasks (pip install 'analyzer[ray]')."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address (default: start a local Ray)."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", metavar="PATH", help="Also write the timeline as CSV (UTF-8 with BOM, formula cells neutralised). Outputs: an input file is never overwritten; an output that cannot be written exits 2 before analysis."),
    parquet_dir: Optional[Path] = typer.Option(None, "--parquet", metavar="DIR", help="Also write DIR/events.parquet and DIR/incidents.parquet (DIR is created; its parent must exist)."),
    timesketch_path: Optional[Path] = typer.Option(None, "--timesketch", metavar="PATH", help="Also write a Timesketch-importable JSONL timeline."),
    html_path: Optional[Path] = typer.Option(None, "--html", metavar="PATH", help="Also write one self-contained offline HTML report (timelines, verdicts, coverage)."),
    redact: bool = typer.Option(False, "--redact", help="Replace ECIDs, UDIDs, serials, user and host names by stable tokens in every output (key: $ANALYZER_REDACT_KEY, else random per run)."),
) -> None:
    """Read restore logs and Windows evidence, and say why an iPhone/iPad restore failed."""
    from rich.console import Console

    err = Console(stderr=True)
    zone = None
    if tz:
        from .clock import parse_zone

        try:
            zone = parse_zone(tz)
        except ValueError as exc:
            err.print(f"analyze: error: {exc}")
            raise typer.Exit(ExitCode.USAGE)
    from .report.outputs import OutputError, Outputs, preflight, write_all

    outputs = Outputs(csv=csv_path, parquet=parquet_dir, timesketch=timesketch_path, html=html_path)
    try:
        preflight(outputs, paths)
    except OutputError as exc:
        err.print(f"analyze: error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    from .archives import env_limits

    try:
        env_limits()  # checked before any work, like the outputs
    except ValueError as exc:
        err.print(f"analyze: error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    from .api import analyze
    from .parallel import ExecutorUnavailable

    if ray_address and executor is not Executor.ray:
        err.print("analyze: error: --ray-address needs --executor ray")
        raise typer.Exit(ExitCode.USAGE)
    try:
        analysis = analyze(paths, tz=zone, layout=layout.value, jobs=jobs,
                           executor=executor.value, ray_address=ray_address)
    except ExecutorUnavailable as exc:
        err.print(f"analyze: error: {exc}", markup=False, highlight=False)
        raise typer.Exit(ExitCode.USAGE)
    if redact:
        from .redact import redact as redact_analysis

        analysis = redact_analysis(analysis)
    try:
        for note in write_all(analysis, outputs, lang=lang.value):
            err.print(f"analyze: note: {note}", highlight=False, markup=False, soft_wrap=True)
    except OutputError as exc:
        err.print(f"analyze: error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    if output_format is OutputFormat.json:
        from .report.json_doc import dumps

        sys.stdout.write(dumps(analysis, lang=lang.value) + "\n")
    elif output_format is OutputFormat.csv:
        from .report.csv_out import to_csv

        sys.stdout.write(to_csv(analysis))
    else:
        from .report.console import stdout_console
        from .report.terminal import render

        render(analysis, stdout_console(), lang=lang.value)
    unread = [f for f in analysis.files if not f.complete]
    for f in unread:
        first = f.errors[0] if f.errors else None
        reason = f"{first.location()}: {first.message}" if first else "not fully read"
        err.print(f"analyze: note: {reason}", highlight=False, markup=False)
    if not analysis.recognised:
        err.print("analyze: no input could be read as a restore log or Windows log")
        raise typer.Exit(ExitCode.NO_INPUT)
    if fail_on_incident and analysis.incidents:
        raise typer.Exit(ExitCode.INCIDENT)
    raise typer.Exit(ExitCode.PARTIAL if analysis.partial else ExitCode.OK)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `analyze ... | head` is fine
        sys.stderr.close()
        sys.exit(ExitCode.OK)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last resort: one line, no locals
        sys.stderr.write(f"analyze: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(ExitCode.ERROR)


if __name__ == "__main__":
    main()
