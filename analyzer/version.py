"""The package's version and the JSON document's layout version, in a module that imports nothing.

A leaf, so that the package ``__init__``, the library and the reports can all read them
without an import cycle through ``analyzer/__init__.py``.
"""

__version__ = "0.1.0"

#: Version of the JSON document layout (bumped when a field changes meaning or goes away).
DOCUMENT_VERSION = "1.0"
