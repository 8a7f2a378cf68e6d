"""Datasets: versions, schema, profile with histograms, validation reports, splits and
derived versions, the diff of two versions, and lineage to the runs that used them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlcycle.errors import InvalidInputError
from mlcycle.server.ui.deps import Services
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)


def version_number(text: str, field: str = "version") -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise InvalidInputError(
            f"{field} must be a version number (1, 2, ...), got {text!r}", field=field
        )
    return number


@router.get("/datasets")
def datasets(request: Request, ui: Services) -> HTMLResponse:
    """Every dataset with its latest version and how many versions it has."""
    return page(request, "datasets.html", title="Datasets", datasets=ui.datasets.list_datasets())


@router.get("/datasets/{name}")
def dataset(request: Request, ui: Services, name: str) -> HTMLResponse:
    versions = list(reversed(ui.datasets.list_versions(name)))
    if not versions:
        ui.datasets.get(name)  # raises NotFoundError naming the dataset
    return page(request, "dataset.html", title=name, name=name, versions=versions)


@router.get("/datasets/{name}/versions/{version}")
def dataset_version(request: Request, ui: Services, name: str, version: str) -> HTMLResponse:
    """One version: schema, profile, validation, lineage both ways, runs that used it."""
    found = ui.datasets.get(name, version_number(version))
    return page(
        request,
        "dataset_version.html",
        title=f"{name} v{found.version}",
        v=found,
        validations=ui.datasets.validations(found),
        children=ui.datasets.children(found),
        runs=ui.datasets.runs_of(found),
    )


@router.get("/datasets/{name}/diff")
def dataset_diff(
    request: Request, ui: Services, name: str, old: str = "", new: str = ""
) -> HTMLResponse:
    """What changed between two versions: rows, schema, and per column the profile."""
    first = ui.datasets.get(name, version_number(old, "old"))
    second = ui.datasets.get(name, version_number(new, "new"))
    return page(
        request,
        "dataset_diff.html",
        title=f"{name}: v{first.version} → v{second.version}",
        name=name,
        old=first,
        new=second,
        diff=ui.datasets.diff(first, second),
    )
