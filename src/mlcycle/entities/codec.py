"""One JSON codec for every entity: ``to_json(entity) -> dict`` and ``from_json(cls, data)``.

Entities are frozen dataclasses of plain values, ``StrEnum`` members, nested entities,
tuples, mappings and (for metric series) NumPy arrays; the codec walks their fields by
their type hints, so a new entity needs no encoder of its own. JSON keys are the field
names. Floats that JSON cannot hold are written as the strings ``"NaN"``, ``"Infinity"``
and ``"-Infinity"`` and read back as floats; bytes (a model card's chart) as base64 text.
Fields holding callables (a dataset version's bound loader) do not travel.

    >>> from mlcycle.entities import ArtifactInfo
    >>> to_json(ArtifactInfo(path="model.pkl", is_dir=False, size=3, sha256=None))
    {'path': 'model.pkl', 'is_dir': False, 'size': 3, 'sha256': None}
    >>> from_json(ArtifactInfo, {"path": "m", "is_dir": True, "size": None, "sha256": None})
    ArtifactInfo(path='m', is_dir=True, size=None, sha256=None)

The server's native routes answer with it and the HTTP backends read with it, so an
entity has one wire shape everywhere.
"""

from __future__ import annotations

import base64
import binascii
import collections.abc
import dataclasses
import enum
import math
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

import numpy as np

from mlcycle.errors import InvalidInputError

T = TypeVar("T")
Decoder = Callable[[Any], Any]

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def number(value: float) -> float | str:
    """A float for JSON: non-finite values as "NaN", "Infinity" or "-Infinity"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def read_number(value: float | int | str) -> float:
    """A JSON number, or one of the strings :func:`number` writes for non-finite values."""
    if isinstance(value, str):
        try:
            return _NON_FINITE[value]
        except KeyError:
            raise InvalidInputError(f"not a number: {value!r}", field="value") from None
    return float(value)


# -- encoding -------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """``value`` as JSON-ready Python: dataclasses become dicts keyed by field name, enums
    their values, tuples lists, arrays lists, non-finite floats strings."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    encode = _ENTITY_ENCODERS.get(kind)
    if encode is not None:
        return encode(value)
    if kind is list or kind is tuple:
        return [to_json(v) for v in value]
    if kind is dict:
        return _mapping(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _entity_encoder(type(value))(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float):
        return number(value)
    if isinstance(value, str | int | bool) or value is None:
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_json(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return to_json(value.item())
    return value


Encoder = Callable[[Any], Any]

#: Types whose values are JSON as they are (``bool`` and ``None`` included).
_PLAIN = frozenset({str, int, bool, type(None)})


def _mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): v if type(v) in _PLAIN else to_json(v) for k, v in value.items()}


#: The encoder of each entity class met so far (see :func:`_entity_encoder`).
_ENTITY_ENCODERS: dict[type, Encoder] = {}


def _entity_encoder(cls: type) -> Encoder:
    """One function per entity class, written once from its fields' type hints (as
    :mod:`dataclasses` writes ``__init__``): plain fields are read as they are, the rest
    go through the encoder their hint chose, so a page of thousands of entities encodes
    with one dict display per entity and no walk over plain values."""
    found = _ENTITY_ENCODERS.get(cls)
    if found is not None:
        return found
    plan = tuple((name, _encoder(hint)) for name, hint in _hints(cls))
    scope: dict[str, Any] = {}
    items = []
    for index, (name, encode) in enumerate(plan):
        if encode is _identity:
            items.append(f"{name!r}: value.{name}")
        else:
            scope[f"_e{index}"] = encode
            items.append(f"{name!r}: _e{index}(value.{name})")
    source = f"def encode(value):\n    return {{{', '.join(items)}}}\n"
    exec(source, scope)  # field names of a dataclass only, never outside text
    made: Encoder = scope["encode"]
    _ENTITY_ENCODERS[cls] = made
    return made


def encoded_fields(cls: type) -> list[tuple[str, Any]]:
    """The fields :func:`to_json` writes for the dataclass ``cls`` (every field but those
    holding callables), with their type hints, in order: what a schema of its JSON names.

    >>> from mlcycle.entities import ArtifactInfo
    >>> [name for name, _ in encoded_fields(ArtifactInfo)]
    ['path', 'is_dir', 'size', 'sha256']
    """
    hints = typing.get_type_hints(cls)
    return [(name, hints[name]) for name, _ in _plan(cls)]


_hints = encoded_fields


