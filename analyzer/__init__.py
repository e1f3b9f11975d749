"""analyzer: why did this iPhone/iPad restore fail? Reads the logs already on the PC and says.

Library use::

    from analyzer import analyze
    result = analyze(["logs/"], tz="Asia/Tokyo")
    for incident in result.incidents:
        print(incident.error_code, incident.cause, incident.confidence)
"""

__version__ = "0.1.0"

#: Version of the JSON document layout (bumped when a field changes meaning or goes away).
DOCUMENT_VERSION = "1.0"


def analyze(*args, **kwargs):
    """See :func:`analyzer.api.analyze` (imported lazily to keep ``analyze --help`` fast)."""
    from .api import analyze as _analyze

    return _analyze(*args, **kwargs)
