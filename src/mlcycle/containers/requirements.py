"""The lock file: every distribution the image installs, pinned.

The model's libraries are pinned to the versions it was logged with (its manifest); the
rest is the dependency closure of what the serving entry point imports, pinned to the
versions installed here, walked through the installed distributions' metadata with the
markers evaluated for the image (CPython on Linux, the model's Python version). mlcycle
itself is not in the lock: it comes as a wheel in the context (see ``wheel.py``).
"""

from __future__ import annotations

import platform
import tomllib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

import mlcycle
from mlcycle.errors import InvalidInputError

#: mlcycle's dependencies the serving entry point never imports (plots, sweeps, the
#: PostgreSQL driver, the tracking server, the CLI, migrations).
NOT_SERVED = frozenset(
    {
        "alembic",
        "fastapi",
        "matplotlib",
        "optuna",
        "plotly",
        "psycopg",
        "typer",
    }
)

#: Distributions that provide a module under another name (the CPU-only XGBoost wheel).
ALTERNATIVES = {"xgboost": ("xgboost", "xgboost-cpu")}


@dataclass(frozen=True, kw_only=True)
class Pin:
    """One distribution of the lock: ``name==version``, who needs it, its hashes."""

    name: str
    version: str
    required_by: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Lock:
    """The pinned distributions (sorted by name) and what the builder noticed."""

    pins: tuple[Pin, ...]
    python_version: str
    notes: tuple[str, ...] = ()
    hashed: bool = False

    def names(self) -> list[str]:
        return [p.name for p in self.pins]

    def version_of(self, name: str) -> str | None:
        key = canonicalize_name(name)
        return next((p.version for p in self.pins if p.name == key), None)


@dataclass
class _Node:
    name: str
    version: str
    extras: set[str] = field(default_factory=set)
    required_by: set[str] = field(default_factory=set)
    dist: metadata.Distribution | None = None


def target_environment(python_version: str) -> dict[str, str]:
    """Marker values for the image: CPython on Linux, this machine's architecture, and
    the given Python version (``3.11`` or ``3.11.7``)."""
    parts = (python_version or platform.python_version()).split(".")
    env = {k: str(v) for k, v in default_environment().items()}
    env.update(
        {
            "python_version": ".".join(parts[:2]),
            "python_full_version": ".".join(parts[:3]) if len(parts) >= 3 else ".".join(parts),
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
        }
    )
    return env


def _installed(name: str) -> metadata.Distribution | None:
    for candidate in ALTERNATIVES.get(canonicalize_name(name), (name,)):
        try:
            return metadata.distribution(candidate)
        except metadata.PackageNotFoundError:
            continue
    return None


def source_project() -> dict[str, Any] | None:
    """The ``[project]`` table of the source checkout mlcycle is imported from (a ``src``
    layout with its ``pyproject.toml``), or None for an installed wheel. The imported code
    is what the image gets, so its own declared dependencies win over installed metadata
    that may be older (an editable install)."""
    path = Path(mlcycle.__file__).resolve().parents[2] / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        project = tomllib.loads(path.read_text()).get("project") or {}
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return project if project.get("name") == "mlcycle" else None


def mlcycle_requires() -> list[str]:
    """mlcycle's declared runtime requirements (the source checkout's, else installed)."""
    project = source_project()
    if project is not None:
        return [str(r) for r in project.get("dependencies") or []]
    dist = _installed("mlcycle")
    return list(dist.requires or []) if dist is not None else []


def serving_requirements() -> list[Requirement]:
    """mlcycle's own runtime requirements that serving needs (no extras, no NOT_SERVED)."""
    found: list[Requirement] = []
    for text in mlcycle_requires():
        req = Requirement(text)
        if req.marker is not None and "extra" in str(req.marker):
            continue
        if canonicalize_name(req.name) not in NOT_SERVED:
            found.append(req)
    return found


