"""The examples in the batch modules' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["executors", "sources", "results"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"mlcycle.batch.{name}")
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0
