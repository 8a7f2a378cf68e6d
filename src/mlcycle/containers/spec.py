"""``mlcycle-context.json``: what a build context serves, read by the image's entry point.

The builder writes it; :mod:`mlcycle.containers.entrypoint` reads it in the container and
serves the model in ``model/`` with no store: the file holds everything the serving app
needs (the served name, version, run ID, options, trusted types) and the sha256 of every
model file, checked before the model loads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcycle.entities.deployments import ServingOptions
from mlcycle.errors import InvalidInputError, NotFoundError

CONTEXT_FILE = "mlcycle-context.json"
MODEL_DIR = "model"
CODE_DIR = "code"
FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class DatasetRef:
    """A dataset version the model's run used (its content digest and context)."""

    name: str
    version: int
    digest: str
    context: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "context": self.context,
        }


@dataclass(frozen=True, kw_only=True)
class ContextSpec:
    """What one build context serves.

    ``name`` is the served name (the OIP model name, the prediction log's deployment);
    ``model_name``/``version``/``run_id`` the registered version (None outside the
    registry); ``files`` the sha256 of each file under ``model/``; ``code_paths`` folders
    of the context put on ``sys.path`` (a Python model's own code).
    """

    name: str
    model_uri: str
    model_name: str | None
    version: int | None
    run_id: str | None
    flavor: str
    model_class: str
    files: Mapping[str, str]
    datasets: tuple[DatasetRef, ...] = ()
    mlcycle_version: str = ""
    python_version: str = ""
    port: int = 8080
    options: ServingOptions = field(default_factory=ServingOptions)
    trusted: tuple[str, ...] = ()
    code_paths: tuple[str, ...] = ()
    format_version: int = FORMAT_VERSION

    @property
    def label(self) -> str:
        """The version label responses carry (``x-model-version``)."""
        return str(self.version) if self.version is not None else self.name

    @property
    def python_version_short(self) -> str:
        """``3.11`` of ``3.11.7``."""
        return ".".join(self.python_version.split(".")[:2])

    @property
    def model_digest(self) -> str:
        """One sha256 over the model files' names and digests."""
        listing = "".join(f"{path}\t{digest}\n" for path, digest in sorted(self.files.items()))
        return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "name": self.name,
            "model_uri": self.model_uri,
            "model_name": self.model_name,
            "version": self.version,
            "run_id": self.run_id,
            "flavor": self.flavor,
            "model_class": self.model_class,
            "model_digest": self.model_digest,
            "files": dict(sorted(self.files.items())),
            "datasets": [d.to_dict() for d in self.datasets],
            "mlcycle_version": self.mlcycle_version,
            "python_version": self.python_version,
            "port": self.port,
            "options": {
                "max_batch_size": self.options.max_batch_size,
                "max_latency_ms": self.options.max_latency_ms,
                "log_sample_rate": self.options.log_sample_rate,
                "routing_key": self.options.routing_key,
            },
            "trusted": list(self.trusted),
            "code_paths": list(self.code_paths),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContextSpec:
        try:
            options = dict(data.get("options") or {})
            return cls(
                format_version=int(data.get("format_version", FORMAT_VERSION)),
                name=str(data["name"]),
                model_uri=str(data["model_uri"]),
                model_name=data.get("model_name"),
                version=data.get("version"),
                run_id=data.get("run_id"),
                flavor=str(data["flavor"]),
                model_class=str(data.get("model_class", "")),
                files={str(k): str(v) for k, v in dict(data["files"]).items()},
                datasets=tuple(DatasetRef(**d) for d in data.get("datasets") or ()),
                mlcycle_version=str(data.get("mlcycle_version", "")),
                python_version=str(data.get("python_version", "")),
                port=int(data.get("port", 8080)),
                options=ServingOptions(**options),
                trusted=tuple(data.get("trusted") or ()),
                code_paths=tuple(data.get("code_paths") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"{CONTEXT_FILE} is not a valid build context description: {exc}",
                field="context",
            ) from exc

    def write(self, directory: Path) -> Path:
        path = directory / CONTEXT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def read(cls, directory: Path) -> ContextSpec:
        path = directory / CONTEXT_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFoundError(
                f"{str(directory)!r} is not a build context: it has no {CONTEXT_FILE}",
                field="context",
            ) from None
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path} is not valid JSON: {exc}", field="context") from exc
        if not isinstance(data, dict):
            raise InvalidInputError(f"{path} must hold a JSON object", field="context")
        spec = cls.from_dict(data)
        if spec.format_version > FORMAT_VERSION:
            raise InvalidInputError(
                f"{path} has format version {spec.format_version}; this mlcycle reads up to "
                f"{FORMAT_VERSION}",
                field="context",
            )
        return spec


def file_digest(path: Path) -> str:
    """The sha256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def digests(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder``, sorted."""
    return {
        p.relative_to(folder).as_posix(): file_digest(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def verify_files(folder: Path, expected: Mapping[str, str]) -> None:
    """Raise InvalidInputError naming the first model file that is missing, extra or
    changed since the context was built."""
    found = digests(folder) if folder.is_dir() else {}
    for path, digest in sorted(expected.items()):
        actual = found.get(path)
        if actual is None:
            raise InvalidInputError(f"the model file {path} is missing", field="files")
        if actual != digest:
            raise InvalidInputError(
                f"the model file {path} changed since the context was built: sha256 {actual}, "
                f"expected {digest}",
                field="files",
            )
    extra = sorted(set(found) - set(expected))
    if extra:
        raise InvalidInputError(
            f"the model folder has files the context does not list: {', '.join(extra)}",
            field="files",
        )
