"""``/api/v1/models``: registered models, versions, aliases, promotion and its gates,
lineage and comparison, over the server's registry (guarded by approvals with auth on,
every change audited). Retirement and legal holds are under ``/api/v1/governance``.

Answers are entities in the one codec's shape (:mod:`mlcycle.entities.codec`); listings
page with ``page_token``/``max_results``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.responses import Response

from mlcycle.entities import (
    GateResult,
    ModelLineage,
    ModelVersion,
    Promotion,
    RegisteredModel,
    VersionComparison,
)
from mlcycle.entities.codec import to_json
from mlcycle.entities.models import ModelSource
from mlcycle.errors import InvalidInputError
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES, described
from mlcycle.server.paging import (
    DEFAULT_MAX_RESULTS,
    MaxResults,
    PageToken,
    encode_token,
    key_of,
    page,
)
from mlcycle.server.responses import listing, returns
from mlcycle.server.services import Registry

MAX_VERSION = 2**31 - 1
RESPONSES = {**ERROR_RESPONSES, 410: described("The model version was retired")}
router = APIRouter(prefix="/api/v1/models", tags=["registry"], responses=RESPONSES)

Text = Annotated[str, Field(max_length=100_000)]
VersionPath = Annotated[int, PathParam(ge=1, le=MAX_VERSION)]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_VERSION)]
AliasQuery = Annotated[str | None, Query(max_length=1000)]
Tags = dict[str, str]


class ModelIn(BaseModel):
    name: Text
    description: Text | None = None
    owner: Text | None = None
    tags: Tags | None = None


class ModelPatch(BaseModel):
    description: Text | None = None
    owner: Text | None = None
    tags: Tags | None = None


class RenameIn(BaseModel):
    new_name: Text


class VersionIn(BaseModel):
    """A new version from a run's logged model. ``from_manifest`` (the default) reads
    flavor and signature from the model's manifest; else they are taken as given."""

    run_id: Text
    artifact_path: Text
    from_manifest: bool = True
    flavor: Text | None = None
    signature: dict[str, Any] | None = None
    description: Text | None = None
    tags: Tags | None = None


class VersionPatch(BaseModel):
    description: Text | None = None
    tags: Tags | None = None
    status: Text | None = None


class AliasIn(BaseModel):
    version: Annotated[int, Field(ge=1, le=MAX_VERSION)]


class PromoteIn(BaseModel):
    alias: Text = "champion"
    defaults: bool = True
    tolerance: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    force: bool = False
    reason: Text | None = None
    trusted: list[Text] = []


class GatesIn(BaseModel):
    alias: Text = "champion"
    reason: Text | None = None
    trusted: list[Text] = []


def _json(value: Any, status_code: int = 200) -> Response:
    return OrjsonResponse(to_json(value), status_code=status_code)


# -- registered models --------------------------------------------------------------------


@router.post("", status_code=201, responses=returns(RegisteredModel, 201))
def create_model(body: ModelIn, registry: Registry) -> Response:
    """Create a registered model (409 when the name is taken)."""
    created = registry.create_model(
        body.name, description=body.description, owner=body.owner, tags=body.tags
    )
    return _json(created, 201)


