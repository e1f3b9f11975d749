"""--redact is complete: generated identifiers planted in every source's sample shapes are gone from every output.

Each example writes one PC folder named after a person, holding the files of the bundled samples'
shapes with generated identifiers in them: a restore log (``ECID: 0x…``, ``Serial Number:``, the
new-style UDID, a Windows device instance path in its path and interface forms, a user's profile
path, ``IMEI:``), a setupapi log whose install sections name the device by instance path (normal
mode, old-style UDID, recovery mode with ``ECID:``/``SRNM:``), a Windows event XML export (its
``Computer`` and ``DeviceInstanceID``), a backup folder (Info.plist and Manifest.plist: device name
holding an e-mail address and a phone number, serial, UDID, IMEI, MEID), and a file nothing
recognises under ``Users/<name>/`` (so its path reaches stderr). The library analyses it, redacts
it, and every output is rendered as the CLI would: terminal, JSON, CSV (and its fleet siblings),
Parquet, Timesketch JSONL, HTML and the stderr notes. No planted value may remain in any spelling.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import plistlib
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st
from rich.console import Console

from analyzer.api import analyze
from analyzer.cli import _exit_code
from analyzer.redact import PREFIX, TOKEN_HEX, redact
from analyzer.report.json_doc import dumps
from analyzer.report.outputs import Outputs, write_all
from analyzer.report.terminal import render

from conftest import SAMPLES

RESTORE_SAMPLE = SAMPLES / "restore_4013_usb_drop" / "iTunes_restore.log"
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CHIPS = (0x8020, 0x8030, 0x8101, 0x8110, 0x8120)
FIXED_BASE = {"ecid": 0x1B2E40A97D5C2E, "chip": 0x8101, "old_udid": "3c5e1f0a9b7d24c86e0f13a5b2d9c4e7f1a08b36",
         "serial": "F2LXK7Q9JC68", "user": "kenta.mori", "owner": "sato-home", "computer": "DESKTOP-M4C8QZ1",
         "email": "mika.k@example.co.jp", "phone": "+81 90-1234-5678", "imei": "356938035643809",
         "meid": "A1000049D3F2C7"}
VOCABULARY_BASE = {"ecid": 0x2A19C04E7B5D3E, "chip": 0x8030, "old_udid": "6e2f0c9a81d4b3e7f5a2c1d0e9b8a7f6e5d4c3b2",
              "serial": "C39VT4K8JCLM", "user": "rsouza", "owner": "petrova-pc", "computer": "LT-KOWALSKI-07",
              "email": "o.yilmaz@example.net", "phone": "+49 151-2345-6789", "imei": "352099001761481",
              "meid": "A0000031F4B2C9"}


#: Further lines planted in the restore log, each with an identifier of its own (so it must be found in
#: that shape, not only replaced because another file named it): kind -> the shapes the samples and
#: public logs write it in (``{v}`` the value; ``{chip}`` a chip id before an ECID).
SHAPES = {
    "ecid": ["Recovery mode device connected with ECID: 0x{v:X}", "ecid={v}", "ApECID: {v:016X}", "UniqueChipID = {v}",
             "device {chip:08X}{v:016X} attached", "UDID {chip:08X}-{v:016x}",
             "\\\\?\\usb#vid_05ac&pid_12a8#{chip:08x}{v:016x}#{{a5dcbf10-6530-11d2-901f-00c04fb951ed}} arrived",
             "USB\\VID_05AC&PID_1281\\CPID:8101_CPRV:11_CPFM:03_SCEP:01_BDID:0C_ECID:{v:016X}_IBFL:3C"
             "_SRTG:[iBoot-8422]"],
    "old_udid": ["UniqueDeviceID: {v}", "device USB\\VID_05AC&PID_12A8\\{v} removed"],
    "serial": ["iSerialNumber           3 {v}", "SerialNumber={v}", "CPID:8101 CPRV:11 BDID:0C IBFL:3D SRNM:[{v}]",
               "USB Serial Number: {v}", "INFO: device serial number is {v}", 'detail {{"usb_serial": "{v}"}}'],
    "user": ["APPDATA=C:\\Users\\{v}\\AppData\\Roaming", 'Backup directory is "/Users/{v}/Backups"',
             "Using cached filesystem from '/home/{v}/ipsw/iPhone13,2_17.6.1_21G93_Restore.ipsw'",
             "C:\\Documents and Settings\\{v}\\Local Settings\\Temp\\Per5E90.tmp",
             "PS C:\\Users\\{v}> idevicebackup2.exe backup", "User Name: OAKRIDGE\\{v}"],
    "computer": ["Computer: {v}", "COMPUTERNAME={v}", "<Computer>{v}</Computer>"],
    "email": ["Signed in as {v}; retrying", "Apple ID: {v}"],
    "imei": ["IMEI: {v}", "IMEI {v}", "International IMEI: {grouped}"],
    "meid": ["MEID: {v}"],
    "phone": ["Phone Number: {v}"],
}


# -- the planted files, in the shapes of the bundled samples -------------------------------------------

def restore_log(ids: dict) -> str:
    """samples/restore_4013_usb_drop's restore log, made to name the generated device and user."""
    text = RESTORE_SAMPLE.read_text(encoding="utf-8")
    nl = "\r\n" if "\r\n" in text else "\n"
    old_ecid = re.search(r"ECID: (0x[0-9A-Fa-f]+)", text).group(1)
    old_serial = re.search(r"Serial Number: (\S+)", text).group(1)
    text = text.replace(old_ecid, f"0x{ids['ecid']:X}").replace(old_serial, ids["serial"])
    text = re.sub(r"Chip ID: 0x[0-9A-Fa-f]+", f"Chip ID: 0x{ids['chip']:X}", text)
    text = re.sub(r"C:\\Users\\[^\\]+\\", lambda m: f"C:\\\\Users\\\\{ids['user']}\\\\", text)
    new_udid, bare = udid_of(ids), udid_of(ids).replace("-", "")
    out = []
    for line in text.split(nl):
        out.append(line)
        stamp = re.match(r"(\[\d\d:\d\d:\d\d\.\d+\]) ", line)
        if stamp and "Serial Number:" in line:
            out += [f"{stamp[1]} UniqueDeviceID: {new_udid}", f"{stamp[1]} IMEI: {ids['imei']}"]
            out += [f"{stamp[1]} {line}" for line in extra_lines(ids)]
        if stamp and "RestoreOS mode device disconnected" in line:
            out += [f"{stamp[1]} AMDeviceIoControl: device \\\\?\\USB#VID_05AC&PID_12A8#{bare}"
                    "#{a5dcbf10-6530-11d2-901f-00c04fb951ed} removed",
                    f"{stamp[1]} USB device USB\\VID_05AC&PID_12A8\\{bare} (ECID {ids['ecid']}) removed"]
    return nl.join(out)


