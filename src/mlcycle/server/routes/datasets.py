"""``/api/v1/datasets``: register dataset versions by uploading their Parquet (streamed to
disk, never held in memory), read versions with schema, profile and validation, validate,
split, clean, lineage, tags, run inputs, and download a version's Parquet (streamed).

Dataset names may hold ``/``, so they travel as the ``name`` query parameter; versions
are addressed by ID. Answers are entities in the one codec's shape; listings page with
``page_token`` and ``max_results``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from mlcycle.entities import (
    Dataset,
    DatasetVersion,
    Lineage,
    RunInput,
    Transform,
    ValidationRecord,
    ValidationReport,
)
from mlcycle.entities.codec import from_json, to_json
from mlcycle.errors import InvalidInputError
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.paging import DEFAULT_MAX_RESULTS, MaxResults, PageToken, page
from mlcycle.server.responses import listing, returns, returns_file
from mlcycle.server.services import Datasets

if TYPE_CHECKING:  # the service (pandas, pyarrow) loads on a dataset route's first call
    from mlcycle.datasets.service import DatasetService

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"], responses=ERROR_RESPONSES)

Text = Annotated[str, Field(max_length=100_000)]
NameQuery = Annotated[str, Query(max_length=1000, description="the dataset's name")]
VersionQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
JsonQuery = Annotated[str | None, Query(max_length=1_000_000, description="a JSON value")]
PARQUET = "application/vnd.apache.parquet"

_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            PARQUET: {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class ValidateIn(BaseModel):
    """``rules``: the text of a rules file (YAML or JSON, as ``mlcycle.datasets`` reads)."""

    rules: Annotated[str, Field(max_length=10_000_000)]
    record: bool = True


class SplitIn(BaseModel):
    test: Annotated[float, Field(allow_inf_nan=False)] = 0.2
    validation: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    stratify: Text | None = None
    group: Text | None = None
    time: Text | None = None
    seed: int = 0
    name: Text | None = None


class CleanIn(BaseModel):
    how: Text
    name: Text | None = None
    description: Text | None = None
    options: dict[str, Any] = {}


class NameVersionIn(BaseModel):
    name: Text
    version: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


class TagsIn(BaseModel):
    tags: dict[str, Any]


class InputIn(BaseModel):
    run_id: Text
    context: Text = "train"


def _json(value: Any, status_code: int = 200) -> Response:
    return OrjsonResponse(to_json(value), status_code=status_code)


def _json_param(value: str | None, field: str) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"{field} must be JSON: {exc}", field=field) from exc


@contextlib.contextmanager
def _rules_file(rules: str | None) -> Iterator[str | None]:
    """The rules text as a file :func:`~mlcycle.datasets.validation.load_rules` reads."""
    if rules is None:
        yield None
        return
    handle, path = tempfile.mkstemp(prefix="mlcycle-rules-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(rules)
        yield path
    finally:
        Path(path).unlink(missing_ok=True)


# -- registration -------------------------------------------------------------------------------


@router.post(
    "/versions",
    status_code=201,
    openapi_extra=_UPLOAD_DOC,
    responses=returns(DatasetVersion, 201),
)
async def register_version(
    request: Request,
    datasets: Datasets,
    name: NameQuery,
    description: Annotated[str | None, Query(max_length=100_000)] = None,
    tags: JsonQuery = None,
    rules: JsonQuery = None,
    refuse_on_failure: bool = False,
    parents: JsonQuery = None,
    transform: JsonQuery = None,
    suffix: Annotated[str, Query(pattern=r"^\.[a-z0-9.]{1,20}$")] = ".parquet",
) -> Response:
    """Store the uploaded file (Parquet; or CSV with ``suffix=.csv``) as the next version
    of ``name``. The body streams to a spool file on the server's disk, never into memory.
    ``tags`` is a JSON object, ``rules`` the JSON string of a rules file, ``parents`` a
    JSON array of parent version IDs with ``transform`` a JSON Transform (a derived
    version)."""
    tag_map = _json_param(tags, "tags")
    rules_text = _json_param(rules, "rules")
    parent_ids = _json_param(parents, "parents")
    made = _json_param(transform, "transform")
    handle, spool = tempfile.mkstemp(prefix="mlcycle-upload-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
        created = await run_in_threadpool(
            _register,
            datasets,
            name,
            spool,
            description=description,
            tags=tag_map,
            rules=rules_text,
            refuse_on_failure=refuse_on_failure,
            parents=parent_ids,
            transform=made,
        )
    finally:
        Path(spool).unlink(missing_ok=True)
    return _json(created, 201)


def _register(
    datasets: DatasetService,
    name: str,
    path: str,
    *,
    description: str | None,
    tags: Any,
    rules: Any,
    refuse_on_failure: bool,
    parents: Any,
    transform: Any,
) -> Any:
    with _rules_file(rules) as rules_path:
        if parents is None:
            return datasets.register(
                name,
                path,
                description=description,
                tags=tags,
                rules=rules_path,
                refuse_on_failure=refuse_on_failure,
            )
        found = [datasets.get_by_id(str(p)) for p in parents]
        made = from_json(Transform, transform) if isinstance(transform, dict) else transform
        return datasets.derive(
            name,
            found,
            path,
            made,
            description=description,
            tags=tags,
            rules=rules_path,
            refuse_on_failure=refuse_on_failure,
        )


# -- reading --------------------------------------------------------------------------------------


@router.get("", responses=returns(listing("datasets", Dataset)))
def list_datasets(
    datasets: Datasets,
    include_deleted: bool = False,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Datasets by name."""
    found = sorted(datasets.list_datasets(include_deleted=include_deleted), key=lambda d: d.name)
    chosen, token = page(found, key=lambda d: d.name, token=page_token, limit=max_results)
    return OrjsonResponse({"datasets": to_json(chosen), "next_page_token": token})


