"""The public surface: every name in the namespaces' ``__all__`` exists and is documented,
and ``__all__`` is sorted, as httpx's ``tests/test_exported_members.py`` asserts."""

from __future__ import annotations

import importlib

import pytest

NAMESPACES = (
    "mlcycle",
    "mlcycle.batch",
    "mlcycle.datasets",
    "mlcycle.deployments",
    "mlcycle.models",
    "mlcycle.monitoring",
    "mlcycle.registry",
)


@pytest.mark.parametrize("name", NAMESPACES)
def test_all_is_sorted_and_unique(name: str) -> None:
    exported = importlib.import_module(name).__all__
    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))


@pytest.mark.parametrize("name", NAMESPACES)
def test_all_names_resolve_and_are_documented(name: str) -> None:
    namespace = importlib.import_module(name)
    assert namespace.__all__, f"{name} exports nothing"
    for member in namespace.__all__:
        obj = getattr(namespace, member)  # AttributeError: exported but missing
        if member == "__version__" or (not callable(obj) and not hasattr(obj, "__path__")):
            continue  # constants (DEFAULT_CHUNK_ROWS) carry no docstring of their own
        assert obj.__doc__, f"{name}.{member} has no docstring"


def test_the_root_namespace_exports_the_tour() -> None:
    import mlcycle

    for member in ("Client", "start_run", "datasets", "registry", "models", "MlcycleError"):
        assert member in mlcycle.__all__
