"""``build_context``: a model version becomes a reproducible Docker build context.

::

    DIR/
      Dockerfile            slim Python base (ARG BASE_IMAGE), non-root, HEALTHCHECK, labels
      .dockerignore
      requirements.lock     the model's libraries and the server's, pinned (hashed)
      wheels/mlcycle-*.whl  mlcycle itself, built from the imported package
      mlcycle-context.json  what is served: name, version, run, datasets, file digests
      model/                the model's files
      code/                 a Python model's own modules, when no package provides them

The same model and options give byte-identical files: nothing records the time, the
machine or the output path.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mlcycle
from mlcycle.client.models import model_directory
from mlcycle.containers.code import ModelCode, copy_code, model_code
from mlcycle.containers.dockerfile import (
    DOCKERIGNORE,
    LOCK_FILE,
    WHEELS_DIR,
    default_base_image,
    image_name,
    render_dockerfile,
)
from mlcycle.containers.hashes import DEFAULT_INDEX, add_hashes
from mlcycle.containers.requirements import Lock, lock_requirements, render_lock
from mlcycle.containers.spec import CODE_DIR, MODEL_DIR, ContextSpec, DatasetRef, digests
from mlcycle.containers.trust import check_trusted
from mlcycle.containers.wheel import build_wheel
from mlcycle.entities.deployments import ServingOptions
from mlcycle.entities.models import ModelSource
from mlcycle.entities.registry import ModelVersionStatus
from mlcycle.errors import InvalidInputError, ModelRetiredError
from mlcycle.models.manifest import Flavor, ModelManifest
from mlcycle.models.uris import LocalModelUri, RegisteredModelUri, RunModelUri, parse_model_uri


@dataclass(frozen=True, kw_only=True)
class BuildContext:
    """A build context on disk: where, what it serves, its lock and base image."""

    path: Path
    spec: ContextSpec
    lock: Lock
    base_image: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def dockerfile(self) -> Path:
        return self.path / "Dockerfile"

    @property
    def tag(self) -> str:
        """A default image tag: ``<model name>:<version>``."""
        return f"{image_name(self.spec.model_name or self.spec.name)}:{self.spec.label}"


@dataclass(frozen=True, kw_only=True)
class _Resolved:
    directory: Path
    uri: str
    model_name: str | None
    version: int | None
    run_id: str | None
    datasets: tuple[DatasetRef, ...]


def _resolve(uri: str, client: mlcycle.Client | None) -> _Resolved:
    parsed = parse_model_uri(uri)
    if isinstance(parsed, LocalModelUri):
        directory = Path(parsed.path).expanduser().resolve()
        manifest = ModelManifest.read(directory)
        return _Resolved(
            directory=directory,
            uri=str(directory),
            model_name=None,
            version=None,
            run_id=manifest.run_id,
            datasets=(),
        )
    client = client or mlcycle.get_client()
    if isinstance(parsed, RunModelUri):
        source = ModelSource(parsed.run_id, parsed.artifact_path)
        return _Resolved(
            directory=model_directory(client, source),
            uri=str(parsed),
            model_name=None,
            version=None,
            run_id=parsed.run_id,
            datasets=(),
        )
    assert isinstance(parsed, RegisteredModelUri)
    version = client.registry.resolve_version(
        parsed.name, version=parsed.version, alias=parsed.alias
    )
    where = f"model version {version.name}/{version.version}"
    if version.status is ModelVersionStatus.RETIRED:
        raise ModelRetiredError(
            f"{where} is retired: an image is built from a version that may serve",
            field="model_uri",
        )
    if version.status in (ModelVersionStatus.FAILED, ModelVersionStatus.PENDING):
        raise InvalidInputError(
            f"{where} is {version.status.value}: only a ready or archived version becomes an image",
            field="model_uri",
        )
    lineage = client.registry.lineage(version.name, version.version)
    datasets = tuple(
        DatasetRef(name=i.name, version=i.version, digest=i.digest, context=i.context)
        for i in sorted(lineage.inputs, key=lambda i: (i.context, i.name, i.version))
    )
    return _Resolved(
        directory=model_directory(client, version.source),
        uri=version.uri,
        model_name=version.name,
        version=version.version,
        run_id=version.run_id,
        datasets=datasets,
    )


def build_context(
    model_uri: str,
    output: str | os.PathLike[str],
    *,
    client: mlcycle.Client | None = None,
    name: str | None = None,
    port: int = 8080,
    base_image: str | None = None,
    trusted: tuple[str, ...] | list[str] = (),
    options: ServingOptions | None = None,
    hashes: bool = True,
    index_url: str = DEFAULT_INDEX,
    overwrite: bool = False,
) -> BuildContext:
    """Write a Docker build context for the model at ``model_uri`` into ``output``.

    ``model_uri`` is ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` (resolved now: the
    image pins the version), ``runs:/RUN_ID/PATH`` or a model directory. ``name`` is the
    served name (default: the registered model's). ``trusted`` names the types the model
    needs loaded beyond skops' trusted set (as for ``mlcycle serve --trust``); they are
    checked now. With ``hashes``, the lock gets each pin's sha256 from ``index_url``;
    without the index (offline) it goes without, and says so.

    >>> ctx = mlcycle.containers.build_context("models:/churn/3", "build/churn-3")  # doctest: +SKIP
    >>> ctx.tag, ctx.spec.model_digest  # doctest: +SKIP

    Raises ModelRetiredError for a retired version, InvalidInputError naming what is
    missing when the model's libraries or code cannot be pinned or a type is untrusted,
    and InvalidInputError when ``output`` is a non-empty folder (unless ``overwrite``).
    """
    if not 1 <= port <= 65535:
        raise InvalidInputError("port must be between 1 and 65535", field="port")
    target = Path(output)
    _check_output(target, overwrite=overwrite)
    resolved = _resolve(model_uri, client)
    manifest = ModelManifest.read(resolved.directory)
    trusted = tuple(sorted(set(trusted)))
    check_trusted(resolved.directory, manifest, trusted)
    code = model_code(manifest.model_class) if manifest.flavor is Flavor.PYTHON else ModelCode()
    libraries = {**dict(manifest.libraries), **code.libraries}
    lock = lock_requirements(
        libraries, python_version=manifest.python_version, what=f"the model {resolved.uri}"
    )
    if hashes:
        lock = add_hashes(lock, index_url=index_url)
    served = name or resolved.model_name or resolved.directory.name
    base = base_image or default_base_image(lock.python_version)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        model_dir = staging / MODEL_DIR
        shutil.copytree(resolved.directory, model_dir, copy_function=shutil.copyfile)
        _normalise_modes(model_dir)
        if code.files:
            copy_code(code, staging / CODE_DIR)
        spec = ContextSpec(
            name=served,
            model_uri=resolved.uri,
            model_name=resolved.model_name,
            version=resolved.version,
            run_id=resolved.run_id,
            flavor=manifest.flavor.value,
            model_class=manifest.model_class,
            files=digests(model_dir),
            datasets=resolved.datasets,
            mlcycle_version=mlcycle.__version__,
            python_version=lock.python_version,
            port=port,
            options=options or ServingOptions(),
            trusted=trusted,
            code_paths=(CODE_DIR,) if code.files else (),
        )
        spec.write(staging)
        wheel = build_wheel(staging / WHEELS_DIR)
        (staging / LOCK_FILE).write_text(
            render_lock(lock, source=resolved.uri, mlcycle_version=mlcycle.__version__)
        )
        (staging / "Dockerfile").write_text(
            render_dockerfile(
                spec,
                base_image=base,
                wheel=wheel.name,
                hashed=lock.hashed,
                has_code=bool(code.files),
            )
        )
        (staging / ".dockerignore").write_text(DOCKERIGNORE)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)  # complete or absent: never half a context
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildContext(path=target, spec=spec, lock=lock, base_image=base, notes=lock.notes)


def _check_output(target: Path, *, overwrite: bool) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise InvalidInputError(f"{str(target)!r} exists and is not a folder", field="output")
    if any(target.iterdir()) and not overwrite:
        raise InvalidInputError(
            f"{str(target)!r} is not empty; choose an empty folder or pass overwrite (--overwrite)",
            field="output",
        )


def _normalise_modes(folder: Path) -> None:
    """Files 0644 and folders 0755, whatever the artifact store left."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
