"""``runs/search``: MLflow's run search, compiled to one SQL query by mlcycle's search.

MLflow's filter syntax is a subset of mlcycle's search language and means the same
(``metrics.<k>`` is the latest value, strings compare as text, a run lacking a field never
matches a comparison); ``order_by`` items such as ``metrics.rmse DESC`` sort runs lacking
the field last, then by run ID; the default order is the newest run first. Page tokens are
mlcycle's keyset tokens.
"""

from __future__ import annotations

import re
from typing import Any

from mlcycle.entities import LifecycleStage
from mlcycle.search import parse_filter, parse_order_by
from mlcycle.server.mlflow import wire
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.protocol import MlflowError, Params
from mlcycle.server.mlflow.routing import Endpoints

endpoints = Endpoints()
route = endpoints.route

VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
_STAGES = {
    "ACTIVE_ONLY": (LifecycleStage.ACTIVE,),
    "DELETED_ONLY": (LifecycleStage.DELETED,),
    "ALL": (LifecycleStage.ACTIVE, LifecycleStage.DELETED),
}
MAX_RESULTS = 50_000
#: MLflow's run attribute ``user_id`` is the ``mlflow.user`` tag here.
_USER = re.compile(r"\b(?:attributes|attribute|attr|run)\.user_id\b", re.IGNORECASE)
_DATASETS = re.compile(r"\bdatasets?\.", re.IGNORECASE)


def _mlflow_filter(text: str | None) -> str | None:
    if not text:
        return text
    if _DATASETS.search(text):
        raise MlflowError(
            "Invalid filter: filtering runs on datasets.* is not supported by this server"
        )
    return _USER.sub("tags.`mlflow.user`", text)


@route("/runs/search", "POST")
def search_runs(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    max_results = p.integer("max_results", default=1000) or 1000
    if not 1 <= max_results <= MAX_RESULTS:
        raise MlflowError(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {MAX_RESULTS}, but got value {max_results}"
        )
    view = p.enum("run_view_type", VIEW_TYPES, default="ACTIVE_ONLY") or "ACTIVE_ONLY"
    experiment_ids = [ctx.experiment_id(e) for e in p.strs("experiment_ids")]
    page = ctx.tracking.store.search_runs(
        experiment_ids,
        parse_filter(_mlflow_filter(p.text("filter"))),
        parse_order_by([_USER.sub("tags.`mlflow.user`", o) for o in p.strs("order_by")]),
        max_results,
        p.text("page_token") or None,
        _STAGES[view],
    )
    ids = [r.id for r in page.runs]
    latest = ctx.records.latest_metrics(ids)
    datasets = ctx.records.run_datasets(ids)
    models = ctx.records.run_models(ids)
    body: dict[str, Any] = {
        "runs": [
            wire.run(r, latest.get(r.id, []), datasets.get(r.id, ()), models.get(r.id))
            for r in page.runs
        ]
    }
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return body