@router.get("/versions", responses=returns(listing("versions", DatasetVersion)))
def list_versions(
    datasets: Datasets,
    name: NameQuery,
    include_deleted: bool = False,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """The versions of ``name``, oldest first."""
    found = datasets.list_versions(name, include_deleted=include_deleted)
    chosen, token = page(found, key=lambda v: v.version, token=page_token, limit=max_results)
    return OrjsonResponse({"versions": to_json(chosen), "next_page_token": token})


@router.get("/version", responses=returns(DatasetVersion))
def get_version(datasets: Datasets, name: NameQuery, version: VersionQuery = None) -> Response:
    """Version ``version`` of ``name`` (its latest active one without ``version``), with
    schema, profile, lineage and validation."""
    return _json(datasets.get(name, version))


@router.get("/versions/{version_id}", responses=returns(DatasetVersion))
def get_version_by_id(version_id: str, datasets: Datasets) -> Response:
    return _json(datasets.get_by_id(version_id))


@router.get(
    "/versions/{version_id}/data", response_class=FileResponse, responses=returns_file(PARQUET)
)
def download(
    version_id: str,
    datasets: Datasets,
    columns: Annotated[list[str] | None, Query(max_length=10_000)] = None,
) -> Response:
    """The version's rows as Parquet, streamed (``columns`` picks some)."""
    found = datasets.get_by_id(version_id)
    if columns is None:
        local = datasets.files.local_path(found.storage_key)
        if local is not None and local.is_file():
            return FileResponse(local, media_type=PARQUET, filename=f"{found.version}.parquet")
    table = datasets.load(found, "arrow", columns)
    spool = _write_parquet(table)
    return FileResponse(
        spool,
        media_type=PARQUET,
        background=BackgroundTask(Path(spool).unlink, missing_ok=True),
    )


def _write_parquet(table: Any) -> str:
    handle, spool = tempfile.mkstemp(prefix="mlcycle-download-", suffix=".parquet")
    os.close(handle)
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    pq.write_table(table, spool)
    return spool


@router.get(
    "/versions/{version_id}/validations", responses=returns({"validations": [ValidationRecord]})
)
def validations(version_id: str, datasets: Datasets) -> Response:
    """Every validation report kept with the version."""
    found = datasets.validations(datasets.get_by_id(version_id))
    return OrjsonResponse({"validations": to_json(found)})


@router.post("/versions/{version_id}/validate", responses=returns(ValidationReport))
def validate(version_id: str, body: ValidateIn, datasets: Datasets) -> Response:
    """Check the rules on the stored rows (the report is kept with ``record``)."""
    found = datasets.get_by_id(version_id)
    with _rules_file(body.rules) as path:
        assert path is not None
        return _json(datasets.validate(found, path, record=body.record))


@router.post(
    "/versions/{version_id}/split",
    status_code=201,
    responses=returns(dict[str, DatasetVersion], 201),
)
def split(version_id: str, body: SplitIn, datasets: Datasets) -> Response:
    """Split into ``<name>-train``/``-test`` (and ``-validation``) versions, reproducibly."""
    found = datasets.get_by_id(version_id)
    parts = datasets.split(
        found,
        test=body.test,
        validation=body.validation,
        stratify=body.stratify,
        group=body.group,
        time=body.time,
        seed=body.seed,
        name=body.name,
    )
    return OrjsonResponse(to_json(parts), status_code=201)


@router.post(
    "/versions/{version_id}/clean", status_code=201, responses=returns(DatasetVersion, 201)
)
def clean(version_id: str, body: CleanIn, datasets: Datasets) -> Response:
    """Apply a cleaning of :mod:`mlcycle.datasets.cleaning`, storing a new version."""
    found = datasets.get_by_id(version_id)
    made = datasets.clean(
        found, body.how, name=body.name, description=body.description, **body.options
    )
    return _json(made, 201)


@router.get("/versions/{version_id}/children", responses=returns({"children": [Lineage]}))
def children(version_id: str, datasets: Datasets) -> Response:
    """Versions made from this one."""
    return OrjsonResponse({"children": to_json(datasets.children(datasets.get_by_id(version_id)))})


# -- lifecycle, tags, run inputs -------------------------------------------------------------------


@router.post("/delete", status_code=204)
def delete(body: NameVersionIn, datasets: Datasets) -> Response:
    """Soft-delete a version, or the whole dataset without ``version``."""
    datasets.delete(body.name, body.version)
    return Response(status_code=204)


@router.post("/restore", status_code=204)
def restore(body: NameVersionIn, datasets: Datasets) -> Response:
    datasets.restore(body.name, body.version)
    return Response(status_code=204)


@router.post("/versions/{version_id}/tags", status_code=204)
def set_tags(version_id: str, body: TagsIn, datasets: Datasets) -> Response:
    datasets.set_tags(datasets.get_by_id(version_id), body.tags)
    return Response(status_code=204)


@router.delete("/versions/{version_id}/tags/{key:path}", status_code=204)
def delete_tag(version_id: str, key: str, datasets: Datasets) -> Response:
    datasets.delete_tag(datasets.get_by_id(version_id), key)
    return Response(status_code=204)


@router.post("/versions/{version_id}/inputs", status_code=201, responses=returns(RunInput, 201))
def log_input(version_id: str, body: InputIn, datasets: Datasets) -> Response:
    """Record that a run used this version (``context``: train, test, ...)."""
    found = datasets.get_by_id(version_id)
    return _json(datasets.log_input(body.run_id, found, body.context), 201)


@router.get("/versions/{version_id}/runs", responses=returns({"inputs": [RunInput]}))
def runs_of(version_id: str, datasets: Datasets) -> Response:
    """The runs that used this version."""
    return OrjsonResponse({"inputs": to_json(datasets.runs_of(datasets.get_by_id(version_id)))})


@router.get("/inputs", responses=returns({"inputs": [RunInput]}))
def inputs_of(datasets: Datasets, run_id: Annotated[str, Query(max_length=1000)]) -> Response:
    """The dataset versions a run used."""
    return OrjsonResponse({"inputs": to_json(datasets.inputs_of(run_id))})
