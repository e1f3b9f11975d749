"""The report files one run can write besides stdout (``--csv``, ``--parquet``, ``--timesketch``, ``--html``).

Why a module of its own: the CLI checks every output path *before* the
analysis runs (so a typo costs nothing and no input is ever overwritten) and
then writes them all; keeping both steps here keeps ``cli.py`` a thin layer.
Any output that cannot be written raises :class:`OutputError`, which the CLI
turns into exit status 2 (usage) with the option and path in the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .fleet_rows import TABLES
from .write import OutputError, check_dir, check_file

#: Every file --parquet may write, and the sibling tables --csv may write beside its file.
PARQUET_FILES = ("events.parquet", "incidents.parquet", "backups.parquet", *(f"fleet_{t}.parquet" for t in TABLES))
CSV_SIBLINGS = tuple(f".fleet_{t}.csv" for t in TABLES)


@dataclass
class Outputs:
    csv: Path | None = None
    parquet: Path | None = None
    timesketch: Path | None = None
    html: Path | None = None


def preflight(outputs: Outputs, inputs: Iterable[Path]) -> None:
    """Raise :class:`OutputError` for the first output that could not be written."""
    inputs = [Path(p) for p in inputs]
    for option, path in (("--csv", outputs.csv), ("--timesketch", outputs.timesketch), ("--html", outputs.html)):
        if path is not None:
            check_file(option, Path(path), inputs)
    if outputs.csv is not None:
        csv = Path(outputs.csv)
        for suffix in CSV_SIBLINGS:
            check_file("--csv", csv.with_name(csv.stem + suffix), inputs)
    if outputs.parquet is not None:
        check_dir("--parquet", Path(outputs.parquet), PARQUET_FILES, inputs)


def write_all(analysis, outputs: Outputs, lang: str = "en") -> list[str]:
    """Write every requested file; return notes for stderr (e.g. events left out of Timesketch)."""
    notes: list[str] = []
    option = ""
    try:
        if outputs.csv is not None:
            option = f"--csv {outputs.csv}"
            from .csv_out import write_csv
            write_csv(analysis, Path(outputs.csv))
        if outputs.parquet is not None:
            option = f"--parquet {outputs.parquet}"
            from .parquet_out import write_parquet
            write_parquet(analysis, Path(outputs.parquet), lang=lang)
        if outputs.timesketch is not None:
            option = f"--timesketch {outputs.timesketch}"
            from .timesketch import write_timesketch
            dropped = write_timesketch(analysis, Path(outputs.timesketch), lang=lang)
            if dropped:
                from .i18n import Catalogue
                notes.append(Catalogue(lang).text("outputs.timesketch_dropped", option=option, n=dropped))
        if outputs.html is not None:
            option = f"--html {outputs.html}"
            from .html import write_html
            write_html(analysis, Path(outputs.html), lang=lang)
    except OSError as exc:
        raise OutputError(f"{option}: cannot write: {exc.strerror or exc}") from exc
    return notes


__all__ = ["OutputError", "Outputs", "preflight", "write_all"]
