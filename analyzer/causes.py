"""The closed list of root causes, read from its one declaration (``data/causes.toml``).

Rules, error-code priors, remedies, the fleet summary and every report key on these ids;
declaring them in one data file (with their names in each language) means a new cause is
one table there plus its remedies, and a test can check that nothing names an undeclared one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

DECLARATION = Path(__file__).resolve().parent / "data" / "causes.toml"

#: id -> {language: name}, in declaration order.
CAUSES: dict[str, dict[str, str]] = tomllib.loads(DECLARATION.read_text(encoding="utf-8"))

#: The stable cause ids, in the order reports list them.
CAUSE_IDS: tuple[str, ...] = tuple(CAUSES)

#: The verdict when log evidence is too thin to name a cause.
UNDETERMINED = "undetermined"
