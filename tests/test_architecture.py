"""The import direction between layers holds (docs/architecture.md draws the layers), and
the lazy public namespaces are cheap and name what their type-checking imports name."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import mlcycle

SRC = Path(mlcycle.__file__).parent

#: Top-level modules and packages of mlcycle by layer; imports may only go down (or sideways).
LAYERS: dict[str, int] = {
    "_lazy": 1,
    "errors": 1,
    "types": 1,
    "settings": 1,
    "ids": 1,
    "clock": 1,
    "durations": 1,
    "suggest": 1,
    "bounds": 1,
    "entities": 2,
    "search": 2,
    "codec": 2,
    "ports": 3,
    "store": 4,
    "artifacts": 4,
    "compute": 4,
    "tracking": 5,
    "datasets": 5,
    "models": 5,
    "evaluation": 5,
    "registry": 5,
    "deployments": 5,
    "batch": 5,
    "monitoring": 5,
    "governance": 5,
    "client": 6,
    "backends": 6,
    "remote": 6,
    "cli": 7,
    "server": 7,
    "serving": 7,
    "edges": 7,
    "containers": 7,
}
LEAVES = {"_lazy", "errors", "types"}

#: The lazy public namespaces (PEP 562): they import nothing at run time but
#: ``mlcycle._lazy``, and resolve their names on first access.
NAMESPACES = (
    "mlcycle",
    "mlcycle.batch",
    "mlcycle.datasets",
    "mlcycle.deployments",
    "mlcycle.models",
    "mlcycle.monitoring",
    "mlcycle.registry",
)


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "mlcycle" and len(parts) > 1 else None


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in {
        "TYPE_CHECKING",
        "typing.TYPE_CHECKING",
    }


def _type_checking_blocks(tree: ast.Module) -> list[ast.If]:
    return [node for node in tree.body if isinstance(node, ast.If) and _is_type_checking(node)]


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at run time or for the type checker.

    The one thing left out: a lazy namespace's ``if TYPE_CHECKING:`` block, which mirrors
    its name table for mypy and never runs (:func:`test_namespaces_name_what_mypy_sees`
    holds the two together).
    """
    tree = ast.parse(path.read_text(), str(path))
    if path.name == "__init__.py":
        for block in _type_checking_blocks(tree):
            tree.body.remove(block)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_every_top_level_module_has_a_layer() -> None:
    names = {p.stem if p.is_file() else p.name for p in SRC.iterdir()}
    names = {n for n in names if not n.startswith(("_", ".")) and n != "py"}
    assert names <= set(LAYERS), f"give these a layer: {sorted(names - set(LAYERS))}"


def test_imports_only_go_down() -> None:
    violations = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        own = rel.parts[0].removesuffix(".py")
        if rel.parts == ("__init__.py",):
            own = "_lazy"  # the root namespace imports as little as a leaf
        if own not in LAYERS:
            continue
        for module in _imports(path):
            target = _top(module)
            if target is None or target == own:
                continue
            if own in LEAVES and target not in LEAVES:
                violations.append(f"{rel}: leaf module imports {module}")
            elif LAYERS.get(target, 99) > LAYERS[own]:
                violations.append(f"{rel} (layer {LAYERS[own]}) imports {module}")
    assert not violations, "\n".join(violations)


def _type_checking_names(namespace: ModuleType) -> dict[str, object]:
    """What mypy sees in a namespace: its ``if TYPE_CHECKING:`` imports, resolved."""
    assert namespace.__file__ is not None
    tree = ast.parse(Path(namespace.__file__).read_text())
    names: dict[str, object] = {}
    for block in _type_checking_blocks(tree):
        for node in block.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    value = getattr(module, alias.name, None)
                    if value is None:  # a submodule: from mlcycle import datasets
                        value = importlib.import_module(f"{node.module}.{alias.name}")
                    names[alias.asname or alias.name] = value
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
                (target,) = node.targets
                assert isinstance(target, ast.Name)
                names[target.id] = names[node.value.id]
    return names


@pytest.mark.parametrize("name", NAMESPACES)
def test_namespaces_name_what_mypy_sees(name: str) -> None:
    namespace = importlib.import_module(name)
    seen = _type_checking_names(namespace)
    eager = {"__version__"} if name == "mlcycle" else set()
    # re-exported only for the type checker (save = save_model) is not public
    public = {k for k in seen if k in namespace.__all__}
    assert public | eager == set(namespace.__all__)
    for key in public:
        assert getattr(namespace, key) is seen[key], f"{name}.{key}"


@pytest.mark.parametrize("name", NAMESPACES)
def test_namespaces_refuse_unknown_names(name: str) -> None:
    namespace = importlib.import_module(name)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = namespace.no_such_name
    assert set(namespace.__all__) <= set(dir(namespace))


#: What a light import must not load: the client, the store's and HTTP's libraries, NumPy.
HEAVY = ("mlcycle.client.client", "sqlalchemy", "httpx", "numpy", "pandas", "fastapi")


@pytest.mark.parametrize(
    "statement",
    ["import mlcycle.errors", "import mlcycle", *[f"import {n}" for n in NAMESPACES[1:]]],
)
def test_light_imports_load_nothing_heavy(statement: str) -> None:
    probe = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == [], f"{statement} loads {out.strip()}"


#: The one service module that speaks HTTP: it delivers an alert to its webhook.
WEBHOOKS = SRC / "monitoring" / "webhooks.py"
ADAPTERS = {"store", "artifacts"}  # where SQLAlchemy and file systems belong


def test_services_do_not_touch_sqlalchemy_or_http() -> None:
    below_the_client = {n for n, layer in LAYERS.items() if layer < 6} - ADAPTERS
    paths = [
        p
        for p in SRC.rglob("*.py")
        if p.relative_to(SRC).parts[0].removesuffix(".py") in below_the_client
    ]
    assert WEBHOOKS in paths
    for path in paths:
        allowed = {"httpx"} if path == WEBHOOKS else set()
        for module in _imports(path):
            root = module.split(".")[0]
            assert root not in {"sqlalchemy", "fastapi", "httpx"} - allowed, f"{path}: {module}"
