"""Registering datasets through ``mlcycle.datasets``: content addressing, loading, and bad
input that leaves nothing behind. On SQLite and PostgreSQL."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

import mlcycle
import mlcycle.datasets as mds
from mlcycle.datasets.reading import BatchStream
from mlcycle.errors import InvalidInputError, NotFoundError
from mlcycle.store.sql.store import SqlStore
from tests.conftest import local_backend
from tests.datasets.conftest import frame, row_counts, stored_files

NOTHING = {
    "datasets": 0,
    "dataset_versions": 0,
    "dataset_version_parents": 0,
    "dataset_validations": 0,
    "dataset_sources": 0,
    "run_inputs": 0,
}


def test_register_returns_a_complete_version(dclient: mlcycle.Client, artifact_root: Path) -> None:
    df = frame()
    v = mds.register("churn", df, description="first cut", tags={"team": "growth"})
    assert (v.name, v.version, v.num_rows, v.num_columns) == ("churn", 1, 200, 5)
    assert len(v.digest) == 64
    assert v.columns == ["id", "x", "label", "user", "ts"]
    assert [c.logical_type for c in v.schema] == [
        "integer",
        "float",
        "string",
        "integer",
        "datetime",
    ]
    assert v.profile.num_rows == 200
    assert v.profile.column("x").missing_count == int(df["x"].isna().sum())
    assert v.description == "first cut"
    assert v.tags == {"team": "growth"}
    assert v.created_at > 0
    assert v.storage_key == f"datasets/{v.digest[:2]}/{v.digest}.parquet"
    assert v.storage_uri == (artifact_root / v.storage_key).as_uri()
    assert stored_files(artifact_root) == [v.storage_key]
    assert v.size_bytes == (artifact_root / v.storage_key).stat().st_size
    assert mds.get("churn") == v
    assert mds.get("churn", 1) == v


def test_same_content_is_the_same_version_and_one_file(
    dclient: mlcycle.Client, artifact_root: Path, tmp_path: Path, store: SqlStore
) -> None:
    df = frame()
    first = mds.register("churn", df)
    assert mds.register("churn", df.copy()).id == first.id
    parquet = tmp_path / "churn.parquet"
    df.to_parquet(parquet)
    assert mds.register("churn", parquet).id == first.id
    assert mds.register("churn", parquet).id == first.id  # known file: not decoded again
    assert mds.register("churn", pa.Table.from_pandas(df)).id == first.id
    assert [v.version for v in mds.list_versions("churn")] == [1]
    assert stored_files(artifact_root) == [first.storage_key]
    assert row_counts(store)["dataset_versions"] == 1
    assert row_counts(store)["dataset_sources"] == 1  # the Parquet file's fingerprint


def test_csv_of_the_same_rows_and_types_is_the_same_version(
    dclient: mlcycle.Client, tmp_path: Path
) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"], "c": [0.5, np.nan, 2.0]})
    csv = tmp_path / "small.csv"
    df.to_csv(csv, index=False)
    assert mds.register("small", csv).id == mds.register("small", df).id


def test_same_content_under_another_name_shares_the_file(
    dclient: mlcycle.Client, artifact_root: Path
) -> None:
    df = frame()
    a = mds.register("a", df)
    b = mds.register("b", df)
    assert (b.name, b.version) == ("b", 1)
    assert b.id != a.id
    assert b.digest == a.digest
    assert b.storage_key == a.storage_key
    assert b.profile == a.profile
    assert stored_files(artifact_root) == [a.storage_key]


def test_new_content_is_the_next_version(dclient: mlcycle.Client) -> None:
    mds.register("churn", frame(seed=1))
    v2 = mds.register("churn", frame(seed=2))
    assert v2.version == 2
    assert mds.get("churn").version == 2
    assert mds.get("churn", 1).digest != v2.digest


def test_load_round_trip_pandas_and_arrow(dclient: mlcycle.Client) -> None:
    df = frame()
    v = mds.register("churn", df)
    loaded = v.load()
    assert isinstance(loaded, pd.DataFrame)
    pd.testing.assert_frame_equal(loaded, df, check_dtype=False)
    assert list(loaded.dtypes.astype(str))[:2] == ["int64", "float64"]
    table = v.load("arrow")
    assert isinstance(table, pa.Table)
    assert table.num_rows == 200
    assert table.schema.field("label").type == pa.string()
    assert mds.load("churn", columns=["id", "label"]).columns.tolist() == ["id", "label"]
    assert mds.load(v, format="arrow", columns=["x"]).column_names == ["x"]
    with pytest.raises(InvalidInputError, match="unknown column"):
        v.load(columns=["nope"])
    with pytest.raises(InvalidInputError, match="format"):
        v.load("excel")  # type: ignore[call-overload]


def test_categories_survive_the_round_trip(dclient: mlcycle.Client) -> None:
    df = pd.DataFrame({"c": pd.Categorical(["lo", "hi", "lo"]), "n": [1, 2, 3]})
    v = mds.register("cats", df)
    assert v.schema[0].logical_type == "categorical"
    assert isinstance(v.load()["c"].dtype, pd.CategoricalDtype)


def test_parquet_and_csv_paths(dclient: mlcycle.Client, tmp_path: Path) -> None:
    parquet = tmp_path / "p.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3]}), parquet)
    csv = tmp_path / "c.csv.gz"
    pd.DataFrame({"a": [4, 5]}).to_csv(csv, index=False)
    assert mds.register("p", parquet).load()["a"].tolist() == [1, 2, 3]
    assert mds.register("c", str(csv)).load()["a"].tolist() == [4, 5]


def test_a_version_pickles_without_its_loader(dclient: mlcycle.Client) -> None:
    v = mds.register("churn", frame())
    copy = pickle.loads(pickle.dumps(v))
    assert copy == v
    assert copy.loader is None
    with pytest.raises(InvalidInputError, match=r"mlcycle\.datasets\.load"):
        copy.load()
    assert mds.load(copy).shape == (200, 5)


def test_notebook_display(dclient: mlcycle.Client) -> None:
    v = mds.register("churn", frame())
    html = v._repr_html_()
    assert "<b>churn</b>" in html
    assert "200 × 5" in html
    assert "<table" in v.profile._repr_html_()


# -- bad input: a clear error and nothing stored ---------------------------------------------


def _assert_nothing_stored(store: SqlStore, root: Path) -> None:
    assert row_counts(store) == NOTHING
    assert stored_files(root) == []


def test_corrupt_parquet_file(
    dclient: mlcycle.Client, store: SqlStore, artifact_root: Path, tmp_path: Path
) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InvalidInputError, match=r"broken\.parquet"):
        mds.register("broken", path)
    _assert_nothing_stored(store, artifact_root)


def test_truncated_parquet_file(
    dclient: mlcycle.Client, store: SqlStore, artifact_root: Path, tmp_path: Path
) -> None:
    path = tmp_path / "cut.parquet"
    frame().to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInputError, match=r"cut\.parquet"):
        mds.register("cut", path)
    _assert_nothing_stored(store, artifact_root)


def test_missing_unsupported_and_empty_inputs(
    dclient: mlcycle.Client, store: SqlStore, artifact_root: Path, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("a,b\n")
    cases: list[tuple[object, str]] = [
        (tmp_path / "nope.parquet", "file not found"),
        (text, "unsupported file type"),
        ([1, 2, 3], "unsupported data type builtins.list"),
        (pd.DataFrame({"a": []}), "no rows"),
        (pd.DataFrame(), "no columns"),
        (pa.table({"a": pa.array([], pa.int64())}), "no rows"),
        (empty_csv, "no rows"),
    ]
    for data, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            mds.register("bad", data)
    _assert_nothing_stored(store, artifact_root)


def test_mixed_type_columns_are_named(
    dclient: mlcycle.Client, store: SqlStore, artifact_root: Path
) -> None:
    df = pd.DataFrame({"ok": [1, 2, 3], "m1": [1, "a", 2.5], "m2": ["x", 3, None]})
    with pytest.raises(InvalidInputError) as info:
        mds.register("mixed", df)
    assert "'m1'" in info.value.message
    assert "'m2'" in info.value.message
    assert "'ok'" not in info.value.message
    _assert_nothing_stored(store, artifact_root)


def test_bad_names_and_values(dclient: mlcycle.Client) -> None:
    for name in ("", " x", "a b", "x:1", "../up", "a" * 201):
        with pytest.raises(InvalidInputError, match="dataset name"):
            mds.register(name, frame())
    with pytest.raises(InvalidInputError, match="tag key"):
        mds.register("ok", frame(), tags={"bad key!": "v"})
    with pytest.raises(NotFoundError, match="no dataset named 'ghost'"):
        mds.get("ghost")
    with pytest.raises(InvalidInputError, match="version must be an integer"):
        mds.get("ghost", "1")  # type: ignore[arg-type]


def test_a_source_failing_midway_leaves_nothing(
    dclient: mlcycle.Client, store: SqlStore, artifact_root: Path
) -> None:
    batch = pa.record_batch([pa.array(np.arange(1_000))], names=["a"])

    def batches() -> Iterator[pa.RecordBatch]:
        yield batch
        yield batch
        raise InvalidInputError("the source broke", field="data")

    stream = BatchStream(batch.schema, batches, num_rows=None, source="broken")
    with pytest.raises(InvalidInputError, match="the source broke"):
        mds.register("broken", stream)
    _assert_nothing_stored(store, artifact_root)


def test_a_failing_metadata_write_removes_the_file(
    dclient: mlcycle.Client,
    store: SqlStore,
    artifact_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise mlcycle.StoreError("the database went away")

    monkeypatch.setattr(local_backend(dclient).dataset_service.repository, "create_version", fail)
    with pytest.raises(mlcycle.StoreError, match="went away"):
        mds.register("churn", frame())
    _assert_nothing_stored(store, artifact_root)


def test_a_lost_file_is_written_again(dclient: mlcycle.Client, artifact_root: Path) -> None:
    a = mds.register("a", frame())
    (artifact_root / a.storage_key).unlink()
    with pytest.raises(mlcycle.ArtifactNotFoundError, match="the data file of a@1 is missing"):
        a.load()
    b = mds.register("b", frame())
    assert b.digest == a.digest
    assert (artifact_root / a.storage_key).is_file()
    assert a.load().shape == (200, 5)
    (artifact_root / a.storage_key).unlink()
    assert mds.register("a", frame()).id == a.id  # the same version, its file written again
    assert a.load().shape == (200, 5)


def test_concurrent_registrations_of_the_same_content_make_one_version(
    dclient: mlcycle.Client, artifact_root: Path, store: SqlStore
) -> None:
    import concurrent.futures

    df = frame(2_000)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: mds.register("churn", df).id, range(4)))
    assert len(set(found)) == 1
    assert row_counts(store)["dataset_versions"] == 1
    assert len(stored_files(artifact_root)) == 1


def test_log_input_on_every_backend(client: mlcycle.Client) -> None:
    # A tracking server's client registers and records dataset inputs as a store's does.
    with client.start_run("churn", capture_environment=False) as run:
        version = mds.register("churn", frame(), client=client)
        assert run.log_input(version).name == "churn"
    assert [i.run_id for i in mds.runs_of(version, client=client)] == [run.id]
