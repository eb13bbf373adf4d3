"""flexorm's imports run one way: no circle, and no arrow from a lower floor to a higher one.

Every import counts, also those inside functions and under ``TYPE_CHECKING`` (the ones that
hide a circle from the interpreter do not hide it from the reader). The floors, top down:

==========  =====================================================================
floor       modules
==========  =====================================================================
facade      ``flexorm`` (the package's public names), ``flexorm.flex``
commands    ``flexorm.cli``
app         ``flexorm.plugin`` (wires the three ways in below into a Litestar app)
interfaces  ``flexorm.mcp``, ``flexorm.operations`` (MCP tools and HTTP operations)
server      ``flexorm.server`` (the messages protocol over HTTP, and what the others share)
runtime     ``flexorm.runtime``
background  ``flexorm.background`` (running queued runs: in the server, or on the queue)
calls       ``flexorm.calls`` (actions as MCP tools and HTTP operations)
actions     ``flexorm.actions`` (declarations, policies, parameter typing, running)
services    ``flexorm.journal``, ``flexorm.migrations``, ``flexorm.reflection``,
            ``flexorm.auth``
floor       ``flexorm.protocol``, ``flexorm.exceptions``, ``flexorm.settings``,
            ``flexorm.database``, ``flexorm.db_errors``, the private helpers
==========  =====================================================================

``flexorm._demo`` is an example shipped in the package: it uses the facade like any user.
"""

from __future__ import annotations

import ast
from pathlib import Path

import flexorm

ROOT = Path(flexorm.__file__).parent

FLOORS: list[tuple[str, ...]] = [
    ("flexorm", "flexorm.flex"),
    ("flexorm.cli",),
    ("flexorm.plugin",),
    ("flexorm.mcp", "flexorm.operations"),
    ("flexorm.server",),
    ("flexorm.runtime",),
    ("flexorm.background",),
    ("flexorm.calls",),
    ("flexorm.actions",),
    ("flexorm.journal", "flexorm.migrations", "flexorm.reflection", "flexorm.auth"),
    ("flexorm.protocol", "flexorm.exceptions", "flexorm.settings", "flexorm.database",
     "flexorm.db_errors", "flexorm._url", "flexorm._gc", "flexorm._liveness"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {_module_name(path): path for path in ROOT.rglob("*.py")}
    return {name: path for name, path in found.items()
            if not name.startswith("flexorm._demo") and ".migrations.versions" not in name}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else base)
    return {t for t in targets if t in known and t != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _floor(module: str) -> int:
    best = (-1, len(FLOORS))
    for index, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = (len(prefix), index)
    assert best[0] >= 0, f"{module} is on no floor: add it to FLOORS"
    return best[1]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
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


def test_the_graph_is_read():
    graph = _graph()
    assert "flexorm.runtime" in graph["flexorm.server.lifespan"]
    assert "flexorm.actions.params.fields" in graph["flexorm.actions.params.signature"]


def test_no_import_circle():
    assert _cycles(_graph()) == []


def test_no_arrow_runs_up():
    upward = sorted(f"{source} -> {target}"
                    for source, targets in _graph().items() for target in targets
                    if _floor(target) < _floor(source))
    assert upward == []


def test_nothing_below_the_facade_imports_it():
    importers = sorted(source for source, targets in _graph().items()
                       if "flexorm.flex" in targets)
    assert importers == ["flexorm"]
