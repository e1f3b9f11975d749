"""The Apple USB product-id table, in its Python and polars forms."""

from __future__ import annotations

import polars as pl

from analyzer.apple_usb import pid_mode, pid_mode_expr

CASES = {"1281": "recovery", "1283": "recovery", "1227": "dfu", "1222": "dfu", "12A8": "normal", "12ab": "normal",
         "1290": "normal", "12BF": "normal", "12C0": None, "8600": None, "zz12": None, "": None}


def test_pid_modes():
    assert {pid: pid_mode(pid) for pid in CASES} == CASES
    assert pid_mode(None) is None


def test_polars_form_agrees_with_python_form():
    pids = list(CASES)
    got = pl.select(pid_mode_expr(pl.Series(pids, dtype=pl.String))).to_series().to_list()
    assert got == [CASES[p] for p in pids]
