"""The package's import layers: every import points down, and no modules import in a circle.

A new top-level module or package must be placed in LAYERS (docs/architecture.md explains
what each layer holds); an import that points up or sideways fails here, naming the file.

The top level (``bayesclv/__init__.py``) is layer 1: it imports only the errors when loaded,
because Python loads it before any submodule. Its other public names come from every
layer, named as strings and imported on first use (module ``__getattr__``), so they are no
import statement here; ``tests/test_init.py`` checks they resolve and stay unloaded.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "bayesclv"

#: Bottom to top. A unit may import units of lower layers only (and itself).
LAYERS: list[tuple[str, ...]] = [
    ("errors", "units", "dims", "distinct"),
    ("__init__", "fields", "outputs"),
    ("actions", "maths", "data"),
    ("spec", "datasets", "simulate"),
    ("models",),
    ("scoring",),
    ("clv", "decision", "validate"),
    ("budget",),
    ("report", "pipeline"),
    ("cli",),
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: pathlib.Path, *, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, imported bayesclv module) for the file's imports, outside TYPE_CHECKING.

    ``top_level_only`` keeps those that run when the module is imported (not the ones
    inside functions, which run when called).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))
        or (top_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
        for child in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "bayesclv":
                found += [(node.lineno, f"bayesclv.{a.name}") for a in node.names]
            elif node.module.startswith("bayesclv."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("bayesclv.")]
    return found


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(path) for path in FILES}


def resolve(target: str) -> str:
    """``bayesclv.x.y`` as a module of the package (``from bayesclv.x import y`` may name y)."""
    while target not in MODULES and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def test_every_unit_has_a_layer():
    units = {unit_of(module_name(path)) for path in FILES}
    assert units <= set(RANK), f"place these in LAYERS: {sorted(units - set(RANK))}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    source = unit_of(module_name(path))
    upward = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for line, target in imports(path)
        if (unit := unit_of(resolve(target))) != source and RANK[unit] >= RANK[source]
    ]
    assert not upward, "\n".join(upward)


def test_no_module_cycles():
    """No circle of imports that run at import time (a function may import lazily)."""
    graph = {
        module_name(path): {resolve(t) for _, t in imports(path, top_level_only=True)}
        - {module_name(path)}
        for path in FILES
    }
    # a package's __init__ re-exports its modules: importing the package is not a cycle
    # with a module that imports a sibling through it, so edges into a package's own
    # __init__ from inside it are ignored
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = 2
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            pytest.fail("import cycle: " + " -> ".join(cycle))
