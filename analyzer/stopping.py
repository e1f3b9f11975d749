"""A run stopped from outside (SIGTERM, SIGHUP) ends like Ctrl-C: by an exception, so that every
``finally`` and ``with`` on the way out removes what the run made (unpacked archives, half-written
outputs) before the process exits.

Python's default for SIGTERM and SIGHUP is to die on the spot, which leaves the extracted copy of
a bundle in the temporary folder (``timeout``, a service manager and a closed SSH session send
these, not SIGINT). :class:`Stopped` is a :class:`KeyboardInterrupt`, so code that already lets
Ctrl-C through (``except Exception`` does) lets these through too. While the first stop unwinds,
further SIGTERM/SIGHUP are ignored so that they cannot cut the clean-up short; SIGKILL still ends
the process, and what it leaves is swept by the next run (:mod:`analyzer.leftovers`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

#: The signals turned into :class:`Stopped` (those this platform has).
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """The run was stopped by ``signum``; the process should exit with :attr:`exit_code` (128 + signum)."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


#: The signals received so far in this process (the first decides the exit status).
received: list[int] = []


def exit_code(default: int) -> int:
    """128 + the first signal received (143 SIGTERM, 129 SIGHUP), else ``default``."""
    return 128 + received[0] if received else default


def _stop(signum: int, frame: object) -> None:
    received.append(signum)
    for sig in SIGNALS:  # the clean-up this starts must not be cut short by a second signal
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


def install() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Stopped` in this process (the main thread only;
    elsewhere Python cannot install handlers, and nothing is done)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        signal.signal(sig, _stop)


def finished() -> None:
    """The run's work is done and its output flushed: a stop that comes now is ignored. Python puts
    the default handlers back while the interpreter shuts down, and a SIGTERM in those milliseconds
    would end a finished run as killed (status -15 instead of its own). A stop that comes while the
    handlers are set (Python runs a pending handler inside ``signal.signal``) is ignored too: its
    handler has already set them all to ignore the next (it escaped from here, ending the run as
    an internal error, in about half of the stops sent as the document's last line came out)."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        for sig in SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
    except Stopped:
        pass


@contextlib.contextmanager
def during() -> Iterator[None]:
    """:func:`install` for the duration of a block that makes temporaries, then the handlers as
    they were. If a stop came while the block ran and the process's own handler was the
    default (a pool worker, a library caller), the signal is delivered again once the block has
    cleaned up, so that the process ends as its owner expects: a pool ends its workers with
    SIGTERM when it breaks, and a worker that only unwound its job would then wait forever to
    send a result nobody reads."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    before = len(received)
    install()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        stops = received[before:]
        if stops and previous.get(stops[0]) == signal.SIG_DFL:
            os.kill(os.getpid(), stops[0])
