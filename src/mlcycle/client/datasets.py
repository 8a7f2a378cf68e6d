"""The public dataset API, re-exported as :mod:`mlcycle.datasets`.

Every function works on the default client (``mlcycle.get_client()``, built from
``MLCYCLE_TRACKING_URI``) unless ``client=`` is given. Where a function takes a dataset,
it accepts a :class:`~mlcycle.entities.DatasetVersion` or a dataset name (its latest
version).

    >>> import mlcycle.datasets as mds
    >>> v1 = mds.register("churn", "data/churn.parquet", description="Q1 export")  # doctest: +SKIP
    >>> v1.version, v1.num_rows, v1.profile.column("age").missing_share  # doctest: +SKIP
    (1, 10000, 0.02)
    >>> parts = mds.split(v1, test=0.2, stratify="churned", seed=0)  # doctest: +SKIP
    >>> with mlcycle.start_run(experiment="churn") as run:  # doctest: +SKIP
    ...     run.log_input(parts["train"], context="train")

pandas and pyarrow are loaded on first use, not when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from mlcycle.client.client import Client
from mlcycle.client.fluent import get_client
from mlcycle.entities import (
    Dataset,
    DatasetVersion,
    Lineage,
    Run,
    RunInput,
    Transform,
    ValidationRecord,
    ValidationReport,
)
from mlcycle.errors import InvalidInputError
from mlcycle.ports.api import DatasetsAPI
from mlcycle.tracking.run import ActiveRun

if TYPE_CHECKING:
    import pandas as pd

    from mlcycle.datasets._strategies import Strategy
    from mlcycle.datasets.diff import ProfileDiff
    from mlcycle.datasets.reading import DataLike
    from mlcycle.datasets.service import RulesLike

DatasetRef = DatasetVersion | str


def _service(client: Client | None) -> DatasetsAPI:
    return (client or get_client()).datasets


def _resolve(service: DatasetsAPI, dataset: DatasetRef) -> DatasetVersion:
    if isinstance(dataset, DatasetVersion):
        return dataset
    if isinstance(dataset, str):
        return service.get(dataset)
    raise InvalidInputError(
        f"expected a DatasetVersion or a dataset name, got {type(dataset).__name__}",
        field="dataset",
    )


# -- registering and reading -------------------------------------------------------------


def register(
    name: str,
    data: DataLike,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    *,
    rules: RulesLike | None = None,
    refuse_on_failure: bool = False,
    client: Client | None = None,
) -> DatasetVersion:
    """Register ``data`` as a new version of the dataset ``name``.

    ``data`` is a pandas DataFrame (its index is not stored), a pyarrow Table, or the path
    of a Parquet or CSV file. It is stored once as Parquet, addressed by the digest of its
    content: registering the same content under the same name returns the existing
    version; under another name, a new version shares the stored file. The profile is
    computed in the same pass. With ``rules`` (Python rules, a YAML file path or YAML
    text), the data is validated first and the report kept with the version;
    ``refuse_on_failure=True`` then refuses data that fails.

    Returns:
        The :class:`DatasetVersion` (``.version``, ``.digest``, ``.num_rows``,
        ``.schema``, ``.profile``, ``.storage_uri``, ``.load()``).

    Raises:
        InvalidInputError: unreadable, corrupt or empty data, an unsupported type, or
            ``object`` columns mixing types (named); nothing is stored.
        ValidationFailedError: the data failed ``rules`` with ``refuse_on_failure``.

    >>> v = register("churn", "churn.csv", tags={"source": "crm"})  # doctest: +SKIP
    >>> register("churn", "churn.csv").version == v.version  # doctest: +SKIP
    True
    """
    return _service(client).register(
        name,
        data,
        description=description,
        tags=tags,
        rules=rules,
        refuse_on_failure=refuse_on_failure,
    )


def get(name: str, version: int | None = None, *, client: Client | None = None) -> DatasetVersion:
    """Version ``version`` of dataset ``name``, or its latest version.

    Raises NotFoundError for an unknown or deleted dataset or version.

    >>> get("churn", 2).num_rows  # doctest: +SKIP
    10000
    """
    return _service(client).get(name, version)


@overload
def load(
    dataset: DatasetRef,
    *,
    format: Literal["pandas"] = ...,
    columns: Sequence[str] | None = ...,
    client: Client | None = ...,
) -> pd.DataFrame: ...
@overload
def load(
    dataset: DatasetRef,
    *,
    format: Literal["arrow"],
    columns: Sequence[str] | None = ...,
    client: Client | None = ...,
) -> Any: ...
def load(
    dataset: DatasetRef,
    *,
    format: Literal["pandas", "arrow"] = "pandas",
    columns: Sequence[str] | None = None,
    client: Client | None = None,
) -> Any:
    """The rows of a dataset version as a pandas DataFrame or (``format="arrow"``) a pyarrow
    Table; ``DatasetVersion.load()`` does the same.

    >>> load("churn", columns=["age", "churned"]).shape  # doctest: +SKIP
    (10000, 2)
    """
    service = _service(client)
    return service.load(_resolve(service, dataset), format, columns)


def list_datasets(*, include_deleted: bool = False, client: Client | None = None) -> list[Dataset]:
    """Every dataset with its latest version number and version count, by name."""
    return _service(client).list_datasets(include_deleted=include_deleted)


def list_versions(
    name: str, *, include_deleted: bool = False, client: Client | None = None
) -> list[DatasetVersion]:
    """The versions of dataset ``name``, oldest first."""
    return _service(client).list_versions(name, include_deleted=include_deleted)


def delete(name: str, version: int | None = None, *, client: Client | None = None) -> None:
    """Soft-delete version ``version`` of ``name``, or the whole dataset; data stays until
    restored or collected, and runs keep their inputs."""
    _service(client).delete(name, version)


def restore(name: str, version: int | None = None, *, client: Client | None = None) -> None:
    """Undo :func:`delete` of a version or of a dataset."""
    _service(client).restore(name, version)


def set_tags(
    dataset: DatasetRef, tags: Mapping[str, object], *, client: Client | None = None
) -> None:
    """Add or change tags of a dataset version."""
    service = _service(client)
    service.set_tags(_resolve(service, dataset), tags)


def delete_tag(dataset: DatasetRef, key: str, *, client: Client | None = None) -> None:
    """Remove one tag of a dataset version."""
    service = _service(client)
    service.delete_tag(_resolve(service, dataset), key)


# -- validation --------------------------------------------------------------------------


def validate(
    dataset: DatasetRef,
    rules: RulesLike,
    *,
    record: bool = True,
    client: Client | None = None,
) -> ValidationReport:
    """Check ``rules`` (Python rules, a YAML file or YAML text) on a stored version.

    The report is kept with the version (``record=False`` only returns it): its latest
    report is ``version.validation``, all of them :func:`validations`.

    >>> rules = [NotNull("age"), InRange("age", min=0, max=120)]  # doctest: +SKIP
    >>> report = validate("churn", rules)  # doctest: +SKIP
    >>> report.passed, [r.failing_rows for r in report.failures]  # doctest: +SKIP
    (False, [3])
    """
    service = _service(client)
    return service.validate(_resolve(service, dataset), rules, record=record)


def validations(dataset: DatasetRef, *, client: Client | None = None) -> list[ValidationRecord]:
    """The validation reports recorded for a version, oldest first."""
    service = _service(client)
    return service.validations(_resolve(service, dataset))


# -- derived versions and lineage --------------------------------------------------------


def derive(
    name: str,
    parents: Sequence[DatasetVersion] | DatasetVersion,
    data: DataLike,
    transform: Transform | str | Callable[..., Any],
    *,
    params: Mapping[str, Any] | None = None,
    code_ref: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    rules: RulesLike | None = None,
    refuse_on_failure: bool = False,
    client: Client | None = None,
) -> DatasetVersion:
    """Register ``data`` as a version of ``name`` made from ``parents`` by ``transform``.

    ``transform`` is a name, the function that made the data (its ``module:qualname``
    becomes the code reference) or a :class:`Transform`; ``params`` are JSON values. Each
    parent gets a lineage edge, visible as ``version.parents`` and :func:`children`.

    >>> raw = get("churn")  # doctest: +SKIP
    >>> df = raw.load(); df["tenure_years"] = df["tenure_days"] / 365  # doctest: +SKIP
    >>> derive("churn-features", raw, df, "add_tenure_years",
    ...        code_ref="git:3f2a91c:features.py")  # doctest: +SKIP
    """
    return _service(client).derive(
        name,
        parents,
        data,
        transform,
        params=params,
        code_ref=code_ref,
        description=description,
        tags=tags,
        rules=rules,
        refuse_on_failure=refuse_on_failure,
    )


def children(dataset: DatasetRef, *, client: Client | None = None) -> list[Lineage]:
    """Versions made from a version (its parents are ``version.parents``)."""
    service = _service(client)
    return service.children(_resolve(service, dataset))


def split(
    dataset: DatasetRef,
    test: float = 0.2,
    validation: float = 0.0,
    stratify: str | None = None,
    group: str | None = None,
    time: str | None = None,
    seed: int = 0,
    *,
    name: str | None = None,
    client: Client | None = None,
) -> dict[str, DatasetVersion]:
    """Split a version into ``train`` and ``test`` (and ``validation`` when > 0) versions.

    At most one of ``stratify`` (a label column keeps its class shares), ``group`` (whole
    groups go to one split) and ``time`` (the latest rows are the test split). The parts
    are registered as ``<name>-train``, ``<name>-test`` and ``<name>-validation`` (``name``
    defaults to the dataset's), each with lineage to the version split; the same call gives
    the same versions every time.

    >>> parts = split("churn", test=0.2, validation=0.1, stratify="churned")  # doctest: +SKIP
    >>> sorted(parts), parts["train"].name  # doctest: +SKIP
    (['test', 'train', 'validation'], 'churn-train')
    """
    service = _service(client)
    return service.split(
        _resolve(service, dataset),
        test=test,
        validation=validation,
        stratify=stratify,
        group=group,
        time=time,
        seed=seed,
        name=name,
    )


def diff_versions(old: DatasetRef, new: DatasetRef, *, client: Client | None = None) -> ProfileDiff:
    """What changed from ``old`` to ``new``: row counts, columns added, removed or retyped,
    and per-column profile changes (missing share, mean, std, distinct count, min, max).

    >>> diff_versions(get("churn", 1), get("churn", 2)).to_dict()["schema"]  # doctest: +SKIP
    {'added_columns': ['region'], 'removed_columns': [], 'type_changes': []}
    """
    service = _service(client)
    found: ProfileDiff = service.diff(_resolve(service, old), _resolve(service, new))
    return found


# -- cleaning ------------------------------------------------------------------------------


def drop_duplicates(
    dataset: DatasetRef,
    columns: Sequence[str] | None = None,
    *,
    name: str | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """A new version without repeated rows (equal in ``columns``, default all), with
    lineage to ``dataset``. The new version belongs to the same dataset unless ``name``."""
    service = _service(client)
    return service.clean(
        _resolve(service, dataset),
        "drop_duplicates",
        columns=columns,
        name=name,
    )


def drop_missing(
    dataset: DatasetRef,
    columns: Sequence[str] | None = None,
    how: Literal["any", "all"] = "any",
    *,
    name: str | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """A new version without rows missing a value in any (or all) of ``columns``."""
    service = _service(client)
    return service.clean(
        _resolve(service, dataset),
        "drop_missing",
        columns=columns,
        how=how,
        name=name,
    )


def impute_missing(
    dataset: DatasetRef,
    strategies: Mapping[str, Strategy],
    *,
    name: str | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """A new version with missing values filled per column: ``"mean"``, ``"median"``,
    ``"mode"`` or ``Constant(value)``; the fill values are recorded in the lineage.

    >>> impute_missing("churn", {"age": "median", "city": Constant("unknown")})  # doctest: +SKIP
    """
    service = _service(client)
    return service.clean(
        _resolve(service, dataset),
        "impute_missing",
        strategies=strategies,
        name=name,
    )


def filter_range(
    dataset: DatasetRef,
    column: str,
    min: Any = None,
    max: Any = None,
    keep_missing: bool = True,
    *,
    name: str | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """A new version without the rows whose ``column`` lies outside ``[min, max]``."""
    service = _service(client)
    return service.clean(
        _resolve(service, dataset),
        "filter_range",
        column=column,
        min=min,
        max=max,
        keep_missing=keep_missing,
        name=name,
    )


def clip_range(
    dataset: DatasetRef,
    column: str,
    min: Any = None,
    max: Any = None,
    *,
    name: str | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """A new version with ``column`` clipped to ``[min, max]``."""
    service = _service(client)
    return service.clean(
        _resolve(service, dataset),
        "clip_range",
        column=column,
        min=min,
        max=max,
        name=name,
    )


# -- runs ------------------------------------------------------------------------------------


def runs_of(dataset: DatasetRef, *, client: Client | None = None) -> list[RunInput]:
    """The runs that logged a version as an input (``run.log_input``), oldest first."""
    service = _service(client)
    return service.runs_of(_resolve(service, dataset))


def inputs_of(run: Run | ActiveRun | str, *, client: Client | None = None) -> list[RunInput]:
    """The dataset versions a run logged as inputs, with their context."""
    run_id = run if isinstance(run, str) else run.id
    return _service(client).inputs_of(run_id)
