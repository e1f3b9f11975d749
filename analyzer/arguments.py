"""What :func:`analyzer.analyze` accepts, and the error it raises for anything else.

A leaf module (standard library only): the CLI shows these choices in
``--help`` and turns :class:`ArgumentError` into exit status 2 without loading
the library, which keeps ``analyze --help`` fast. The checks themselves run in
:func:`analyzer.api.analyze`, before any file is read, so a library caller
gets the same answers as the command line.
"""

from __future__ import annotations

from collections.abc import Callable

LAYOUTS = ("auto", "host", "fleet")
LANGS = ("en", "ja")
EXECUTORS = ("local", "ray")
#: What a user can report as failed (``symptom``): analyzer.correlate.OPERATIONS.
SYMPTOMS = ("restore", "update", "backup", "icloud")

#: The forms ``at`` accepts (:func:`analyzer.symptom.parse_at`).
AT_FORMS = ("a day and a time, like 2026-03-14 09:30 or 2026-03-14T09:30:15 (the PC's local time), or with a zone "
            "like 2026-03-14T00:30Z or 2026-03-14 09:30+09:00")
#: The forms ``window`` accepts (:func:`analyzer.symptom.parse_window`).
WINDOW_FORMS = "a duration like 10m, 90s or 1h, or a number of minutes, up to 7 days"

#: The form ``date`` accepts.
DATE_FORMS = "a day written YYYY-MM-DD, like 2025-02-14"

#: The forms ``tz`` accepts (:func:`analyzer.clock.parse_zone` normalises them).
TZ_FORMS = "an IANA zone name like Asia/Tokyo, UTC, or an offset of at most 14 hours like +09:00 or -0530"


class ArgumentError(ValueError):
    """A value :func:`analyzer.analyze` refuses, raised before any work.

    ``argument`` names the parameter (``tz``) or the environment variable
    (``ANALYZER_ZIP_MAX_BYTES``); ``accepted`` says in words what it takes.
    ``needs`` is (other parameter, value) for an argument that only means
    something together with another (``ray_address`` needs ``executor='ray'``).
    """

    def __init__(self, argument: str, value: object, accepted: str = "", needs: tuple[str, str] | None = None):
        self.argument = argument
        self.value = value
        self.accepted = accepted
        self.needs = needs
        super().__init__(self.describe())

    def __reduce__(self):  # the default would rebuild it from the message alone
        return type(self), (self.argument, self.value, self.accepted, self.needs)

    def describe(self, option: Callable[[str], str] | None = None) -> str:
        """The message; with ``option``, every parameter is shown by ``option(name)`` and a required
        setting as ``option(name) value`` (the CLI's spelling: ``--ray-address needs --executor ray``)."""
        if option is None:
            name, setting = str, "{}={!r}".format
        else:
            name, setting = option, lambda other, value: f"{option(other)} {value}"
        if self.needs:
            return f"{name(self.argument)} needs {setting(*self.needs)}"
        return f"{name(self.argument)} must be {self.accepted}, got {self.value!r}"


def one_of(choices: tuple[str, ...]) -> str:
    """``one of auto, host, fleet``: the accepted forms of a choice, for :class:`ArgumentError`."""
    return "one of " + ", ".join(choices)
