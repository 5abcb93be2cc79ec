"""The package's layers, read from the source with ``ast`` (nothing is imported or run).

Stages in flow order: the shared ground, then ingest, analyses, report, delivery, and
the command line on top. A module may import its own stage or a lower one, never a
higher one, and no chain of imports comes back to where it started.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lgs_analysis"
STAGES = ["ground", "ingest", "analyses", "report", "delivery", "cli"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "ground"  # lgs_analysis itself
    if parts[1] in STAGES:
        return parts[1]
    return "ground"  # config, exceptions, log, warehouse (a package), periods, formatting


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    if not base.startswith("lgs_analysis"):
        return []
    # each name may be a module (from ..analyses import rfm) or an attribute; the caller
    # strips attributes back to their module
    return [f"{base}.{alias.name}" for alias in node.names]


def _imports() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(name, path.name == "__init__.py", node)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("lgs_analysis")]
            else:
                continue
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]  # an attribute, not a module
                if target in modules and target != name:
                    found.add(target)
        graph[name] = found
    return graph


GRAPH = _imports()


def test_graph_sees_the_package():
    assert "lgs_analysis.report.build" in GRAPH
    assert "lgs_analysis.analyses.rfm" in GRAPH["lgs_analysis.report.data"]
    assert "lgs_analysis.warehouse" in GRAPH["lgs_analysis.analyses.rfm"]
    # the warehouse package: its engines sit below the shared part that dispatches to them
    assert "lgs_analysis.warehouse.duckdb" in GRAPH["lgs_analysis.warehouse.queries"]
    assert "lgs_analysis.warehouse.spark" in GRAPH["lgs_analysis.warehouse.engines"]


def test_warehouse_modules_are_ground():
    modules = [m for m in GRAPH if m.startswith("lgs_analysis.warehouse")]
    assert {m.rsplit(".", 1)[-1] for m in modules} >= {"duckdb", "postgresql", "spark", "sql"}
    assert all(_stage(m) == "ground" for m in modules)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_imports_a_higher_stage(module: str):
    rank = STAGES.index(_stage(module))
    upward = sorted(t for t in GRAPH[module] if STAGES.index(_stage(t)) > rank)
    assert not upward, f"{module} ({_stage(module)}) imports a higher stage: {upward}"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycle():
    # a package's __init__ re-exporting its own modules is not a cycle between modules
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in GRAPH.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_find_cycle_finds_one():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