def setupapi(ids: dict) -> str:
    ecid16 = f"{ids['ecid']:016X}"
    sections = [
        (f"USB\\VID_05AC&PID_12A8\\{udid_of(ids).replace('-', '')}", "Apple Mobile Device USB Composite Device"),
        (f"USB\\VID_05AC&PID_12A8\\{ids['old_udid']}", "Apple Mobile Device USB Composite Device"),
        (f"USB\\VID_05AC&PID_1281\\CPID:{ids['chip']:04X}_CPRV:11_CPFM:03_SCEP:01_BDID:0C_ECID:{ecid16}_IBFL:3C"
         f"_SRNM:[{ids['serial']}]", "Apple Recovery (iBoot) USB Composite Device"),
    ]
    body = ["[Device Install Log]", "     OS Version = 10.0.19045", "     Service Pack = 0.0", "     Suite = 0x0100",
            "     ProductType = 1", "     Architecture = amd64", "", "[BeginLog]", "",
            "[Boot Session: 2025/02/14 08:41:07.500]", ""]
    for n, (instance, desc) in enumerate(sections):
        start = f"2025/02/14 15:0{n}:44"
        body += [f">>>  [Device Install (Hardware initiated) - {instance}]", f">>>  Section start {start}.031",
                 f"     dvi:           DevDesc      - {desc}",
                 f"     ndv:      Device Instance ID: {instance}",
                 f"     ndv:      Device install status: 0x00000000",
                 f"<<<  Section end {start}.870", "<<<  [Exit status: SUCCESS]", ""]
    return "\r\n".join(body)


