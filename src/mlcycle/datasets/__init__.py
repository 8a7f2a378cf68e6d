"""Datasets: register, version, profile, validate, clean, split and trace tabular data.

The public API (implemented in :mod:`mlcycle.client.datasets`, over the default client)::

    >>> import mlcycle.datasets as mds
    >>> v = mds.register("churn", "churn.parquet")  # doctest: +SKIP
    >>> v.profile, v.load().head()  # doctest: +SKIP
    >>> mds.validate(v, "rules.yaml").passed  # doctest: +SKIP
    >>> parts = mds.split(v, test=0.2, stratify="churned")  # doctest: +SKIP

The computational core lives in submodules that work on DataFrames, Tables and files
without any store (importing ``mlcycle.datasets`` loads neither pandas nor pyarrow):

* :mod:`mlcycle.datasets.reading` - DataFrame / Table / Parquet / CSV to record batches
* :mod:`mlcycle.datasets.profile` - one-pass, bounded-memory :class:`DatasetProfile`
* :mod:`mlcycle.datasets.validation` - declarative rules (Python or YAML) and reports
* :mod:`mlcycle.datasets.cleaning` - deduplicate, drop/impute missing, filter/clip ranges
* :mod:`mlcycle.datasets.splitting` - reproducible random/stratified/group/time splits
* :mod:`mlcycle.datasets.diff` - compare two profiles or schemas
* :mod:`mlcycle.datasets.schema` - logical column types
* :mod:`mlcycle.datasets.digest` - content digests of tables
* :mod:`mlcycle.datasets.ingest` - the one pass that profiles, hashes and writes Parquet
* :mod:`mlcycle.datasets.service` - :class:`DatasetService`, the stage's logic over ports
"""

from mlcycle.client.datasets import (
    children,
    clip_range,
    delete,
    delete_tag,
    derive,
    diff_versions,
    drop_duplicates,
    drop_missing,
    filter_range,
    get,
    impute_missing,
    inputs_of,
    list_datasets,
    list_versions,
    load,
    register,
    restore,
    runs_of,
    set_tags,
    split,
    validate,
    validations,
)
from mlcycle.datasets._rules import (
    AllowedValues,
    ColumnPresent,
    Custom,
    Dtype,
    InRange,
    MatchesRegex,
    NotNull,
    RowCount,
    Rule,
    Unique,
    load_rules,
)
from mlcycle.datasets._strategies import Constant
from mlcycle.entities import (
    ColumnSchema,
    Dataset,
    DatasetProfile,
    DatasetVersion,
    Lineage,
    RunInput,
    Transform,
    ValidationRecord,
    ValidationReport,
)
from mlcycle.errors import ValidationFailedError

__all__ = [
    "AllowedValues",
    "ColumnPresent",
    "ColumnSchema",
    "Constant",
    "Custom",
    "Dataset",
    "DatasetProfile",
    "DatasetVersion",
    "Dtype",
    "InRange",
    "Lineage",
    "MatchesRegex",
    "NotNull",
    "RowCount",
    "Rule",
    "RunInput",
    "Transform",
    "Unique",
    "ValidationFailedError",
    "ValidationRecord",
    "ValidationReport",
    "children",
    "clip_range",
    "delete",
    "delete_tag",
    "derive",
    "diff_versions",
    "drop_duplicates",
    "drop_missing",
    "filter_range",
    "get",
    "impute_missing",
    "inputs_of",
    "list_datasets",
    "list_versions",
    "load",
    "load_rules",
    "register",
    "restore",
    "runs_of",
    "set_tags",
    "split",
    "validate",
    "validations",
]
