"""``/api/v1/experiments``: create, read, rename, tag, delete and restore experiments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from mlcycle.entities import Problem
from mlcycle.server import encode
from mlcycle.server.deps import Service
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.schemas import (
    ExperimentCreate,
    ExperimentList,
    ExperimentName,
    ExperimentOut,
    ExperimentUpdate,
    Name,
    ProblemIn,
    TagsIn,
)
from mlcycle.tracking.service import make_problem

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"], responses=ERROR_RESPONSES)


def _problem(body: ProblemIn | None) -> Problem | None:
    return None if body is None else make_problem(**body.model_dump())


@router.post("", status_code=201, response_model=ExperimentOut)
def create_experiment(body: ExperimentCreate, service: Service) -> Response:
    """Create an experiment with its problem definition (409 when the name is taken)."""
    created = service.create_experiment(
        body.name, problem=_problem(body.problem), description=body.description, tags=body.tags
    )
    return OrjsonResponse(encode.experiment(created), status_code=201)


@router.get("", response_model=ExperimentList)
def list_experiments(
    service: Service,
    include_deleted: bool = False,
    name: Annotated[Name | None, Query(description="only the experiment of this name")] = None,
) -> Response:
    """Every active experiment (and the deleted ones with ``include_deleted=true``); with
    ``name``, the experiment of that name, active or deleted, if there is one."""
    if name is not None:
        found = service.find_experiment(name)
        listed = [] if found is None else [found]
    else:
        listed = service.list_experiments(include_deleted=include_deleted)
    return OrjsonResponse({"experiments": [encode.experiment(e) for e in listed]})


@router.post("/get-or-create", response_model=ExperimentOut)
def get_or_create_experiment(body: ExperimentName, service: Service) -> Response:
    """The active experiment called ``name``, created when missing."""
    return OrjsonResponse(encode.experiment(service.get_or_create_experiment(body.name)))


@router.get("/{experiment_id}", response_model=ExperimentOut)
def get_experiment(experiment_id: str, service: Service) -> Response:
    return OrjsonResponse(encode.experiment(service.get_experiment(experiment_id)))


@router.patch("/{experiment_id}", response_model=ExperimentOut)
def update_experiment(experiment_id: str, body: ExperimentUpdate, service: Service) -> Response:
    """Rename an experiment or change its description or problem."""
    updated = service.update_experiment(
        experiment_id,
        name=body.name,
        description=body.description,
        problem=_problem(body.problem),
    )
    return OrjsonResponse(encode.experiment(updated))


@router.post("/{experiment_id}/tags", status_code=204)
def set_experiment_tags(experiment_id: str, body: TagsIn, service: Service) -> Response:
    """Add or replace tags of an experiment."""
    if not body.tags:
        service.get_experiment(experiment_id)  # an unknown ID is still a 404
    service.set_experiment_tags(experiment_id, body.tags)
    return Response(status_code=204)


@router.delete("/{experiment_id}", response_model=ExperimentOut)
def delete_experiment(experiment_id: str, service: Service) -> Response:
    """Soft-delete: hidden until restored or removed by garbage collection."""
    return OrjsonResponse(encode.experiment(service.delete_experiment(experiment_id)))


@router.post("/{experiment_id}/restore", response_model=ExperimentOut)
def restore_experiment(experiment_id: str, service: Service) -> Response:
    return OrjsonResponse(encode.experiment(service.restore_experiment(experiment_id)))
