"""``HttpRegistry``: the model registry through a tracking server's ``/api/v1/models``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlcycle.backends.http._wire import entity, get_json, listed, params, seg, send_json
from mlcycle.entities import (
    GateResult,
    ModelLineage,
    ModelVersion,
    ModelVersionStatus,
    Promotion,
    RegisteredModel,
    VersionComparison,
)
from mlcycle.entities.codec import list_from_json
from mlcycle.entities.models import ModelSource
from mlcycle.errors import InvalidInputError
from mlcycle.registry.service import check_name
from mlcycle.remote.http import HttpSession

_M = "/api/v1/models"


def _model(name: str) -> str:
    return f"{_M}/{seg(name)}"


def _version(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{seg(version)}"


class HttpRegistry:
    """The registry's public methods (see :class:`~mlcycle.registry.service.RegistryService`)
    over HTTP. Promotion runs the server's built-in gates; custom gate objects and model
    loaders are Python code and run only in-process.

    >>> registry = HttpRegistry(HttpSession("http://127.0.0.1:5000"))
    >>> registry.promote("churn", 3, "champion")  # doctest: +SKIP
    """

    def __init__(self, http: HttpSession) -> None:
        self.http = http

    # -- registered models ----------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "owner": owner, "tags": _tags(tags)}
        return entity(RegisteredModel, send_json(self.http, "POST", _M, body))

    def get_model(self, name: str) -> RegisteredModel:
        return entity(RegisteredModel, get_json(self.http, _model(name)))

    def list_models(self, filter: str | None = None) -> list[RegisteredModel]:
        return listed(RegisteredModel, self.http, _M, "models", params(filter=filter or None))

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        body = {"description": description, "owner": owner, "tags": _tags(tags)}
        return entity(RegisteredModel, send_json(self.http, "PATCH", _model(name), body))

    def rename_model(self, name: str, new_name: str) -> RegisteredModel:
        body = {"new_name": new_name}
        return entity(RegisteredModel, send_json(self.http, "POST", f"{_model(name)}/rename", body))

    def delete_model(self, name: str) -> None:
        self.http.request("DELETE", _model(name))

    def delete_model_tag(self, name: str, key: str) -> None:
        self.http.request("DELETE", f"{_model(name)}/tags/{seg(key)}")

    # -- versions ---------------------------------------------------------------------------

    def add_version(
        self,
        name: str,
        source: ModelSource,
        *,
        flavor: str | None = None,
        signature: Mapping[str, Any] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        body = {
            "run_id": source.run_id,
            "artifact_path": source.artifact_path,
            "from_manifest": False,
            "flavor": flavor,
            "signature": None if signature is None else dict(signature),
            "description": description,
            "tags": _tags(tags),
        }
        return self._create_version(name, body)

    def register(
        self,
        name: str,
        source: ModelSource,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        body = {
            "run_id": source.run_id,
            "artifact_path": source.artifact_path,
            "description": description,
            "tags": _tags(tags),
        }
        return self._create_version(name, body)

    def _create_version(self, name: str, body: dict[str, Any]) -> ModelVersion:
        name = check_name(name)  # the local check: a name with '/' has no route
        created = send_json(self.http, "POST", f"{_model(name)}/versions", body)
        return entity(ModelVersion, created)

    def delete_version(self, name: str, version: int) -> None:
        self.http.request("DELETE", _version(name, version))

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        self.http.request("DELETE", f"{_version(name, version)}/tags/{seg(key)}")

    def get_version(self, name: str, version: int) -> ModelVersion:
        return entity(ModelVersion, get_json(self.http, _version(name, version)))

    def list_versions(self, name: str, *, include_retired: bool = False) -> list[ModelVersion]:
        query = params(include_retired=include_retired)
        return listed(ModelVersion, self.http, f"{_model(name)}/versions", "versions", query)

    def resolve_version(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> ModelVersion:
        query = params(version=version, alias=alias)
        return entity(ModelVersion, get_json(self.http, f"{_model(name)}/resolve", query))

    def resolve(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> ModelSource:
        query = params(version=version, alias=alias, serving=True)
        found = entity(ModelVersion, get_json(self.http, f"{_model(name)}/resolve", query))
        return found.source

    def set_status(self, name: str, version: int, status: ModelVersionStatus | str) -> ModelVersion:
        body = {"status": str(status.value if isinstance(status, ModelVersionStatus) else status)}
        return entity(ModelVersion, send_json(self.http, "PATCH", _version(name, version), body))

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        body = {"description": description, "tags": _tags(tags)}
        return entity(ModelVersion, send_json(self.http, "PATCH", _version(name, version), body))

    # -- aliases, promotion -------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        path = f"{_model(name)}/aliases/{seg(alias)}"
        return entity(ModelVersion, send_json(self.http, "PUT", path, {"version": version}))

    def delete_alias(self, name: str, alias: str) -> None:
        self.http.request("DELETE", f"{_model(name)}/aliases/{seg(alias)}")

    def promote(
        self,
        name: str,
        version: int,
        alias: str = "champion",
        gates: Sequence[Any] | None = None,
        *,
        defaults: bool = True,
        tolerance: float = 0.0,
        force: bool = False,
        reason: str | None = None,
        load_model: Any = None,
        trusted: Sequence[str] = (),
    ) -> Promotion:
        if gates:
            raise InvalidInputError(
                "custom gates are Python code and run in-process only; through a server, "
                "promotion checks the built-in gates (defaults=True)",
                field="gates",
            )
        if load_model is not None:
            raise InvalidInputError(
                "a model loader runs in-process only; the server loads models itself",
                field="load_model",
            )
        body = {
            "alias": alias,
            "defaults": defaults,
            "tolerance": tolerance,
            "force": force,
            "reason": reason,
            "trusted": list(trusted),
        }
        done = send_json(self.http, "POST", f"{_version(name, version)}/promote", body)
        return entity(Promotion, done)

    def check_gates(
        self,
        name: str,
        version: int,
        alias: str = "champion",
        *,
        reason: str | None = None,
        trusted: Sequence[str] = (),
    ) -> list[GateResult]:
        body = {"alias": alias, "reason": reason, "trusted": list(trusted)}
        found = send_json(self.http, "POST", f"{_version(name, version)}/check-gates", body)
        return list_from_json(GateResult, found["results"])

    def gate_results(self, name: str, version: int) -> list[GateResult]:
        found = get_json(self.http, f"{_version(name, version)}/gates")
        return list_from_json(GateResult, found["results"])

    # -- lineage, comparison ------------------------------------------------------------------

    def lineage(
        self, name: str, version: int | None = None, *, alias: str | None = None
    ) -> ModelLineage:
        query = params(version=version, alias=alias)
        return entity(ModelLineage, get_json(self.http, f"{_model(name)}/lineage", query))

    def compare(self, name: str, v1: int, v2: int) -> VersionComparison:
        query = {"v1": v1, "v2": v2}
        return entity(VersionComparison, get_json(self.http, f"{_model(name)}/compare", query))


def _tags(tags: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if tags is None else {str(k): str(v) for k, v in tags.items()}