def event_xml(ids: dict) -> str:
    instance = f"USB\\VID_05AC&amp;PID_12A8\\{udid_of(ids).replace('-', '')}"
    return ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            "<Provider Name='Microsoft-Windows-UserPnp' Guid='{96F4A050-7E31-453C-88BE-9634F4E02139}'/>"
            "<EventID>20003</EventID><Version>0</Version><Level>4</Level><Task>7005</Task><Opcode>0</Opcode>"
            "<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='2025-02-14T23:58:14.4020000Z'/>"
            "<EventRecordID>61208</EventRecordID><Correlation/><Execution ProcessID='6140' ThreadID='8804'/>"
            f"<Channel>System</Channel><Computer>{ids['computer']}</Computer><Security UserID='S-1-5-18'/></System>"
            "<UserData><AddServiceID xmlns='http://manifests.microsoft.com/win/2004/08/windows/userpnp'>"
            "<ServiceName>usbaapl64</ServiceName><DriverFileName>\\SystemRoot\\System32\\drivers\\usbaapl64.sys"
            f"</DriverFileName><DeviceInstanceID>{instance}</DeviceInstanceID><PrimaryService>true</PrimaryService>"
            "<UpdateService>false</UpdateService><AddServiceStatus>0</AddServiceStatus></AddServiceID></UserData>"
            "</Event>\r\n")


def backup_files(ids: dict) -> dict[str, bytes]:
    udid, when = ids["old_udid"].upper(), dt.datetime(2025, 2, 14, 22, 10, 1)
    name = f"{ids['email']}'s iPhone {ids['phone']}"
    info = {"Build Version": "22B83", "Device Name": name, "Display Name": name, "GUID": "0288E91DBC32B4B5A23A595C",
            "IMEI": ids["imei"], "MEID": ids["meid"], "Last Backup Date": when, "Phone Number": ids["phone"],
            "Product Name": "iPhone 13", "Product Type": "iPhone14,5", "Product Version": "18.1",
            "Serial Number": ids["serial"], "Target Identifier": udid, "Target Type": "Device",
            "Unique Identifier": udid, "iTunes Version": "12.13.1"}
    manifest = {"Date": when, "IsEncrypted": False, "Version": "10.0", "WasPasscodeSet": True,
                "Lockdown": {"BuildVersion": "22B83", "DeviceName": name, "ProductType": "iPhone14,5",
                             "ProductVersion": "18.1", "SerialNumber": ids["serial"], "UniqueDeviceID": udid}}
    status = {"BackupState": "new", "Date": when, "IsFullBackup": False, "SnapshotState": "finished",
              "UUID": "0B5BD89B172FF44928B01B78D47B138B", "Version": "3.3"}
    return {f"Backup/{udid}/{n}.plist": plistlib.dumps(d) for n, d in
            (("Info", info), ("Manifest", manifest), ("Status", status))}


def extra_lines(ids: dict) -> list[str]:
    return [SHAPES[kind][shape % len(SHAPES[kind])].format(v=value, chip=ids["chip"], grouped=grouped(value))
            for kind, shape, value in ids.get("extra", ())]


def grouped(value) -> str:
    """An IMEI as people write it: 35 693803 564380 9."""
    v = str(value)
    return f"{v[:2]} {v[2:8]} {v[8:14]} {v[14:]}"


def every_shape(ids: dict) -> dict:
    """``ids`` with one line of every shape, each with a value of its own (derived from the base one)."""
    def variant(kind: str, n: int):
        base = ids[kind]
        letter = "abcdefgh"[n]
        return {"ecid": lambda: base + (n + 1) * 0x1010101, "old_udid": lambda: f"{n}{letter}" + base[2:],
                "serial": lambda: base[:-2] + f"{n:02d}", "user": lambda: letter + base,
                "computer": lambda: base + letter.upper(), "email": lambda: letter + base,
                "imei": lambda: base[:-1] + str(n), "meid": lambda: base[:-1] + "ABCDEF"[n],
                "phone": lambda: base[:-1] + str(n)}[kind]()
    return {**ids, "extra": [(kind, n, variant(kind, n)) for kind, shapes in SHAPES.items()
                             for n in range(len(shapes))]}


def udid_of(ids: dict) -> str:
    return f"{ids['chip']:08X}-{ids['ecid']:016X}"


