"""scikit-learn estimators and Pipelines, saved with skops.

skops stores an object's state as data, not code; loading rebuilds only types from skops'
trusted set (scikit-learn's estimators, NumPy, SciPy...). Any other type in the file, such
as a custom transformer or ``sklearn.tree._tree.Tree`` (which skops does not trust by
default), must be named in ``trusted=[...]`` at load; :class:`UntrustedTypesError` says
which ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlcycle.errors import InvalidInputError, UntrustedTypesError
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

MODEL_FILE = "model.skops"


def dump_skops(model: object, path: Path) -> None:
    """Write ``model`` with skops; an object skops cannot represent is refused clearly."""
    import skops.io as sio  # skops imports scikit-learn: loaded on first use

    try:
        sio.dump(model, path)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidInputError(
            f"{qualified_name(model)} cannot be saved safely with skops: {exc}", field="model"
        ) from exc


def load_skops(path: Path, trusted: Sequence[str], *, what: str) -> Any:
    """Read a skops file, refusing types outside skops' trusted set and ``trusted``."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.load(path, trusted=list(trusted))
    except UntrustedTypesFoundException:
        missing = sorted(set(sio.get_untrusted_types(file=path)) - set(trusted))
        raise UntrustedTypesError(
            f"{what} holds types outside skops' trusted set: {', '.join(missing)}. Loading "
            f"them runs their code; if you trust them, pass trusted={missing!r}",
            types=missing,
        ) from None
    except (ImportError, AttributeError) as exc:
        raise InvalidInputError(
            f"{what} needs a class that cannot be imported here: {exc}", field="model"
        ) from exc


class SklearnFlavor:
    flavor = Flavor.SKLEARN

    def matches(self, model: object) -> bool:
        return "sklearn" in module_roots(model)

    def save(self, model: object, directory: Path) -> SavedFiles:
        methods = methods_of(model)
        dump_skops(model, directory / MODEL_FILE)
        return SavedFiles(
            model_file=MODEL_FILE,
            model_class=qualified_name(model),
            methods=methods,
            libraries=versions_of("scikit-learn", "skops", "numpy", "scipy"),
            classes=plain_classes(getattr(model, "classes_", None)),
        )

    def wrap(self, model: object) -> NativeModel:
        frame = uses_feature_names(model)
        has_proba = callable(getattr(model, "predict_proba", None))
        return NativeModel(
            model=model,
            predict=feed(model, "predict", frame=frame),
            predict_proba=feed(model, "predict_proba", frame=frame) if has_proba else None,
            classes=getattr(model, "classes_", None),
        )

    def load(self, directory: Path, manifest: ModelManifest, trusted: Sequence[str]) -> NativeModel:
        model = load_skops(directory / manifest.model_file, trusted, what="the model")
        return self.wrap(model)
