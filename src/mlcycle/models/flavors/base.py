"""What every flavor provides: save a model's files, load them back, and predict."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mlcycle.errors import InvalidInputError
from mlcycle.models.manifest import Flavor, ModelManifest

if TYPE_CHECKING:
    import pandas as pd

Predict = Callable[["pd.DataFrame"], Any]


@dataclass(frozen=True, kw_only=True)
class SavedFiles:
    """What a flavor wrote into the model directory, for the manifest."""

    model_file: str
    model_class: str
    methods: tuple[str, ...]
    libraries: Mapping[str, str]
    classes: tuple[Any, ...] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NativeModel:
    """A model object with the flavor's way of feeding it a checked DataFrame."""

    model: object
    predict: Predict
    predict_proba: Predict | None = None
    classes: np.ndarray | None = None


class FlavorAdapter(Protocol):
    flavor: Flavor

    def matches(self, model: object) -> bool:
        """True when this flavor saves ``model``."""
        ...

    def save(self, model: object, directory: Path) -> SavedFiles:
        """Write the model's files into ``directory``."""
        ...

    def wrap(self, model: object) -> NativeModel:
        """The in-memory model, ready to predict (used on the input example)."""
        ...

    def load(self, directory: Path, manifest: ModelManifest, trusted: Sequence[str]) -> NativeModel:
        """Read the model back from ``directory``."""
        ...


def module_roots(model: object) -> set[str]:
    """Top-level packages of the model's class and its bases (no library is imported)."""
    return {cls.__module__.split(".")[0] for cls in type(model).__mro__}


def qualified_name(model: object) -> str:
    cls = type(model)
    return f"{cls.__module__}.{cls.__qualname__}"


def plain_classes(classes: object) -> tuple[Any, ...] | None:
    """Class labels as plain Python values (JSON-able), or None."""
    if classes is None:
        return None
    values = np.asarray(classes).tolist()
    return tuple(values) if isinstance(values, list) else None


def methods_of(model: object) -> tuple[str, ...]:
    found = tuple(m for m in ("predict", "predict_proba") if callable(getattr(model, m, None)))
    if "predict" not in found:
        raise InvalidInputError(
            f"{qualified_name(model)} has no predict method; only models that predict can "
            "be logged",
            field="model",
        )
    return found


def uses_feature_names(model: object) -> bool:
    """Whether the estimator was fitted on a DataFrame (and so wants one back)."""
    try:
        return getattr(model, "feature_names_in_", None) is not None
    except AttributeError:  # some wrappers raise instead of returning None
        return False


def feed(model: object, method: str, *, frame: bool) -> Predict:
    """``model.<method>`` fed the checked DataFrame, or its NumPy values when the model
    was fitted without column names."""
    bound: Callable[[Any], Any] = getattr(model, method)
    if frame:
        return bound
    return _FedNumpy(bound)


class _FedNumpy:
    """``method(X.to_numpy())``; a class, not a lambda, so a loaded model pickles (batch
    prediction sends it to other processes and Ray workers)."""

    def __init__(self, method: Callable[[Any], Any]) -> None:
        self.method = method

    def __call__(self, X: Any) -> Any:
        return self.method(X.to_numpy())
