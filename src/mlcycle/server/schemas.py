"""Typed request and response bodies of the REST API (they make ``/openapi.json``).

Requests are checked here for shape and size (types, lengths, ranges: what the store
could not hold); the tracking service then applies the domain rules (key characters,
immutable params) and names the field when one is broken. Non-finite metric values travel
as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, since JSON has no numbers
for them.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from mlcycle.bounds import INT64_MAX, INT64_MIN
from mlcycle.entities import Direction, LifecycleStage, RunStatus, Task


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


_NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL; SQLite is held to the same rule
Str = Annotated[
    str,
    StringConstraints(max_length=100_000, pattern=_NO_NUL),
    AfterValidator(_no_nul),
    Field(description="Text without NUL characters"),
]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500, pattern=_NO_NUL),
    AfterValidator(_no_nul),
    Field(description="1-500 characters, no NUL"),
]
Key = Annotated[
    str,
    StringConstraints(min_length=1, max_length=250, pattern=_NO_NUL),
    AfterValidator(_no_nul),
    Field(
        description="1-250 letters, digits, spaces and _ - . / : ; not starting with '/', "
        "no '..' path segment (checked by the service: 400 naming the key)"
    ),
]
Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=_NO_NUL),
    AfterValidator(_no_nul),
]
Millis = Annotated[
    int, Field(ge=0, le=INT64_MAX, description="Milliseconds since the epoch (64-bit)")
]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX, description="A 64-bit integer")]
NonFinite = Literal["NaN", "Infinity", "-Infinity"]
Number = float | NonFinite


def _takes(annotation: object, kind: type) -> bool:
    """Whether a field's annotation (through Optional, unions, Annotated) accepts ``kind``."""
    if annotation is kind:
        return True
    return any(_takes(arg, kind) for arg in get_args(annotation))


class StrictIn(BaseModel):
    """A request body whose booleans are booleans: ``true`` is not the number 1
    (``{"older_than_ms": false}`` is refused, not read as 0, which would purge every
    deleted run), and a boolean field takes only ``true`` or ``false`` (not 1 or "yes")."""

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_are_booleans(cls, value: object, info: ValidationInfo) -> object:
        name = info.field_name
        annotation = cls.model_fields[name].annotation if name else None
        wants_bool = _takes(annotation, bool)
        if isinstance(value, bool) and not wants_bool:
            raise ValueError("a boolean is not accepted here")
        loose = _takes(annotation, str) or _takes(annotation, int)
        if wants_bool and not loose and value is not None and not isinstance(value, bool):
            raise ValueError("true or false is expected")
        return value


class _In(StrictIn):
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
    experiment_ids: list[Id] = Field(default_factory=list, max_length=1000)
    experiments: list[Name] = Field(
        default_factory=list,
        max_length=1000,
        description="Experiments by name or ID (a name first), searched with experiment_ids",
    )
    filter: Str | None = None
    order_by: list[Str] = Field(default_factory=list, max_length=50)
    max_results: int = Field(default=1000, ge=1, le=50_000)
    page_token: Str | None = None
    include_deleted: bool = False


class RunPageOut(BaseModel):
    runs: list[RunOut]
    next_page_token: str | None
    experiment_ids: list[str] = Field(
        default_factory=list, description="The experiments searched, by ID"
    )


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
