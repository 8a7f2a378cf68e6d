"""Flavors: how each kind of model is saved and loaded.

====================  ==========================================  =====================
flavor                models                                      file
====================  ==========================================  =====================
``xgboost``           ``XGBClassifier``, ``XGBRegressor``, ...,   ``model.ubj`` (UBJSON)
                      ``Booster``
``lightgbm``          ``LGBMClassifier``, ``LGBMRegressor``,      ``model.txt``
                      ``LGBMRanker``, ``Booster``
``sklearn``           scikit-learn estimators and Pipelines       ``model.skops``
``python``            any object with ``predict``                 ``model.skops``
====================  ==========================================  =====================

A model gets the first flavor that matches, in that order (XGBoost and LightGBM wrappers
are scikit-learn estimators too, but their own formats are faster and need no trust).
"""

from __future__ import annotations

from mlcycle.errors import InvalidInputError
from mlcycle.models.flavors.base import FlavorAdapter, NativeModel, SavedFiles
from mlcycle.models.flavors.lightgbm import LightGBMFlavor
from mlcycle.models.flavors.pyfunc import PythonFlavor, PythonModel
from mlcycle.models.flavors.sklearn import SklearnFlavor
from mlcycle.models.flavors.xgboost import XGBoostFlavor
from mlcycle.models.manifest import Flavor

FLAVORS: tuple[FlavorAdapter, ...] = (
    XGBoostFlavor(),
    LightGBMFlavor(),
    SklearnFlavor(),
    PythonFlavor(),
)


def flavor_for(model: object) -> FlavorAdapter:
    """The flavor that saves ``model``; InvalidInputError when none does."""
    for adapter in FLAVORS:
        if adapter.matches(model):
            return adapter
    raise InvalidInputError(
        f"cannot log a {type(model).__name__}: a model must be a scikit-learn estimator or "
        "Pipeline, an XGBoost or LightGBM model, or an object with a predict method",
        field="model",
    )


def flavor_named(flavor: Flavor) -> FlavorAdapter:
    for adapter in FLAVORS:
        if adapter.flavor is flavor:
            return adapter
    raise InvalidInputError(f"unknown model flavor {flavor!r}", field="flavor")


__all__ = [
    "FLAVORS",
    "FlavorAdapter",
    "NativeModel",
    "PythonModel",
    "SavedFiles",
    "flavor_for",
    "flavor_named",
]
