"""No import cycles between packages, and parsing a fault imports no Docker SDK.

A package is a sub-package of chaos (chaos.cluster, chaos.target ...), a
top-level module of it (chaos.cli, chaos.cli_errors ...), or fixtures. An
import inside a function counts: it still ties the two packages together,
only later. An import under ``if TYPE_CHECKING:`` does not: it never runs.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
TOPS = ("chaos", "fixtures")
Graph = dict[str, dict[str, list[str]]]  # package -> imported package -> where ("chaos/cli.py:32")


def package_graph(root: Path, tops: tuple[str, ...] = TOPS) -> Graph:
    graph: Graph = {}
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            source = _package(module, tops)
            for line, imported in _imports(path, module, root):
                target = _package(imported, tops)
                site = f"{path.relative_to(root)}:{line}"
                if target and target != source and site not in graph.get(source, {}).get(target, []):
                    graph.setdefault(source, {}).setdefault(target, []).append(site)
    return graph


def _package(module: str, tops: tuple[str, ...]) -> str | None:
    """chaos.target.client -> chaos.target; chaos.cli -> chaos.cli; fixtures.plugin -> fixtures; docker -> None."""
    parts = module.split(".")
    if parts[0] not in tops:
        return None
    return ".".join(parts[:2]) if parts[0] == "chaos" else parts[0]


def _imports(path: Path, module: str, root: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import that can run, at any depth; ``from a import b`` gives a.b when b is a
    module or package of ours, else a."""
    is_package = path.name == "__init__.py"
    for node in _runnable(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - (node.level - is_package)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                below = root.joinpath(*full.split("."))
                yield node.lineno, full if below.is_dir() or below.with_suffix(".py").is_file() else base


def _runnable(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (its ``else`` runs, so it counts)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _runnable(other)
            continue
        yield child
        yield from _runnable(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle (a path back to its start) for each back edge a depth-first walk finds."""
    found: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the walk's path, "done" after
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == "open":
                found.append([*path[path.index(target):], target])
            elif target not in state:
                walk(target)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node)
    return found


def describe(cycle: list[str], graph: Graph) -> str:
    """``chaos.a -> chaos.b (chaos/a/x.py:3) -> chaos.a (chaos/b/y.py:9)``."""
    steps = [f"{target} ({', '.join(graph[source][target][:3])})" for source, target in zip(cycle, cycle[1:])]
    return " -> ".join([cycle[0], *steps])


def test_no_package_imports_itself_back() -> None:
    graph = package_graph(ROOT)
    assert "chaos.cli" in graph and "chaos.cluster" in graph["chaos.cli"]  # the walk sees our code
    found = [describe(cycle, graph) for cycle in cycles(graph)]
    assert not found, "import cycles between packages (move the shared thing down, or a type-only import " \
                      "behind TYPE_CHECKING):\n" + "\n".join(found)


def test_the_graph_counts_imports_in_functions_and_skips_type_checking_ones(tmp_path: Path) -> None:
    (tmp_path / "chaos" / "a").mkdir(parents=True)
    (tmp_path / "chaos" / "b").mkdir()
    for init in ("chaos", "chaos/a", "chaos/b"):
        (tmp_path / init / "__init__.py").write_text("")
    (tmp_path / "chaos" / "a" / "x.py").write_text("def f():\n    from chaos.b import y\n")
    (tmp_path / "chaos" / "b" / "y.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from chaos.a.x import f\nelse:\n    f = None\n")
    assert cycles(package_graph(tmp_path)) == []
    (tmp_path / "chaos" / "b" / "z.py").write_text("from ..a import x\n")
    graph = package_graph(tmp_path)
    assert [describe(c, graph) for c in cycles(graph)] == [
        "chaos.a -> chaos.b (chaos/a/x.py:2) -> chaos.a (chaos/b/z.py:1)"]


def test_parsing_a_fault_imports_no_docker() -> None:
    """`chaos fault` refuses a bad fault before the engine is asked anything; the words alone need no SDK."""
    code = ("import sys; from chaos.nemesis.grammar import parse_spec; parse_spec(['latency', 'api_1:redis', 'ms=5']); "
            "assert 'docker' not in sys.modules, sorted(m for m in sys.modules if m.startswith('docker'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
