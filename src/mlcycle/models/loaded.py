"""``LoadedModel``: one way to predict with a model of any flavor."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.errors import InvalidInputError
from mlcycle.models.examples import read_input_example
from mlcycle.models.flavors.base import NativeModel
from mlcycle.models.manifest import Flavor, ModelManifest
from mlcycle.models.signature import Signature, to_frame

if TYPE_CHECKING:
    import pandas as pd


class LoadedModel:
    """A model read back from its directory, whatever its flavor.

    >>> model = mlcycle.models.load("runs:/0190.../model")  # doctest: +SKIP
    >>> model.predict(df)  # doctest: +SKIP
    >>> model.predict_proba(df)[:, 1]  # classifiers whose flavor has it  # doctest: +SKIP

    Input is checked against ``signature`` first (missing column or wrong dtype:
    InvalidInputError naming the column; safe casts such as integer to float applied).
    ``native`` is the underlying object (estimator, booster or Python model).
    """

    def __init__(
        self,
        *,
        manifest: ModelManifest,
        native: NativeModel,
        path: Path,
        uri: str | None = None,
    ) -> None:
        self.manifest = manifest
        self._native = native
        self.path = path
        self.uri = uri
        classes = native.classes if native.classes is not None else manifest.classes
        self.classes: np.ndarray | None = None if classes is None else np.asarray(classes)

    @property
    def flavor(self) -> Flavor:
        return self.manifest.flavor

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self.manifest.metadata

    @property
    def native(self) -> object:
        """The flavor's own model object (e.g. the scikit-learn Pipeline)."""
        return self._native.model

    @property
    def has_predict_proba(self) -> bool:
        return self._native.predict_proba is not None

    @property
    def input_example(self) -> pd.DataFrame | None:
        """The input example saved with the model, if any."""
        if self.manifest.input_example is None:
            return None
        return read_input_example(self.path, self.manifest)

    def prepare(self, data: object) -> pd.DataFrame:
        """``data`` as the model receives it: checked and cast against the signature."""
        if self.signature is None:
            return to_frame(data)
        return self.signature.prepare(data)

    def predict(self, data: object) -> np.ndarray:
        """Predictions for each row of ``data`` (a DataFrame, dict of columns, row dicts or
        2-D array)."""
        return np.asarray(self._native.predict(self.prepare(data)))

    def predict_proba(self, data: object) -> np.ndarray:
        """Class probabilities, one column per class in the order of ``classes``."""
        if self._native.predict_proba is None:
            raise InvalidInputError(
                f"this {self.flavor.value} model ({self.manifest.model_class}) has no "
                "predict_proba",
                field="method",
            )
        return np.asarray(self._native.predict_proba(self.prepare(data)))

    def __repr__(self) -> str:
        where = f" from {self.uri}" if self.uri else ""
        return f"<LoadedModel {self.flavor.value} {self.manifest.model_class}{where}>"
