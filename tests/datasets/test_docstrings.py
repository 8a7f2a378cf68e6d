"""The examples in the module and function docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = [
    "reading",
    "profile",
    "validation",
    "_rules",
    "cleaning",
    "splitting",
    "diff",
    "schema",
    "digest",
    "service",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"mlcycle.datasets.{name}")
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


def test_importing_the_namespace_loads_neither_pandas_nor_pyarrow() -> None:
    # mlcycle.datasets re-exports the public API; importing it (and the command line, which
    # imports it) must stay cheap: pandas and pyarrow load on first use.
    code = (
        "import sys, mlcycle, mlcycle.datasets, mlcycle.cli.app; "
        "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve_and_are_documented() -> None:
    import mlcycle.datasets as mds

    assert sorted(mds.__all__, key=str.lower) == sorted(set(mds.__all__), key=str.lower)
    for name in mds.__all__:
        assert getattr(mds, name).__doc__, f"mlcycle.datasets.{name} has no docstring"
