"""Data quality of a window against the reference: missing values, range, unseen
categories, schema violations; odd data gives per-column statuses, never an exception."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from mlcycle.datasets.profile import profile
from mlcycle.monitoring.quality import QualityThresholds, data_quality, reference_stats

REFERENCE = pd.DataFrame(
    {
        "age": np.arange(100, dtype=float),  # 0..99
        "plan": ["basic", "plus", "pro", "basic"] * 25,
        "flag": [True, False] * 50,
        "income": [np.nan] * 10 + list(np.linspace(1.0, 2.0, 90)),  # 10% missing
    }
)
FEATURES = ["age", "plan", "flag", "income"]


def test_a_window_like_the_reference_has_no_issue() -> None:
    stats = reference_stats(REFERENCE)
    section = data_quality(stats, REFERENCE.iloc[::2], features=FEATURES)
    assert section["issues"] == 0
    assert {c["status"] for c in section["columns"].values()} == {"ok"}
    assert section["columns"]["income"]["reference_missing_share"] == 0.1


def test_missing_range_and_unseen_categories_are_counted() -> None:
    stats = reference_stats(REFERENCE)
    current = pd.DataFrame(
        {
            "age": [5.0, 50.0, 150.0, -3.0, np.nan, np.nan, np.nan, 7.0, 8.0, 9.0],
            "plan": [
                "basic",
                "gold",
                "gold",
                "platinum",
                "pro",
                None,
                "plus",
                "pro",
                "pro",
                "basic",
            ],
            "flag": [True] * 10,
            "income": [1.5] * 10,
        }
    )
    section = data_quality(stats, current, features=FEATURES)
    age = section["columns"]["age"]
    assert age["missing_share"] == 0.3
    assert (age["out_of_range"], age["reference_min"], age["reference_max"]) == (2, 0.0, 99.0)
    assert [i.split(":")[0] for i in age["issues"]] == ["missing", "range"]
    plan = section["columns"]["plan"]
    assert (plan["unseen"], plan["unseen_categories"]) == (3, ["gold", "platinum"])
    assert [i.split(":")[0] for i in plan["issues"]] == ["missing", "categories"]
    assert section["columns"]["flag"]["status"] == "ok"  # one value seen before is fine
    assert section["issues"] == 4


def test_thresholds_decide_what_is_a_breach() -> None:
    stats = reference_stats(REFERENCE)
    current = REFERENCE.head(100).assign(age=[200.0] + [1.0] * 99)  # 1% out of range
    assert data_quality(stats, current, features=FEATURES)["issues"] == 0
    strict = QualityThresholds(out_of_range_share=0.0)
    assert data_quality(stats, current, features=FEATURES, thresholds=strict)["issues"] == 1


def test_schema_violations_per_column() -> None:
    stats = reference_stats(REFERENCE)
    current = pd.DataFrame(
        {
            "age": ["12", "abc", 5, None],  # one value that is not a number
            "plan": ["basic"] * 4,
            "extra": [1, 2, 3, 4],
        }
    )
    section = data_quality(stats, current, features=FEATURES)
    assert section["missing_columns"] == ["flag", "income"]
    assert section["new_columns"] == ["extra"]
    assert section["columns"]["flag"]["status"] == "missing_column"
    assert section["columns"]["extra"]["status"] == "new_column"
    age = section["columns"]["age"]
    assert age["type_violations"] == 1
    assert [i.split(":")[0] for i in age["issues"]] == ["missing", "schema"]


def test_odd_data_never_raises() -> None:
    constant = pd.DataFrame({"x": [1.0] * 20, "y": [np.nan] * 20, "z": ["a"] * 20})
    stats = reference_stats(constant)
    assert stats.columns["y"].min is None
    assert stats.columns["y"].missing_share == 1.0
    empty = constant.iloc[0:0]
    section = data_quality(stats, empty, features=["x", "y", "z"])
    assert section["rows"] == 0
    assert section["issues"] == 0
    nans = pd.DataFrame({"x": [np.inf, -np.inf, 1.0], "y": [1.0, 2.0, 3.0], "z": [1, 2, 3]})
    section = data_quality(stats, nans, features=["x", "y", "z"])
    assert section["columns"]["y"]["out_of_range"] == 0  # no reference range to judge by
    assert section["columns"]["z"]["unseen"] == 3


def test_the_stored_profile_supplies_missing_shares() -> None:
    stored = profile(pa.Table.from_pandas(REFERENCE.assign(income=[np.nan] * 40 + [1.0] * 60)))
    stats = reference_stats(REFERENCE, stored)
    assert stats.columns["income"].missing_share == 0.4  # the profile's, not recomputed
    assert stats.columns["age"].max == 99.0
