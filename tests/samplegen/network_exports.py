"""Writes the sample PCs whose network evidence comes as Windows TEXT exports (issue 15, gaps 1 and 3).

Run ``python tests/samplegen/network_exports.py`` from the checkout to regenerate them (a test checks the
committed samples are what it writes). Text exports keep no EventData: a Schannel event's TLS alert is
only in its rendered message, in the UI language of the PC that exported it. The wordings follow public
pastes of real 36887/36888 messages (English and Japanese, see analyzer/winevent_network.py); ids, names
and times are our own. docs/samples.md tells each story.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[1] / "samples"

EN_36887 = "A fatal alert was received from the remote endpoint. The TLS protocol defined fatal alert code is {}."
EN_36888 = ("A fatal alert was generated and sent to the remote endpoint. This may result in termination of the "
            "connection. The TLS protocol defined fatal error code is {}. The Windows SChannel error state is {}.")
JA_36887 = "リモート エンドポイントから致命的な警告を受け取りました。TLS プロトコルで定義された致命的な警告コードは {} です。"
JA_36888 = ("致命的な警告が生成され、リモート エンドポイントに送信されました。これにより接続が終了する可能性があります。"
            "TLS プロトコルで定義された致命的な警告コードは {} です。Windows SChannel エラーの状態は {} です。")
JA_36888_OLD = "次の致命的な警告が生成されました: {}。内部エラーの状態は {} です。"
JA_TIME_36 = ("タイム サービスは 86400 秒間、システム時刻を同期していません。タイム サービスが利用可能なタイム ソースと"
              "通信できないためです。")


# -- English: wevtutil qe /f:text, Event Viewer "Save as Text", Format-List, Format-Table -----------------
def _wevtutil_en(events: list[tuple[dt.datetime, int, str, str]], computer: str) -> str:
    out = []
    for n, (t, eid, level, message) in enumerate(events):
        out += [f"Event[{n}]:", "  Log Name: System", "  Source: Schannel", f"  Date: {t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}",
                f"  Event ID: {eid}", "  Task: N/A", f"  Level: {level}", "  Opcode: Info", "  Keyword: N/A",
                "  User: S-1-5-18", "  User Name: NT AUTHORITY\\SYSTEM", f"  Computer: {computer}", "  Description: ",
                message, ""]
    return "\r\n".join(out) + "\r\n"


def _us(t: dt.datetime) -> str:
    return f"{t.month}/{t.day}/{t.year} {(t.hour - 1) % 12 + 1}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}"


def tls_exports_en() -> dict[str, bytes]:
    """pc_af32: iCloud for Windows fails at 15:20 local (+02:00) on a PC whose security suite re-signs
    TLS: Schannel 36887 with alert 48 (unknown_ca) in four export forms of one System log; the
    Format-Table row is cut at the console width before its number."""
    computer, at = "KOWALSKI-HOME", dt.datetime(2026, 4, 8, 15, 20, 0)
    wev = [(at - dt.timedelta(seconds=79, microseconds=-412000), 36887, "Error", EN_36887.format(48)),
           (at - dt.timedelta(seconds=78, microseconds=-655000), 36887, "Error", EN_36887.format(48)),
           (at - dt.timedelta(seconds=21), 36888, "Error", EN_36888.format(40, 1205))]
    viewer = [(at + dt.timedelta(seconds=16), EN_36887.format(48)), (at + dt.timedelta(seconds=15), EN_36887.format(48))]
    tsv = ["Level\tDate and Time\tSource\tEvent ID\tTask Category"]
    tsv += [f"Error\t{_us(t)}\tSchannel\t36887\tNone\t{m}" for t, m in viewer]
    listed = at + dt.timedelta(seconds=70)
    fl = ["", "", f"TimeCreated  : {_us(listed)}", "ProviderName : Schannel", "Id           : 36887",
          f"Message      : {EN_36887.format(48)}", "", ""]
    cut = at + dt.timedelta(seconds=102)
    message = EN_36887.format(48)
    ft = ["", "", "   ProviderName: Schannel", "", "TimeCreated                     Id LevelDisplayName Message",
          "-----------                     -- ---------------- -------",
          f"{_us(cut):<26}{36887:>9} {'Error':<16} {message[:98]}...", "", ""]
    return {"System_wevtutil.txt": _wevtutil_en(wev, computer).encode("ascii"),
            "System_eventviewer.txt": ("\r\n".join(tsv) + "\r\n").encode("utf-16"),
            "System_Format-List.txt": "\r\n".join(fl).encode("utf-16"),
            "System_Format-Table.txt": "\r\n".join(ft).encode("utf-16")}


# -- Japanese: wevtutil text with Japanese labels, Event Viewer .txt (UTF-16) and .csv (cp932) ----------
def _wevtutil_ja(events: list[tuple[dt.datetime, str, int, str, str]], computer: str) -> str:
    out = []
    for n, (t, source, eid, level, message) in enumerate(events):
        out += [f"Event[{n}]:", "  ログの名前: System", f"  ソース: {source}", f"  日付: {t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}",
                f"  イベント ID: {eid}", "  タスクのカテゴリ: なし", f"  レベル: {level}", "  オペコード: 情報",
                "  キーワード: N/A", "  ユーザー: S-1-5-19", "  ユーザー名: NT AUTHORITY\\LOCAL SERVICE" if eid == 36 else
                "  ユーザー名: NT AUTHORITY\\SYSTEM", f"  コンピューター: {computer}", "  説明: ", message, ""]
    return "\r\n".join(out) + "\r\n"


def _jp(t: dt.datetime) -> str:
    return f"{t:%Y/%m/%d %H:%M:%S}"


def clock_exports_ja() -> dict[str, bytes]:
    """pc_ag33: a Japanese PC whose clock runs weeks behind (its CMOS battery): Time-Service 36 and
    Schannel alerts 45 (certificate_expired) and 46 (certificate_unknown) in the two wordings of
    Windows' Japanese UI, exported three ways; iCloud fails at 21:05 JST."""
    computer, at = "MORI-DESKTOP", dt.datetime(2026, 5, 19, 21, 5, 0)
    wev = [(at - dt.timedelta(minutes=9, seconds=-12, microseconds=-118000), "Microsoft-Windows-Time-Service", 36, "警告", JA_TIME_36),
           (at - dt.timedelta(seconds=47, microseconds=-302000), "Schannel", 36888, "エラー", JA_36888.format(45, 1203)),
           (at - dt.timedelta(seconds=46, microseconds=-981000), "Schannel", 36888, "エラー", JA_36888.format(45, 1203))]
    tsv = ["レベル\t日付と時刻\tソース\tイベント ID\tタスクのカテゴリ",
           f"エラー\t{_jp(at + dt.timedelta(seconds=31))}\tSchannel\t36887\tなし\t{JA_36887.format(46)}",
           f"エラー\t{_jp(at + dt.timedelta(seconds=8))}\tSchannel\t36888\tなし\t{JA_36888.format(45, 1203)}"]
    csv = ["レベル,日付と時刻,ソース,イベント ID,タスクのカテゴリ",
           f"エラー,{_jp(at + dt.timedelta(seconds=66))},Schannel,36888,なし,{JA_36888_OLD.format(45, 1203)}"]
    return {"System_wevtutil.txt": _wevtutil_ja(wev, computer).encode("utf-16"),
            "System_eventviewer.txt": ("\r\n".join(tsv) + "\r\n").encode("utf-16"),
            "System_eventviewer.csv": ("\r\n".join(csv) + "\r\n").encode("cp932")}


PCS = {"pc_af32_icloud_tls_exports_en": tls_exports_en, "pc_ag33_icloud_clock_exports_ja": clock_exports_ja}


def files() -> dict[Path, bytes]:
    """Every sample file this module writes, by its path under samples/."""
    return {Path(pc) / name: data for pc, make in PCS.items() for name, data in make().items()}


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    for rel, data in files().items():
        (SAMPLES / rel).parent.mkdir(parents=True, exist_ok=True)
        (SAMPLES / rel).write_bytes(data)
