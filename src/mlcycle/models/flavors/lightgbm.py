"""LightGBM models in LightGBM's own text format, never pickled.

The scikit-learn wrappers are saved as their booster plus, in the manifest, the
estimator class and (for classifiers) the class labels; loading rebuilds a predictor with
the same ``predict`` and ``predict_proba`` from the booster alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.errors import InvalidInputError
from mlcycle.models.flavors.base import (
    NativeModel,
    SavedFiles,
    methods_of,
    module_roots,
    plain_classes,
    qualified_name,
)
from mlcycle.models.manifest import Flavor, ModelManifest
from mlcycle.models.versions import versions_of

if TYPE_CHECKING:
    import pandas as pd

MODEL_FILE = "model.txt"
BOOSTER = "Booster"
CLASSIFIER = "LGBMClassifier"
ESTIMATORS = (CLASSIFIER, "LGBMRegressor", "LGBMRanker")


def _lightgbm() -> Any:
    try:
        import lightgbm  # optional: needed only for LightGBM models
    except ImportError as exc:
        raise InvalidInputError(
            "this model needs lightgbm, which is not installed: pip install lightgbm",
            field="model",
        ) from exc
    return lightgbm


def _booster_predictor(booster: Any, estimator: str, classes: np.ndarray | None) -> NativeModel:
    if estimator != CLASSIFIER or classes is None:
        return NativeModel(model=booster, predict=lambda X: booster.predict(X))

    def predict_proba(X: pd.DataFrame) -> Any:
        scores = np.asarray(booster.predict(X))
        return np.column_stack([1.0 - scores, scores]) if scores.ndim == 1 else scores

    def predict(X: pd.DataFrame) -> Any:
        return classes[np.argmax(predict_proba(X), axis=1)]

    return NativeModel(model=booster, predict=predict, predict_proba=predict_proba, classes=classes)


class LightGBMFlavor:
    flavor = Flavor.LIGHTGBM

    def matches(self, model: object) -> bool:
        return "lightgbm" in module_roots(model)

    def save(self, model: object, directory: Path) -> SavedFiles:
        name = type(model).__name__
        if name not in (BOOSTER, *ESTIMATORS):
            raise InvalidInputError(
                f"{qualified_name(model)} is not a LightGBM model mlcycle can save; use one "
                f"of {', '.join((BOOSTER, *ESTIMATORS))}",
                field="model",
            )
        booster: Any = model if name == BOOSTER else model.booster_  # type: ignore[attr-defined]
        booster.save_model(str(directory / MODEL_FILE))
        methods = ("predict",) if name == BOOSTER else methods_of(model)
        libraries = versions_of("lightgbm", "numpy")
        if name != BOOSTER:
            libraries.update(versions_of("scikit-learn"))
        return SavedFiles(
            model_file=MODEL_FILE,
            model_class=qualified_name(model),
            methods=methods,
            libraries=libraries,
            classes=plain_classes(getattr(model, "classes_", None)),
            options={"estimator": name},
        )

    def wrap(self, model: object) -> NativeModel:
        if type(model).__name__ == BOOSTER:
            booster: Any = model
            return NativeModel(model=model, predict=lambda X: booster.predict(X))
        estimator: Any = model
        has_proba = callable(getattr(model, "predict_proba", None))
        return NativeModel(
            model=model,
            predict=lambda X: estimator.predict(X),
            predict_proba=(lambda X: estimator.predict_proba(X)) if has_proba else None,
            classes=getattr(model, "classes_", None),
        )

    def load(self, directory: Path, manifest: ModelManifest, trusted: Sequence[str]) -> NativeModel:
        lgb = _lightgbm()
        booster = lgb.Booster(model_file=str(directory / manifest.model_file))
        classes = None if manifest.classes is None else np.asarray(manifest.classes)
        return _booster_predictor(booster, str(manifest.options.get("estimator")), classes)
