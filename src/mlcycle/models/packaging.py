"""Save a model into a directory (files + manifest) and load it back.

>>> manifest = save_model(pipeline, "out/churn", input_example=X.head())  # doctest: +SKIP
>>> model = load_model_dir("out/churn")  # doctest: +SKIP
>>> model.predict(X)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcycle.clock import system_clock
from mlcycle.errors import InvalidInputError, MlcycleError
from mlcycle.models.examples import write_input_example
from mlcycle.models.flavors import flavor_for, flavor_named
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.manifest import ModelManifest
from mlcycle.models.signature import Signature, infer_signature, to_frame
from mlcycle.models.versions import installed_version, python_version, warn_if_newer
from mlcycle.types import Clock

if TYPE_CHECKING:
    import pandas as pd

SignatureLike = Signature | Mapping[str, Any]


def save_model(
    model: object,
    path: str | Path,
    *,
    input_example: object | None = None,
    signature: SignatureLike | None = None,
    metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    clock: Clock = system_clock,
) -> ModelManifest:
    """Write ``model`` and its manifest into the new or empty directory ``path``.

    Without ``signature``, one is inferred from ``input_example`` (columns, dtypes,
    optional columns), and its outputs from the model's predictions on the example, which
    also checks that the model works on it. Returns the manifest written.
    """
    directory = Path(path)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InvalidInputError(
            f"{str(directory)!r} exists and is not an empty directory; models are not overwritten",
            field="path",
        )
    adapter = flavor_for(model)
    example = None if input_example is None else to_frame(input_example)
    if example is not None and len(example) == 0:
        raise InvalidInputError("the input example has no rows", field="input_example")
    sig = _signature(signature, example, adapter.wrap(model).predict)
    directory.mkdir(parents=True, exist_ok=True)
    saved = adapter.save(model, directory)
    example_file = None if example is None else write_input_example(example, directory)
    manifest = ModelManifest(
        flavor=adapter.flavor,
        model_file=saved.model_file,
        model_class=saved.model_class,
        methods=saved.methods,
        libraries=dict(saved.libraries),
        python_version=python_version(),
        mlcycle_version=installed_version("mlcycle") or "unknown",
        created_at=clock(),
        run_id=run_id,
        signature=sig,
        input_example=example_file,
        classes=saved.classes,
        metadata=dict(metadata or {}),
        options=dict(saved.options),
    )
    manifest.write(directory)
    return manifest


def _signature(
    given: SignatureLike | None, example: pd.DataFrame | None, predict: Any
) -> Signature | None:
    if given is not None:
        if isinstance(given, Signature):
            return given
        if isinstance(given, Mapping):
            return Signature.from_dict(given)
        raise InvalidInputError(
            f"signature must be a Signature or its dict form, got {type(given).__name__}",
            field="signature",
        )
    if example is None:
        return None
    inputs = infer_signature(example)
    try:
        output = predict(inputs.prepare(example))
    except MlcycleError:
        raise
    except Exception as exc:  # the user's model failed on the user's example
        raise InvalidInputError(
            f"the model could not predict on its input example: {type(exc).__name__}: {exc}",
            field="input_example",
        ) from exc
    return infer_signature(example, output)


def load_model_dir(
    path: str | Path, *, trusted: Sequence[str] | None = None, uri: str | None = None
) -> LoadedModel:
    """Load the model saved in the directory ``path``.

    Warns (LibraryVersionWarning) when it was saved with a newer version of a library than
    the installed one. scikit-learn and Python models refuse types outside skops' trusted
    set unless they are named in ``trusted`` (UntrustedTypesError lists them).
    """
    directory = Path(path)
    manifest = ModelManifest.read(directory)
    warn_if_newer(manifest.libraries, what=f"the model {uri or str(directory)!r}")
    native = flavor_named(manifest.flavor).load(directory, manifest, list(trusted or ()))
    return LoadedModel(manifest=manifest, native=native, path=directory, uri=uri)
