"""The public ``mlcycle.batch`` namespace: documented names."""

from __future__ import annotations

import mlcycle.batch as mb
from mlcycle.errors import MlcycleError


def test_names_resolve_and_are_documented() -> None:
    assert sorted(mb.__all__, key=str.lower) == sorted(set(mb.__all__), key=str.lower)
    for name in mb.__all__:
        assert getattr(mb, name).__doc__, f"mlcycle.batch.{name} has no docstring"
    assert issubclass(mb.PredictionFailedError, MlcycleError)
    assert mb.predict.__doc__ is not None
    assert ">>>" in mb.predict.__doc__
