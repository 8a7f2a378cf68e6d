"""scikit-learn estimators and Pipelines, saved with skops.

skops stores an object's state as data, not code; loading rebuilds only types from skops'
trusted set (scikit-learn's estimators, NumPy, SciPy...) and, beyond it, the classes of the
libraries the flavor saves with (:data:`LIBRARY_ROOTS`: scikit-learn's own internals such as
``sklearn.tree._tree.Tree``, NumPy's dtypes), which skops leaves out. Any other type in the
file, such as a custom transformer or a function, must be named in ``trusted=[...]`` at load
(``--trust TYPE`` on the command line); :class:`UntrustedTypesError` says which ones.
"""

from __future__ import annotations

import importlib
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

#: Packages whose classes a skops file may hold without an explicit trust: the libraries
#: scikit-learn models are made of. Functions from them still need one.
LIBRARY_ROOTS = frozenset({"sklearn", "numpy", "scipy"})


def dump_skops(model: object, path: Path) -> None:
    """Write ``model`` with skops; an object skops cannot represent is refused clearly."""
    import skops.io as sio  # skops imports scikit-learn: loaded on first use

    try:
        sio.dump(model, path)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidInputError(
            f"{qualified_name(model)} cannot be saved safely with skops: {exc}", field="model"
        ) from exc


def library_class(name: str, roots: frozenset[str] = LIBRARY_ROOTS) -> bool:
    """True when ``name`` (``module.Class``) is a class from one of the ``roots`` packages.

    >>> library_class("sklearn.tree._tree.Tree"), library_class("builtins.eval")
    (True, False)
    """
    module, _, attribute = name.rpartition(".")
    if module.partition(".")[0] not in roots:
        return False
    try:
        found = getattr(importlib.import_module(module), attribute, None)
    except ImportError:
        return False
    return isinstance(found, type)


def load_skops(path: Path, trusted: Sequence[str], *, what: str) -> Any:
    """Read a skops file, refusing types outside skops' trusted set, the classes of
    :data:`LIBRARY_ROOTS` and ``trusted``."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    found = sio.get_untrusted_types(file=path)
    allowed = [*trusted, *(name for name in found if library_class(name))]
    try:
        return sio.load(path, trusted=allowed)
    except UntrustedTypesFoundException:
        missing = sorted(set(found) - set(allowed))
        raise UntrustedTypesError(
            f"{what} holds types outside the trusted set: {', '.join(missing)}. Loading "
            "them runs their code",
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
