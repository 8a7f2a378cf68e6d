"""Typed request and response bodies of the REST API (they make ``/openapi.json``).

Requests are checked here for shape and size (types, lengths, ranges: what the store
could not hold); the tracking service then applies the domain rules (key characters,
immutable params) and names the field when one is broken. Non-finite metric values travel
as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, since JSON has no numbers
for them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from mlcycle.entities import Direction, LifecycleStage, RunStatus, Task


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Str = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(_no_nul)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_no_nul)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=250), AfterValidator(_no_nul)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)]
Millis = Annotated[int, Field(ge=0, le=2**63 - 1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
NonFinite = Literal["NaN", "Infinity", "-Infinity"]
Number = float | NonFinite


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- experiments ------------------------------------------------------------------------


class ProblemIn(_In):
    task: Task = Task.OTHER
    target: Name | None = None
    primary_metric: Key | None = None
    direction: Direction = Direction.MAXIMIZE
    threshold: Annotated[float, Field(allow_inf_nan=False)] | None = None


class ProblemOut(BaseModel):
    task: Task
    target: str | None
    primary_metric: str | None
    direction: Direction
    threshold: float | None


class ExperimentCreate(_In):
    name: Name
    problem: ProblemIn | None = None
    description: Str | None = None
    tags: dict[Key, Str] = Field(default_factory=dict, max_length=1000)


class ExperimentUpdate(_In):
    name: Name | None = None
    description: Str | None = None
    problem: ProblemIn | None = None


class ExperimentName(_In):
    name: Name


class TagsIn(_In):
    tags: dict[Key, Str] = Field(max_length=1000)


class ExperimentOut(BaseModel):
    id: str
    name: str
    problem: ProblemOut
    description: str | None
    tags: dict[str, str]
    lifecycle_stage: LifecycleStage
    created_at: int
    updated_at: int
    deleted_at: int | None


class ExperimentList(BaseModel):
    experiments: list[ExperimentOut]


# -- runs -------------------------------------------------------------------------------


class RunCreate(_In):
    experiment_id: Id
    name: Name | None = None
    tags: dict[Key, Str] = Field(default_factory=dict, max_length=1000)
    parent_id: Id | None = None
    description: Str | None = None
    start_time: Millis | None = None


class RunUpdate(_In):
    name: Name | None = None
    description: Str | None = None


class RunEnd(_In):
    status: RunStatus = RunStatus.FINISHED
    error: Str | None = None


class ParamsIn(_In):
    params: dict[Key, Annotated[str, StringConstraints(max_length=6000), AfterValidator(_no_nul)]]


class RunIds(_In):
    run_ids: list[Id] = Field(max_length=10_000)


class RunOut(BaseModel):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    parent_id: str | None
    description: str | None
    error: str | None
    lifecycle_stage: LifecycleStage
    deleted_at: int | None
    params: dict[str, str]
    metrics: dict[str, Number]
    tags: dict[str, str]


class RunIdsOut(BaseModel):
    run_ids: list[str]


class SearchIn(_In):
    experiment_ids: list[Id] = Field(max_length=1000)
    filter: Str | None = None
    order_by: list[Str] = Field(default_factory=list, max_length=50)
    max_results: int = Field(default=1000, ge=1, le=50_000)
    page_token: Str | None = None
    include_deleted: bool = False


class RunPageOut(BaseModel):
    runs: list[RunOut]
    next_page_token: str | None


class CompareIn(_In):
    run_ids: list[Id] = Field(min_length=2, max_length=1000)
    all_keys: bool = False


class ComparisonOut(BaseModel):
    run_ids: list[str]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[Number | None]]
    same_params: dict[str, str]
    same_metrics: dict[str, Number]


# -- metrics ----------------------------------------------------------------------------


class MetricPoint(_In):
    key: Key
    value: float
    step: Int64 = 0
    timestamp: Millis | None = None


class MetricsIn(_In):
    """Points to store, in order; ``timestamp`` defaults to the server's clock."""

    metrics: list[MetricPoint] = Field(max_length=100_000)


class IngestOut(BaseModel):
    points: int
    duplicate: bool


class HistoryOut(BaseModel):
    run_id: str
    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[Number]


# -- artifacts and maintenance ----------------------------------------------------------


class ArtifactOut(BaseModel):
    path: str
    is_dir: bool
    size: int | None
    sha256: str | None


class ArtifactList(BaseModel):
    files: list[ArtifactOut]


class GcIn(_In):
    older_than_ms: int = Field(ge=0, le=2**62)


class GcOut(BaseModel):
    runs: int
    experiments: int


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    schema_revision: str
