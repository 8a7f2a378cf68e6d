"""Compare 2 to 20 runs from any experiments: params and metrics side by side (or only
where they differ), overlaid curves, and for sweeps a scatter and parallel coordinates."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from mlcycle.entities import Run
from mlcycle.errors import InvalidInputError
from mlcycle.server.ui import sweeps
from mlcycle.server.ui.deps import Services
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

MAX_RUNS = 20
MAX_CHARTS = 30


def run_ids(runs: str, run: list[str]) -> list[str]:
    ids: list[str] = []
    for item in [*runs.split(","), *run]:
        item = item.strip()
        if item and item not in ids:
            ids.append(item)
    if len(ids) > MAX_RUNS:
        raise InvalidInputError(f"compare at most {MAX_RUNS} runs, got {len(ids)}", field="runs")
    return ids


def rows_of(runs: list[Run], entity: str, diff: bool) -> list[tuple[str, list[object], bool]]:
    keys = sorted({k for r in runs for k in getattr(r, entity)})
    rows = []
    for key in keys:
        values: list[object] = [getattr(r, entity).get(key) for r in runs]
        differs = len({repr(v) for v in values}) > 1
        if differs or not diff:
            rows.append((key, values, differs))
    return rows


@router.get("/compare")
def compare(
    request: Request,
    ui: Services,
    runs: str = "",
    run: list[str] = Query(default=[]),
    diff: bool = False,
    metric: str = "",
) -> HTMLResponse:
    """The comparison of the runs in ``runs`` (comma-separated) and ``run`` (repeated)."""
    ids = run_ids(runs, run)
    found = [ui.tracking.get_run(i) for i in ids]
    experiments = {r.experiment_id: ui.tracking.get_experiment(r.experiment_id).name for r in found}
    metric_keys = sorted({k for r in found for k in r.metrics})
    chosen = metric if metric in metric_keys else (metric_keys[0] if metric_keys else "")
    params = sweeps.numeric_params(found)
    scatter = (
        [
            (
                p,
                sweeps.axis(p, [sweeps.as_number(r.params.get(p)) for r in found]),
                sweeps.axis(chosen, [r.metrics.get(chosen) for r in found]),
            )
            for p in params[:6]
        ]
        if chosen
        else []
    )
    return page(
        request,
        "compare.html",
        title="Compare runs",
        ids=ids,
        runs=found,
        experiments=experiments,
        diff=diff,
        params=rows_of(found, "params", diff),
        metrics=rows_of(found, "metrics", diff),
        metric_keys=metric_keys,
        chart_keys=metric_keys[:MAX_CHARTS],
        chosen=chosen,
        scatter=[s for s in scatter if s[1] is not None and s[2] is not None],
        parallel=sweeps.parallel(found, params, chosen) if chosen and len(found) > 1 else [],
        enough=len(found) >= 2,
    )
