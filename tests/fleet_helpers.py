"""Helpers shared by the fleet, archive, redaction and parallel tests: the benchmark's fleet generator."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def gen():
    """benchmarks/bench_fleet.py as a module (its generator functions write restore logs in the real shapes)."""
    spec = importlib.util.spec_from_file_location("bench_fleet", ROOT / "benchmarks" / "bench_fleet.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_fleet", module)
    spec.loader.exec_module(module)
    return module


def host_files(spec: dict) -> dict[str, bytes]:
    g = gen()
    return {
        "iTunes_restore.log": g.restore_log(spec["cause"], spec["start"], ecid=spec["ecid"], serial=spec["serial"],
                                            user=spec["user"], itunes=spec["itunes"], amd=spec["amd"]).encode(),
        "System_wevtutil.txt": g.windows_system(spec["start"], spec["computer"], spec["ecid"],
                                                spec["security"]).encode(),
    }


# a small fleet with known causes (tests/test_fleet.py, tests/test_parallel.py) ------------------------
X, Y = "12.13.5.3", "12.12.10.1"
DAY = dt.datetime(2025, 3, 10, 8, 5)

SPECS = [
    # name, cause, itunes, start, security
    ("pcA", "usb_connection", X, DAY, "Symantec AntiVirus"),
    ("pcB", "usb_connection", X, DAY + dt.timedelta(minutes=15), None),
    ("pcC", "usb_connection", Y, DAY + dt.timedelta(days=1, hours=3), None),
    ("pcD", "unsigned_firmware", X, DAY + dt.timedelta(days=3), "Symantec AntiVirus"),
    ("pcE", "unsigned_firmware", Y, DAY + dt.timedelta(days=4), None),
    ("pcF", "ok", X, DAY + dt.timedelta(days=5), None),
]


def spec(name, cause, itunes, start, security, n):
    return {"name": name, "cause": cause, "itunes": itunes, "amd": "18.1.0.2", "start": start,
            "ecid": 0x1A2B3C4D5E6F00 + n, "serial": f"F2LXK7Q9JC{n:02d}", "user": f"clerk{n}",
            "computer": f"DESKTOP-{name.upper()}", "security": security}


def write_fleet(root, specs=SPECS, as_zip=("pcE",)):
    fleet = root / "fleet"
    fleet.mkdir()
    for n, s in enumerate(specs):
        host = spec(*s, n)
        files = host_files(host)
        if host["name"] in as_zip:
            with zipfile.ZipFile(fleet / f"{host['name']}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                for name, data in files.items():
                    zf.writestr(f"logs/{name}", data)
        else:
            (fleet / host["name"]).mkdir()
            for name, data in files.items():
                (fleet / host["name"] / name).write_bytes(data)
    return fleet
