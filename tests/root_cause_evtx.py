"""The binary .evtx files of the root-cause sample PCs, as tests/evtx_writer.py records.

Regenerate with ``python tests/root_cause_evtx.py`` (from the repo root); the test
tests/test_root_cause_samples.py checks the files in samples/ are byte-identical to
what these functions write, so a sample can never drift from its definition.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from evtx_writer import Record, write_evtx

NTFS_GUID = "{3FF9F6A8-6EA8-4C2C-A8A4-A6AD7A3B04F8}"


def low_disk_ntfs_operational() -> list[Record]:
    """samples/pc_g7_low_disk/Ntfs_Operational.evtx: Ntfs/Operational 142 summaries of C: (UTC).

    The 142 logged during the restore window shows the system volume down to ~0.7 GB free,
    far below the ~7 GB an IPSW and its extraction need; the earlier one shows it was
    already tight before iTunes downloaded the IPSW."""
    host = "KOWALSKA-NB"
    volume = {"VolumeGuid": "{8c1f7a24-5e3b-4d09-9a61-2fb7c03e5d18}", "VolumeNameLength": "2", "VolumeName": "C:",
              "IsBootVolume": "true"}
    return [
        Record(provider="Microsoft-Windows-Ntfs", event_id=142, level=4, task=0, guid=NTFS_GUID,
               time=datetime(2025, 12, 2, 9, 14, 3, 771402), record_id=2291, channel="Microsoft-Windows-Ntfs/Operational",
               computer=host, keywords=0x4000000000000000, process_id=4, thread_id=11480,
               data={**volume, "LowestFreeSpaceInBytes": "9178316800", "HighestFreeSpaceInBytes": "11603066880"}),
        Record(provider="Microsoft-Windows-Ntfs", event_id=142, level=4, task=0, guid=NTFS_GUID,
               time=datetime(2025, 12, 2, 10, 14, 5, 208117), record_id=2292, channel="Microsoft-Windows-Ntfs/Operational",
               computer=host, keywords=0x4000000000000000, process_id=4, thread_id=11480,
               data={**volume, "LowestFreeSpaceInBytes": "734003200", "HighestFreeSpaceInBytes": "9160491008"}),
    ]


def old_itunes_application_log() -> list[Record]:
    """samples/pc_h8_old_itunes/Application.evtx: iTunes.exe 12.4.3.1 faulting right after the
    failed update (Application Error 1000 + WER 1001, positional <Data> as Windows 7 writes them)."""
    host = "RUIZ-SOBREMESA"
    exe, version = "iTunes.exe", "12.4.3.1"
    path = r"C:\Program Files\iTunes\iTunes.exe"
    module = r"C:\Program Files\Common Files\Apple\Apple Application Support\CoreFoundation.dll"
    report = "6e2b9c1f-8a4d-11e6-9c3a-3c970e5a41b7"
    return [
        Record(provider="Application Error", event_id=1000, qualifiers=0, level=2, task=100,
               time=datetime(2016, 10, 4, 15, 45, 38, 331092), record_id=48817, channel="Application", computer=host,
               data=[exe, version, "5787e3b4", "CoreFoundation.dll", "1.1000.7.20", "5767d8a2", "c0000005",
                     "00000000001d3f47", "1c2c", "01d21e5f6a0c4e90", path, module, report]),
        Record(provider="Windows Error Reporting", event_id=1001, qualifiers=0, level=4, task=0,
               time=datetime(2016, 10, 4, 15, 45, 42, 604771), record_id=48818, channel="Application", computer=host,
               data=["", "0", "APPCRASH", "Not available", "0", exe, version, "5787e3b4", "CoreFoundation.dll",
                     "1.1000.7.20", "5767d8a2", "c0000005", "00000000001d3f47", "", "",
                     r"C:\Users\mruiz\AppData\Local\Temp\WER8C41.tmp.WERInternalMetadata.xml",
                     r"C:\Users\mruiz\AppData\Local\Microsoft\Windows\WER\ReportArchive\AppCrash_iTunes.exe_4b9e2d7f1c0a6e3b5d8f2a9c7e1b4d6f0a3c5e_0b2f7d41",
                     "", "0", report, "0"]),
    ]


FILES = {
    Path("pc_g7_low_disk") / "Ntfs_Operational.evtx": low_disk_ntfs_operational,
    Path("pc_h8_old_itunes") / "Application.evtx": old_itunes_application_log,
}

if __name__ == "__main__":  # regenerate the samples
    samples = Path(__file__).resolve().parent.parent / "samples"
    for rel, records in FILES.items():
        (samples / rel).parent.mkdir(parents=True, exist_ok=True)
        write_evtx(samples / rel, records())
