"""Datasets: named, versioned, content-addressed tables, their lineage and their use by runs.

A :class:`DatasetVersion` is immutable content (a Parquet file addressed by the digest of
its rows) plus what was computed from it once: the schema and the profile. Versions made
from other versions record a :class:`Lineage` edge per parent with the :class:`Transform`
that made them; runs that used a version record a :class:`RunInput`.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from mlcycle.entities import _html
from mlcycle.entities.experiments import LifecycleStage
from mlcycle.entities.profiles import DatasetProfile, LogicalType
from mlcycle.entities.validation import ValidationReport
from mlcycle.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

LoadFormat = Literal["pandas", "arrow"]
#: Reads a version's rows: ``loader(version, format, columns)``; bound by the service.
Loader = Callable[["DatasetVersion", LoadFormat, Sequence[str] | None], Any]


@dataclass(frozen=True, kw_only=True)
class ColumnSchema:
    """One column as stored: its name, Arrow type name and logical type."""

    name: str
    type: str
    logical_type: LogicalType


@dataclass(frozen=True, kw_only=True)
class Transform:
    """How a derived version was made: a name, its parameters (JSON values) and a reference
    to the code, e.g. ``"mlcycle.datasets.cleaning:drop_duplicates"`` or a git commit."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    code_ref: str | None = None


@dataclass(frozen=True, kw_only=True)
class Lineage:
    """An edge from a parent version to the version made from it."""

    version_id: str
    parent_id: str
    parent_name: str
    parent_version: int
    child_name: str
    child_version: int
    transform: Transform
    created_at: int


@dataclass(frozen=True, kw_only=True)
class ValidationRecord:
    """A validation report kept with the version it judged."""

    id: str
    version_id: str
    created_at: int
    report: ValidationReport

    @property
    def passed(self) -> bool:
        return self.report.passed


@dataclass(frozen=True, kw_only=True)
class RunInput:
    """A run used a dataset version, in a context such as ``train`` or ``eval``."""

    run_id: str
    version_id: str
    name: str
    version: int
    digest: str
    context: str
    created_at: int


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A dataset name and a summary of its versions."""

    id: str
    name: str
    created_at: int
    updated_at: int
    latest_version: int | None = None
    version_count: int = 0
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    deleted_at: int | None = None


@dataclass(frozen=True, kw_only=True)
class DatasetVersion:
    """One immutable version of a dataset.

    ``digest`` is the SHA-256 of the content (column names, types and values), so the same
    rows registered twice are the same version and stored once. ``storage_uri`` is where the
    Parquet file is. :meth:`load` reads the rows back as a pandas DataFrame or an Arrow Table.

    >>> import mlcycle.datasets as mds
    >>> v = mds.register("churn", "churn.parquet")  # doctest: +SKIP
    >>> v.name, v.version, v.num_rows, v.profile.column("age").missing_share  # doctest: +SKIP
    ('churn', 1, 10000, 0.02)
    """

    id: str
    dataset_id: str
    name: str
    version: int
    digest: str
    storage_key: str
    num_rows: int
    num_columns: int
    size_bytes: int
    schema: tuple[ColumnSchema, ...]
    profile: DatasetProfile
    created_at: int
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    deleted_at: int | None = None
    parents: tuple[Lineage, ...] = ()
    validation: ValidationReport | None = None  # the latest recorded report
    storage_uri: str = ""
    loader: Loader | None = field(default=None, repr=False, compare=False)

    @property
    def ref(self) -> str:
        """``name@version``, as the CLI and messages show it (and every command takes)."""
        return f"{self.name}@{self.version}"

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.schema]

    @overload
    def load(
        self, format: Literal["pandas"] = ..., *, columns: Sequence[str] | None = ...
    ) -> pd.DataFrame: ...
    @overload
    def load(self, format: Literal["arrow"], *, columns: Sequence[str] | None = ...) -> Any: ...
    def load(self, format: LoadFormat = "pandas", *, columns: Sequence[str] | None = None) -> Any:
        """The rows as a pandas DataFrame (``format="pandas"``) or a pyarrow Table
        (``format="arrow"``), optionally only ``columns``.

        Raises:
            InvalidInputError: the version was built by hand, not returned by mlcycle (use
                ``mlcycle.datasets.load(version)``), or the format is unknown.
        """
        if self.loader is None:
            raise InvalidInputError(
                f"dataset version {self.ref} is not bound to a store; "
                "load it with mlcycle.datasets.load(version)",
                field="version",
            )
        if format not in ("pandas", "arrow"):
            raise InvalidInputError(
                f"format must be 'pandas' or 'arrow', got {format!r}", field="format"
            )
        return self.loader(self, format, columns)

    def bind(self, loader: Loader | None, storage_uri: str) -> DatasetVersion:
        """A copy that loads its rows with ``loader`` (used by the dataset service)."""
        return dataclasses.replace(self, loader=loader, storage_uri=storage_uri)

    def __getstate__(self) -> dict[str, Any]:
        # The loader holds the store's connections: it does not travel with a pickle.
        state = dict(self.__dict__)
        state["loader"] = None
        return state

    def _repr_html_(self) -> str:
        parents = ", ".join(f"{p.parent_name}@{p.parent_version}" for p in self.parents)
        transform = self.parents[0].transform.name if self.parents else ""
        rows = [
            ["digest", html.escape(self.digest[:16]) + "…"],
            ["rows × columns", f"{self.num_rows:,} × {self.num_columns}"],
            ["stored at", _html.fmt(self.storage_uri)],
        ]
        if parents:
            rows.append(["made from", f"{html.escape(parents)} by {html.escape(transform)}"])
        if self.validation is not None:
            verdict = "passed" if self.validation.passed else "failed"
            rows.append(["validation", verdict])
        caption = f"Dataset <b>{html.escape(self.name)}</b> version {self.version}"
        return _html.table(caption, ["", ""], rows) + self.profile._repr_html_()
