"""The layers only point down: the runtime library (`maritimeiq`) imports nothing above it;
the Spark jobs and the streaming workers import the runtime, not each other nor the stack;
the DAG files import no stack; no module imports itself back through others. Imports are
read from the source with `ast` (nothing is imported), including those inside functions."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "maritimeiq": ROOT / "include" / "maritimeiq",
    "maritime_jobs": ROOT / "spark_jobs" / "maritime_jobs",
    "maritime_streaming": ROOT / "streaming" / "maritime_streaming",
    "maritime_stack": ROOT / "stack" / "maritime_stack",
}
DAGS = ROOT / "dags"
# Each layer and the project packages it must not import.
FORBIDDEN = {
    "maritimeiq": {"maritime_jobs", "maritime_streaming", "maritime_stack"},
    "maritime_jobs": {"maritime_streaming", "maritime_stack"},
    "maritime_streaming": {"maritime_jobs", "maritime_stack"},
    "dags": {"maritime_stack"},
}


def _module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the project's packages and
    every DAG file (as `dags.<file>`)."""
    files = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    files.update({f"dags.{path.stem}": path for path in DAGS.glob("*.py")})
    return files


def _imported_names(module: str, path: Path) -> Iterable[str]:
    """Every name an import statement of the file brings in, as dotted candidates: for
    `from a import b`, `a.b` (b may be a module) and `a`."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name resolves to its longest known prefix)."""
    files = _module_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets = set()
        for name in _imported_names(module, path):
            parts = name.split(".")
            known = next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in files), None)
            if known is not None and known != module:
                targets.add(known)
        graph[module] = targets
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_sees_every_layer(graph):
    """Guards the checks below against passing on an empty or mis-resolved graph."""
    layers = {module.split(".")[0] for module in graph}
    assert layers == {*PACKAGES, "dags"}
    assert "maritimeiq.config" in graph["maritime_streaming.supervisor"]
    assert "maritimeiq.dag_factory" in graph["dags.silver_promotion"]
    assert "maritime_stack.services" in graph["maritime_stack.demo"]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(graph, layer):
    wrong = {
        module: sorted(t for t in targets if t.split(".")[0] in FORBIDDEN[layer])
        for module, targets in graph.items()
        if module.split(".")[0] == layer
    }
    assert {module: targets for module, targets in wrong.items() if targets} == {}


def test_no_import_cycles(graph):
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