def plant(root: Path, ids: dict) -> Path:
    pc = root / ids["owner"]
    logs = pc / "Users" / ids["user"] / "AppData" / "Roaming" / "Apple Computer" / "Logs"
    files = {logs / f"iTunes_restore_{ids['ecid']:016X}.log": restore_log(ids).encode(),
             pc / "setupapi.dev.log": setupapi(ids).encode(),
             pc / "System_wevtutil.xml": event_xml(ids).encode(),
             pc / "Users" / ids["user"] / "Desktop" / f"notes_{ids['user']}.txt": b"call back tomorrow\n"}
    # where iTunes keeps backups: a folder holding ``Users/`` is read as a PC tree, at the places
    # analyzer knows (analyzer.triage), and the logs at its top
    mobilesync = pc / "Users" / ids["user"] / "AppData" / "Roaming" / "Apple Computer" / "MobileSync"
    files.update({mobilesync / k: v for k, v in backup_files(ids).items()})
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return pc


FIXED = every_shape(FIXED_BASE)
VOCABULARY = every_shape(VOCABULARY_BASE)


# -- every output, as the CLI writes it ------------------------------------------------------------

def outputs(analysis, where: Path) -> dict[str, str]:
    """Every output of one run as text: terminal, JSON, the files --csv/--parquet/--timesketch/--html
    write (Parquet rows as their repr), and the stderr notes."""
    where.mkdir(parents=True, exist_ok=True)
    files = Outputs(csv=where / "t.csv", parquet=where / "pq", timesketch=where / "t.jsonl", html=where / "r.html")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        notes = write_all(analysis, files)
        _exit_code(analysis, fail_on_incident=False)
    term = io.StringIO()
    render(analysis, Console(file=term, width=400, color_system=None))
    texts = {"json": dumps(analysis), "terminal": term.getvalue(), "stderr": err.getvalue() + "\n".join(notes)}
    for path in sorted(where.rglob("*")):
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            texts[path.name] = " ".join(frame.columns) + "\n" + "\n".join(repr(r) for r in frame.rows())
        elif path.is_file():
            texts[path.name] = path.read_text(encoding="utf-8-sig")
    return texts


def needles(kind: str, value) -> list[str]:
    if kind == "ecid":
        return [f"{value:x}", str(value)]
    if kind == "phone":
        return [value, re.sub(r"\D", "", value)]
    if kind == "imei":
        return [value, grouped(value)]
    return [value]


def spellings(ids: dict) -> dict[str, list[str]]:
    """What must not remain of each planted value: every ECID spelling contains its bare hex digits
    (padded, 0x, inside a UDID with or without dash) or is its decimal form."""
    out = {kind: needles(kind, ids[kind]) for kind in ("ecid", "old_udid", "serial", "user", "owner", "computer",
                                                       "email", "phone", "imei", "meid")}
    for n, (kind, shape, value) in enumerate(ids.get("extra", ())):
        out[f"{kind} #{shape % len(SHAPES[kind])} ({n})"] = needles(kind, value)
    return out


def squash(text: str) -> str:
    """The text without white space and table borders: a wrapped terminal cell must not hide a leak."""
    return re.sub(r"[\s│┃|]+", "", text)


#: A token (``UDID-26aaa567``): its hex digits are a keyed hash, random per run, and may spell a short
#: planted value ("aaa") by chance; the tokens are taken out before the search.
_TOKEN = re.compile(r"\b(?:%s)-[0-9a-f]{%d}\b" % ("|".join(PREFIX.values()), TOKEN_HEX))


def leaks(texts: dict[str, str], ids: dict) -> list[str]:
    found = []
    for name, text in texts.items():
        text = _TOKEN.sub("TOKEN", text)
        low = text.lower()
        squashed = squash(low)
        for what, needles in spellings(ids).items():
            for needle in needles:
                if needle.lower() in low or needle.lower() in squashed:
                    k = low.find(needle.lower())
                    found.append(f"{what} {needle!r} in {name}: …{text[max(0, k - 60):k + 40]!r}…")
    return found


# -- strategies ----------------------------------------------------------------------------------------

def _name(first: str, rest: str = "") -> st.SearchStrategy[str]:
    return st.from_regex(rf"\A{first}{rest}\Z", fullmatch=True)


