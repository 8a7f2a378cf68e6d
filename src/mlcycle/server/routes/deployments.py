"""``/api/v1/deployments``: create, list, status, history, traffic splits, canary and
shadow rollouts, rollback, delete, the canary controller's tick and ground-truth
feedback, over the server's deployment service (every change audited).

Answers are entities in the one codec's shape; listings page with ``page_token`` and
``max_results``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from mlcycle.entities import (
    ArmStats,
    Deployment,
    DeploymentEvent,
    DeploymentState,
    Feedback,
    FeedbackResult,
    ServingOptions,
)
from mlcycle.entities.codec import from_json, to_json
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.paging import DEFAULT_MAX_RESULTS, MaxResults, PageToken, page
from mlcycle.server.responses import listing, returns
from mlcycle.server.services import Deployments

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"], responses=ERROR_RESPONSES)

Text = Annotated[str, Field(max_length=100_000)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
MAX_MS = 2**62
Ms = Annotated[int | None, Query(ge=0, le=MAX_MS, description="ms since the epoch")]


class DeploymentIn(BaseModel):
    name: Text
    model_uri: Text
    options: dict[str, Any] | None = None
    description: Text | None = None


class ReasonIn(BaseModel):
    reason: Text | None = None


class SplitIn(BaseModel):
    """``targets``: ``[model URI, weight]`` pairs (checked by the service, which names
    the rule a pair breaks)."""

    targets: list[Any]
    reason: Text | None = None


class CanaryIn(BaseModel):
    candidate: Text
    steps: list[Any] = [5, 25, 50, 100]
    interval_s: Finite = 600.0
    max_error_rate: Finite | None = None
    max_p99_ms: Finite | None = None
    min_accuracy: Finite | None = None
    reason: Text | None = None


class ShadowIn(BaseModel):
    candidate: Text
    percent: Finite = 100.0
    reason: Text | None = None


class TickIn(BaseModel):
    stats: dict[str, dict[str, Any]]
    now_ms: Annotated[int | None, Field(ge=0, le=MAX_MS)] = None
    expected_revision: Annotated[int | None, Field(ge=0, le=2**62)] = None


class FeedbackIn(BaseModel):
    items: list[Any]


def _json(value: Any, status_code: int = 200) -> Response:
    return OrjsonResponse(to_json(value), status_code=status_code)


@router.post("", status_code=201, responses=returns(Deployment, 201))
def create_deployment(body: DeploymentIn, deployments: Deployments) -> Response:
    """Create a deployment serving ``model_uri`` (the model must exist and load)."""
    options = None if body.options is None else from_json(ServingOptions, body.options)
    created = deployments.create(
        body.name, body.model_uri, options=options, description=body.description
    )
    return _json(created, 201)


@router.get("", responses=returns(listing("deployments", Deployment)))
def list_deployments(
    deployments: Deployments,
    include_deleted: bool = False,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Active deployments by name (deleted ones too with ``include_deleted``)."""
    found = deployments.list(include_deleted=include_deleted)
    chosen, token = page(found, key=lambda d: d.name, token=page_token, limit=max_results)
    return OrjsonResponse({"deployments": to_json(chosen), "next_page_token": token})


@router.get("/{name}", responses=returns(Deployment))
def get_deployment(name: str, deployments: Deployments) -> Response:
    return _json(deployments.get(name))


@router.get("/{name}/status", responses=returns(DeploymentState))
def deployment_status(name: str, deployments: Deployments) -> Response:
    """Each arm resolved to the model version it serves now, and the canary's progress."""
    return _json(deployments.status(name))


@router.get("/{name}/history", responses=returns(listing("events", DeploymentEvent)))
def deployment_history(
    name: str,
    deployments: Deployments,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Every change, oldest first (kept after a delete)."""
    found = deployments.history(name)
    chosen, token = page(found, key=lambda e: e.revision, token=page_token, limit=max_results)
    return OrjsonResponse({"events": to_json(chosen), "next_page_token": token})


@router.delete("/{name}", responses=returns(Deployment))
def delete_deployment(
    name: str,
    deployments: Deployments,
    reason: Annotated[str | None, Query(max_length=10_000)] = None,
) -> Response:
    """Mark the deployment deleted (its history is kept); answers the deleted deployment."""
    return _json(deployments.delete(name, reason=reason))


@router.post("/{name}/split", responses=returns(Deployment))
def split(name: str, body: SplitIn, deployments: Deployments) -> Response:
    """Split traffic between models by weight (percentages adding up to 100)."""
    targets = [tuple(t) if isinstance(t, list) else t for t in body.targets]
    return _json(deployments.split(name, targets, reason=body.reason))


@router.post("/{name}/canary", responses=returns(Deployment))
def canary(name: str, body: CanaryIn, deployments: Deployments) -> Response:
    """Start a canary rollout of ``candidate`` through ``steps`` percent."""
    started = deployments.canary(
        name,
        body.candidate,
        steps=body.steps,
        interval_s=body.interval_s,
        max_error_rate=body.max_error_rate,
        max_p99_ms=body.max_p99_ms,
        min_accuracy=body.min_accuracy,
        reason=body.reason,
    )
    return _json(started)


@router.post("/{name}/shadow", responses=returns(Deployment))
def shadow(name: str, body: ShadowIn, deployments: Deployments) -> Response:
    """Mirror ``percent`` of requests to ``candidate`` (answers are logged, not returned)."""
    return _json(deployments.shadow(name, body.candidate, percent=body.percent, reason=body.reason))


@router.post("/{name}/rollback", responses=returns(Deployment))
def rollback(name: str, body: ReasonIn, deployments: Deployments) -> Response:
    """Undo the last traffic change (or stop a canary or shadow)."""
    return _json(deployments.rollback(name, reason=body.reason))


@router.post("/{name}/canary-tick", responses=returns({"event": DeploymentEvent | None}))
def canary_tick(name: str, body: TickIn, deployments: Deployments) -> Response:
    """One step of the canary controller with the serving arms' stats; the event it
    wrote (or null when nothing changed)."""
    stats = {arm: from_json(ArmStats, s) for arm, s in body.stats.items()}
    event = deployments.canary_tick(
        name, stats, now_ms=body.now_ms, expected_revision=body.expected_revision
    )
    return OrjsonResponse({"event": None if event is None else to_json(event)})


@router.post("/{name}/feedback", responses=returns(FeedbackResult))
def record_feedback(name: str, body: FeedbackIn, deployments: Deployments) -> Response:
    """Store ground-truth labels: ``[request_id, label]`` pairs or objects."""
    items = [tuple(i) if isinstance(i, list) else i for i in body.items]
    return _json(deployments.record_feedback(name, items))


@router.get("/{name}/feedback", responses=returns(listing("feedback", Feedback)))
def feedback(
    name: str,
    deployments: Deployments,
    since: Ms = None,
    until: Ms = None,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Labels stored with ``since <= at < until``, oldest first."""
    found = deployments.feedback_for(name, since, until)
    chosen, token = page(
        found, key=lambda f: (f.at, f.request_id), token=page_token, limit=max_results
    )
    return OrjsonResponse({"feedback": to_json(chosen), "next_page_token": token})
