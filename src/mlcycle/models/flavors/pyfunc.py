"""Generic Python models: any object with ``predict`` (and optionally ``predict_proba``).

Design, chosen for safety over convenience:

* **Code by reference.** The model's class is recorded by its import path
  (``package.module.ClassName``) and must be importable where the model is loaded: ship
  it in a package, not in a notebook's ``__main__``. No code is stored with the model.
* **State as data.** The object's state (its attributes: numbers, strings, arrays, dicts,
  lists, scikit-learn estimators...) is written with skops, like scikit-learn models, not
  with pickle. Loading rebuilds only trusted types, and the model's own class is never
  trusted by default: load with ``trusted=["package.module.ClassName"]`` (the error lists
  the names to pass).
* **Files beside the model.** A model whose ``artifacts`` attribute maps names to local
  files or folders has them copied into the model directory; after loading,
  ``model.artifacts[name]`` is the path of the copy.

``predict`` receives a pandas DataFrame whose columns were checked against the model's
signature; it returns one prediction per row.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mlcycle.errors import InvalidInputError
from mlcycle.models.flavors.base import (
    NativeModel,
    SavedFiles,
    methods_of,
    plain_classes,
    qualified_name,
)
from mlcycle.models.flavors.sklearn import dump_skops, load_skops
from mlcycle.models.manifest import Flavor, ModelManifest
from mlcycle.models.versions import versions_of

if TYPE_CHECKING:
    import pandas as pd

MODEL_FILE = "model.skops"
ARTIFACTS_DIR = "artifacts"


@runtime_checkable
class PythonModel(Protocol):
    """What a generic Python model provides (subclassing is not needed).

    >>> class Threshold:
    ...     def __init__(self, cut: float) -> None:
    ...         self.cut = cut
    ...     def predict(self, data: pd.DataFrame) -> object:
    ...         return (data["score"] > self.cut).astype(int).to_numpy()
    >>> isinstance(Threshold(0.5), PythonModel)
    True

    Optional: ``predict_proba(data)`` returning one column per class, ``classes_`` (the
    labels in that column order), and ``artifacts``: a mapping of names to local paths
    stored with the model.
    """

    def predict(self, data: pd.DataFrame) -> Any: ...


def _classes(model: object) -> Any:
    return getattr(model, "classes_", None)


class PythonFlavor:
    flavor = Flavor.PYTHON

    def matches(self, model: object) -> bool:
        return callable(getattr(model, "predict", None))

    def save(self, model: object, directory: Path) -> SavedFiles:
        methods = methods_of(model)
        if type(model).__module__ == "__main__":
            raise InvalidInputError(
                f"{type(model).__qualname__} is defined in __main__, so it could not be "
                "imported where the model is loaded: move the class into a module",
                field="model",
            )
        artifacts = _copy_artifacts(model, directory)
        dump_skops(model, directory / MODEL_FILE)
        return SavedFiles(
            model_file=MODEL_FILE,
            model_class=qualified_name(model),
            methods=methods,
            libraries=versions_of("skops", "numpy", "pandas"),
            classes=plain_classes(_classes(model)),
            options={"artifacts": artifacts},
        )

    def wrap(self, model: object) -> NativeModel:
        target: Any = model
        has_proba = callable(getattr(model, "predict_proba", None))
        return NativeModel(
            model=model,
            predict=lambda X: target.predict(X),
            predict_proba=(lambda X: target.predict_proba(X)) if has_proba else None,
            classes=_classes(model),
        )

    def load(self, directory: Path, manifest: ModelManifest, trusted: Sequence[str]) -> NativeModel:
        model = load_skops(
            directory / manifest.model_file, trusted, what=f"the model ({manifest.model_class})"
        )
        stored = manifest.options.get("artifacts") or {}
        if stored:
            model.artifacts = {name: str(directory / rel) for name, rel in stored.items()}
        return self.wrap(model)


def _copy_artifacts(model: object, directory: Path) -> dict[str, str]:
    artifacts = getattr(model, "artifacts", None)
    if not artifacts:
        return {}
    if not isinstance(artifacts, Mapping):
        raise InvalidInputError(
            "a Python model's artifacts must map names to local file or folder paths",
            field="artifacts",
        )
    copied: dict[str, str] = {}
    for name, source in artifacts.items():
        path = Path(source)
        if not str(name) or "/" in str(name) or str(name) in (".", ".."):
            raise InvalidInputError(
                f"artifact name {name!r} must be a plain name", field="artifacts"
            )
        target = directory / ARTIFACTS_DIR / str(name) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, target)
        elif path.is_file():
            shutil.copy2(path, target)
        else:
            raise InvalidInputError(
                f"artifact {name!r} of the model points to {str(path)!r}, which does not exist",
                field=f"artifacts.{name}",
            )
        copied[str(name)] = target.relative_to(directory).as_posix()
    return copied
