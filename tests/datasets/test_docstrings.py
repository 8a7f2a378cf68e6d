"""The examples in the module and function docstrings run and hold."""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

MODULES = ["reading", "profile", "validation", "cleaning", "splitting", "diff", "schema"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"mlcycle.datasets.{name}")
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


def test_package_init_imports_nothing() -> None:
    # The registration API will live in mlcycle.datasets; importing it must stay cheap.
    import mlcycle.datasets as package

    assert package.__doc__
    assert package.__file__
    tree = ast.parse(Path(package.__file__).read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