def lock_requirements(
    libraries: Mapping[str, str],
    *,
    python_version: str,
    roots: Iterable[Requirement] | None = None,
    what: str = "the model",
) -> Lock:
    """Pin ``libraries`` (``{distribution: version}``, as logged) and the closure of
    ``roots`` (default: :func:`serving_requirements`) and of the libraries.

    Raises InvalidInputError naming a library the model was logged with that is not
    installed here (its own dependencies cannot be pinned without it).
    """
    env = target_environment(python_version)
    nodes: dict[str, _Node] = {}
    notes: list[str] = []
    wanted: dict[str, str] = {}
    queue: deque[tuple[Requirement, str]] = deque()
    for name, version in sorted(libraries.items()):
        dist = _installed(name)
        if dist is None:
            raise InvalidInputError(
                f"{what} was logged with {name} {version}, which is not installed here, so "
                f"the libraries it needs cannot be pinned: pip install '{name}=={version}' "
                "and build the context again",
                field="libraries",
            )
        key = canonicalize_name(dist.metadata["Name"])
        wanted[key] = version
        queue.append((Requirement(f"{key}=={version}"), what))
    for req in serving_requirements() if roots is None else roots:
        queue.append((req, "mlcycle"))
    while queue:
        req, parent = queue.popleft()
        if req.marker is not None and not _applies(req, env, nodes.get(parent)):
            continue
        dist = _installed(req.name)
        if dist is None:
            notes.append(f"{req.name} (needed by {parent}) is not installed here: left out")
            continue
        key = canonicalize_name(dist.metadata["Name"])
        if key == "mlcycle":
            continue
        node = nodes.get(key)
        walk = node is None or bool(set(req.extras) - node.extras)
        if node is None:
            node = _Node(name=key, version=wanted.get(key, dist.version), dist=dist)
            nodes[key] = node
        node.required_by.add(parent)
        if req.specifier and not _satisfies(req, node.version):
            notes.append(
                f"{parent} requires {req}, but the lock pins {key} {node.version}"
                + (" (the model's version)" if key in wanted else "")
            )
        if walk and node.dist is not None:
            node.extras |= set(req.extras)
            for text in node.dist.requires or []:
                try:
                    queue.append((Requirement(text), key))
                except InvalidRequirement:
                    continue
    for pinned, version in wanted.items():
        installed = nodes[pinned].dist
        if installed is not None and installed.version != version:
            notes.append(
                f"{pinned} is pinned to {version} (the model's); {installed.version} is installed "
                "here, and its dependencies were read from that version"
            )
    pins = tuple(
        Pin(name=n.name, version=n.version, required_by=tuple(sorted(n.required_by)))
        for n in sorted(nodes.values(), key=lambda n: n.name)
    )
    return Lock(pins=pins, python_version=env["python_version"], notes=tuple(dict.fromkeys(notes)))


def _applies(req: Requirement, env: dict[str, str], parent: _Node | None) -> bool:
    assert req.marker is not None
    extras = sorted(parent.extras) if parent is not None else []
    return any(req.marker.evaluate({**env, "extra": extra}) for extra in extras or [""])


def _satisfies(req: Requirement, version: str) -> bool:
    try:
        return req.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return True


def render_lock(lock: Lock, *, source: str, mlcycle_version: str) -> str:
    """The lock as a pip requirements file, with a header saying how to install it."""
    flags = "--no-deps --require-hashes" if lock.hashed else "--no-deps"
    lines = [
        f"# The libraries of {source}, pinned, for CPython {lock.python_version} on Linux.",
        f"# Written by mlcycle {mlcycle_version} (mlcycle itself is the wheel in wheels/).",
        f"# Install with: pip install {flags} -r requirements.lock",
    ]
    if not lock.hashed:
        lines += [
            "# No hashes: the package index was not asked for them (offline build or",
            "# --no-hashes), so pip installs these pins without checking their digests.",
            "# Build the context again with the index reachable to get them.",
        ]
    lines += [f"# note: {note}" for note in lock.notes]
    for pin in lock.pins:
        head = f"{pin.name}=={pin.version}"
        comment = f"    # via {', '.join(pin.required_by)}"
        if pin.hashes:
            lines.append(head + " \\")
            lines += [f"    --hash=sha256:{h} \\" for h in pin.hashes[:-1]]
            lines.append(f"    --hash=sha256:{pin.hashes[-1]}")
            lines.append(comment)
        else:
            lines.append(head)
            lines.append(comment)
    return "\n".join(lines) + "\n"
