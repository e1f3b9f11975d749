"""A minimal writer of binary .evtx files, for samples and tests (no Windows needed).

It writes what Windows writes, reduced to the parts a reader needs: a file header,
one 64 KiB chunk, and records whose Binary XML is a fragment holding one template
instance with its template definition inline, followed by the substitution values
(typed, so ``EventID`` comes out as a number and ``TimeCreated`` as a FILETIME).
Names are stored inline; the chunk's string and template tables are left empty.
Layout after the MS-EVEN6 description of the format (file header, ``ElfChnk``
header, ``**`` records, BinXML tokens); CRC32s are filled in.

Usage::

    rec = Record(provider="Application Error", event_id=1000, qualifiers=0, level=2, task=100,
                 time=datetime(2025, 3, 8, 14, 6, 2, 412000), record_id=3812, channel="Application",
                 computer="PC", data=["iTunes.exe", ...])          # positional <Data>
    write_evtx(path, [rec, ...])

``data`` is a list (unnamed ``<Data>``) or a dict (``<Data Name=…>``); ``binary``
adds ``<Binary>``.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"

# value types
STRING, UINT8, UINT16, UINT32, UINT64, FILETIME, BINARY, HEXINT64 = 0x01, 0x04, 0x06, 0x08, 0x0A, 0x11, 0x0E, 0x15


def filetime(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    delta = when - datetime(1601, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


@dataclass
class Record:
    provider: str
    event_id: int
    level: int
    time: datetime
    record_id: int
    channel: str
    computer: str
    data: list[str] | dict[str, str] = field(default_factory=list)
    qualifiers: int | None = None
    task: int = 0
    keywords: int = 0x80000000000000
    process_id: int = 0
    thread_id: int = 0
    guid: str | None = None
    binary: bytes | None = None


class _Out:
    """Bytes being written at a known offset inside the chunk (names are chunk offsets)."""

    def __init__(self, base: int):
        self.base = base
        self.buf = bytearray()

    def here(self) -> int:
        return self.base + len(self.buf)

    def u8(self, v): self.buf += struct.pack("<B", v)
    def u16(self, v): self.buf += struct.pack("<H", v)
    def u32(self, v): self.buf += struct.pack("<I", v)
    def raw(self, b): self.buf += b

    def name(self, text: str) -> None:
        """A name reference followed by the name itself (inline: offset == where it starts)."""
        self.u32(self.here() + 4)
        self.u32(0)           # next string in the hash bucket
        self.u16(0)           # hash (readers do not check it)
        self.u16(len(text))
        self.raw(text.encode("utf-16-le") + b"\x00\x00")

    def text(self, value: str) -> None:
        self.u8(0x05)
        self.u8(STRING)
        self.u16(len(value))
        self.raw(value.encode("utf-16-le"))

    def sub(self, index: int, vtype: int, optional: bool = False) -> None:
        self.u8(0x0E if optional else 0x0D)
        self.u16(index)
        self.u8(vtype)


class _Template:
    """Elements of a template definition; substitutions are numbered as they are added."""

    def __init__(self, out: _Out):
        self.out = out
        self.subs: list[tuple[int, object]] = []  # (type, value)

    def value(self, vtype: int, value) -> int:
        self.subs.append((vtype, value))
        return len(self.subs) - 1

    def element(self, name: str, attrs: list[tuple[str, tuple]] = (), content: tuple | None = None, children=None):
        """content/attr values: ("text", str) or ("sub", type, value)."""
        o = self.out
        o.u8(0x41 if attrs else 0x01)
        o.u16(0xFFFF)                      # dependency identifier (none)
        size_at = len(o.buf)
        o.u32(0)                           # data size, patched below
        start = len(o.buf)
        o.name(name)
        if attrs:
            list_at = len(o.buf)
            o.u32(0)
            list_start = len(o.buf)
            for i, (aname, aval) in enumerate(attrs):
                o.u8(0x46 if i < len(attrs) - 1 else 0x06)
                o.name(aname)
                self._put(aval)
            struct.pack_into("<I", o.buf, list_at, len(o.buf) - list_start)
        if content is None and not children:
            o.u8(0x03)                     # close empty element
        else:
            o.u8(0x02)                     # close start element
            if content is not None:
                self._put(content)
            for child in children or ():
                child(self)
            o.u8(0x04)                     # end element
        struct.pack_into("<I", o.buf, size_at, len(o.buf) - start)

    def _put(self, val: tuple) -> None:
        if val[0] == "text":
            self.out.text(val[1])
        else:
            _, vtype, value = val
            self.out.sub(self.value(vtype, value), vtype, optional=value is None)


def _encode(vtype: int, value) -> bytes:
    if value is None:
        return b""
    if vtype == STRING:
        return value.encode("utf-16-le")
    if vtype == BINARY:
        return bytes(value)
    fmt = {UINT8: "<B", UINT16: "<H", UINT32: "<I", UINT64: "<Q", FILETIME: "<Q", HEXINT64: "<Q"}[vtype]
    return struct.pack(fmt, value)


def _record_binxml(rec: Record, base: int) -> bytes:
    out = _Out(base)
    out.raw(b"\x0f\x01\x01\x00")           # fragment header
    out.u8(0x0C)                           # template instance
    out.u8(0x01)
    out.u32(rec.record_id & 0xFFFFFFFF)    # template id
    out.u32(out.here() + 4)                # definition follows inline
    out.u32(0)                             # next template
    out.raw(uuid.uuid5(uuid.NAMESPACE_URL, f"{rec.provider}/{rec.event_id}/{len(rec.data)}").bytes_le)
    size_at = len(out.buf)
    out.u32(0)
    frag_start = len(out.buf)
    out.raw(b"\x0f\x01\x01\x00")
    t = _Template(out)

    def system(tp: _Template):
        prov_attrs = [("Name", ("text", rec.provider))]
        if rec.guid:
            prov_attrs.append(("Guid", ("text", rec.guid)))
        tp.element("Provider", prov_attrs)
        eid_attrs = [("Qualifiers", ("sub", UINT16, rec.qualifiers))] if rec.qualifiers is not None else []
        tp.element("EventID", eid_attrs, content=("sub", UINT16, rec.event_id))
        tp.element("Version", content=("sub", UINT8, 0))
        tp.element("Level", content=("sub", UINT8, rec.level))
        tp.element("Task", content=("sub", UINT16, rec.task))
        tp.element("Opcode", content=("sub", UINT8, 0))
        tp.element("Keywords", content=("sub", HEXINT64, rec.keywords))
        tp.element("TimeCreated", [("SystemTime", ("sub", FILETIME, filetime(rec.time)))])
        tp.element("EventRecordID", content=("sub", UINT64, rec.record_id))
        tp.element("Correlation")
        tp.element("Execution", [("ProcessID", ("sub", UINT32, rec.process_id)),
                                 ("ThreadID", ("sub", UINT32, rec.thread_id))])
        tp.element("Channel", content=("sub", STRING, rec.channel))
        tp.element("Computer", content=("sub", STRING, rec.computer))
        tp.element("Security")

    def event_data(tp: _Template):
        if isinstance(rec.data, dict):
            for key, value in rec.data.items():
                tp.element("Data", [("Name", ("text", key))], content=("sub", STRING, value))
        else:
            for value in rec.data:
                tp.element("Data", content=("sub", STRING, value))
        if rec.binary is not None:
            tp.element("Binary", content=("sub", BINARY, rec.binary))

    t.element("Event", [("xmlns", ("text", EVENT_NS))],
              children=[lambda tp: tp.element("System", children=[system]),
                        lambda tp: tp.element("EventData", children=[event_data])])
    out.u8(0x00)                           # end of the template fragment
    struct.pack_into("<I", out.buf, size_at, len(out.buf) - frag_start)
    out.u32(len(t.subs))
    values = [_encode(vtype, value) for vtype, value in t.subs]
    for (vtype, value), enc in zip(t.subs, values):
        out.u16(len(enc))
        out.u8(vtype if value is not None else 0x00)
        out.u8(0)
    for enc in values:
        out.raw(enc)
    out.u8(0x00)                           # end of the record fragment
    return bytes(out.buf)


def _record(rec: Record, offset: int) -> bytes:
    body = _record_binxml(rec, offset + 24)
    size = 24 + len(body) + 4
    return (b"**\x00\x00" + struct.pack("<IQQ", size, rec.record_id, filetime(rec.time)) + body
            + struct.pack("<I", size))


def evtx_bytes(records: list[Record]) -> bytes:
    chunk = bytearray(65536)
    pos = 512
    last_offset = 512
    for rec in records:
        blob = _record(rec, pos)
        if pos + len(blob) > len(chunk):
            raise ValueError("records do not fit in one chunk")
        chunk[pos:pos + len(blob)] = blob
        last_offset = pos
        pos += len(blob)
    first_id, last_id = records[0].record_id, records[-1].record_id
    chunk[0:8] = b"ElfChnk\x00"
    struct.pack_into("<QQQQ", chunk, 8, first_id, last_id, first_id, last_id)
    struct.pack_into("<III", chunk, 40, 128, last_offset, pos)
    struct.pack_into("<I", chunk, 52, zlib.crc32(bytes(chunk[512:pos])))
    struct.pack_into("<I", chunk, 124, zlib.crc32(bytes(chunk[0:120]) + bytes(chunk[128:512])))
    header = bytearray(4096)
    header[0:8] = b"ElfFile\x00"
    struct.pack_into("<QQQIHHHH", header, 8, 0, 0, last_id + 1, 128, 1, 3, 4096, 1)
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[0:120])))
    return bytes(header) + bytes(chunk)


def write_evtx(path: Path, records: list[Record]) -> None:
    Path(path).write_bytes(evtx_bytes(records))


def amds_crash_application_log() -> list[Record]:
    """samples/win_amds_crash/Application.evtx: the Application log of the PC whose Apple
    Mobile Device Service crashed (see the System export beside it). Positional <Data> as
    Windows 10 19045 writes Application Error 1000 / WER 1001."""
    host = "WS-LAB-0419.corp.example"
    exe = "AppleMobileDeviceService.exe"
    path = r"C:\Program Files\Common Files\Apple\Mobile Device Support\AppleMobileDeviceService.exe"
    report = "5d2c81f4-9e0b-4c6a-b3f7-2a61e8d0c947"
    return [
        Record(provider="Microsoft-Windows-Security-SPP", event_id=16384, qualifiers=16384, level=4, task=0,
               time=datetime(2025, 3, 8, 13, 57, 12, 48113), record_id=3808, channel="Application", computer=host,
               guid="{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}", keywords=0x80000000000000,
               data=["2125-02-12T13:57:12Z", "RulesEngine"]),
        Record(provider="Application Error", event_id=1000, qualifiers=0, level=2, task=100,
               time=datetime(2025, 3, 8, 14, 6, 2, 412087), record_id=3811, channel="Application", computer=host,
               data=[exe, "1.0.0.0", "65a1f3c2", "ntdll.dll", "10.0.19041.5007", "a3b2c1d0", "c0000005",
                     "00000000000a1b2c", "1d9c", "01db9036e1c4a7b2", path, r"C:\WINDOWS\SYSTEM32\ntdll.dll",
                     report, "", ""]),
        Record(provider="Windows Error Reporting", event_id=1001, qualifiers=0, level=4, task=0,
               time=datetime(2025, 3, 8, 14, 6, 4, 907552), record_id=3812, channel="Application", computer=host,
               data=["1733405412889130512", "1", "APPCRASH", "Not available", "0", exe, "1.0.0.0", "65a1f3c2",
                     "ntdll.dll", "10.0.19041.5007", "a3b2c1d0", "c0000005", "00000000000a1b2c", "", "",
                     r"\\?\C:\ProgramData\Microsoft\Windows\WER\Temp\WERA1F2.tmp.mdmp",
                     r"\\?\C:\ProgramData\Microsoft\Windows\WER\ReportArchive\AppCrash_AppleMobileDevic_3f1e_5d2c81f4",
                     "", "0", report, "268435456", "", "0"]),
    ]


def _scm_states(host: str, start: datetime, first_id: int, n: int) -> list[Record]:
    """Service Control Manager 7036 records: Apple Mobile Device Service and others changing state."""
    from datetime import timedelta
    services = ["Apple Mobile Device Service", "Windows Update", "Bonjour Service", "Windows Modules Installer"]
    return [Record(provider="Service Control Manager", event_id=7036, qualifiers=16384, level=4, task=0,
                   time=start + timedelta(seconds=37 * i + 3), record_id=first_id + i, channel="System",
                   computer=host, guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}",
                   data={"param1": services[i % len(services)], "param2": ("running", "stopped")[i // 4 % 2]})
            for i in range(n)]


def damaged_samples() -> dict[str, bytes]:
    """samples/win_evtx_damaged: a System log whose copy was cut short (its header promises 2
    chunks and records up to 5130; the file ends inside the first chunk, after record 5120) and
    one whose record 5103 has size 0 (a crash while writing); both carved back by the reader."""
    host = "WS-LAB-0623.corp.example"
    cut = bytearray(evtx_bytes(_scm_states(host, datetime(2025, 6, 23, 9, 14, 2, 118000), 5101, 30)))
    struct.pack_into("<QQQ", cut, 8, 0, 1, 5131)  # first/last chunk, next record id
    struct.pack_into("<H", cut, 42, 2)  # chunk count
    struct.pack_into("<I", cut, 124, zlib.crc32(bytes(cut[0:120])))
    starts = [i for i in range(4096 + 512, len(cut) - 4) if cut[i:i + 4] == b"**\x00\x00"]
    zero = bytearray(evtx_bytes(_scm_states(host, datetime(2025, 6, 23, 11, 40, 51, 907000), 5101, 9)))
    zero_at = [i for i in range(4096 + 512, len(zero) - 4) if zero[i:i + 4] == b"**\x00\x00"][2]
    struct.pack_into("<I", zero, zero_at + 4, 0)
    return {"System_cut.evtx": bytes(cut[:starts[20] + 100]), "System_zero_size_record.evtx": bytes(zero)}


if __name__ == "__main__":  # regenerate the samples: python tests/evtx_writer.py
    here = Path(__file__).resolve().parent.parent
    write_evtx(here / "samples" / "win_amds_crash" / "Application.evtx", amds_crash_application_log())
    for name, data in damaged_samples().items():
        (here / "samples" / "win_evtx_damaged").mkdir(exist_ok=True)
        (here / "samples" / "win_evtx_damaged" / name).write_bytes(data)