VALUES = {
    "ecid": st.integers(0x1000000000, 0xFFFFFFFFFFFFF),
    "old_udid": st.binary(min_size=20, max_size=20).map(bytes.hex),
    "serial": _name(r"[A-HJ-NP-Z][0-9A-HJ-NP-Z]{2}[0-9][0-9A-HJ-NP-Z]{6,8}"),
    "user": st.one_of(_name(r"[a-z]{3,8}", r"(\.[a-z]{2,8})?"),
                      st.sampled_from(["田中", "jürgen.weiß", "o'brien", "Mika Tanaka"])),
    "owner": _name(r"[a-z]{4,8}", r"-(pc|laptop|home|desk)"),
    "computer": _name(r"(DESKTOP|LAPTOP|[A-Z]{3,8})-[A-Z0-9]{5,7}"),
    "email": _name(r"[a-z]{3,8}(\.[a-z]{1,6})?", r"@[a-z]{3,8}\.(com|net|co\.jp|de)"),
    "phone": _name(r"\+[1-9][0-9]{1,2} [0-9]{2,3}-[0-9]{3,4}-[0-9]{4}"),
    "imei": _name(r"35[0-9]{13}"),
    "meid": _name(r"A[0-9A-F]{13}"),
}
EXTRA = st.one_of(*(st.tuples(st.just(kind), st.integers(0, len(shapes) - 1), VALUES[kind])
                    for kind, shapes in SHAPES.items()))
IDS = st.fixed_dictionaries({**VALUES, "chip": st.sampled_from(CHIPS), "extra": st.lists(EXTRA, max_size=6)})


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("redact_props")


class Vocabulary:
    """Every word the redacted outputs hold whatever the identifiers (the report's words, the tokens'
    prefixes, the folders above the PC): a generated value found among them (a user called "error")
    could not tell a leak from the report's own words, so such examples are not drawn."""

    def __init__(self, text: str):
        self.text = text.lower() + "\n" + squash(text.lower())  # as leaks() reads the outputs

    def __contains__(self, needle: str) -> bool:
        return needle.lower() in self.text

    def __repr__(self) -> str:  # hypothesis prints a failing example's arguments
        return f"<Vocabulary of {len(self.text)} characters>"


@pytest.fixture(scope="module")
def vocabulary(workdir) -> Vocabulary:
    texts = run(workdir, VOCABULARY)
    assert leaks(texts, VOCABULARY) == []
    return Vocabulary("\n".join(texts.values()))


def run(workdir: Path, ids: dict, redacted: bool = True) -> dict[str, str]:
    """Plant ``ids`` (always in the same folder, so the paths around them are the same), analyse,
    redact, render every output."""
    root = workdir / "pcs"
    shutil.rmtree(root, ignore_errors=True)
    analysis = analyze([plant(root, ids)], tz="UTC")
    return outputs(redact(analysis) if redacted else analysis, root / "out")


def test_the_planted_values_reach_every_kind_of_output_unredacted(workdir):
    """The property below means something only if the plants are in the outputs without --redact."""
    texts = run(workdir, FIXED, redacted=False)
    shown = {what for what, needles in spellings(FIXED).items()
             if any(n.lower() in t.lower() for n in needles for t in texts.values())}
    assert set(spellings(FIXED)) - shown == {"meid"}  # Info.plist's MEID is read by no source
    for name in ("t.csv", "t.jsonl", "r.html", "terminal", "events.parquet", "json"):
        assert f"{FIXED['ecid']:x}" in texts[name].lower(), name
    assert FIXED["user"] in texts["stderr"]


@SETTINGS
@given(ids=IDS)
@example(ids=FIXED)
@example(ids={**FIXED_BASE, "user": "Mika Tanaka", "extra": [("user", 4, "Aoi Sato"), ("user", 1, "o'brien")]})
def test_no_planted_identifier_survives_redaction_in_any_output(ids, workdir, vocabulary):
    for needles in spellings(ids).values():
        for needle in needles:
            assume(needle not in vocabulary)
    texts = run(workdir, ids)
    assert {"json", "terminal", "stderr", "t.csv", "t.jsonl", "r.html", "events.parquet"} <= set(texts)
    assert leaks(texts, ids) == []
