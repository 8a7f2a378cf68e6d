"""Model URIs, parsed into typed objects.

>>> parse_model_uri("runs:/0190a1b2c3/model")
RunModelUri(run_id='0190a1b2c3', artifact_path='model')
>>> parse_model_uri("models:/churn/3")
RegisteredModelUri(name='churn', version=3, alias=None)
>>> parse_model_uri("models:/churn@champion")
RegisteredModelUri(name='churn', version=None, alias='champion')

``models:/<name>/latest`` is the newest version (``version`` and ``alias`` both None). A
path to a model directory on disk (or a ``file://`` URI) loads that directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mlcycle.bounds import INT32_MAX
from mlcycle.errors import InvalidInputError

_RUN_ID = re.compile(r"^[0-9A-Za-z_\-]+$")
_NAME = re.compile(r"^[^/@\s][^/@]*$")
_ALIAS = re.compile(r"^[A-Za-z][\w\-]*$")
_VERSION = re.compile(r"^[0-9]{1,19}$")


@dataclass(frozen=True)
class RunModelUri:
    """``runs:/<run_id>/<artifact_path>``: a model logged in a run."""

    run_id: str
    artifact_path: str

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"


@dataclass(frozen=True)
class RegisteredModelUri:
    """``models:/<name>/<version>``, ``models:/<name>@<alias>`` or ``models:/<name>/latest``."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        return f"models:/{self.name}/{'latest' if self.version is None else self.version}"


@dataclass(frozen=True)
class LocalModelUri:
    """A model directory on this machine."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)


ModelUri = RunModelUri | RegisteredModelUri | LocalModelUri


def _bad(uri: str, rule: str) -> InvalidInputError:
    return InvalidInputError(f"model URI {uri!r} {rule}", field="uri")


def parse_model_uri(uri: str | Path) -> ModelUri:
    """Parse ``runs:/...``, ``models:/...``, ``file://...`` or a local directory path.

    Raises InvalidInputError saying which part of the URI is wrong.
    """
    if isinstance(uri, Path):
        return LocalModelUri(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInputError("a model URI must be a non-empty string", field="uri")
    uri = uri.strip()
    if uri.startswith("runs:"):
        return _parse_run(uri)
    if uri.startswith("models:"):
        return _parse_registered(uri)
    if uri.startswith("file://"):
        return LocalModelUri(Path(uri[len("file://") :]))
    if "://" in uri or re.match(r"^[A-Za-z][\w+.\-]*:/", uri):
        scheme = uri.split(":", 1)[0]
        raise _bad(
            uri,
            f"has the unknown scheme {scheme!r}; use runs:/<run_id>/<path>, "
            "models:/<name>/<version>, models:/<name>@<alias> or a local directory",
        )
    return LocalModelUri(Path(uri))


def _parse_run(uri: str) -> RunModelUri:
    rest = uri[len("runs:") :]
    if not rest.startswith("/"):
        raise _bad(uri, "must look like runs:/<run_id>/<artifact_path>")
    parts = rest.lstrip("/").split("/", 1)
    if len(parts) < 2 or not parts[0] or not parts[1].strip("/"):
        raise _bad(uri, "must name a run and a path: runs:/<run_id>/<artifact_path>")
    run_id, path = parts[0], parts[1].strip("/")
    if not _RUN_ID.match(run_id):
        raise _bad(uri, f"has an invalid run ID {run_id!r}")
    if any(p in ("", ".", "..") for p in path.split("/")):
        raise _bad(uri, f"has an invalid artifact path {path!r}")
    return RunModelUri(run_id, path)


def _parse_registered(uri: str) -> RegisteredModelUri:
    rest = uri[len("models:") :]
    if not rest.startswith("/"):
        raise _bad(uri, "must look like models:/<name>/<version> or models:/<name>@<alias>")
    rest = rest.lstrip("/")
    if "@" in rest:
        name, alias = rest.rsplit("@", 1)
        if not name or not _NAME.match(name):
            raise _bad(uri, f"has an invalid model name {name!r}")
        if not _ALIAS.match(alias):
            raise _bad(
                uri, f"has an invalid alias {alias!r} (letters, digits, _ and -; a letter first)"
            )
        return RegisteredModelUri(name, alias=alias)
    parts = rest.split("/")
    if len(parts) != 2 or not parts[0] or not _NAME.match(parts[0]):
        raise _bad(uri, "must look like models:/<name>/<version> or models:/<name>@<alias>")
    name, version = parts
    if version == "latest":
        return RegisteredModelUri(name)
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses
    if not _VERSION.match(version) or not 1 <= int(version) <= INT32_MAX:
        raise _bad(
            uri,
            f"has an invalid version {version!r}: a number from 1 to {INT32_MAX}, or 'latest'",
        )
    return RegisteredModelUri(name, version=int(version))
