"""Derived versions, cleanings, splits, runs that used versions, and diffs; on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest

import mlcycle
import mlcycle.datasets as mds
from mlcycle.datasets.splitting import split_indices
from mlcycle.errors import InvalidInputError, NotFoundError
from tests.datasets.conftest import frame, stored_files


def add_ratio(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(ratio=df["x"] / 2)


def test_derive_records_parents_and_transform(dclient: mlcycle.Client) -> None:
    raw = mds.register("raw", frame())
    extra = mds.register("extra", frame(seed=5))
    derived = mds.derive(
        "features", [raw, extra], add_ratio(raw.load()), add_ratio, params={"k": 2}
    )
    assert (derived.name, derived.version) == ("features", 1)
    assert [(p.parent_name, p.parent_version) for p in derived.parents] == [
        ("raw", 1),
        ("extra", 1),
    ]
    step = derived.parents[0].transform
    assert step.name == "add_ratio"
    assert step.params == {"k": 2}
    assert step.code_ref == f"{__name__}:add_ratio"
    assert [(c.child_name, c.child_version) for c in mds.children(raw)] == [("features", 1)]
    assert mds.get("features").parents == derived.parents
    named = mds.derive("features", raw, raw.load().head(10), "head", code_ref="git:abc123:prep.py")
    assert named.parents[0].transform == mds.Transform(
        name="head", params={}, code_ref="git:abc123:prep.py"
    )


def test_derive_checks_its_arguments(dclient: mlcycle.Client) -> None:
    raw = mds.register("raw", frame())
    with pytest.raises(InvalidInputError, match="parents"):
        mds.derive("d", [], frame(), "t")
    with pytest.raises(InvalidInputError, match="parents"):
        mds.derive("d", ["raw"], frame(), "t")  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="transform"):
        mds.derive("d", raw, frame(), 42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="transform"):
        mds.derive("d", raw, frame(), "bad name!")


def test_deriving_known_content_adds_the_lineage_to_that_version(dclient: mlcycle.Client) -> None:
    raw = mds.register("raw", frame())
    plain = mds.register("subset", frame().head(50))
    again = mds.derive("subset", raw, frame().head(50), "head")
    assert again.id == plain.id
    assert [p.parent_name for p in again.parents] == ["raw"]


def test_cleaning_helpers_make_new_versions_with_lineage(dclient: mlcycle.Client) -> None:
    df = frame()
    df = pd.concat([df, df.head(5)], ignore_index=True)
    raw = mds.register("raw", df)
    dedup = mds.drop_duplicates(raw)
    assert (dedup.name, dedup.version, dedup.num_rows) == ("raw", 2, 200)
    step = dedup.parents[0].transform
    assert step.name == "drop_duplicates"
    assert step.params["rows_before"] == 205
    assert step.params["rows_after"] == 200
    assert step.code_ref == "mlcycle.datasets.cleaning:drop_duplicates"
    filled = mds.impute_missing(dedup, {"x": "median", "label": mds.Constant("unknown")})
    assert filled.load()["x"].isna().sum() == 0
    fill = filled.parents[0].transform.params["details"]["fill_values"]
    assert fill["x"] == pytest.approx(float(np.nanmedian(dedup.load()["x"])))
    assert fill["label"] == "unknown"
    kept = mds.filter_range(filled, "x", min=-1, max=1, name="raw-core")
    assert kept.name == "raw-core"
    assert kept.load()["x"].between(-1, 1).all()
    clipped = mds.clip_range("raw-core", "id", max=100)
    assert clipped.load()["id"].max() <= 100
    dropped = mds.drop_missing(dedup, ["x"])
    assert dropped.num_rows == dedup.num_rows - int(dedup.load()["x"].isna().sum())
    # No change, no new version: the result is the parent itself.
    assert mds.drop_duplicates(dedup).id == dedup.id


def test_cleaning_to_no_rows_is_refused(dclient: mlcycle.Client, artifact_root: Path) -> None:
    raw = mds.register("raw", frame())
    with pytest.raises(InvalidInputError, match="no rows"):
        mds.filter_range(raw, "id", min=10_000)
    assert stored_files(artifact_root) == [raw.storage_key]


def test_split_is_reproducible_with_lineage(dclient: mlcycle.Client) -> None:
    df = frame(500)
    raw = mds.register("churn", df)
    parts = mds.split(raw, test=0.2, validation=0.1, stratify="label", seed=7)
    assert sorted(parts) == ["test", "train", "validation"]
    assert {k: v.name for k, v in parts.items()} == {
        "train": "churn-train",
        "test": "churn-test",
        "validation": "churn-validation",
    }
    assert sum(v.num_rows for v in parts.values()) == 500
    expected = split_indices(df, test=0.2, validation=0.1, stratify="label", seed=7)
    for name, version in parts.items():
        rows = version.load()
        assert rows["id"].tolist() == expected[name].tolist()
        edge = version.parents[0]
        assert (edge.parent_name, edge.parent_version) == ("churn", 1)
        assert edge.transform.name == "split"
        assert edge.transform.params["part"] == name
        assert edge.transform.params["seed"] == 7
    again = mds.split(raw, test=0.2, validation=0.1, stratify="label", seed=7)
    assert {k: v.id for k, v in again.items()} == {k: v.id for k, v in parts.items()}
    other = mds.split("churn", test=0.2, validation=0.1, stratify="label", seed=8)
    assert other["train"].version == 2
    assert len(mds.children(raw)) == 6


def test_split_by_group_and_time_and_name(dclient: mlcycle.Client) -> None:
    raw = mds.register("events", frame(300))
    by_group = mds.split(raw, test=0.3, group="user", name="events-g")
    train_users = set(by_group["train"].load()["user"])
    assert not train_users & set(by_group["test"].load()["user"])
    by_time = mds.split(raw, test=0.1, time="ts", name="events-t")
    assert by_time["test"].load()["ts"].min() > by_time["train"].load()["ts"].max()
    assert by_time["train"].name == "events-t-train"
    with pytest.raises(InvalidInputError, match="at most one"):
        mds.split(raw, stratify="label", group="user")
    with pytest.raises(InvalidInputError, match="unknown column"):
        mds.split(raw, stratify="nope")


def test_run_inputs_both_directions(dclient: mlcycle.Client) -> None:
    parts = mds.split(mds.register("churn", frame()), test=0.25)
    with mlcycle.start_run(experiment="churn", capture_environment=False) as run:
        first = run.log_input(parts["train"], context="train")
        run.log_input(parts["test"], context="eval")
        run.log_input(parts["train"], context="train")  # again: recorded once
    assert (first.run_id, first.name, first.version, first.context) == (
        run.id,
        "churn-train",
        1,
        "train",
    )
    inputs = mds.inputs_of(run.id)
    assert [(i.name, i.context) for i in inputs] == [
        ("churn-train", "train"),
        ("churn-test", "eval"),
    ]
    assert mds.inputs_of(run) == inputs
    assert [r.run_id for r in mds.runs_of(parts["train"])] == [run.id]
    assert mds.runs_of("churn") == []
    with pytest.raises(InvalidInputError, match="has ended"):
        run.log_input(parts["train"])
    with mlcycle.start_run(experiment="churn", capture_environment=False) as other:
        with pytest.raises(InvalidInputError, match="DatasetVersion"):
            other.log_input("churn-train")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="context"):
            other.log_input(parts["train"], context="bad context!")
    with pytest.raises(NotFoundError, match="no run"):
        mds.inputs_of("0" * 32)


def test_diff_of_two_versions(dclient: mlcycle.Client) -> None:
    df = frame()
    v1 = mds.register("churn", df)
    changed = df.drop(columns=["user"]).assign(x=df["x"] * 10, extra=1).head(150)
    v2 = mds.register("churn", changed)
    d = mds.diff_versions(v1, v2)
    assert (d.old_rows, d.new_rows) == (200, 150)
    assert d.schema.added_columns == ("extra",)
    assert d.schema.removed_columns == ("user",)
    assert "mean" in [m.metric for m in d.column("x").changes]
    same = mds.diff_versions("churn", v2)
    assert not same.has_changes


def test_validation_is_recorded_and_can_refuse(
    dclient: mlcycle.Client, artifact_root: Path, tmp_path: Path
) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "rules:\n"
        "  - column_present: id\n"
        "  - unique: id\n"
        "  - not_null: {column: x, max_share: 0.01}\n"
        "  - allowed_values: {column: label, values: ['yes', 'no']}\n"
    )
    df = frame()
    with pytest.raises(mlcycle.ValidationFailedError, match=r"not_null\(x") as info:
        mds.register("churn", df, rules=rules_file, refuse_on_failure=True)
    assert [r.rule for r in info.value.report.failures] == ["not_null(x, max_share=0.01)"]
    assert stored_files(artifact_root) == []
    with pytest.raises(NotFoundError):
        mds.get("churn")
    v = mds.register("churn", df, rules=rules_file)  # recorded, not refused
    assert v.validation is not None
    assert not v.validation.passed
    report = mds.validate(v, [mds.NotNull("x", max_share=0.1), mds.Unique("id")])
    assert report.passed
    assert mds.get("churn").validation == report
    assert [r.passed for r in mds.validations(v)] == [False, True]
    assert not mds.validate(v, "- in_range: {column: x, min: 0}", record=False).passed
    assert len(mds.validations(v)) == 2
    assert "<table" in report._repr_html_()
    ok = mds.register("clean", df.fillna({"x": 0.0}), rules=rules_file, refuse_on_failure=True)
    assert ok.validation is not None
    assert ok.validation.passed


def test_custom_python_rules(dclient: mlcycle.Client) -> None:
    v = mds.register("churn", frame())
    rule = mds.Custom("positive_id", lambda b: b["id"] >= 0)
    assert mds.validate(v, [rule]).passed
    arrow_rule = mds.Custom("small", lambda b: pa.compute.less(b.column("id"), 100), on="arrow")
    assert mds.validate(v, [arrow_rule]).failures[0].failing_rows == 100


def test_soft_delete_restore_and_tags(dclient: mlcycle.Client, artifact_root: Path) -> None:
    v1 = mds.register("churn", frame(seed=1))
    v2 = mds.register("churn", frame(seed=2))
    mds.delete("churn", 2)
    assert mds.get("churn").version == 1
    assert [v.version for v in mds.list_versions("churn")] == [1]
    assert [v.version for v in mds.list_versions("churn", include_deleted=True)] == [1, 2]
    with pytest.raises(NotFoundError, match="deleted"):
        mds.get("churn", 2)
    assert (artifact_root / v2.storage_key).is_file()  # soft: the data stays
    again = mds.register("churn", frame(seed=2))  # the same content comes back
    assert again.id == v2.id
    assert mds.get("churn").version == 2
    mds.delete("churn")
    assert mds.list_datasets() == []
    assert [d.name for d in mds.list_datasets(include_deleted=True)] == ["churn"]
    with pytest.raises(NotFoundError, match="deleted"):
        mds.get("churn")
    with pytest.raises(InvalidInputError, match="restore"):
        mds.register("churn", frame(seed=3))
    mds.restore("churn")
    mds.delete("churn", 1)
    mds.restore("churn", 1)
    assert mds.get("churn", 1).id == v1.id


def test_tags(dclient: mlcycle.Client) -> None:
    v = mds.register("churn", frame(), tags={"a": "1"})
    mds.set_tags(v, {"b": 2})
    assert mds.get("churn").tags == {"a": "1", "b": "2"}
    mds.delete_tag(v, "a")
    assert mds.get("churn").tags == {"b": "2"}
    with pytest.raises(NotFoundError, match="no tag 'a'"):
        mds.delete_tag(v, "a")
    again = mds.register("churn", frame(), tags={"c": "3"})  # same content: tags merged
    assert again.tags == {"b": "2", "c": "3"}
