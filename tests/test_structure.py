"""How the package is put together: version numbers in a leaf module, and no import cycle."""

from __future__ import annotations

import ast
import tomllib

import analyzer
from analyzer import version

from conftest import ROOT

PACKAGE = ROOT / "analyzer"


def imports_of(path) -> list[ast.stmt]:
    """Every import statement in a module, at top level or inside a function."""
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_version_module_is_a_leaf_and_the_package_re_exports_it():
    assert imports_of(PACKAGE / "version.py") == []
    assert (analyzer.__version__, analyzer.DOCUMENT_VERSION) == (version.__version__, version.DOCUMENT_VERSION)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == version.__version__


def imported_names(path) -> set[str]:
    """The modules a file imports (relative imports as written, ``.pipeline``)."""
    names = set()
    for node in imports_of(path):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        else:
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" if node.module else base + alias.name for alias in node.names)
    return names


def test_executors_know_nothing_of_the_pipeline_or_polars():
    names = imported_names(PACKAGE / "parallel.py")
    assert not {n for n in names if n.split(".")[0] == "polars" or "pipeline" in n or "ingest" in n}, names
