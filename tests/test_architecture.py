"""The import direction between layers holds (docs/architecture.md draws the layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import mlcycle

SRC = Path(mlcycle.__file__).parent

#: Top-level modules and packages of mlcycle by layer; imports may only go down (or sideways).
LAYERS: dict[str, int] = {
    "errors": 1,
    "types": 1,
    "settings": 1,
    "ids": 1,
    "clock": 1,
    "durations": 1,
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
    "remote": 6,
    "cli": 7,
    "server": 7,
    "serving": 7,
    "containers": 7,
}
LEAVES = {"errors", "types"}
SERVICES = 5
CLIENT = 6


def _allowed_layer(rel: Path) -> int:
    """The highest layer a module may import from.

    A stage package's ``__init__`` (``mlcycle/datasets/__init__.py``) is, like
    ``mlcycle/__init__.py``, a public namespace: it re-exports the stage's user-facing
    functions, which live in the client layer. Every other module of the stage stays at the
    services layer.
    """
    own = LAYERS[rel.parts[0].removesuffix(".py")]
    if own == SERVICES and rel.parts[1:] == ("__init__.py",):
        return CLIENT
    return own


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "mlcycle" and len(parts) > 1 else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
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
        if rel.parts == ("__init__.py",):
            continue  # the public surface re-exports from every layer
        own = rel.parts[0].removesuffix(".py")
        if own not in LAYERS:
            continue
        for module in _imports(path):
            target = _top(module)
            if target is None or target == own:
                continue
            if own in LEAVES:
                violations.append(f"{rel}: leaf module imports {module}")
            elif LAYERS.get(target, 99) > _allowed_layer(rel):
                violations.append(f"{rel} (layer {_allowed_layer(rel)}) imports {module}")
    assert not violations, "\n".join(violations)


def test_stage_namespace_may_use_the_client_but_its_modules_may_not() -> None:
    assert _allowed_layer(Path("datasets/__init__.py")) == CLIENT
    assert _allowed_layer(Path("datasets/service.py")) == SERVICES
    assert _allowed_layer(Path("tracking/run.py")) == SERVICES
    assert _allowed_layer(Path("client/datasets.py")) == CLIENT


def test_services_do_not_touch_sqlalchemy_or_http() -> None:
    for package in ("tracking", "datasets", "models", "evaluation", "entities", "search", "ports"):
        for path in (SRC / package).rglob("*.py"):
            for module in _imports(path):
                root = module.split(".")[0]
                assert root not in {"sqlalchemy", "fastapi", "httpx"}, f"{path}: {module}"
