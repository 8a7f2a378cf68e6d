"""The manifest beside a model's files: flavor, library versions, signature, example.

A model directory looks like::

    model.json            this manifest
    model.skops           the model (model.ubj for XGBoost, model.txt for LightGBM)
    input_example.json    the input example, when one was given
    artifacts/...         files of a generic Python model, when it has any
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from mlcycle.errors import InvalidInputError, NotFoundError
from mlcycle.models.signature import Signature

MANIFEST_FILE = "model.json"
FORMAT_VERSION = 1


class Flavor(StrEnum):
    """How a model is saved and loaded."""

    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    PYTHON = "python"


@dataclass(frozen=True, kw_only=True)
class ModelManifest:
    """What a model directory holds and what it needs to be loaded.

    ``libraries`` maps distribution names to the versions the model was saved with;
    ``classes`` are a classifier's labels in the column order of ``predict_proba``;
    ``options`` holds flavor-specific settings (e.g. the XGBoost estimator class).
    """

    flavor: Flavor
    model_file: str
    model_class: str
    methods: tuple[str, ...]
    libraries: Mapping[str, str]
    python_version: str
    mlcycle_version: str
    created_at: int
    signature: Signature | None = None
    input_example: str | None = None
    classes: tuple[Any, ...] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    format_version: int = FORMAT_VERSION

    @property
    def has_predict_proba(self) -> bool:
        return "predict_proba" in self.methods

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "flavor": self.flavor.value,
            "model_file": self.model_file,
            "model_class": self.model_class,
            "methods": list(self.methods),
            "libraries": dict(self.libraries),
            "python_version": self.python_version,
            "mlcycle_version": self.mlcycle_version,
            "created_at": self.created_at,
            "run_id": self.run_id,
            "signature": None if self.signature is None else self.signature.to_dict(),
            "input_example": self.input_example,
            "classes": None if self.classes is None else list(self.classes),
            "metadata": dict(self.metadata),
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelManifest:
        try:
            flavor = Flavor(data["flavor"])
            model_file = str(data["model_file"])
        except (KeyError, ValueError) as exc:
            raise InvalidInputError(
                f"the model manifest needs a model_file and a flavor out of "
                f"{', '.join(f.value for f in Flavor)}: {exc}",
                field="manifest",
            ) from exc
        signature = data.get("signature")
        classes = data.get("classes")
        return cls(
            format_version=int(data.get("format_version", FORMAT_VERSION)),
            flavor=flavor,
            model_file=model_file,
            model_class=str(data.get("model_class", "")),
            methods=tuple(data.get("methods", ("predict",))),
            libraries={str(k): str(v) for k, v in dict(data.get("libraries", {})).items()},
            python_version=str(data.get("python_version", "")),
            mlcycle_version=str(data.get("mlcycle_version", "")),
            created_at=int(data.get("created_at", 0)),
            run_id=data.get("run_id"),
            signature=None if signature is None else Signature.from_dict(signature),
            input_example=data.get("input_example"),
            classes=None if classes is None else tuple(classes),
            metadata=dict(data.get("metadata", {})),
            options=dict(data.get("options", {})),
        )

    def write(self, directory: str | Path) -> Path:
        path = Path(directory) / MANIFEST_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n")
        return path

    @classmethod
    def read(cls, directory: str | Path) -> ModelManifest:
        path = Path(directory) / MANIFEST_FILE
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise NotFoundError(
                f"{str(directory)!r} is not a model directory: it has no {MANIFEST_FILE}",
                field="uri",
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path} is not valid JSON: {exc}", field="manifest") from exc
        if not isinstance(data, dict):
            raise InvalidInputError(f"{path} must hold a JSON object", field="manifest")
        manifest = cls.from_dict(data)
        if manifest.format_version > FORMAT_VERSION:
            raise InvalidInputError(
                f"{path} has format version {manifest.format_version}; this mlcycle reads "
                f"up to {FORMAT_VERSION}: upgrade mlcycle",
                field="manifest",
            )
        return manifest


def _json_default(value: object) -> object:
    if hasattr(value, "item"):  # NumPy scalars (class labels, metadata values)
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
