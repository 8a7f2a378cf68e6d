"""Model URIs resolved for deployments: through the registry for ``models:/`` URIs (a
FAILED or RETIRED version is refused), through the run's artifacts for ``runs:/`` URIs,
and on disk for a model directory. Implements :class:`mlcycle.ports.deployments.ModelResolver`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlcycle.entities.deployment_state import ResolvedModel
from mlcycle.errors import ArtifactNotFoundError, InvalidInputError, MlcycleError, NotFoundError
from mlcycle.models.manifest import MANIFEST_FILE
from mlcycle.models.uris import LocalModelUri, RegisteredModelUri, RunModelUri, parse_model_uri
from mlcycle.registry.service import RegistryService

#: Loads the model at a URI, trusting the named extra types (``mlcycle.models.load``).
ModelLoader = Callable[[str, Sequence[str]], object]


class RegistryResolver:
    """Resolve model URIs against the registry and the tracking store.

    ``load`` (optional) is how :meth:`check` proves a model loads; without it, ``check``
    only checks that the model's manifest is there.
    """

    def __init__(self, registry: RegistryService, *, load: ModelLoader | None = None) -> None:
        self._registry = registry
        self._load = load

    def resolve(self, uri: str, *, field: str = "model_uri") -> ResolvedModel:
        if not isinstance(uri, str) or not uri.strip():
            raise InvalidInputError(f"{field} must be a non-empty model URI", field=field)
        try:
            parsed = parse_model_uri(uri)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{field}: {exc.message}", field=field) from None
        if isinstance(parsed, RegisteredModelUri):
            return self._registered(uri, parsed, field)
        if isinstance(parsed, RunModelUri):
            manifest = self._run_manifest(parsed, field)
            return ResolvedModel(uri=uri, source=str(parsed), flavor=_flavor(manifest))
        return self._local(uri, parsed, field)

    def _registered(self, uri: str, parsed: RegisteredModelUri, field: str) -> ResolvedModel:
        try:
            version = self._registry.resolve_version(
                parsed.name, version=parsed.version, alias=parsed.alias
            )
        except NotFoundError as exc:
            raise NotFoundError(f"cannot deploy {uri}: {exc.message}", field=field) from None
        if not version.status.can_hold_alias:
            raise InvalidInputError(
                f"cannot deploy {uri}: version {version.version} of {version.name!r} is "
                f"{version.status.value}",
                field=field,
            )
        return ResolvedModel(
            uri=uri,
            source=version.model_uri,
            name=version.name,
            version=version.version,
            alias=parsed.alias,
            flavor=version.flavor,
        )

    def _run_manifest(self, parsed: RunModelUri, field: str) -> dict[str, Any]:
        path = f"{parsed.artifact_path.strip('/')}/{MANIFEST_FILE}"
        try:
            with self._registry.tracking.open_artifact(parsed.run_id, path) as f:
                data = json.loads(f.read())
        except ArtifactNotFoundError:
            raise NotFoundError(
                f"cannot deploy {parsed}: run {parsed.run_id} has no model at "
                f"{parsed.artifact_path!r}",
                field=field,
            ) from None
        except NotFoundError as exc:
            raise NotFoundError(f"cannot deploy {parsed}: {exc.message}", field=field) from None
        except ValueError as exc:
            raise InvalidInputError(
                f"cannot deploy {parsed}: its {MANIFEST_FILE} is not valid JSON ({exc})",
                field=field,
            ) from None
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _local(uri: str, parsed: LocalModelUri, field: str) -> ResolvedModel:
        manifest_path = Path(parsed.path) / MANIFEST_FILE
        try:
            data = json.loads(manifest_path.read_text())
        except FileNotFoundError:
            raise NotFoundError(
                f"cannot deploy {uri}: no model directory there (no {MANIFEST_FILE})",
                field=field,
            ) from None
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot deploy {uri}: its {MANIFEST_FILE} cannot be read ({exc})", field=field
            ) from None
        return ResolvedModel(
            uri=uri,
            source=str(Path(parsed.path).resolve()),
            flavor=_flavor(data if isinstance(data, dict) else {}),
        )

    def check(
        self, uri: str, *, field: str = "model_uri", trusted: Sequence[str] = ()
    ) -> ResolvedModel:
        resolved = self.resolve(uri, field=field)
        if self._load is not None:
            try:
                self._load(uri, tuple(trusted))
            except MlcycleError as exc:
                raise InvalidInputError(
                    f"cannot deploy {uri}: the model does not load: {exc.message}", field=field
                ) from exc
            except Exception as exc:  # a broken model file raises whatever its library raises
                raise InvalidInputError(
                    f"cannot deploy {uri}: the model does not load: {type(exc).__name__}: {exc}",
                    field=field,
                ) from exc
        return resolved

    def move_alias(self, name: str, alias: str, version: int) -> None:
        self._registry.set_alias(name, alias, version)


def _flavor(manifest: dict[str, Any]) -> str | None:
    flavor = manifest.get("flavor")
    return flavor if isinstance(flavor, str) else None
