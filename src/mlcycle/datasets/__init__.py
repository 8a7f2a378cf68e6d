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

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle._lazy import attach

if TYPE_CHECKING:
    from mlcycle.client.datasets import children as children
    from mlcycle.client.datasets import clip_range as clip_range
    from mlcycle.client.datasets import delete as delete
    from mlcycle.client.datasets import delete_tag as delete_tag
    from mlcycle.client.datasets import derive as derive
    from mlcycle.client.datasets import diff_versions as diff_versions
    from mlcycle.client.datasets import drop_duplicates as drop_duplicates
    from mlcycle.client.datasets import drop_missing as drop_missing
    from mlcycle.client.datasets import filter_range as filter_range
    from mlcycle.client.datasets import get as get
    from mlcycle.client.datasets import impute_missing as impute_missing
    from mlcycle.client.datasets import inputs_of as inputs_of
    from mlcycle.client.datasets import list_datasets as list_datasets
    from mlcycle.client.datasets import list_versions as list_versions
    from mlcycle.client.datasets import load as load
    from mlcycle.client.datasets import register as register
    from mlcycle.client.datasets import restore as restore
    from mlcycle.client.datasets import runs_of as runs_of
    from mlcycle.client.datasets import set_tags as set_tags
    from mlcycle.client.datasets import split as split
    from mlcycle.client.datasets import validate as validate
    from mlcycle.client.datasets import validations as validations
    from mlcycle.datasets._rules import AllowedValues as AllowedValues
    from mlcycle.datasets._rules import ColumnPresent as ColumnPresent
    from mlcycle.datasets._rules import Custom as Custom
    from mlcycle.datasets._rules import Dtype as Dtype
    from mlcycle.datasets._rules import InRange as InRange
    from mlcycle.datasets._rules import MatchesRegex as MatchesRegex
    from mlcycle.datasets._rules import NotNull as NotNull
    from mlcycle.datasets._rules import RowCount as RowCount
    from mlcycle.datasets._rules import Rule as Rule
    from mlcycle.datasets._rules import Unique as Unique
    from mlcycle.datasets._rules import load_rules as load_rules
    from mlcycle.datasets._strategies import Constant as Constant
    from mlcycle.entities import ColumnSchema as ColumnSchema
    from mlcycle.entities import Dataset as Dataset
    from mlcycle.entities import DatasetProfile as DatasetProfile
    from mlcycle.entities import DatasetVersion as DatasetVersion
    from mlcycle.entities import Lineage as Lineage
    from mlcycle.entities import RunInput as RunInput
    from mlcycle.entities import Transform as Transform
    from mlcycle.entities import ValidationRecord as ValidationRecord
    from mlcycle.entities import ValidationReport as ValidationReport
    from mlcycle.errors import ValidationFailedError as ValidationFailedError

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "AllowedValues": "mlcycle.datasets._rules:AllowedValues",
        "ColumnPresent": "mlcycle.datasets._rules:ColumnPresent",
        "ColumnSchema": "mlcycle.entities:ColumnSchema",
        "Constant": "mlcycle.datasets._strategies:Constant",
        "Custom": "mlcycle.datasets._rules:Custom",
        "Dataset": "mlcycle.entities:Dataset",
        "DatasetProfile": "mlcycle.entities:DatasetProfile",
        "DatasetVersion": "mlcycle.entities:DatasetVersion",
        "Dtype": "mlcycle.datasets._rules:Dtype",
        "InRange": "mlcycle.datasets._rules:InRange",
        "Lineage": "mlcycle.entities:Lineage",
        "MatchesRegex": "mlcycle.datasets._rules:MatchesRegex",
        "NotNull": "mlcycle.datasets._rules:NotNull",
        "RowCount": "mlcycle.datasets._rules:RowCount",
        "Rule": "mlcycle.datasets._rules:Rule",
        "RunInput": "mlcycle.entities:RunInput",
        "Transform": "mlcycle.entities:Transform",
        "Unique": "mlcycle.datasets._rules:Unique",
        "ValidationFailedError": "mlcycle.errors:ValidationFailedError",
        "ValidationRecord": "mlcycle.entities:ValidationRecord",
        "ValidationReport": "mlcycle.entities:ValidationReport",
        "children": "mlcycle.client.datasets:children",
        "clip_range": "mlcycle.client.datasets:clip_range",
        "delete": "mlcycle.client.datasets:delete",
        "delete_tag": "mlcycle.client.datasets:delete_tag",
        "derive": "mlcycle.client.datasets:derive",
        "diff_versions": "mlcycle.client.datasets:diff_versions",
        "drop_duplicates": "mlcycle.client.datasets:drop_duplicates",
        "drop_missing": "mlcycle.client.datasets:drop_missing",
        "filter_range": "mlcycle.client.datasets:filter_range",
        "get": "mlcycle.client.datasets:get",
        "impute_missing": "mlcycle.client.datasets:impute_missing",
        "inputs_of": "mlcycle.client.datasets:inputs_of",
        "list_datasets": "mlcycle.client.datasets:list_datasets",
        "list_versions": "mlcycle.client.datasets:list_versions",
        "load": "mlcycle.client.datasets:load",
        "load_rules": "mlcycle.datasets._rules:load_rules",
        "register": "mlcycle.client.datasets:register",
        "restore": "mlcycle.client.datasets:restore",
        "runs_of": "mlcycle.client.datasets:runs_of",
        "set_tags": "mlcycle.client.datasets:set_tags",
        "split": "mlcycle.client.datasets:split",
        "validate": "mlcycle.client.datasets:validate",
        "validations": "mlcycle.client.datasets:validations",
    },
)
