"""analyzer: why did this iPhone/iPad restore fail? Reads the logs already on the PC and says.

Library use::

    from analyzer import analyze
    result = analyze(["logs/"], tz="Asia/Tokyo")
    for incident in result.incidents:
        print(incident.error_code, incident.cause, incident.confidence)
"""

from .version import DOCUMENT_VERSION, __version__

__all__ = ["DOCUMENT_VERSION", "__version__", "analyze"]


def analyze(*args, **kwargs):
    """See :func:`analyzer.api.analyze` (imported lazily to keep ``analyze --help`` fast)."""
    from .api import analyze as _analyze

    return _analyze(*args, **kwargs)
