"""A Python model's own code: the module its class lives in, found here and copied into
the context when no installed distribution provides it.

A generic Python model is saved as data plus the import path of its class
(``package.module.Class``). In the image that module must import, so:

* a module of an installed (non-editable) distribution pins that distribution;
* a module of local code (a project folder, an editable install) is copied into
  ``code/``, with the ``__init__`` files of its packages and, followed transitively, the
  modules of the same top-level package it imports; the third-party modules that code
  imports pin their distributions;
* anything that cannot be found is refused with the module's name.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from mlcycle.errors import InvalidInputError


@dataclass(frozen=True, kw_only=True)
class ModelCode:
    """What a Python model's class needs: files to copy (context path -> source file) and
    distributions to pin (name -> installed version)."""

    files: dict[str, Path] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)


def _editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable"))
    except ValueError:
        return False


def _distribution_of(top: str) -> metadata.Distribution | None:
    """The installed, non-editable distribution that provides the module ``top``."""
    for name in metadata.packages_distributions().get(top, []):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        return None if _editable(dist) else dist
    return None


def _module_file(module: str) -> Path:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise _missing(module, str(exc)) from exc
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        raise _missing(module, "it cannot be found on sys.path as Python source")
    return Path(spec.origin)


def _missing(module: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"the model's code, module {module!r}, cannot be put in the context: {why}. Build "
        "the context where the module imports (e.g. with its folder on PYTHONPATH), or "
        "install the package that provides it",
        field="model_class",
    )


def _imports(path: Path, module: str) -> set[str]:
    """Absolute module names ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def model_code(model_class: str) -> ModelCode:
    """The files and distributions the class ``model_class`` needs to import."""
    module = model_class.rpartition(".")[0]
    if not module:
        raise _missing(model_class, "a class path must name its module")
    top = module.split(".")[0]
    if top == "mlcycle" or top in sys.stdlib_module_names:
        return ModelCode()
    dist = _distribution_of(top)
    if dist is not None:
        return ModelCode(libraries={str(dist.metadata["Name"]): dist.version})
    files: dict[str, Path] = {}
    libraries: dict[str, str] = {}
    unknown: set[str] = set()
    pending = [module]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            path = _module_file(name)
        except InvalidInputError:
            if name == module:
                raise
            continue  # ``from package import name`` where name is not a module
        parts = name.split(".")
        rel = "/".join(parts) + ("/__init__.py" if path.name == "__init__.py" else ".py")
        files[rel] = path
        for i in range(1, len(parts)):  # the __init__ of each enclosing package
            pending.append(".".join(parts[:i]))
        for imported in _imports(path, name):
            root = imported.split(".")[0]
            if root == top:
                pending.append(imported)
            elif root and root != "mlcycle" and root not in sys.stdlib_module_names:
                found = _distribution_of(root)
                if found is not None:
                    libraries[str(found.metadata["Name"])] = found.version
                elif importlib.util.find_spec(root) is None:
                    unknown.add(root)
    if unknown:
        raise InvalidInputError(
            f"the model's code ({module}) imports {', '.join(sorted(unknown))}, which no "
            "installed package provides here, so it cannot be pinned: install it and build "
            "the context again",
            field="model_class",
        )
    return ModelCode(files=dict(sorted(files.items())), libraries=libraries)


def copy_code(code: ModelCode, directory: Path) -> None:
    """Copy the code files under ``directory`` (their import paths as folders)."""
    for rel, source in code.files.items():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o644)
