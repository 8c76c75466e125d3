"""The import graph of app/ points down the layers of DESIGN §2 and has no cycle.

api and web → services → repositories → models; schemas are the contract beside them; matching
and vocab are below everything. Imports under ``if TYPE_CHECKING:`` are left out (they never run).
A cycle, an arrow up the layers or a function-level import inside app/ (outside the command line,
which imports lazily so ``sinergi --help`` stays fast) fails here with the offending edge named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(APP.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif node.module and node.level == 0:
        for alias in node.names:
            candidate = f"{node.module}.{alias.name}"
            yield candidate if candidate in MODULES else node.module


def _edges(module: str) -> Iterator[Edge]:
    def visit(node: ast.AST, in_function: bool) -> Iterator[Edge]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    yield from visit(other, in_function)
                continue
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(child):
                    if target.split(".")[0] == "app" and target != module:
                        yield Edge(module, target, child.lineno, inner)
            yield from visit(child, inner)

    yield from visit(ast.parse(MODULES[module].read_text()), False)


EDGES = [edge for module in MODULES for edge in _edges(module)]

#: Layer of each top-level part of app/; a module may import its own layer or lower ones.
#: ``app`` itself (the package) and the process entry points sit on top.
LAYERS: dict[str, int] = {
    "vocab": 0,
    "matching": 1,
    "config": 2,
    "errors": 2,
    "pagination": 2,
    "metrics": 2,
    "db": 3,
    "models": 3,
    "schemas": 4,
    "repositories": 5,
    "services": 6,
    "api": 7,
    "web": 7,
    "logging": 8,
    "main": 9,
    "demo": 9,
    "migrate": 3,
    "worker": 9,
    "cli": 10,
    "cli_messages": 10,
}

#: Arrows that skip a layer the design forbids even though they point down.
FORBIDDEN: list[tuple[str, str, str]] = [
    ("api", "models", "routers call services; rows are mapped to responses below them"),
    ("api", "repositories", "SQL and row access belong to services and repositories"),
    ("web", "models", "the console calls the same services as the API"),
    ("web", "repositories", "the console calls the same services as the API"),
    ("schemas", "models", "the contract does not depend on the ORM (shared enums: app/vocab)"),
    ("schemas", "db", "the contract does not depend on the database"),
    ("repositories", "schemas", "repositories return rows, services map them"),
    ("matching", "config", "matching is pure: settings arrive as arguments"),
    ("matching", "errors", "matching is pure and raises its own ValueErrors"),
    ("matching", "metrics", "matching is pure"),
    ("matching", "pagination", "matching is pure"),
]

#: Entry points whose function-level imports keep start-up light (nothing imports them).
LAZY_IMPORTERS = {"app.cli"}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def test_every_part_of_app_has_a_layer() -> None:
    unknown = {_part(m) for m in MODULES} - set(LAYERS) - {"app"}
    assert not unknown, f"give these parts of app/ a layer in LAYERS: {sorted(unknown)}"


def test_no_arrow_points_up_the_layers() -> None:
    upward = [
        f"{e.source} → {e.target} (line {e.line})"
        for e in EDGES
        if _part(e.source) != "app"
        and _part(e.target) != "app"
        and LAYERS[_part(e.target)] > LAYERS[_part(e.source)]
    ]
    assert not upward, "imports against the layers of DESIGN §2:\n" + "\n".join(upward)


@pytest.mark.parametrize(("source", "target", "why"), FORBIDDEN)
def test_no_forbidden_arrow(source: str, target: str, why: str) -> None:
    found = [
        f"{e.source} → {e.target} (line {e.line})"
        for e in EDGES
        if _part(e.source) == source and _part(e.target) == target
    ]
    assert not found, f"{source} must not import {target} ({why}):\n" + "\n".join(found)


def test_services_repositories_and_below_do_not_know_the_web_framework() -> None:
    layers = {"services", "repositories", "models", "schemas", "matching", "vocab"}
    found = []
    for module, path in MODULES.items():
        if _part(module) not in layers:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [
                f"{module} imports {n}"
                for n in names
                if n.split(".")[0] in {"fastapi", "starlette"}
            ]
    assert not found, "\n".join(found)


def test_no_function_level_import_inside_app() -> None:
    hidden = [
        f"{e.source} → {e.target} (line {e.line})"
        for e in EDGES
        if e.in_function and e.source not in LAZY_IMPORTERS
    ]
    assert not hidden, "import at module level (a cycle needs a shared home):\n" + "\n".join(hidden)


def _cycles() -> list[list[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in EDGES:
        if e.target in MODULES:
            graph[e.source].add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return found


def test_no_import_cycle_between_files_of_app() -> None:
    assert _cycles() == []


def test_the_checker_sees_a_cycle_and_an_upward_arrow() -> None:
    """The rules above would catch what they claim to (guards against a checker that sees
    nothing)."""
    assert any(e.source == "app.services.reports" and e.in_function is False for e in EDGES)
    assert any(_part(e.source) == "api" and _part(e.target) == "services" for e in EDGES)
    assert LAYERS["services"] > LAYERS["repositories"] > LAYERS["models"]
