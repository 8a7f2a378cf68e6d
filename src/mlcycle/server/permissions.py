"""The one permission table: what each route of the server needs, by method and path
template.

With auth on, :class:`mlcycle.server.auth.AuthMiddleware` looks every request's route up
here. A route missing from the table is refused (403) and logged, and a test walks every
route of the app with every role, so a new route cannot slip through unlisted.

Requirements name a :class:`~mlcycle.entities.governance.Permission` and, for routes about
one experiment or registered model, where its identity is found, so a grant on that one
object can allow what the user's global role does not:

- ``experiment_id``: the path parameter is the experiment's ID
- ``run_id``: the path parameter is a run; its experiment is looked up
- ``body:experiment_id``: the JSON body's ``experiment_id``
- ``name``: the path parameter is the registered model's name

The MLflow-compatible API (``/api/2.0/mlflow/...``) is covered by a rule instead of one row
per route: reads (GET, and POSTs to ``.../search``, ``.../get``...) need READ, deleting or
restoring experiments MANAGE, everything else WRITE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlcycle.entities.governance import Permission, ResourceKind


@dataclass(frozen=True)
class Requirement:
    """What a route needs: ``permission``, optionally on the object found ``via``."""

    permission: Permission
    kind: ResourceKind | None = None
    via: str | None = None

    def describe(self) -> str:
        where = f" on the {self.kind.value}" if self.kind is not None else ""
        return f"{self.permission.value} permission{where}"


PUBLIC = Requirement(Permission.PUBLIC)
READ = Requirement(Permission.READ)
WRITE = Requirement(Permission.WRITE)
APPROVE = Requirement(Permission.APPROVE)
ADMIN = Requirement(Permission.ADMIN)


def _exp(permission: Permission, via: str = "experiment_id") -> Requirement:
    return Requirement(permission, ResourceKind.EXPERIMENT, via)


def _run(permission: Permission) -> Requirement:
    return Requirement(permission, ResourceKind.EXPERIMENT, "run_id")


def _model(permission: Permission) -> Requirement:
    return Requirement(permission, ResourceKind.MODEL, "name")


R, W, M = Permission.READ, Permission.WRITE, Permission.MANAGE
_E = "/api/v1/experiments"
_R = "/api/v1/runs"
_G = "/api/v1/governance"
_M = "/api/v1/models"
_D = "/api/v1/deployments"
_MO = "/api/v1/monitors"
_DS = "/api/v1/datasets"
_DV = f"{_DS}/versions/{{version_id}}"
_AL = "/api/v1/alerts"
MANAGE = Requirement(Permission.MANAGE)
_MV = f"{_M}/{{name}}/versions/{{version}}"

#: (method, path template) -> requirement. HEAD is looked up as GET.
ROUTES: dict[tuple[str, str], Requirement] = {
    # operations
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("GET", "/metrics"): READ,
    ("POST", "/api/v1/gc"): ADMIN,
    ("GET", "/openapi.json"): READ,
    ("GET", "/docs"): READ,
    ("GET", "/docs/oauth2-redirect"): READ,
    # experiments
    ("POST", _E): WRITE,
    ("GET", _E): READ,
    ("POST", f"{_E}/get-or-create"): WRITE,
    ("GET", f"{_E}/{{experiment_id}}"): _exp(R),
    ("PATCH", f"{_E}/{{experiment_id}}"): _exp(W),
    ("POST", f"{_E}/{{experiment_id}}/tags"): _exp(W),
    ("DELETE", f"{_E}/{{experiment_id}}"): _exp(M),
    ("POST", f"{_E}/{{experiment_id}}/restore"): _exp(M),
    # runs, metrics, artifacts
    ("POST", _R): _exp(W, "body:experiment_id"),
    ("POST", f"{_R}/search"): READ,
    ("POST", f"{_R}/compare"): READ,
    ("POST", f"{_R}/delete"): WRITE,
    ("POST", f"{_R}/restore"): WRITE,
    ("GET", f"{_R}/{{run_id}}"): _run(R),
    ("PATCH", f"{_R}/{{run_id}}"): _run(W),
    ("POST", f"{_R}/{{run_id}}/end"): _run(W),
    ("POST", f"{_R}/{{run_id}}/params"): _run(W),
    ("POST", f"{_R}/{{run_id}}/tags"): _run(W),
    ("DELETE", f"{_R}/{{run_id}}/tags/{{key:path}}"): _run(W),
    ("GET", f"{_R}/{{run_id}}/children"): _run(R),
    ("POST", f"{_R}/{{run_id}}/metrics/batches"): _run(W),
    ("POST", f"{_R}/{{run_id}}/metrics"): _run(W),
    ("GET", f"{_R}/{{run_id}}/metrics/history"): _run(R),
    ("PUT", f"{_R}/{{run_id}}/artifacts/{{path:path}}"): _run(W),
    ("POST", f"{_R}/{{run_id}}/artifacts-direct"): _run(W),
    ("POST", f"{_R}/{{run_id}}/artifacts-direct/commit"): _run(W),
    ("GET", f"{_R}/{{run_id}}/artifacts"): _run(R),
    ("GET", f"{_R}/{{run_id}}/artifacts/{{path:path}}"): _run(R),
    # governance
    ("GET", f"{_G}/whoami"): READ,
    ("GET", f"{_G}/users"): ADMIN,
    ("POST", f"{_G}/users"): ADMIN,
    ("PATCH", f"{_G}/users/{{name}}"): ADMIN,
    ("GET", f"{_G}/tokens"): ADMIN,
    ("POST", f"{_G}/tokens"): ADMIN,
    ("POST", f"{_G}/tokens/{{token_id}}/revoke"): ADMIN,
    ("GET", f"{_G}/grants"): ADMIN,
    ("POST", f"{_G}/grants"): ADMIN,
    ("POST", f"{_G}/grants/delete"): ADMIN,
    ("GET", f"{_G}/protections"): READ,
    ("POST", f"{_G}/protections"): ADMIN,
    ("GET", f"{_G}/approvals"): READ,
    ("POST", f"{_G}/approvals"): WRITE,
    ("GET", f"{_G}/approvals/{{approval_id}}"): READ,
    ("POST", f"{_G}/approvals/{{approval_id}}/approve"): APPROVE,
    ("POST", f"{_G}/approvals/{{approval_id}}/reject"): WRITE,
    ("GET", f"{_G}/audit"): READ,
    ("GET", f"{_G}/audit/verify"): READ,
    ("GET", f"{_G}/audit/export"): READ,
    ("POST", f"{_G}/models/{{name}}/versions/{{version}}/retire"): _model(M),
    ("POST", f"{_G}/models/{{name}}/versions/{{version}}/legal-hold"): ADMIN,
    ("GET", f"{_G}/models/{{name}}/versions/{{version}}/card"): _model(R),
    ("PUT", f"{_G}/models/{{name}}/versions/{{version}}/card"): _model(W),
    ("GET", f"{_G}/models/{{name}}/versions/{{version}}/bundle"): _model(R),
    ("POST", f"{_G}/retention"): ADMIN,
    # registry
    ("POST", _M): WRITE,
    ("GET", _M): READ,
    ("GET", f"{_M}/{{name}}"): _model(R),
    ("PATCH", f"{_M}/{{name}}"): _model(W),
    ("POST", f"{_M}/{{name}}/rename"): _model(M),
    ("DELETE", f"{_M}/{{name}}"): _model(M),
    ("DELETE", f"{_M}/{{name}}/tags/{{key:path}}"): _model(W),
    ("POST", f"{_M}/{{name}}/versions"): _model(W),
    ("GET", f"{_M}/{{name}}/versions"): _model(R),
    ("GET", f"{_M}/{{name}}/resolve"): _model(R),
    ("GET", _MV): _model(R),
    ("PATCH", _MV): _model(W),
    ("DELETE", _MV): _model(M),
    ("DELETE", f"{_MV}/tags/{{key:path}}"): _model(W),
    ("PUT", f"{_M}/{{name}}/aliases/{{alias}}"): _model(W),
    ("DELETE", f"{_M}/{{name}}/aliases/{{alias}}"): _model(W),
    ("POST", f"{_MV}/promote"): _model(W),
    ("POST", f"{_MV}/check-gates"): _model(W),
    ("GET", f"{_MV}/gates"): _model(R),
    ("GET", f"{_M}/{{name}}/lineage"): _model(R),
    ("GET", f"{_M}/{{name}}/compare"): _model(R),
    # deployments
    ("POST", _D): WRITE,
    ("GET", _D): READ,
    ("GET", f"{_D}/{{name}}"): READ,
    ("GET", f"{_D}/{{name}}/status"): READ,
    ("GET", f"{_D}/{{name}}/history"): READ,
    ("DELETE", f"{_D}/{{name}}"): MANAGE,
    ("POST", f"{_D}/{{name}}/split"): WRITE,
    ("POST", f"{_D}/{{name}}/canary"): WRITE,
    ("POST", f"{_D}/{{name}}/shadow"): WRITE,
    ("POST", f"{_D}/{{name}}/rollback"): WRITE,
    ("POST", f"{_D}/{{name}}/canary-tick"): WRITE,
    ("POST", f"{_D}/{{name}}/feedback"): WRITE,
    ("GET", f"{_D}/{{name}}/feedback"): READ,
    ("PUT", f"{_D}/{{name}}/prediction-log/{{hour}}/{{part}}"): WRITE,
    ("GET", f"{_D}/{{name}}/prediction-log"): READ,
    ("GET", f"{_D}/{{name}}/prediction-log/info"): READ,
    ("POST", f"{_D}/{{name}}/prediction-log/find-requests"): READ,
    # monitoring
    ("POST", _MO): WRITE,
    ("GET", _MO): READ,
    ("POST", f"{_MO}/run-due"): WRITE,
    ("POST", f"{_MO}/run-all"): WRITE,
    ("GET", f"{_MO}/{{name}}"): READ,
    ("DELETE", f"{_MO}/{{name}}"): MANAGE,
    ("PUT", f"{_MO}/{{name}}/schedule"): WRITE,
    ("POST", f"{_MO}/{{name}}/run"): WRITE,
    ("POST", f"{_MO}/{{name}}/retrain"): WRITE,
    ("GET", f"{_MO}/{{name}}/results"): READ,
    ("GET", f"{_MO}/{{name}}/retrains"): READ,
    ("GET", f"{_MO}/{{name}}/report"): READ,
    ("POST", f"{_MO}/{{name}}/rules"): WRITE,
    ("GET", f"{_MO}/{{name}}/rules"): READ,
    ("DELETE", f"{_MO}/{{name}}/rules/{{rule}}"): WRITE,
    ("GET", _AL): READ,
    ("GET", f"{_AL}/{{alert_id}}"): READ,
    ("POST", f"{_AL}/{{alert_id}}/ack"): WRITE,
    # datasets
    ("POST", f"{_DS}/versions"): WRITE,
    ("GET", _DS): READ,
    ("GET", f"{_DS}/versions"): READ,
    ("GET", f"{_DS}/version"): READ,
    ("GET", _DV): READ,
    ("GET", f"{_DV}/data"): READ,
    ("GET", f"{_DV}/validations"): READ,
    ("POST", f"{_DV}/validate"): WRITE,
    ("POST", f"{_DV}/split"): WRITE,
    ("POST", f"{_DV}/clean"): WRITE,
    ("GET", f"{_DV}/children"): READ,
    ("POST", f"{_DS}/delete"): MANAGE,
    ("POST", f"{_DS}/restore"): MANAGE,
    ("POST", f"{_DV}/tags"): WRITE,
    ("DELETE", f"{_DV}/tags/{{key:path}}"): WRITE,
    ("POST", f"{_DV}/inputs"): WRITE,
    ("GET", f"{_DV}/runs"): READ,
    ("GET", f"{_DS}/inputs"): READ,
    # the web UI (mlcycle.server.ui): pages read; actions need what their API routes need
    ("GET", "/"): READ,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): READ,
    ("GET", "/ui/static/{path:path}"): PUBLIC,
    ("GET", "/experiments"): READ,
    ("GET", "/experiments/{experiment_id}"): _exp(R),
    ("GET", "/runs/{run_id}"): _run(R),
    ("GET", "/runs/{run_id}/artifacts"): _run(R),
    ("GET", "/runs/{run_id}/artifact-file"): _run(R),
    ("GET", "/ui/api/runs/{run_id}/metric-buckets"): _run(R),
    ("GET", "/compare"): READ,
    ("GET", "/models"): READ,
    ("GET", "/models/{name}"): _model(R),
    ("GET", "/models/{name}/versions/{version}"): _model(R),
    ("POST", "/models/{name}/versions/{version}/approvals"): WRITE,
    ("POST", "/approvals/{approval_id}/approve"): APPROVE,
    ("POST", "/approvals/{approval_id}/reject"): WRITE,
    ("POST", "/models/{name}/versions/{version}/retire"): _model(M),
    ("GET", "/audit"): READ,
    ("GET", "/datasets"): READ,
    ("GET", "/datasets/{name}"): READ,
    ("GET", "/datasets/{name}/versions/{version}"): READ,
    ("GET", "/datasets/{name}/diff"): READ,
    ("GET", "/deployments"): READ,
    ("GET", "/deployments/{name}"): READ,
    ("GET", "/monitors"): READ,
    ("GET", "/monitors/{name}"): READ,
    ("GET", "/monitors/{name}/report"): READ,
    ("GET", "/alerts"): READ,
    ("POST", "/alerts/{alert_id}/ack"): WRITE,
    # MLflow's UI endpoints outside its REST prefixes: reads (GraphQL has no mutation but
    # MLflow's test one), at the global read level since the run is in the query string
    ("GET", "/graphql"): READ,
    ("POST", "/graphql"): READ,
    ("GET", "/ajax-api/graphql"): READ,
    ("POST", "/ajax-api/graphql"): READ,
    ("GET", "/get-artifact"): READ,
    ("GET", "/model-versions/get-artifact"): READ,
}

#: Path prefixes of the MLflow-compatible API, covered by :func:`mlflow_requirement`.
MLFLOW_PREFIXES = (
    "/api/2.0/mlflow/",
    "/ajax-api/2.0/mlflow/",
    "/api/2.0/mlflow-artifacts/",
    "/ajax-api/2.0/mlflow-artifacts/",
    "/api/2.0/preview/mlflow/",
    "/ajax-api/2.0/preview/mlflow/",
    "/api/3.0/mlflow/",
    "/ajax-api/3.0/mlflow/",
)
_MLFLOW_READS = frozenset(
    {
        "search",
        "get",
        "get-by-name",
        "list",
        "get-history",
        "get-history-bulk",
        "get-history-bulk-interval",
        "get-download-uri",
        "get-latest-versions",
        "get-by-alias",
        "search-datasets",
        "get-artifact",
        "list-artifacts",
    }
)


def mlflow_requirement(method: str, template: str) -> Requirement:
    """The rule for MLflow-compatible routes (see the module docstring)."""
    if method in ("GET", "HEAD"):
        return READ
    last = template.rstrip("/").rsplit("/", 1)[-1]
    if last in _MLFLOW_READS:
        return READ
    if "/experiments/" in template and last in ("delete", "restore"):
        return Requirement(Permission.MANAGE)
    return WRITE


def requirement_for(method: str, template: str) -> Requirement | None:
    """What ``method`` on the route ``template`` needs; None when the table lacks it."""
    key = ("GET" if method == "HEAD" else method, template)
    found = ROUTES.get(key)
    if found is not None:
        return found
    if template.startswith(MLFLOW_PREFIXES):
        return mlflow_requirement(method, template)
    return None


RequirementLookup = Callable[[str, str], Requirement | None]
