"""The public surface: everything in ``mlcycle.__all__`` exists and is documented."""

from __future__ import annotations

import mlcycle


def test_all_names_resolve_and_are_documented() -> None:
    exported = set(mlcycle.__all__)
    members = {name for name in dir(mlcycle) if not name.startswith("_")}
    assert exported - {"__version__"} <= members
    for name in exported - {"__version__"}:
        obj = getattr(mlcycle, name)
        assert obj.__doc__, f"mlcycle.{name} has no docstring"


def test_all_is_sorted_and_unique() -> None:
    assert len(mlcycle.__all__) == len(set(mlcycle.__all__))
    assert sorted(mlcycle.__all__, key=str.lower) == sorted(mlcycle.__all__, key=str.lower)
