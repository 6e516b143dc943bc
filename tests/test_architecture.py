"""The folders are the architecture, and the imports keep to it.

Every module under ``configs/``, ``schemas/``, ``compiler/`` and ``runtime/`` is parsed
(never imported) and every import it makes, at the top, inside a function or under
``TYPE_CHECKING``, becomes an edge between two modules. Two rules hold:

* no cycle among modules;
* an import points down: ``configs <- schemas <- compiler <- runtime``, and inside
  ``runtime`` the rooms import one way, in the order written in
  ``runtime/__init__.py``'s docstring (the line of ``->``).
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVELS = ("configs", "schemas", "compiler", "runtime")
"""The installed code folders, lowest first (each is ``hamlet.<folder>``)."""


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def modules() -> dict[str, Module]:
    found = {}
    for top in TOP_LEVELS:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(["hamlet", *parts])
            found[name] = Module(name, path)
    return found


def imports(module: Module, known: set[str]) -> set[tuple[str, int]]:
    """``(imported module, line)`` of every ``hamlet`` import in ``module``."""
    found = set()
    for node in ast.walk(ast.parse(module.path.read_text(), str(module.path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name, node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.name.split(".")
                if not module.is_package:
                    package.pop()
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                # `from package import module` imports that module, not just the package
                target = f"{base}.{alias.name}"
                found.add((target if target in known else base, node.lineno))
    return {(name, line) for name, line in found if name == "hamlet" or name.startswith("hamlet.")}


def import_graph() -> nx.DiGraph:
    found = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(found)
    for module in found.values():
        for target, line in imports(module, set(found)):
            graph.add_edge(module.name, target, line=line)
    return graph


def runtime_rooms() -> list[list[str]]:
    """The rooms of ``runtime`` in the order its docstring states, lowest first; rooms on
    the same rung (``files, text``) are independent helpers."""
    init = ROOT / "runtime" / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text())) or ""
    # the order is the indented literal block of ``->`` lines (it may wrap)
    lines = [line.strip() for line in doc.splitlines() if line.startswith("    ") and "->" in line]
    assert lines, "runtime/__init__.py's docstring states the order in a block of -> lines"
    order = " ".join(lines)
    return [[room.strip() for room in rung.split(",")] for rung in order.split("->")]


def ranks() -> dict[str, float]:
    """A rank for every top-level folder and every runtime room: imports go to lower or
    equal ranks only."""
    rank: dict[str, float] = {f"hamlet.{top}": i for i, top in enumerate(TOP_LEVELS[:-1])}
    base = len(rank)
    for level, rung in enumerate(runtime_rooms()):
        for room in rung:
            rank[f"hamlet.runtime.{room}"] = base + level
    # hamlet.runtime itself (the public API) re-exports rooms; only the CLI stands above it
    rank["hamlet.runtime"] = rank["hamlet.runtime.cli"] - 0.5
    return rank


def rank_of(module: str, rank: dict[str, float]) -> float:
    owner = max((prefix for prefix in rank if module == prefix or module.startswith(f"{prefix}.")),
                key=len, default=None)  # fmt: skip
    assert owner is not None, f"{module} belongs to no room of runtime/__init__.py's order"
    return rank[owner]


def violations(graph: nx.DiGraph, rank: dict[str, float]) -> list[str]:
    """Every import against the order, as ``importer:line imports imported``."""
    return sorted(
        f"{a}:{data['line']} imports {b}"
        for a, b, data in graph.edges(data=True)
        if b in graph and rank_of(b, rank) > rank_of(a, rank)
    )


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1] + [
        [a] for a, b in nx.selfloop_edges(graph)
    ]


def test_no_module_imports_against_the_stated_order():
    assert violations(import_graph(), ranks()) == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_every_runtime_module_lives_in_a_stated_room():
    rank = ranks()
    for name in modules():
        if name.startswith("hamlet.runtime."):
            rank_of(name, rank)  # raises for a module outside every room
    stated = {room for rung in runtime_rooms() for room in rung}
    present = {
        p.stem if p.suffix == ".py" else p.name
        for p in (ROOT / "runtime").iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    }
    assert present == stated


def test_every_room_says_what_lives_there_and_what_it_may_import():
    for init in sorted((ROOT / "runtime").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "Imports:" in doc, f"{init.relative_to(ROOT)} lacks a docstring with 'Imports:'"


def test_the_checks_catch_a_back_import_and_a_cycle():
    graph = import_graph()
    rank = ranks()
    graph.add_edge("hamlet.runtime.world.town", "hamlet.runtime.learning.trainer", line=1)
    graph.add_edge("hamlet.compiler.emit", "hamlet.runtime.model", line=2)
    assert violations(graph, rank) == [
        "hamlet.compiler.emit:2 imports hamlet.runtime.model",
        "hamlet.runtime.world.town:1 imports hamlet.runtime.learning.trainer",
    ]
    assert any("hamlet.runtime.world.town" in c for c in cycles(graph))


def test_relative_imports_resolve_to_the_module_they_name():
    found = modules()
    loading = found["hamlet.runtime.model.loading"]
    targets = {name for name, _ in imports(loading, set(found))}
    assert {"hamlet.runtime.model.legacy", "hamlet.runtime.model.checkpoint"} <= targets


@pytest.mark.parametrize("top", TOP_LEVELS)
def test_pyproject_installs_every_package(top):
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        ".".join(["hamlet", *init.parent.relative_to(ROOT).parts])
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert folders <= listed, f"add {sorted(folders - listed)} to pyproject.toml's packages"
    assert {p for p in listed if re.match(rf"hamlet\.{top}\b", p)} == folders
