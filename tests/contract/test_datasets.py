"""The datasets contract: register (upload), read, load (download), validate, split,
clean, lineage, tags and run inputs, the same locally and through a server."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import mlcycle.datasets as mds
from mlcycle.errors import InvalidInputError, NotFoundError, ValidationFailedError
from tests.contract.conftest import Platform
from tests.datasets._data import mixed_frame

RULES = """
rules:
  - not_null: {column: normal, max_share: 0.01}
  - in_range: {column: small_int, min: -5, max: 5}
"""


def test_register_get_list_load(platform: Platform, tmp_path: Path) -> None:
    ds = platform.datasets
    frame = mixed_frame(500)
    v1 = ds.register("people/train", frame, description="first", tags={"src": "gen"})
    assert (v1.name, v1.version, v1.num_rows) == ("people/train", 1, 500)
    assert v1.description == "first"
    assert v1.tags == {"src": "gen"}
    assert [c.name for c in v1.schema] == list(frame.columns)
    assert v1.profile.num_rows == 500
    again = ds.register("people/train", frame)
    assert again.version == 1  # the same rows are the same version
    path = tmp_path / "more.parquet"
    mixed_frame(300, seed=1).to_parquet(path)
    v2 = ds.register("people/train", path)
    assert v2.version == 2
    assert ds.get("people/train").version == 2
    assert ds.get("people/train", 1) == v1
    assert ds.get_by_id(v2.id) == v2
    assert [v.version for v in ds.list_versions("people/train")] == [1, 2]
    assert [d.name for d in ds.list_datasets()] == ["people/train"]
    loaded = ds.load(v1)
    pd.testing.assert_frame_equal(loaded, frame, check_dtype=False, check_categorical=False)
    table = ds.load(v1, "arrow", ["id", "city"])
    assert isinstance(table, pa.Table)
    assert table.column_names == ["id", "city"]
    assert ds.get("people/train", 1).load().shape == (500, 6)
    assert sum(b.num_rows for b in ds.stream(v2)) == 300
    csv = tmp_path / "small.csv"
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_csv(csv, index=False)
    assert ds.register("small", csv).num_rows == 3


def test_refusals_match(platform: Platform, tmp_path: Path) -> None:
    ds = platform.datasets
    with pytest.raises(InvalidInputError, match="must have 1 to") as bad:
        ds.register("../x", mixed_frame(10))
    assert bad.value.field == "name"
    with pytest.raises(InvalidInputError, match="file not found") as missing:
        ds.register("x", tmp_path / "nope.parquet")
    assert missing.value.field == "data"
    with pytest.raises(NotFoundError):
        ds.get("nope")
    v = ds.register("x", mixed_frame(10))
    with pytest.raises(InvalidInputError, match="unknown column") as column:
        ds.load(v, columns=["zzz"])
    assert column.value.field == "columns"
    with pytest.raises(InvalidInputError, match="format must be"):
        ds.load(v, "polars")


def test_validation_rules_and_refusal(platform: Platform, tmp_path: Path) -> None:
    ds = platform.datasets
    frame = mixed_frame(400)
    checked = ds.register("people", frame, rules=RULES)
    assert checked.validation is not None
    assert not checked.validation.passed
    with pytest.raises(ValidationFailedError, match="not_null") as refused:
        ds.register("people", mixed_frame(400, seed=5), rules=RULES, refuse_on_failure=True)
    assert not refused.value.report.passed
    assert [v.version for v in ds.list_versions("people")] == [1]
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("rules:\n  - unique: id\n")
    report = ds.validate(checked, rules_file)
    assert report.passed
    assert len(ds.validations(checked)) == 2


def test_split_clean_lineage_diff(platform: Platform) -> None:
    ds = platform.datasets
    v = ds.register("people", mixed_frame(1000))
    parts = ds.split(v, test=0.25, seed=1)
    assert sorted(parts) == ["test", "train"]
    assert parts["test"].num_rows + parts["train"].num_rows == 1000
    assert parts["test"].name == "people-test"
    assert parts["test"].parents[0].parent_id == v.id
    cleaned = ds.clean(v, "drop_missing", name="people-clean")
    assert cleaned.num_rows < 1000
    assert {c.child_name for c in ds.children(v)} == {"people-test", "people-train", "people-clean"}
    diff = ds.diff(v, cleaned)
    assert (diff.old_rows, diff.new_rows) == (1000, cleaned.num_rows)
    derived = ds.derive("people-top", v, mixed_frame(10), "head", params={"n": 10})
    assert derived.parents[0].transform.name == "head"
    with pytest.raises(InvalidInputError, match="unknown cleaning 'boil'"):
        ds.clean(v, "boil")


def test_delete_restore_tags_inputs(platform: Platform) -> None:
    ds = platform.datasets
    v1 = ds.register("people", mixed_frame(50))
    v2 = ds.register("people", mixed_frame(60, seed=2))
    ds.delete("people", 2)
    assert [v.version for v in ds.list_versions("people")] == [1]
    assert [v.version for v in ds.list_versions("people", include_deleted=True)] == [1, 2]
    ds.restore("people", 2)
    assert ds.get("people").version == 2
    ds.set_tags(v1, {"owner": "ana", "n": 3})
    assert ds.get("people", 1).tags == {"owner": "ana", "n": "3"}
    ds.delete_tag(v1, "n")
    assert ds.get("people", 1).tags == {"owner": "ana"}
    with platform.tracking.start_run("exp", capture_environment=False) as run:
        run_id = run.id
    used = ds.log_input(run_id, v2, "eval")
    assert (used.run_id, used.version, used.context) == (run_id, 2, "eval")
    assert [i.version_id for i in ds.inputs_of(run_id)] == [v2.id]
    assert [i.run_id for i in ds.runs_of(v2)] == [run_id]
    with pytest.raises(InvalidInputError, match="log_input takes a DatasetVersion"):
        ds.log_input(run_id, "people@2")


def test_rule_objects_travel_as_yaml(platform: Platform) -> None:
    """Built-in rule objects validate alike everywhere; a Custom rule (Python code) runs
    in-process only, and a server refuses it before anything is sent."""
    ds = platform.datasets
    v = ds.register("people", mixed_frame(200))
    rules = [mds.Unique("id"), mds.InRange("small_int", min=-5), mds.RowCount(min=300)]
    report = ds.validate(v, rules)
    assert [(r.rule, r.passed) for r in report.results] == [
        ("unique(id)", True),
        ("in_range(small_int, min=-5)", True),
        ("row_count(min=300)", False),
    ]
    custom = [mds.Custom("small", lambda batch: batch["small_int"] < 200)]
    if platform.remote:
        with pytest.raises(InvalidInputError, match="rule objects are Python") as refused:
            ds.validate(v, custom)
        assert refused.value.field == "rules"
    else:
        assert ds.validate(v, custom).passed
