"""Evidently 0.7's default method per column, at the boundaries of its rules; verdict
directions; per-column methods and thresholds; the dataset share."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from mlcycle.errors import InvalidInputError
from mlcycle.monitoring import ColumnKind, DriftMethod, ReferenceProfile, drift


def _method(ref: object, cur: object) -> DriftMethod | None:
    return drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))["x"].method


def _spread(n: int, distinct: int, offset: float = 0.0) -> npt.NDArray[np.float64]:
    return (np.arange(n) % distinct).astype(np.float64) + offset


@pytest.mark.parametrize(
    ("rows", "distinct", "expected"),
    [
        (1000, 6, DriftMethod.KS),
        (1000, 5, DriftMethod.CHISQUARE),
        (1000, 3, DriftMethod.CHISQUARE),
        (1000, 2, DriftMethod.Z),
        (1001, 6, DriftMethod.WASSERSTEIN),
        (1001, 5, DriftMethod.JENSENSHANNON),
        (1001, 2, DriftMethod.JENSENSHANNON),
    ],
)
def test_numeric_defaults_at_the_row_and_distinct_boundaries(
    rows: int, distinct: int, expected: DriftMethod
) -> None:
    assert _method(_spread(rows, distinct), _spread(200, distinct)) is expected


def test_distinct_values_count_both_samples_together() -> None:
    # 5 distinct values in the reference, a 6th only in the current data: KS, not chi-squared
    assert _method(_spread(500, 5), _spread(100, 6)) is DriftMethod.KS
    assert _method(_spread(1500, 5), _spread(100, 6)) is DriftMethod.WASSERSTEIN


def test_the_row_rule_counts_reference_values_left_after_dropping_nan_and_inf() -> None:
    ref = _spread(1200, 50)
    ref[:150] = np.nan
    ref[150:200] = np.inf  # 1000 values remain
    report = drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": _spread(300, 50)}))
    assert report["x"].method is DriftMethod.KS
    assert report["x"].reference_rows == 1000


@pytest.mark.parametrize(
    ("rows", "values", "expected"),
    [
        (1000, ["a", "b", "c"], DriftMethod.CHISQUARE),
        (1000, ["a", "b"], DriftMethod.Z),
        (1001, ["a", "b", "c"], DriftMethod.JENSENSHANNON),
    ],
)
def test_categorical_defaults(rows: int, values: list[str], expected: DriftMethod) -> None:
    ref = [values[i % len(values)] for i in range(rows)]
    assert _method(ref, values * 10) is expected


def test_integers_with_at_most_ten_distinct_values_are_categorical() -> None:
    ref = pd.DataFrame({"few": np.arange(2000) % 10, "many": np.arange(2000) % 11})
    report = drift(ref, ref)
    assert report["few"].kind is ColumnKind.CATEGORICAL
    assert report["few"].method is DriftMethod.JENSENSHANNON
    assert report["many"].kind is ColumnKind.NUMERIC
    assert report["many"].method is DriftMethod.WASSERSTEIN


def test_booleans_are_categorical() -> None:
    ref = pd.DataFrame({"b": [True, False] * 300})
    report = drift(ref, pd.DataFrame({"b": [True] * 100}))
    assert report["b"].kind is ColumnKind.CATEGORICAL
    assert report["b"].method is DriftMethod.Z
    assert report["b"].drifted is True


def test_binned_methods_switch_to_sturges_bins_above_twenty_reference_values() -> None:
    ref20 = pd.DataFrame({"x": _spread(2000, 20)})
    ref21 = pd.DataFrame({"x": _spread(2000, 21)})
    cur = pd.DataFrame({"x": _spread(500, 21)})
    per_value = drift(ref20, cur, method="psi")["x"]
    sturges = drift(ref21, cur, method="psi")["x"]
    assert per_value.distribution is not None
    assert sturges.distribution is not None
    # 20 reference values: one bin per value of both samples (the 21st is empty in the
    # reference); 21: Sturges bins (ceil(log2(2500) + 1) = 13)
    assert per_value.score is not None
    assert per_value.score > 0.1
    assert sturges.score is not None
    assert sturges.score < per_value.score


def test_verdict_directions() -> None:
    assert DriftMethod.KS.is_drift(0.05, 0.05) is True  # KS: p <= threshold
    assert DriftMethod.CHISQUARE.is_drift(0.05, 0.05) is False  # others: p < threshold
    assert DriftMethod.Z.is_drift(0.049, 0.05) is True
    assert DriftMethod.WASSERSTEIN.is_drift(0.1, 0.1) is True  # distances: >= threshold
    assert DriftMethod.PSI.is_drift(0.0999, 0.1) is False


def test_methods_and_thresholds_per_column() -> None:
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    cur = pd.DataFrame({"a": rng.normal(0.15, 1, 3000), "b": rng.normal(0.15, 1, 3000)})
    report = drift(ref, cur, method={"a": "ks"}, threshold={"b": 0.5})
    assert report["a"].method is DriftMethod.KS
    assert report["a"].threshold == 0.05
    assert report["b"].method is DriftMethod.WASSERSTEIN
    assert report["b"].threshold == 0.5
    assert report["b"].drifted is False
    everywhere = drift(ref, cur, method="psi", threshold=0.01)
    assert {c.method for c in everywhere.columns.values()} == {DriftMethod.PSI}
    assert {c.threshold for c in everywhere.columns.values()} == {0.01}


def test_dataset_drifts_when_half_the_compared_columns_drift() -> None:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({k: rng.normal(size=2000) for k in "abcd"})
    cur = ref.copy()
    cur["a"] += 1.0
    assert drift(ref, cur).share == 0.25
    assert drift(ref, cur).drifted is False
    cur["b"] += 1.0
    report = drift(ref, cur)
    assert (report.share, report.drifted, report.drifted_columns) == (0.5, True, ["a", "b"])
    assert drift(ref, cur, drift_share=0.75).drifted is False


def test_a_profile_gives_the_same_report_as_the_frame() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": rng.normal(size=4000), "c": rng.choice(list("abc"), 4000)})
    cur = pd.DataFrame({"x": rng.normal(0.2, 1, 3000), "c": rng.choice(list("abcd"), 3000)})
    profile = ReferenceProfile.from_frame(ref)
    assert drift(profile, cur).to_dict() == drift(ref, cur).to_dict()
    assert drift(profile, cur.head(500)).to_dict() == drift(ref, cur.head(500)).to_dict()


def test_columns_limits_the_comparison() -> None:
    ref = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    report = drift(ref, ref, columns=["b"])
    assert list(report.columns) == ["b"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "anderson"}, "method"),
        ({"method": {"a": "nope"}}, "method['a']"),
        ({"method": {"zz": "ks"}}, "method"),
        ({"method": 3}, "method"),
        ({"threshold": -0.1}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"threshold": "0.1"}, "threshold"),
        ({"threshold": {"a": True}}, "threshold['a']"),
        ({"columns": "a"}, "columns"),
        ({"columns": ["a", "a"]}, "columns"),
        ({"columns": ["nowhere"]}, "columns"),
        ({"drift_share": 1.5}, "drift_share"),
    ],
)
def test_bad_arguments_name_their_field(kwargs: dict[str, object], field: str) -> None:
    ref = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidInputError) as caught:
        drift(ref, ref, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert field.split("[")[0] in str(caught.value)


@pytest.mark.parametrize("bad", [[1, 2, 3], "data.parquet", 42, None])
def test_inputs_that_are_not_tables_are_refused(bad: object) -> None:
    ok = pd.DataFrame({"a": [1.0]})
    with pytest.raises(InvalidInputError, match="expected a pandas DataFrame") as caught:
        drift(bad, ok)
    assert caught.value.field == "reference"
    with pytest.raises(InvalidInputError) as caught:
        drift(ok, bad)
    assert caught.value.field == "current"
