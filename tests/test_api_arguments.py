"""analyze() checks its own arguments: a bad one is a ValueError naming it, raised before any file is read."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

import analyzer.pipeline
from analyzer.api import analyze
from analyzer.arguments import ArgumentError

FIREWALL_HEADER = ("#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n"
                   "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack "
                   "tcpwin icmptype icmpcode info path pid\n\n")


@pytest.fixture
def firewall_pc(tmp_path):
    """One PC whose only log is a local-time pfirewall.log with one line at 16:20 local."""
    pc = tmp_path / "pc"
    pc.mkdir()
    line = "2025-10-02 16:20:00 DROP TCP 127.0.0.1 127.0.0.1 52110 27015 0 - 0 0 0 - - - SEND 8448\n"
    (pc / "pfirewall.log").write_text(FIREWALL_HEADER + line, encoding="utf-8")
    return pc


@pytest.mark.parametrize("tz, utc", [("+0930", "06:50"), ("+09:30", "06:50"), ("-0530", "21:50"),
                                     ("Asia/Tokyo", "07:20"), ("utc", "16:20")])
def test_tz_is_normalised_before_local_times_are_converted(firewall_pc, tz, utc):
    analysis = analyze([firewall_pc], tz=tz)
    (stamp,) = analysis.events.get_column("ts_utc").to_list()
    assert stamp.tzinfo is not None and stamp.utcoffset() == dt.timedelta(0)
    assert stamp.strftime("%Y-%m-%d %H:%M") == f"2025-10-02 {utc}"
    (report,) = analysis.files
    assert report.clock["local_zone_method"] == "tz_option"


def test_an_unnormalised_offset_is_recorded_in_its_normal_form(firewall_pc):
    (report,) = analyze([firewall_pc], tz="+0930").files
    assert report.clock["local_zone"] == "+09:30"


@pytest.fixture
def no_work(monkeypatch):
    """Make the pipeline's first stage fail loudly: a test using this proves nothing was read."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("discover() ran: the arguments were not checked first")

    monkeypatch.setattr(analyzer.pipeline, "discover", refuse)
    return calls


def test_the_guard_does_catch_work(firewall_pc, no_work):
    with pytest.raises(AssertionError, match="discover"):
        analyze([firewall_pc])
    assert len(no_work) == 1


BAD = [
    ({"tz": "Mars/Olympus"}, r"^tz must be an IANA zone name .*, got 'Mars/Olympus'$"),
    ({"tz": "+15:00"}, r"^tz must be .*offset of at most 14 hours.*, got '\+15:00'$"),
    ({"tz": ""}, r"^tz must be .*, got ''$"),
    ({"tz": 9}, r"^tz must be .*, got 9$"),
    ({"executor": "nope"}, r"^executor must be one of local, ray, got 'nope'$"),
    ({"jobs": 0}, r"^jobs must be a whole number, 1 or more, got 0$"),
    ({"jobs": 1.5}, r"^jobs must be a whole number, 1 or more, got 1.5$"),
    ({"jobs": True}, r"^jobs must be a whole number, 1 or more, got True$"),
    ({"layout": "x"}, r"^layout must be one of auto, host, fleet, got 'x'$"),
    ({"ray_address": "ray://head:10001"}, r"^ray_address needs executor='ray'$"),
    ({"ray_address": "ray://head:10001", "executor": "local", "jobs": 2}, r"^ray_address needs executor='ray'$"),
]


@pytest.mark.parametrize("kwargs, message", BAD, ids=[str(k) for k, _ in BAD])
def test_a_bad_argument_is_refused_before_any_file_is_read(firewall_pc, no_work, kwargs, message):
    with pytest.raises(ValueError, match=message) as caught:
        analyze([firewall_pc], **kwargs)
    assert isinstance(caught.value, ArgumentError)
    assert caught.value.argument == next(iter(kwargs))
    assert no_work == []


@pytest.mark.parametrize("name, value, accepted", [
    ("ANALYZER_ZIP_MAX_BYTES", "2GB", "a whole number of bytes above 0"),
    ("ANALYZER_ZIP_MAX_RATIO", "-1", "a number above 0"),
])
def test_a_bad_zip_limit_in_the_environment_is_refused_before_any_file_is_read(
        firewall_pc, no_work, monkeypatch, name, value, accepted):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"^{name} must be {accepted}, got '{value}'$") as caught:
        analyze([firewall_pc])
    assert caught.value.argument == name
    assert no_work == []


def test_the_checked_zip_limits_are_the_ones_the_hosts_use(firewall_pc, monkeypatch):
    seen = []
    real = analyzer.pipeline.plan

    def spy(*args, **kwargs):
        jobs = real(*args, **kwargs)
        seen.extend(job.limits for job in jobs)
        return jobs

    monkeypatch.setattr(analyzer.pipeline, "plan", spy)
    monkeypatch.setenv("ANALYZER_ZIP_MAX_BYTES", "12345")
    analyze([firewall_pc])
    assert [limits.total_bytes for limits in seen] == [12345]


def test_an_argument_error_survives_a_trip_between_processes():
    error = ArgumentError("ray_address", "x", needs=("executor", "ray"))
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.argument, copy.needs) == (ArgumentError, str(error), "ray_address", ("executor", "ray"))


def test_the_command_line_spelling_of_an_argument_error():
    def option(name):
        return name if name.isupper() else "--" + name.replace("_", "-")

    assert ArgumentError("ray_address", "x", needs=("executor", "ray")).describe(option) == "--ray-address needs --executor ray"
    assert ArgumentError("jobs", 0, "1 or more").describe(option) == "--jobs must be 1 or more, got 0"
    assert ArgumentError("ANALYZER_ZIP_MAX_RATIO", "x", "a number").describe(option) == \
        "ANALYZER_ZIP_MAX_RATIO must be a number, got 'x'"


def test_the_language_is_the_reports_business_not_the_analysis():
    """Diagnosis speaks in codes; only the reports take a language (the CLI checks --lang early)."""
    with pytest.raises(TypeError):
        analyze(["."], lang="ja")  # type: ignore[call-arg]
