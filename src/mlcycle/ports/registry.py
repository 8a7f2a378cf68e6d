"""The model registry's ports: what model loading and ``log_model(register=...)`` need
from it (:class:`ModelRegistry`), and what it needs from the store
(:class:`RegistryRepository`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from mlcycle.entities.models import ModelSource
from mlcycle.entities.registry import (
    GateResult,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
)


class ModelRegistry(Protocol):
    def register(self, name: str, source: ModelSource) -> ModelVersion:
        """Register ``source`` as the next version of the registered model ``name``
        (created when missing); returns the new model version."""
        ...

    def resolve(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> ModelSource:
        """The logged model behind a version, an alias, or (neither given) the latest
        version of ``name``. Raises NotFoundError naming what does not exist."""
        ...


class RegistryRepository(Protocol):
    """Registered models, versions, aliases and gate results in the metadata store.

    Every method raises NotFoundError naming the model, version or alias that does not
    exist.
    """

    def create_model(self, model: RegisteredModel, *, model_id: str) -> RegisteredModel: ...
    def get_model(self, name: str) -> RegisteredModel: ...
    def list_models(self) -> list[RegisteredModel]: ...
    def update_model(
        self,
        name: str,
        *,
        updated_at: int,
        description: str | None = None,
        owner: str | None = None,
    ) -> RegisteredModel: ...
    def set_model_tags(self, name: str, tags: Mapping[str, str]) -> None: ...
    def delete_model_tag(self, name: str, key: str) -> None: ...
    def rename_model(self, name: str, new_name: str, *, updated_at: int) -> RegisteredModel: ...
    def model_identities(self) -> dict[str, str]:
        """Every registered model's ID (kept through renames) by its current name."""
        ...

    def delete_model(self, name: str) -> None: ...
    def create_version(
        self,
        version: ModelVersion,
        *,
        model_id: str,
        version_id: str,
    ) -> ModelVersion:
        """Insert ``version`` as the next version of ``version.name`` (its ``version``
        field is ignored), creating the registered model when missing."""
        ...

    def get_version(self, name: str, version: int) -> ModelVersion: ...
    def latest_version(self, name: str) -> ModelVersion: ...
    def list_versions(
        self,
        name: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        exclude: Sequence[ModelVersionStatus] = (),
    ) -> list[ModelVersion]:
        """Versions oldest first; ``after``/``limit`` give a keyset page, ``exclude``
        leaves out versions of those statuses."""
        ...

    def versions_of_run(self, run_id: str) -> list[ModelVersion]: ...
    def update_version(
        self,
        name: str,
        version: int,
        *,
        updated_at: int,
        status: ModelVersionStatus | None = None,
        description: str | None = None,
    ) -> ModelVersion: ...
    def set_version_tags(self, name: str, version: int, tags: Mapping[str, str]) -> None: ...
    def delete_version_tag(self, name: str, version: int, key: str) -> None: ...
    def delete_version(self, name: str, version: int, *, updated_at: int) -> None: ...
    def alias_version(self, name: str, alias: str) -> ModelVersion: ...
    def set_alias(self, name: str, alias: str, version: int, *, at: int) -> int | None:
        """Point ``alias`` at ``version``; returns the version it pointed at before."""
        ...

    def delete_alias(self, name: str, alias: str) -> None: ...
    def add_gate_results(
        self, name: str, version: int, results: Sequence[GateResult], *, ids: Sequence[str]
    ) -> None: ...
    def gate_results(self, name: str, version: int) -> list[GateResult]: ...
