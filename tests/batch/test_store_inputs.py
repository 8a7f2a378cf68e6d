"""Models from the registry and runs, inputs from registered datasets, on each store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import mlcycle
import mlcycle.batch
import mlcycle.datasets as mds
from mlcycle.batch.sources import StreamSource
from mlcycle.entities.governance import RETIRED_REASON_TAG
from mlcycle.errors import ConflictError, ModelRetiredError, NotFoundError
from tests.batch.conftest import read_output
from tests.models._models import FEATURES, churn_frame
from tests.registry.conftest import log_version


@pytest.fixture
def sclient(store_url: str, tmp_path: Path) -> Iterator[mlcycle.Client]:
    """A client over an empty store (SQLite or PostgreSQL) with local artifacts."""
    with mlcycle.Client(store_url, str(tmp_path / "artifacts")) as c:
        yield c


@pytest.fixture
def customers() -> pd.DataFrame:
    data = churn_frame(250, seed=7)
    data["customer"] = [f"c{i:03d}" for i in range(len(data))]
    return data


def test_registered_model_on_a_registered_dataset(
    sclient: mlcycle.Client, customers: pd.DataFrame, tmp_path: Path
) -> None:
    log_version(sclient)
    v2 = log_version(sclient)
    mlcycle.registry.set_alias("churn", "champion", 1, client=sclient)
    mds.register("customers", customers.iloc[:10], client=sclient)
    mds.register("customers", customers, client=sclient)
    out = tmp_path / "scores.parquet"
    result = mlcycle.batch.predict(
        "models:/churn@champion",
        "customers@2",
        out,
        chunk_rows=64,
        keep=["customer"],
        model_columns=True,
        client=sclient,
    )
    assert result.model.uri == "models:/churn/1"  # the alias, resolved
    assert (result.model.name, result.model.version) == ("churn", 1)
    written = read_output(out)
    assert written["customer"].tolist() == customers["customer"].tolist()
    model = mlcycle.models.load("models:/churn/1", client=sclient)
    np.testing.assert_array_equal(written["prediction"].to_numpy(), model.predict(customers))
    assert set(written["model_version"]) == {1}
    meta = pq.read_schema(out).metadata
    assert meta[b"mlcycle.model_name"] == b"churn"
    assert meta[b"mlcycle.model_version"] == b"1"
    assert meta[b"mlcycle.input"] == b"dataset customers@2"

    latest = mlcycle.batch.predict("models:/churn/latest", "customers", out, client=sclient)
    assert latest.rows == len(customers)  # NAME is the dataset's latest version
    assert latest.model.version == 2
    by_run = mlcycle.batch.predict(
        v2.uri, mds.get("customers", 1, client=sclient), out, client=sclient
    )
    assert by_run.rows == 10
    assert by_run.model.uri == v2.uri
    assert by_run.model.run_id == v2.run_id


@pytest.mark.parametrize("status", ["retired", "failed"])
def test_retired_and_failed_versions_are_refused(
    sclient: mlcycle.Client, customers: pd.DataFrame, tmp_path: Path, status: str
) -> None:
    log_version(sclient)
    mlcycle.registry.update_version(
        "churn", 1, tags={RETIRED_REASON_TAG: "leaks the label"}, client=sclient
    )
    mlcycle.registry.set_status("churn", 1, status, client=sclient)
    source = tmp_path / "in.parquet"
    customers.to_parquet(source)
    with pytest.raises(ConflictError, match=f"churn/1 .* is {status}") as info:
        mlcycle.batch.predict("models:/churn/1", source, tmp_path / "o.parquet", client=sclient)
    assert info.value.field == "model"
    assert isinstance(info.value, ModelRetiredError) == (status == "retired")
    assert ("(leaks the label)" in str(info.value)) == (status == "retired")
    assert not (tmp_path / "o.parquet").exists()


def test_archived_versions_still_predict(
    sclient: mlcycle.Client, customers: pd.DataFrame, tmp_path: Path
) -> None:
    log_version(sclient)
    mlcycle.registry.set_status("churn", 1, "archived", client=sclient)
    source = tmp_path / "in.parquet"
    customers.to_parquet(source)
    result = mlcycle.batch.predict(
        "models:/churn/1", source, tmp_path / "o.parquet", client=sclient
    )
    assert result.rows == len(customers)


def test_missing_model_version_and_dataset_version(
    sclient: mlcycle.Client, customers: pd.DataFrame, tmp_path: Path
) -> None:
    log_version(sclient)
    mds.register("customers", customers, client=sclient)
    out = tmp_path / "o.parquet"
    with pytest.raises(NotFoundError, match="churn"):
        mlcycle.batch.predict("models:/churn/9", "customers", out, client=sclient)
    with pytest.raises(NotFoundError, match="nor a registered dataset"):
        mlcycle.batch.predict("models:/churn/1", "customers@5", out, client=sclient)


def test_a_dataset_streamed_from_a_remote_store_gives_the_same_chunks(
    sclient: mlcycle.Client, customers: pd.DataFrame
) -> None:
    """Datasets in a store without local paths are streamed; strings come back as strings."""
    version = mds.register("customers", customers, client=sclient)
    stream = sclient.datasets.stream(version)
    source = StreamSource(stream, {"digest": version.digest})
    assert source.num_rows == len(customers)
    chunks = list(source.chunks(chunk_rows=100, columns=[*FEATURES, "customer"]))
    assert [(c.index, c.start, c.data.num_rows) for c in chunks] == [
        (0, 0, 100),
        (1, 100, 100),
        (2, 200, 50),
    ]
    joined = pd.concat([c.data.to_pandas() for c in chunks], ignore_index=True)
    assert joined["customer"].tolist() == customers["customer"].tolist()
    assert str(source.schema.field("plan").type) == "string"
    skipped = list(source.chunks(chunk_rows=100, columns=["customer"], skip={0, 2}))
    assert [c.index for c in skipped] == [1]
    assert skipped[0].data.column("customer")[0].as_py() == "c100"
