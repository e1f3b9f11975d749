"""Reasoning across the attempts of one device (analyzer/history.py) and the samples built for it."""

from __future__ import annotations

import importlib.util

import polars as pl

from analyzer import analyze
from analyzer.correlate import attempts
from analyzer.history import history

from conftest import ROOT, SAMPLES


def _generator():
    spec = importlib.util.spec_from_file_location("attempt_history", ROOT / "tests" / "samplegen" / "attempt_history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_history_samples_are_what_their_generator_writes():
    gen = _generator()
    for folder, sessions in gen.definitions().items():
        on_disk = (SAMPLES / folder / "AMPDevicesAgent_restore.log").read_text(encoding="utf-8")
        assert on_disk == gen.render(sessions), f"regenerate with python tests/samplegen/attempt_history.py ({folder})"


def test_a_later_success_on_another_port_names_the_first_connection_and_the_attempt_it_used():
    result = analyze([SAMPLES / "pc_n14_port_change_fixed"])
    (incident,) = result.incidents
    assert incident.cause == "usb_connection" and incident.attempt == 1
    assert {"later_attempt_succeeded", "later_success_on_another_port"} <= set(incident.rules)
    assert [(a["attempt"], a["outcome"], a["usb_location"], a["relation"]) for a in incident.related_attempts] == [
        (2, "succeeded", "0x14200000", "later_success_moved")]


def test_the_same_failure_on_three_ports_is_the_device_and_explains_the_disconnects_away():
    result = analyze([SAMPLES / "pc_o15_same_failure_any_port"])
    assert [(i.attempt, i.cause) for i in result.incidents] == [(1, "device_hardware"), (2, "device_hardware"),
                                                                (3, "device_hardware")]
    first = result.incidents[0]
    usb = next(a for a in first.alternatives if a["id"] == "usb_connection")
    assert usb["reason"] == {"code": "explained_away", "rules": ["same_failure_on_other_ports"]}
    assert sorted(a["attempt"] for a in first.related_attempts) == [2, 3]


def test_the_same_place_or_another_device_says_nothing():
    events = analyze([SAMPLES / "pc_o15_same_failure_any_port"]).events
    # all three attempts moved to the first attempt's USB location: nothing was changed between tries
    same_port = events.with_columns(pl.col("detail").str.replace(r'"usb_location":"0x[0-9A-F]+"',
                                                                  '"usb_location":"0x14100000"'))
    assert history(same_port, attempts(same_port)).height == 0
    # three different devices: nothing about any one of them
    other_devices = events.with_columns((pl.col("ecid") + pl.col("attempt").cast(pl.UInt64)).alias("ecid"))
    assert history(other_devices, attempts(other_devices)).height == 0
