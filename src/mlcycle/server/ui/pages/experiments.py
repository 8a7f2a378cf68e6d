"""The experiments list and an experiment's runs table."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlcycle.entities import Run
from mlcycle.errors import FilterSyntaxError, InvalidInputError
from mlcycle.server.ui import table
from mlcycle.server.ui.deps import Services, UiServices
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

_COUNT_CAP = 100  # runs counted per experiment on the list (more shows as "100+")


@router.get("/experiments")
def experiments(request: Request, ui: Services, q: str = "") -> HTMLResponse:
    """Every active experiment: its problem, how many runs, the last activity."""
    needle = q.strip().lower()
    rows = []
    for experiment in ui.tracking.list_experiments():
        if needle and needle not in experiment.name.lower():
            continue
        recent = ui.tracking.search_runs(
            [experiment.id], order_by="start_time DESC", max_results=_COUNT_CAP
        )
        last = max([experiment.updated_at] + [r.end_time or r.start_time for r in recent.runs[:1]])
        count = f"{len(recent.runs)}{'+' if recent.next_page_token else ''}"
        rows.append((experiment, count, last))
    rows.sort(key=lambda row: -row[2])
    return page(request, "experiments.html", title="Experiments", rows=rows, q=q)


def metric_extremes(ui: UiServices) -> table.Extremes:
    """(min, max) of a run's metric over its whole series, read once per request."""

    @cache
    def extremes(run_id: str, key: str) -> tuple[float, float] | None:
        values = ui.tracking.get_metric_history(run_id, key).values
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return None
        return float(finite.min()), float(finite.max())

    return extremes


@router.get("/experiments/{experiment_id}")
def runs_table(
    request: Request,
    ui: Services,
    experiment_id: str,
    filter: str = "",
    order: str = "",
    cols: str = "",
    group: str = "",
    page_token: str = "",
    limit: str = "",
) -> HTMLResponse:
    """The runs of one experiment: server-side filter, sort, keyset pages, columns, groups."""
    experiment = ui.tracking.get_experiment(experiment_id)
    view: dict[str, Any] = {
        "filter": filter,
        "order": order,
        "cols": cols,
        "group": group,
        "limit": limit,
    }
    error: InvalidInputError | None = None
    runs: list[Run] = []
    next_token: str | None = None
    columns: list[table.Column] = []
    group_by: table.Column | None = None
    groups: list[table.Group] = []
    scanned = 0
    try:
        size = table.parse_limit(limit)
        columns = table.parse_columns(cols)
        group_by = table.parse_column(group) if group.strip() else None
        found = ui.tracking.search_runs(
            [experiment_id],
            filter or None,
            order or "start_time DESC",
            max_results=size,
            page_token=page_token or None,
        )
        runs, next_token = found.runs, found.next_page_token
    except InvalidInputError as exc:
        error = exc
    extremes = metric_extremes(ui)
    if not columns:
        columns = table.default_columns(runs, experiment.problem.primary_metric)
    if group_by is not None and error is None:
        everything = _scan(ui, experiment_id, filter, order)
        scanned = len(everything)
        groups = table.group_runs(everything, group_by, columns, extremes)
    rows = [(run, [table.cell(run, c, extremes) for c in columns]) for run in runs]
    position = error.position if isinstance(error, FilterSyntaxError) else None
    return page(
        request,
        "runs.html",
        status_code=400 if error else 200,
        title=experiment.name,
        experiment=experiment,
        view=view,
        columns=columns,
        rows=rows,
        next_token=next_token,
        page_token=page_token,
        error=error,
        error_field=error.field if error else None,
        position=position,
        keys=table.keys_seen(runs),
        attributes=table.ATTRIBUTES,
        group_by=group_by,
        groups=groups,
        scanned=scanned,
        capped=scanned >= table.GROUP_SCAN,
        finite=math.isfinite,
    )


def _scan(ui: UiServices, experiment_id: str, filter: str, order: str) -> list[Run]:
    """Up to GROUP_SCAN runs matching the filter, for grouping."""
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < table.GROUP_SCAN:
        found = ui.tracking.search_runs(
            [experiment_id],
            filter or None,
            order or "start_time DESC",
            max_results=min(1000, table.GROUP_SCAN - len(runs)),
            page_token=token,
        )
        runs.extend(found.runs)
        token = found.next_page_token
        if token is None:
            break
    return runs