def _encoder(hint: Any) -> Encoder:
    if hint in (str, int, bool):
        return _identity
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if all(o in (str, int, bool) for o in options):
            return _identity
    if origin is typing.Literal:
        return _identity
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_value
    if origin in (tuple, list) and typing.get_args(hint)[-1:] != (Ellipsis,):
        return to_json
    if origin in (tuple, list):
        item = typing.get_args(hint)[0]
        if item in (str, int, bool):
            return list
        if dataclasses.is_dataclass(item) and isinstance(item, type):
            return _entities(item)
    if origin in (dict, collections.abc.Mapping) and typing.get_args(hint) in (
        (str, str),
        (str, int),
    ):
        return dict
    if origin in (dict, collections.abc.Mapping) and typing.get_args(hint)[:1] == (str,):
        return _mapping
    return to_json


def _enum_value(value: enum.Enum) -> Any:
    return value._value_  # what ``.value`` returns, without the property's lookup


def _entities(cls: type) -> Encoder:
    """A list of the entities of ``cls`` (the encoder is written on first use, as the
    class may still be incomplete while the outer one is planned)."""

    def encode(items: Any) -> list[Any]:
        one = _entity_encoder(cls)
        return [one(item) for item in items]

    return encode


# -- decoding -------------------------------------------------------------------------------


def from_json(cls: type[T], data: Mapping[str, Any]) -> T:
    """An instance of the dataclass ``cls`` from what :func:`to_json` wrote.

    Unknown keys (from a newer server) are ignored; a missing key takes the field's
    default, or is refused naming the field when it has none.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"a {cls.__name__} must be a JSON object, not {type(data).__name__}",
            field=cls.__name__,
        )
    kwargs: dict[str, Any] = {}
    plan: tuple[tuple[str, Decoder], ...] = _plan(typing.cast(type, cls))
    for name, decode in plan:
        if name in data:
            kwargs[name] = decode(data[name])
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InvalidInputError(
            f"a {cls.__name__} is incomplete: {exc}", field=cls.__name__
        ) from exc


def list_from_json(cls: type[T], items: Any) -> list[T]:
    """A list of ``cls`` from a JSON array of objects."""
    return [from_json(cls, item) for item in items]


@cache
def _plan(cls: type) -> tuple[tuple[str, Decoder], ...]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if _holds_callable(hint):
            continue
        plan.append((f.name, _decoder(hint)))
    return tuple(plan)


def _holds_callable(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is collections.abc.Callable:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_holds_callable(a) for a in typing.get_args(hint))
    return False


def _identity(value: Any) -> Any:
    return value


def _decoder(hint: Any) -> Decoder:
    if hint is Any or hint is object:
        return _identity
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _union(args)
    if origin is typing.Literal:
        return _identity
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda v: tuple(item(x) for x in v)
        parts = [_decoder(a) for a in args]
        return lambda v: tuple(d(x) for d, x in zip(parts, v, strict=True))
    if origin in (list, collections.abc.Sequence, set, frozenset):
        item = _decoder(args[0]) if args else _identity
        return lambda v: [item(x) for x in v]
    if origin in (dict, collections.abc.Mapping):
        value_of = _decoder(args[1]) if len(args) == 2 else _identity
        return lambda v: {k: value_of(x) for k, x in v.items()}
    if origin is np.ndarray:
        dtype = typing.get_args(args[1])[0] if len(args) == 2 else np.float64
        return lambda v: np.asarray([_array_item(x) for x in v], dtype=dtype)
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return hint
        if dataclasses.is_dataclass(hint):
            return lambda v: from_json(hint, v)
        if hint is float:
            return _float
        if hint is bool:
            return _identity
        if hint is int:
            return int
        if hint is bytes:
            return _bytes
    return _identity


def _bytes(value: Any) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError) as exc:
        raise InvalidInputError("bytes must be base64 text", field="bytes") from exc


def _array_item(value: Any) -> Any:
    return read_number(value) if isinstance(value, str) else value


def _float(value: Any) -> float:
    if value.__class__ is float:
        found: float = value
        return found
    return read_number(value)


def _union(args: tuple[Any, ...]) -> Decoder:
    options = [a for a in args if a is not type(None)]
    if len(options) == 1:
        only = _decoder(options[0])
        return lambda v: None if v is None else only(v)
    if all(o in (int, float, str, bool) for o in options):
        return _identity  # a scalar of whichever type it was written as
    decoders = [(o, _decoder(o)) for o in options]

    def decode(value: Any) -> Any:
        if value is None:
            return None
        for option, decoder in decoders:
            if _fits(option, value):
                return decoder(value)
        return value

    return decode


def _fits(option: Any, value: Any) -> bool:
    origin = typing.get_origin(option) or option
    if isinstance(origin, type):
        if dataclasses.is_dataclass(origin) or issubclass(origin, Mapping | dict):
            return isinstance(value, Mapping)
        if origin in (tuple, list):
            return isinstance(value, list)
        if issubclass(origin, enum.Enum):
            return value in {m.value for m in origin}
        if origin is float:
            return isinstance(value, int | float | str)
        return isinstance(value, origin)
    return True


__all__ = ["from_json", "list_from_json", "number", "read_number", "to_json"]
