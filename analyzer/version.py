"""Version numbers, in a module that imports nothing.

Why a leaf of its own: the library (``api.Analysis``) and the JSON writer
(``report.json_doc``) need these, and taking them from the package
``__init__`` made ``analyzer`` and ``analyzer.api`` import each other.
"""

__version__ = "0.1.0"

#: Version of the JSON document layout (bumped when a field changes meaning or goes away).
DOCUMENT_VERSION = "1.2"
