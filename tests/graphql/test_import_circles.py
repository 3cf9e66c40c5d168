"""Import circles among schema/ and resolvers/, counting every import: top level, inside a
function, and under ``if TYPE_CHECKING`` (a circle there still ties the modules together).

No circle may run through both packages, nor stay inside either: the types are a leaf
(``schema/types/``, issue 15 §2) that feature modules and resolvers import, never the reverse.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[2]
PACKAGES: Final = ("schema", "resolvers")
# Circles still to be taken apart: none is left, and none may come back.
REMAINING: Final[frozenset[str]] = frozenset()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, modules: frozenset[str]) -> Iterator[str]:
    """The modules among ``modules`` that ``source`` imports, wherever the import stands."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            # `from schema import inputs` imports the submodule; the package's own names otherwise.
            found = [name for name in submodules if name in modules]
            if found:
                yield from found
            elif node.module in modules:
                yield node.module


def import_graph(sources: Mapping[str, str]) -> dict[str, set[str]]:
    modules = frozenset(sources)
    return {name: set(imported(source, modules)) - {name} for name, source in sources.items()}


def circles(graph: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _tree_sources() -> dict[str, str]:
    return {
        module_name(path): path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_no_import_circle_runs_through_both_schema_and_resolvers() -> None:
    # given the imports of every module of both packages
    graph = import_graph(_tree_sources())

    # when the circles are found
    found = circles(graph)

    # then none joins the two packages, and none reaches beyond the one left inside schema/
    crossing = [sorted(group) for group in found if {name.split(".")[0] for name in group} == set(PACKAGES)]
    assert crossing == [], f"schema/ and resolvers/ import each other in a circle: {crossing}"
    beyond = [sorted(group - REMAINING) for group in found if not group <= REMAINING]
    assert beyond == [], f"a new import circle: {beyond}"


def test_the_guard_sees_a_circle_through_a_type_checking_import() -> None:
    # given a resolver importing a type whose module imports the resolver only for type checking
    sources = {
        "resolvers.feature": "from schema.types import Case\n",
        "schema.types": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from resolvers.feature import x\n",
        "schema.inputs": "",
        "schema": "from schema import inputs\n",
    }

    # when the circles are found
    found = circles(import_graph(sources))

    # then the circle is there, and importing a submodule does not count as importing its package
    assert found == [frozenset({"resolvers.feature", "schema.types"})]
