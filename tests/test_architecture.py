"""The layering of the package, read from the source: what may import what, and no cycles.

Imports inside functions count (a lazy import is still a dependency); imports under
``if TYPE_CHECKING:`` do not (they never run). See ARCHITECTURE.md for the layers.
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Import package prefix -> folder of the repository (DESIGN's layout: one package, four folders).
FOLDERS = {
    "confidante.memory": ROOT / "memory",
    "confidante.graphs": ROOT / "graphs",
    "confidante.tools": ROOT / "tools",
    "confidante": ROOT / "agent",
}


def _module_names() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([package, *parts])] = path
    return modules


MODULES = _module_names()


def _runtime_imports(node: ast.AST) -> Iterator[str]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for branch in child.orelse:
                yield from _runtime_imports(branch)
            continue
        if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
            yield child.module
            yield from (f"{child.module}.{alias.name}" for alias in child.names)
        elif isinstance(child, ast.Import):
            yield from (alias.name for alias in child.names)
        yield from _runtime_imports(child)


def imports_of(module: str) -> set[str]:
    """Return the package's modules that ``module`` imports when it runs."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return {name for name in _runtime_imports(tree) if name in MODULES and name != module}


def _in(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


LAYERS = [
    (
        "confidante.memory",
        [
            "confidante.graphs",
            "confidante.tools",
            "confidante.server",
            "confidante.cli",
            "confidante.agent",
            "confidante.integrations",
        ],
    ),
    ("confidante.tools", ["confidante.server", "confidante.cli", "confidante.agent"]),
    ("confidante.graphs", ["confidante.server", "confidante.cli", "confidante.agent"]),
    (
        "confidante.models",
        [
            "confidante.graphs",
            "confidante.tools",
            "confidante.server",
            "confidante.cli",
            "confidante.agent",
        ],
    ),
]


@pytest.mark.parametrize(("layer", "forbidden"), LAYERS, ids=[layer for layer, _ in LAYERS])
def test_a_lower_layer_never_imports_a_higher_one(layer: str, forbidden: list[str]) -> None:
    offences = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if _in(module, layer)
        for target in imports_of(module)
        if any(_in(target, high) for high in forbidden)
    )
    assert offences == []


def test_the_memory_has_no_import_cycle_lazy_imports_included() -> None:
    memory = [name for name in MODULES if _in(name, "confidante.memory")]
    graph = {name: {t for t in imports_of(name) if _in(t, "confidante.memory")} for name in memory}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


def test_the_checker_sees_lazy_imports() -> None:
    lazy = [name for name in MODULES if _in(name, "confidante.memory")]
    assert any(
        isinstance(node, ast.ImportFrom)
        for name in lazy
        for function in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8")))
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
    ), "no function-level import left: the cycle test would no longer prove the lazy case"


def _every_import(module: str) -> set[str]:
    """Like :func:`imports_of`, with imports for type checking too (they couple to an API)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name in MODULES}


def test_tools_reach_the_memory_through_its_api_never_its_storage() -> None:
    """Tools use ``Memory``, ``bulk_reads`` and ``tool_tables``; the table layout stays private."""
    storage = "confidante.memory.storage"
    assert any(_in(name, storage) for name in MODULES), "the storage package moved: update me"
    offences = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if _in(module, "confidante.tools")
        for target in _every_import(module)
        if _in(target, storage)
    )
    assert offences == []


def test_the_memory_package_exports_its_public_names() -> None:
    import confidante.memory as memory_package
    from confidante.memory import Database, Embedder, Memory, MemoryHit, MemoryItem, VectorIndex

    assert Memory.__module__ == "confidante.memory.store"
    exported = {name: getattr(memory_package, name) for name in memory_package.__all__}
    for value in (Database, Embedder, MemoryHit, MemoryItem, VectorIndex):
        assert exported[value.__name__] is value
    with pytest.raises(AttributeError, match="no attribute 'records'"):
        memory_package.records  # noqa: B018  (internal modules live in sub-packages)


_XREF = re.compile(r":(?:class|func|meth|mod|data|attr|exc):`~?(confidante\.[\w.]+)`")


def _resolves(target: str) -> bool:
    parts = target.rstrip(".").split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            fields = {
                *getattr(found, "model_fields", {}),
                *getattr(found, "__dataclass_fields__", {}),
                *getattr(found, "__annotations__", {}),
            }
            if name in fields:
                return True  # a field: documented on its class, not an attribute of it
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_every_cross_reference_in_the_docs_points_at_something_real() -> None:
    sources = [*MODULES.values(), ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
    targets = {
        target for path in sources for target in _XREF.findall(path.read_text(encoding="utf-8"))
    }
    assert len(targets) > 50  # the pattern still finds the references
    assert sorted(target for target in targets if not _resolves(target)) == []


_NAMED_IN_MARKDOWN = re.compile(r"`(confidante\.[\w.]+)[`(]")


def test_every_dotted_name_in_the_user_docs_imports() -> None:
    docs = [ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
    names = {name for doc in docs for name in _NAMED_IN_MARKDOWN.findall(doc.read_text())}
    assert "confidante.memory.slots" in names  # the pattern still finds them
    assert sorted(name for name in names if not _resolves(name)) == []


#: What asking "which database is this?" looks like in the source.
DIALECT_TESTS = re.compile(
    r"dialect\.name|get_backend_name\(|[!=]= ?[\"']postgres(ql)?[\"']|[!=]= ?[\"']sqlite[\"']"
    r"|startswith\([\"'](postgres|sqlite)"
)
#: The one package allowed to ask (it maps the answer to an operations object).
BACKENDS_PACKAGE = "confidante.memory.storage.backends"
#: Modules outside it that may still ask, each with the reason (none today).
DIALECT_TEST_ALLOWED: dict[str, str] = {}


def test_only_the_backends_package_tests_which_database_it_is() -> None:
    offences = sorted(
        f"{module}:{number}: {line.strip()}"
        for module, path in MODULES.items()
        if not _in(module, BACKENDS_PACKAGE) and module not in DIALECT_TEST_ALLOWED
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if DIALECT_TESTS.search(line)
    )
    assert offences == [], "ask database.ops (memory/storage/backends/) instead"


def test_the_dialect_check_recognises_what_it_forbids() -> None:
    for line in (
        'if session.get_bind().dialect.name == "sqlite":',
        'if engine.url.get_backend_name() != "postgresql":',
        'if database.backend == "postgres":',
        'if not url.startswith("postgresql"):',
    ):
        assert DIALECT_TESTS.search(line), line
    assert not DIALECT_TESTS.search("kind = column.type.compile(dialect=connection.dialect)")
