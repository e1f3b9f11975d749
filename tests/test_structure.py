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


def module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """analyzer's modules and the ones each imports by name (top level or in a function, relative
    imports resolved). The implicit "a submodule first runs its package's __init__" edge is left out."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in imports_of(path):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in files else module for a in node.names]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one module."""
    reach = {m: set() for m in graph}
    for start in graph:
        todo = list(graph[start])
        while todo:
            m = todo.pop()
            if m not in reach[start]:
                reach[start].add(m)
                todo.extend(graph[m])
    groups = {frozenset({m} | {n for n in reach[m] if m in reach[n]}) for m in graph}
    return [set(g) for g in groups if len(g) > 1]


def test_the_import_graph_sees_relative_imports():
    graph = import_graph()
    assert {"analyzer.version", "analyzer.api", "analyzer.pipeline"} <= graph["analyzer.api"] | {"analyzer.api"}
    assert "analyzer.model" in graph["analyzer.report.json_doc"]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]


def test_no_import_cycle():
    assert cycles(import_graph()) == []
