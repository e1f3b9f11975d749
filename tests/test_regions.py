"""Several logs in one file (a ticket or a mail with logs inside, two logs pasted one after another):
each log is found, read by its own source with line numbers of the whole file and a clock of its
own, and the lines outside every log are counted and located, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import analyze
from analyzer.ingest import _line_sources, parse_parts
from analyzer.regions import find

from conftest import SAMPLES

RESTORE = (SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log").read_text(encoding="utf-8")
SETUPAPI = (SAMPLES / "win_driver_install_failure" / "setupapi.dev.log").read_text(encoding="utf-8")
FIREWALL = (SAMPLES / "pc_d4_tss_firewall" / "pfirewall.log").read_text(encoding="utf-8")
SETUPAPI_HEAD = "".join(SETUPAPI.splitlines(keepends=True)[:40])


@pytest.fixture
def ticket(tmp_path) -> Path:
    """A helpdesk ticket: a few lines of text, the restore log, more text, a setupapi excerpt, a signature."""
    text = ("Hi team, the customer's iPhone failed to restore with 4013.\nHere is the log they sent:\n\n"
            + RESTORE + "\nAnd the setupapi part:\n" + SETUPAPI_HEAD + "\nThanks, Aiko\n")
    path = tmp_path / "ticket.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_ticket_with_two_logs_is_read_log_by_log_and_its_own_text_is_located(ticket):
    restore, setupapi, outside = parse_parts(ticket)
    restore_lines = len(RESTORE.splitlines())
    assert (restore.report.format, restore.report.region) == ("apple_restore", {"first_line": 4, "last_line": 3 + restore_lines})
    assert setupapi.report.format == "windows_setupapi" and setupapi.report.region["first_line"] == restore_lines + 6
    assert (restore.report.unrecognised, setupapi.report.unrecognised) == (0, 0)
    assert outside.report.format is None and outside.report.region == {"outside": True}
    assert (outside.report.records, outside.report.unrecognised) == (4, 4)
    (note,) = outside.report.errors
    assert (note.code, note.line, note.excerpt) == ("outside_regions", 1, "Hi team, the customer's iPhone failed to restore with 4013.")
    # the same events as the log read alone, three lines further down the ticket
    alone = parse_parts(SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log")[0]
    assert restore.events.get_column("line").to_list() == [n + 3 for n in alone.events.get_column("line").to_list()]
    assert restore.events.get_column("message").to_list() == alone.events.get_column("message").to_list()


def test_the_verdict_of_a_ticket_cites_lines_of_the_ticket(ticket):
    result = analyze([ticket])
    (incident,) = result.incidents
    alone = analyze([SAMPLES / "restore_4013_usb_drop"]).incidents[0]
    assert (incident.cause, incident.error_code, incident.confidence) == (alone.cause, alone.error_code, alone.confidence)
    assert [e["line"] + 0 for e in incident.evidence] == [e["line"] + 3 for e in alone.evidence]
    assert {e["file"] for e in incident.evidence} == {str(ticket)}
    clocks = [f.clock for f in result.files if f.format]
    assert clocks[0]["local_zone_method"] == "restore_header"            # each log its own clock ...
    assert clocks[1]["local_zone_method"] == "learnt" and clocks[1]["learnt_from"] == f"{ticket} (apple_restore)"


def test_two_logs_pasted_one_after_another_are_two_logs(tmp_path):
    path = tmp_path / "both.log"
    path.write_text(RESTORE + FIREWALL, encoding="utf-8")
    restore, firewall = parse_parts(path)
    assert (restore.report.format, firewall.report.format) == ("apple_restore", "windows_firewall")
    assert firewall.report.region["first_line"] == len(RESTORE.splitlines()) + 1
    assert firewall.report.unrecognised == 0 and firewall.report.events == len(FIREWALL.splitlines()) - 5  # header, blank


@pytest.mark.parametrize("path", sorted(p for p in SAMPLES.glob("*/*") if p.suffix != ".evtx"), ids=lambda p: p.name)
def test_a_log_of_one_format_is_never_split(path):
    (whole,) = parse_parts(path)
    assert whole.report.region is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(RESTORE.splitlines()[:30] + SETUPAPI.splitlines()[:30]
                                + ["", "Hello,", "see below", "> quoted"]), max_size=80))
def test_regions_never_overlap_and_stay_inside_the_text(lines):
    text = "\n".join(lines)
    found = find(text, _line_sources())
    for a, b in zip(found, found[1:]):
        assert a.last < b.first
    assert all(1 <= r.first <= r.last <= len(lines) for r in found)
