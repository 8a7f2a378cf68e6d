"""``/api/v1/runs``: runs, their params and tags, search, compare, delete and restore."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mlcycle.client.results import RunComparison
from mlcycle.server import encode
from mlcycle.server.deps import Service
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.schemas import (
    CompareIn,
    ComparisonOut,
    ParamsIn,
    RunCreate,
    RunEnd,
    RunIds,
    RunIdsOut,
    RunOut,
    RunPageOut,
    RunUpdate,
    SearchIn,
    TagsIn,
)

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], responses=ERROR_RESPONSES)

_NO_CONTENT = 204


@router.post("", status_code=201, response_model=RunOut)
def create_run(body: RunCreate, service: Service) -> Response:
    """Start a run (status RUNNING) in an active experiment."""
    created = service.create_run(
        body.experiment_id,
        name=body.name,
        tags=body.tags,
        parent_id=body.parent_id,
        description=body.description,
        start_time=body.start_time,
    )
    return OrjsonResponse(encode.run(created), status_code=201)


@router.post("/search", response_model=RunPageOut)
def search_runs(body: SearchIn, service: Service) -> Response:
    """Runs of the experiments matching ``filter`` (the search language of
    ``Client.search_runs``), in ``order_by`` order, one page at a time. ``experiments``
    names experiments by name or ID, so a client holding names needs no other request."""
    experiment_ids = [*body.experiment_ids]
    experiment_ids += [service.experiment_id(item) for item in body.experiments]
    page = service.search_runs(
        experiment_ids,
        body.filter,
        body.order_by or None,
        max_results=body.max_results,
        page_token=body.page_token,
        include_deleted=body.include_deleted,
    )
    return OrjsonResponse(
        {
            "runs": [encode.run(r) for r in page.runs],
            "next_page_token": page.next_page_token,
            "experiment_ids": experiment_ids,
        }
    )


@router.post("/compare", response_model=ComparisonOut)
def compare_runs(body: CompareIn, service: Service) -> Response:
    """Params and latest metrics of several runs side by side (those that differ apart)."""
    comparison = RunComparison.of([service.get_run(r) for r in body.run_ids])
    if body.all_keys:
        n = len(body.run_ids)
        for key, value in comparison.same_params.items():
            comparison.params[key] = [value] * n
        for key, metric in comparison.same_metrics.items():
            comparison.metrics[key] = [metric] * n
    return OrjsonResponse(encode.comparison(comparison))


@router.post("/delete", status_code=_NO_CONTENT)
def delete_runs(body: RunIds, service: Service) -> Response:
    """Soft-delete runs (404 when one is unknown; then none is deleted)."""
    service.delete_runs(body.run_ids)
    return Response(status_code=_NO_CONTENT)


@router.post("/restore", status_code=_NO_CONTENT)
def restore_runs(body: RunIds, service: Service) -> Response:
    service.restore_runs(body.run_ids)
    return Response(status_code=_NO_CONTENT)


@router.get("/{run_id}", response_model=RunOut)
def get_run(run_id: str, service: Service) -> Response:
    """A run with its params, latest metric values and tags."""
    return OrjsonResponse(encode.run(service.get_run(run_id)))


@router.patch("/{run_id}", status_code=_NO_CONTENT)
def update_run(run_id: str, body: RunUpdate, service: Service) -> Response:
    if body.name is None and body.description is None:
        service.get_run(run_id)  # nothing to change, but an unknown ID is still a 404
    service.update_run(run_id, name=body.name, description=body.description)
    return Response(status_code=_NO_CONTENT)


@router.post("/{run_id}/end", status_code=_NO_CONTENT)
def end_run(run_id: str, body: RunEnd, service: Service) -> Response:
    """Mark a run FINISHED, FAILED or KILLED."""
    service.end_run(run_id, body.status, error=body.error)
    return Response(status_code=_NO_CONTENT)


@router.post("/{run_id}/params", status_code=_NO_CONTENT)
def log_params(run_id: str, body: ParamsIn, service: Service) -> Response:
    """Log params; they are immutable, so a different value for a key is a 409."""
    if not body.params:
        service.get_run(run_id)
    service.log_params(run_id, body.params)
    return Response(status_code=_NO_CONTENT)


@router.post("/{run_id}/tags", status_code=_NO_CONTENT)
def set_tags(run_id: str, body: TagsIn, service: Service) -> Response:
    """Add or replace tags (also on ended runs)."""
    if not body.tags:
        service.get_run(run_id)
    service.set_tags(run_id, body.tags)
    return Response(status_code=_NO_CONTENT)


@router.delete("/{run_id}/tags/{key:path}", status_code=_NO_CONTENT)
def delete_tag(run_id: str, key: str, service: Service) -> Response:
    service.delete_tag(run_id, key)
    return Response(status_code=_NO_CONTENT)


@router.get("/{run_id}/children", response_model=RunIdsOut)
def child_runs(run_id: str, service: Service) -> Response:
    """IDs of the runs whose parent is this run."""
    service.get_run(run_id)
    return OrjsonResponse({"run_ids": service.child_run_ids(run_id)})
