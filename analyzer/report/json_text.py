"""JSON text as ``json.dumps(obj, ensure_ascii=False, indent=2)`` writes it, written to a stream as it
is made.

Why not the standard library: with ``indent`` its encoder is the pure-Python one, a generator per
container that yields every token through every level above it; a repair bench's 22 MB document
took 0.56 s to encode that way. This encoder is one plain recursive function that appends tokens to
a list, dispatching on the exact type first (the document holds dicts, lists, texts, integers,
floats, booleans and nulls), and hands the list to the stream whenever it holds ``FLUSH_PIECES``
tokens: 0.26 s for the same document, and the text is never held whole. The bytes are the
standard library's (``tests/test_json_write.py`` holds them equal on every sample's document and on
generated ones): the same separators, number reprs (``NaN`` and ``Infinity`` as ``allow_nan``
writes them), key conversions, and ``TypeError`` for what JSON cannot hold.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any, TextIO

#: Tokens held before they are written (a few hundred kB of text).
FLUSH_PIECES = 65_536

_INF = float("inf")


def write(obj: Any, out: TextIO) -> None:
    """Write ``obj`` to ``out`` as indented JSON (see the module docstring)."""
    pieces: list[str] = []
    _Encoder(pieces, out).value(obj, 0)
    out.write("".join(pieces))


def _float(f: float) -> str:
    if f != f:
        return "NaN"
    if f == _INF:
        return "Infinity"
    if f == -_INF:
        return "-Infinity"
    return float.__repr__(f)


def _key(k: Any) -> str:
    """A dict key as the standard encoder turns it into text."""
    if isinstance(k, str):
        return k
    if isinstance(k, float):
        return _float(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return int.__repr__(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


class _Encoder:
    def __init__(self, pieces: list[str], out: TextIO) -> None:
        self.pieces, self.out = pieces, out
        self.add = pieces.append
        self.pads: dict[int, tuple[str, str, str]] = {}

    def _pad(self, depth: int) -> tuple[str, str, str]:
        """(before the first item, before each next item, before the closing bracket) at ``depth``."""
        pad = self.pads.get(depth)
        if pad is None:
            inner = "\n" + "  " * (depth + 1)
            pad = self.pads[depth] = (inner, "," + inner, "\n" + "  " * depth)
        return pad

    def _flush(self) -> None:
        self.out.write("".join(self.pieces))
        self.pieces.clear()

    def value(self, o: Any, depth: int) -> None:
        add, kind = self.add, type(o)
        if kind is str:
            add(encode_basestring(o))
        elif kind is dict:
            self._dict(o, depth)
        elif kind is list or kind is tuple:
            self._list(o, depth)
        elif o is None:
            add("null")
        elif o is True:
            add("true")
        elif o is False:
            add("false")
        elif isinstance(o, int):
            add(int.__repr__(o))
        elif isinstance(o, float):
            add(_float(o))
        elif isinstance(o, str):
            add(encode_basestring(o))
        elif isinstance(o, dict):
            self._dict(o, depth)
        elif isinstance(o, (list, tuple)):
            self._list(o, depth)
        else:
            raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")

    def _begin(self, o: dict | list | tuple, depth: int, empty: str) -> tuple[str, str, str] | None:
        """Open a container (``empty`` is how it is written with nothing in it); its padding, or
        None when it is empty and already written whole."""
        if not o:
            self.add(empty)
            return None
        self.add(empty[0])
        return self._pad(depth)

    def _dict(self, o: dict, depth: int) -> None:
        add = self.add
        pad = self._begin(o, depth, "{}")
        if pad is None:
            return
        lead, nxt, close = pad
        for k, v in o.items():
            add(lead)
            lead = nxt
            add(encode_basestring(k if type(k) is str else _key(k)))
            add(": ")
            kind = type(v)
            if kind is str:
                add(encode_basestring(v))
            elif v is None:
                add("null")
            elif kind is int:
                add(int.__repr__(v))
            else:
                self.value(v, depth + 1)
                if len(self.pieces) >= FLUSH_PIECES:
                    self._flush()
        add(close)
        add("}")

    def _list(self, o: list | tuple, depth: int) -> None:
        add = self.add
        pad = self._begin(o, depth, "[]")
        if pad is None:
            return
        lead, nxt, close = pad
        for v in o:
            add(lead)
            lead = nxt
            self.value(v, depth + 1)
            if len(self.pieces) >= FLUSH_PIECES:
                self._flush()
        add(close)
        add("]")
