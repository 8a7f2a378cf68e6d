"""XGBoost models in XGBoost's own format (UBJSON), never pickled.

The scikit-learn wrappers (``XGBClassifier``, ``XGBRegressor``...) keep their
scikit-learn attributes in the same file; a plain ``Booster`` predicts through a
``DMatrix``. Only the classes below are rebuilt at load, whatever the manifest says.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcycle.errors import InvalidInputError
from mlcycle.models.flavors.base import (
    NativeModel,
    SavedFiles,
    feed,
    methods_of,
    module_roots,
    plain_classes,
    qualified_name,
    uses_feature_names,
)
from mlcycle.models.manifest import Flavor, ModelManifest
from mlcycle.models.versions import versions_of

if TYPE_CHECKING:
    import pandas as pd

MODEL_FILE = "model.ubj"
BOOSTER = "Booster"
ESTIMATORS = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")


def _xgboost() -> Any:
    try:
        import xgboost  # optional: needed only for XGBoost models
    except ImportError as exc:
        raise InvalidInputError(
            "this model needs xgboost, which is not installed: pip install xgboost",
            field="model",
        ) from exc
    return xgboost


class XGBoostFlavor:
    flavor = Flavor.XGBOOST

    def matches(self, model: object) -> bool:
        return "xgboost" in module_roots(model)

    def save(self, model: object, directory: Path) -> SavedFiles:
        name = type(model).__name__
        if name not in (BOOSTER, *ESTIMATORS):
            raise InvalidInputError(
                f"{qualified_name(model)} is not an XGBoost model mlcycle can save; use one "
                f"of {', '.join((BOOSTER, *ESTIMATORS))}",
                field="model",
            )
        methods = ("predict",) if name == BOOSTER else methods_of(model)
        model.save_model(str(directory / MODEL_FILE))  # type: ignore[attr-defined]
        libraries = versions_of("xgboost", "numpy")
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
            xgb = _xgboost()
            booster: Any = model

            def predict(X: pd.DataFrame) -> Any:
                data = X if booster.feature_names is not None else X.to_numpy()
                return booster.predict(xgb.DMatrix(data, enable_categorical=True))

            return NativeModel(model=model, predict=predict)
        frame = uses_feature_names(model)
        has_proba = callable(getattr(model, "predict_proba", None))
        return NativeModel(
            model=model,
            predict=feed(model, "predict", frame=frame),
            predict_proba=feed(model, "predict_proba", frame=frame) if has_proba else None,
            classes=getattr(model, "classes_", None),
        )

    def load(self, directory: Path, manifest: ModelManifest, trusted: Sequence[str]) -> NativeModel:
        xgb = _xgboost()
        name = str(manifest.options.get("estimator", BOOSTER))
        if name not in (BOOSTER, *ESTIMATORS):
            raise InvalidInputError(
                f"the manifest names an unknown XGBoost class {name!r}", field="manifest"
            )
        model = getattr(xgb, name)()
        model.load_model(str(directory / manifest.model_file))
        return self.wrap(model)