@router.get("", responses=returns(listing("models", RegisteredModel)))
def list_models(
    registry: Registry,
    filter: Annotated[str | None, Query(max_length=1000)] = None,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Registered models by name; ``filter`` keeps names containing it."""
    found = registry.list_models(filter)
    chosen, token = page(found, key=lambda m: m.name, token=page_token, limit=max_results)
    return OrjsonResponse({"models": to_json(chosen), "next_page_token": token})


@router.get("/{name}", responses=returns(RegisteredModel))
def get_model(name: str, registry: Registry) -> Response:
    return _json(registry.get_model(name))


@router.patch("/{name}", responses=returns(RegisteredModel))
def update_model(name: str, body: ModelPatch, registry: Registry) -> Response:
    """Set the description, owner or tags (tags given are added or replaced)."""
    updated = registry.update_model(
        name, description=body.description, owner=body.owner, tags=body.tags
    )
    return _json(updated)


@router.post("/{name}/rename", responses=returns(RegisteredModel))
def rename_model(name: str, body: RenameIn, registry: Registry) -> Response:
    return _json(registry.rename_model(name, body.new_name))


@router.delete("/{name}", status_code=204)
def delete_model(name: str, registry: Registry) -> Response:
    """Remove the model with every version, alias and tag, for good."""
    registry.delete_model(name)
    return Response(status_code=204)


@router.delete("/{name}/tags/{key:path}", status_code=204)
def delete_model_tag(name: str, key: str, registry: Registry) -> Response:
    registry.delete_model_tag(name, key)
    return Response(status_code=204)


# -- versions -------------------------------------------------------------------------------


@router.post("/{name}/versions", status_code=201, responses=returns(ModelVersion, 201))
def create_version(name: str, body: VersionIn, registry: Registry) -> Response:
    """Register the model a run logged as the next version (the model is created when
    missing); 404 when the run holds no model there."""
    source = ModelSource(run_id=body.run_id, artifact_path=body.artifact_path)
    if body.from_manifest:
        if body.flavor is not None or body.signature is not None:
            raise InvalidInputError(
                "flavor and signature come from the model's manifest; give them only with "
                "from_manifest=false",
                field="flavor",
            )
        created = registry.register(name, source, description=body.description, tags=body.tags)
    else:
        created = registry.add_version(
            name,
            source,
            flavor=body.flavor,
            signature=body.signature,
            description=body.description,
            tags=body.tags,
        )
    return _json(created, 201)


@router.get("/{name}/versions", responses=returns(listing("versions", ModelVersion)))
def list_versions(
    name: str,
    registry: Registry,
    include_retired: bool = False,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """The versions, oldest first; retired ones only with ``include_retired``."""
    after = None if page_token is None else key_of(page_token, int)
    found = registry.versions_page(
        name, after=after, limit=max_results + 1, include_retired=include_retired
    )
    chosen = found[:max_results]
    token = encode_token(chosen[-1].version) if len(found) > max_results else None
    return OrjsonResponse({"versions": to_json(chosen), "next_page_token": token})


@router.get("/{name}/resolve", responses=returns(ModelVersion))
def resolve_version(
    name: str,
    registry: Registry,
    version: VersionQuery = None,
    alias: AliasQuery = None,
    serving: bool = False,
) -> Response:
    """A version by number or alias, or the latest; with ``serving``, refuse a retired
    version (410) as loading it would."""
    found = registry.resolve_version(name, version=version, alias=alias)
    if serving:
        registry.resolve(name, version=found.version)
    return _json(found)


@router.get("/{name}/versions/{version}", responses=returns(ModelVersion))
def get_version(name: str, version: VersionPath, registry: Registry) -> Response:
    return _json(registry.get_version(name, version))


@router.patch("/{name}/versions/{version}", responses=returns(ModelVersion))
def update_version(
    name: str, version: VersionPath, body: VersionPatch, registry: Registry
) -> Response:
    """Set description and tags, and/or the status (a FAILED or RETIRED version loses its
    aliases)."""
    updated = None
    if body.description is not None or body.tags:
        updated = registry.update_version(
            name, version, description=body.description, tags=body.tags
        )
    if body.status is not None:
        updated = registry.set_status(name, version, body.status)
    return _json(updated if updated is not None else registry.get_version(name, version))


@router.delete("/{name}/versions/{version}", status_code=204)
def delete_version(name: str, version: VersionPath, registry: Registry) -> Response:
    registry.delete_version(name, version)
    return Response(status_code=204)


@router.delete("/{name}/versions/{version}/tags/{key:path}", status_code=204)
def delete_version_tag(name: str, version: VersionPath, key: str, registry: Registry) -> Response:
    registry.delete_version_tag(name, version, key)
    return Response(status_code=204)


# -- aliases, promotion ---------------------------------------------------------------------


@router.put("/{name}/aliases/{alias}", responses=returns(ModelVersion))
def set_alias(name: str, alias: str, body: AliasIn, registry: Registry) -> Response:
    """Point the alias at a version (403 ApprovalRequiredError on a protected alias)."""
    return _json(registry.set_alias(name, alias, body.version))


@router.delete("/{name}/aliases/{alias}", status_code=204)
def delete_alias(name: str, alias: str, registry: Registry) -> Response:
    registry.delete_alias(name, alias)
    return Response(status_code=204)


@router.post("/{name}/versions/{version}/promote", responses=returns(Promotion))
def promote(name: str, version: VersionPath, body: PromoteIn, registry: Registry) -> Response:
    """Check the built-in gates and move the alias when they pass (409
    PromotionRefusedError with every gate's result when one fails)."""
    done = registry.promote(
        name,
        version,
        body.alias,
        defaults=body.defaults,
        tolerance=body.tolerance,
        force=body.force,
        reason=body.reason,
        trusted=body.trusted,
    )
    return _json(done)


@router.post("/{name}/versions/{version}/check-gates", responses=returns({"results": [GateResult]}))
def check_gates(name: str, version: VersionPath, body: GatesIn, registry: Registry) -> Response:
    """Run the built-in gates without moving the alias; results are stored."""
    results = registry.check_gates(
        name, version, body.alias, reason=body.reason, trusted=body.trusted
    )
    return OrjsonResponse({"results": to_json(results)})


@router.get("/{name}/versions/{version}/gates", responses=returns({"results": [GateResult]}))
def gate_results(name: str, version: VersionPath, registry: Registry) -> Response:
    return OrjsonResponse({"results": to_json(registry.gate_results(name, version))})


# -- lineage, comparison --------------------------------------------------------------------


@router.get("/{name}/lineage", responses=returns(ModelLineage))
def lineage(
    name: str,
    registry: Registry,
    version: VersionQuery = None,
    alias: AliasQuery = None,
) -> Response:
    """Version -> run -> experiment and input dataset versions."""
    return _json(registry.lineage(name, version, alias=alias))


@router.get("/{name}/compare", responses=returns(VersionComparison))
def compare(
    name: str,
    registry: Registry,
    v1: Annotated[int, Query(ge=1, le=MAX_VERSION)],
    v2: Annotated[int, Query(ge=1, le=MAX_VERSION)],
) -> Response:
    return _json(registry.compare(name, v1, v2))
