"""The rooms of the house and the one-way flow between them (see ARCHITECTURE.md).

Read from the code's own imports (every ``import`` but those under ``TYPE_CHECKING``): a module
may import from its own layer and the layers below it, never from above; and no two modules
import each other, directly or around a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("matcher", "plugins", "api")

# Bottom to top. A module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("matcher", "matcher.errors", "matcher.exchange", "matcher.reference",
              "matcher.i18n", "matcher.language", "matcher.settings", "matcher.vocabulary",
              "matcher.principals", "matcher.strict_json")),
    ("store", ("matcher.store", "matcher.migrations")),
    ("domain", ("matcher.ranking", "matcher.workflow", "matcher.accounts", "matcher.policy",
                "matcher.plugins", "matcher.hookspecs", "plugins")),
    ("services", ("matcher.services",)),
    ("entry points", ("matcher.cli", "matcher.__main__", "api")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports (outside ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and _type_checking(node) for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    # "from matcher import x" names the package too: keep only the most precise target
    return {t for t in found if not any(o.startswith(t + ".") for o in found)}


def layer_of(name: str) -> int:
    best, level = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    return level


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def test_every_module_has_a_room(graph):
    assert [name for name in graph if layer_of(name) < 0] == []


def test_no_module_imports_from_a_layer_above_it(graph):
    upward = sorted(f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} "
                    f"({LAYERS[layer_of(target)][0]})"
                    for name, targets in graph.items() for target in targets
                    if layer_of(target) > layer_of(name))
    assert upward == []


def test_no_two_modules_import_each_other_even_around_a_circle(graph):
    circles = _cycles(graph)
    assert circles == []


def test_the_api_never_imports_the_store(graph):
    """Routes and pages call the services; the store is below them, out of sight."""
    reaching = sorted(f"{name} imports {target}" for name, targets in graph.items()
                      if name == "api" or name.startswith("api.")
                      for target in targets if target.startswith("matcher.store"))
    assert reaching == []


def test_the_api_never_reaches_for_an_engines_store():
    """No ``something.store`` in ``api/``: not even through an engine it was given."""
    found = sorted(f"{path.relative_to(ROOT)}:{node.lineno}"
                   for path in (ROOT / "api").rglob("*.py")
                   for node in ast.walk(ast.parse(path.read_text(), str(path)))
                   if isinstance(node, ast.Attribute) and node.attr == "store")
    assert found == []


def test_the_check_sees_an_upward_import():
    """The rule itself: a store module importing the engine would be reported."""
    assert layer_of("matcher.ranking.engine") > layer_of("matcher.store.profiles")
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
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
