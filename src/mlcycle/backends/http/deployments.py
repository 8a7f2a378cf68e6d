"""``HttpDeployments``: deployments through a tracking server's ``/api/v1/deployments``."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mlcycle.backends.http._wire import entity, get_json, listed, params, seg, send_json
from mlcycle.deployments.feedback_items import parse_feedback
from mlcycle.deployments.validation import check_name
from mlcycle.entities import (
    ArmStats,
    Deployment,
    DeploymentEvent,
    DeploymentState,
    Feedback,
    FeedbackResult,
    ServingOptions,
)
from mlcycle.entities.codec import to_json
from mlcycle.errors import InvalidInputError
from mlcycle.remote.http import HttpSession

_D = "/api/v1/deployments"


def _one(name: str) -> str:
    return f"{_D}/{seg(name)}"


class HttpDeployments:
    """The deployment service's public methods (see
    :class:`~mlcycle.deployments.service.DeploymentService`) over HTTP.

    >>> deployments = HttpDeployments(HttpSession("http://127.0.0.1:5000"))
    >>> deployments.canary("churn-api", "models:/churn/4", steps=[10, 50, 100])  # doctest: +SKIP
    """

    def __init__(self, http: HttpSession) -> None:
        self.http = http

    def get(self, name: str) -> Deployment:
        return entity(Deployment, get_json(self.http, _one(name)))

    def list(self, *, include_deleted: bool = False) -> builtins.list[Deployment]:
        query = params(include_deleted=include_deleted)
        return listed(Deployment, self.http, _D, "deployments", query)

    list_deployments = list

    def history(self, name: str) -> builtins.list[DeploymentEvent]:
        return listed(DeploymentEvent, self.http, f"{_one(name)}/history", "events")

    def status(self, name: str) -> DeploymentState:
        return entity(DeploymentState, get_json(self.http, f"{_one(name)}/status"))

    def create(
        self,
        name: str,
        model_uri: str,
        *,
        options: ServingOptions | None = None,
        description: str | None = None,
    ) -> Deployment:
        name = check_name(name)  # the local check: a name with '/' has no route
        body = {
            "name": name,
            "model_uri": model_uri,
            "options": None if options is None else to_json(options),
            "description": description,
        }
        return entity(Deployment, send_json(self.http, "POST", _D, body))

    def delete(self, name: str, *, reason: str | None = None) -> Deployment:
        done = self.http.request("DELETE", _one(name), params=params(reason=reason))
        return entity(Deployment, done.json())

    def split(
        self, name: str, targets: Sequence[tuple[str, float]], *, reason: str | None = None
    ) -> Deployment:
        pairs = [builtins.list(t) if isinstance(t, tuple | builtins.list) else t for t in targets]
        body = {"targets": pairs, "reason": reason}
        return entity(Deployment, send_json(self.http, "POST", f"{_one(name)}/split", body))

    def canary(
        self,
        name: str,
        candidate: str,
        *,
        steps: Sequence[int] = (5, 25, 50, 100),
        interval_s: float = 600.0,
        max_error_rate: float | None = None,
        max_p99_ms: float | None = None,
        min_accuracy: float | None = None,
        reason: str | None = None,
    ) -> Deployment:
        body = {
            "candidate": candidate,
            "steps": builtins.list(steps),
            "interval_s": interval_s,
            "max_error_rate": max_error_rate,
            "max_p99_ms": max_p99_ms,
            "min_accuracy": min_accuracy,
            "reason": reason,
        }
        return entity(Deployment, send_json(self.http, "POST", f"{_one(name)}/canary", body))

    def shadow(
        self, name: str, candidate: str, *, percent: float = 100.0, reason: str | None = None
    ) -> Deployment:
        body = {"candidate": candidate, "percent": percent, "reason": reason}
        return entity(Deployment, send_json(self.http, "POST", f"{_one(name)}/shadow", body))

    def rollback(self, name: str, *, reason: str | None = None) -> Deployment:
        done = send_json(self.http, "POST", f"{_one(name)}/rollback", {"reason": reason})
        return entity(Deployment, done)

    def canary_tick(
        self,
        name: str,
        stats: Mapping[str, ArmStats],
        now_ms: int | None = None,
        expected_revision: int | None = None,
    ) -> DeploymentEvent | None:
        body = {
            "stats": {arm: to_json(s) for arm, s in stats.items()},
            "now_ms": now_ms,
            "expected_revision": expected_revision,
        }
        found = send_json(self.http, "POST", f"{_one(name)}/canary-tick", body)["event"]
        return None if found is None else entity(DeploymentEvent, found)

    def record_feedback(
        self,
        deployment: str,
        items: Iterable[Any],
        known: Callable[[str], bool] | None = None,
    ) -> FeedbackResult:
        if known is not None:
            raise InvalidInputError(
                "known= is a Python function and runs in-process only; the server stores "
                "every label it is given",
                field="known",
            )
        # The local checks first: a label that is no JSON value cannot travel at all.
        parsed, _ = parse_feedback(deployment, items, None, at=0)
        body = {"items": [[f.request_id, f.label] for f in parsed]}
        done = send_json(self.http, "POST", f"{_one(deployment)}/feedback", body)
        return entity(FeedbackResult, done)

    def feedback_for(
        self, deployment: str, since: int | None = None, until: int | None = None
    ) -> builtins.list[Feedback]:
        query = params(since=since, until=until)
        return listed(Feedback, self.http, f"{_one(deployment)}/feedback", "feedback", query)
