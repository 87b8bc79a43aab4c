"""The import structure of docs/ARCHITECTURE.md (“Layers”), checked rather than hoped for.

Two checks:
- the import-linter contracts in pyproject.toml: each layer imports only the layers below it,
  and the core never imports Qt (run by hand with ``lint-imports``);
- no import cycle between any two modules of the package, which the layer contract cannot see
  inside one layer (e.g. ``gui.app`` ↔ ``gui.main_window``).

Imports inside functions count: a lazy import is still a dependency a reader must follow.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp
import pytest
import tomllib
from importlinter.application import use_cases
from importlinter.configuration import configure

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph("gcnn_viewer", cache_dir=None, exclude_type_checking_imports=True)
    finally:
        sys.path.remove(str(ROOT))


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    configure()
    monkeypatch.chdir(ROOT)
    # lint_imports prints the full report (kept by pytest and shown when this fails)
    passed = use_cases.lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None)
    assert passed, "an import contract is broken: run `lint-imports` for the chain"


def test_the_contracts_name_every_subpackage() -> None:
    """A new subpackage must be given its place in the layers, or the contract says nothing."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    package = ROOT / "gcnn_viewer"
    present = {
        f"gcnn_viewer.{p.stem if p.is_file() else p.name}"
        for p in package.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name != "__init__.py")
    }
    assert present - placed == set(), "give these modules a layer in pyproject.toml"
    assert placed - present == set(), "these layers name modules that no longer exist"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.startswith("gcnn_viewer"))
    edges = {
        m: sorted(
            d for d in graph.find_modules_directly_imported_by(m) if d.startswith("gcnn_viewer")
        )
        for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_cycle_finder_finds_a_cycle() -> None:
    """The checker itself: a planted two-module cycle and a three-module one are reported."""
    g = grimp.ImportGraph()
    for a, b in [("gcnn_viewer.a", "gcnn_viewer.b"), ("gcnn_viewer.b", "gcnn_viewer.a")]:
        g.add_import(importer=a, imported=b)
    for a, b in [("gcnn_viewer.x", "gcnn_viewer.y"), ("gcnn_viewer.y", "gcnn_viewer.z")]:
        g.add_import(importer=a, imported=b)
    g.add_import(importer="gcnn_viewer.z", imported="gcnn_viewer.x")
    g.add_import(importer="gcnn_viewer.z", imported="gcnn_viewer.w")
    assert sorted(_cycles(g)) == [
        ["gcnn_viewer.a", "gcnn_viewer.b"],
        ["gcnn_viewer.x", "gcnn_viewer.y", "gcnn_viewer.z"],
    ]


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    cycles = _cycles(graph)
    assert cycles == [], "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


# -- functions a reader can hold in their head ------------------------------------------------
MAX_FUNCTION_LINES = 80


def _long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(name, first line, lines) of every function or method longer than ``limit`` lines,
    from its ``def`` to its last line."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                out.append((node.name, node.lineno, lines))
    return out


def test_the_length_check_sees_a_long_function() -> None:
    short = "def f():\n" + "    x = 1\n" * 79
    long = "class C:\n    def g(self):\n" + "        x = 1\n" * 80
    assert _long_functions(short) == []
    assert _long_functions(long) == [("g", 2, 81)]


def test_no_function_is_longer_than_80_lines() -> None:
    found = []
    for path in sorted((ROOT / "gcnn_viewer").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        for name, line, lines in _long_functions(path.read_text(encoding="utf-8")):
            found.append(f"{where}:{line} {name}: {lines} lines")
    assert found == [], f"split these into functions of at most {MAX_FUNCTION_LINES} lines"


# -- the window composes its parts and routes nothing -----------------------------------------
# What MainWindow may define: building and connecting its parts, the thin pass-throughs the
# tests and benchmarks read (properties, load_sample, show_training) and its teardown. A result,
# a state change or a model change is handled in a part (gui/frame_presenter.py,
# gui/panel_switcher.py, gui/input_dock.py, …), given what it needs as arguments.
WINDOW_METHODS = {"__init__", "load_sample", "show_training", "shutdown", "closeEvent"}


def _window_routes(source: str) -> list[str]:
    """The methods of ``MainWindow`` in ``source`` that are neither construction (``_make_*``,
    ``_fill_*``), a property, nor in :data:`WINDOW_METHODS`."""
    window = next(
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.ClassDef) and n.name == "MainWindow"
    )
    out = []
    for node in window.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        is_property = any(getattr(d, "id", None) == "property" for d in node.decorator_list)
        building = node.name.startswith(("_make_", "_fill_"))
        if not (is_property or building or node.name in WINDOW_METHODS):
            out.append(node.name)
    return out


def test_the_window_routes_nothing() -> None:
    source = (ROOT / "gcnn_viewer" / "gui" / "main_window.py").read_text(encoding="utf-8")
    routes = _window_routes(source)
    assert routes == [], f"MainWindow routes {routes}: move them into a part of their own"
