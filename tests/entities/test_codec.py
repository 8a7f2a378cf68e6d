"""The entity codec: every entity class survives to_json -> JSON bytes -> from_json."""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import importlib
import inspect
import math
import pkgutil
import types
import typing
from typing import Any

import numpy as np
import orjson
import pytest

import mlcycle.entities
from mlcycle.entities import ArtifactInfo, MetricHistory, Problem, Task
from mlcycle.entities.codec import from_json, list_from_json, to_json
from mlcycle.errors import InvalidInputError


def _entity_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(mlcycle.entities.__path__):
        if info.name in ("codec",) or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"mlcycle.entities.{info.name}")
        for name, obj in vars(module).items():
            mine = inspect.isclass(obj) and obj.__module__ == module.__name__
            if mine and dataclasses.is_dataclass(obj):
                found[f"{module.__name__}.{name}"] = typing.cast(type, obj)
    return [found[k] for k in sorted(found)]


ENTITIES = _entity_classes()


def _sample(hint: Any, depth: int = 0) -> Any:
    """A non-default value of the type ``hint`` (a nested entity for an entity type)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return {"any": [1, 2.5, "x", None]}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if any(typing.get_origin(o) is collections.abc.Callable for o in options):
            return None
        return _sample(options[0], depth)
    if origin is typing.Literal:
        return args[-1]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return (_sample(args[0], depth), _sample(args[0], depth))
        return tuple(_sample(a, depth) for a in args)
    if origin in (list, collections.abc.Sequence):
        return [_sample(args[0], depth)]
    if origin in (dict, collections.abc.Mapping):
        return {"k": _sample(args[1], depth)}
    if origin is np.ndarray:
        dtype = typing.get_args(args[1])[0]
        return np.asarray([1, 2, 3], dtype=dtype)
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return list(hint)[-1]
        if dataclasses.is_dataclass(hint):
            return _instance(hint, depth + 1)
        if hint is bool:
            return True
        if hint is int:
            return 7
        if hint is float:
            return 0.25
        if hint is str:
            return "s"
    raise AssertionError(f"no sample for {hint!r}")


def _instance(cls: type, depth: int = 0) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _sample(hints[f.name], depth) for f in dataclasses.fields(cls)})


def _same(a: Any, b: Any) -> bool:
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name))
            for f in dataclasses.fields(a)
            if f.compare
        )
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, collections.abc.Mapping):
        return (
            isinstance(b, collections.abc.Mapping)
            and a.keys() == b.keys()
            and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def test_every_entity_module_is_covered() -> None:
    names = {cls.__name__ for cls in ENTITIES}
    assert set(mlcycle.entities.__all__) - names <= {
        n for n in mlcycle.entities.__all__ if issubclass(getattr(mlcycle.entities, n), enum.Enum)
    }
    assert len(ENTITIES) >= 50


@pytest.mark.parametrize("cls", ENTITIES, ids=lambda c: c.__name__)
def test_round_trip(cls: type) -> None:
    original = _instance(cls)
    wire = orjson.loads(orjson.dumps(to_json(original)))
    assert isinstance(wire, dict)
    back: Any = from_json(cls, wire)
    assert _same(original, back), (original, back)


def test_keys_are_field_names_and_enums_are_values() -> None:
    problem = Problem(task=Task.REGRESSION, target="y", primary_metric="rmse")
    data = to_json(problem)
    assert data["task"] == "regression"
    assert set(data) == {f.name for f in dataclasses.fields(Problem)}


def test_non_finite_floats_travel_as_strings() -> None:
    history = MetricHistory(
        run_id="r",
        key="loss",
        steps=np.asarray([0, 1, 2], dtype=np.int64),
        timestamps=np.asarray([5, 6, 7], dtype=np.int64),
        values=np.asarray([math.nan, math.inf, -math.inf]),
    )
    wire = orjson.loads(orjson.dumps(to_json(history)))
    assert wire["values"] == ["NaN", "Infinity", "-Infinity"]
    back = from_json(MetricHistory, wire)
    assert math.isnan(back.values[0])
    assert back.values.tolist()[1:] == [math.inf, -math.inf]


def test_unknown_keys_are_ignored_and_missing_required_keys_named() -> None:
    data = {"path": "a", "is_dir": False, "size": 1, "sha256": None, "new_field": 3}
    expected = ArtifactInfo(path="a", is_dir=False, size=1, sha256=None)
    assert from_json(ArtifactInfo, data) == expected
    with pytest.raises(InvalidInputError, match="ArtifactInfo is incomplete"):
        from_json(ArtifactInfo, {"path": "a"})
    with pytest.raises(InvalidInputError, match="must be a JSON object"):
        from_json(ArtifactInfo, [1])  # type: ignore[arg-type]
    assert list_from_json(ArtifactInfo, [data]) == [from_json(ArtifactInfo, data)]
