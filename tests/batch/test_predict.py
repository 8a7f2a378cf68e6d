"""``mlcycle.batch.predict``: the same predictions as the model, whatever the chunking,
the input format or the way the model is fed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlcycle
import mlcycle.batch
from mlcycle.batch import PredictionFailedError, ThreadExecutor
from mlcycle.batch.parts import parts_dir
from mlcycle.errors import InvalidInputError
from tests.batch.conftest import NUMERIC, expected, numeric_frame, read_output, save
from tests.models._models import FEATURES, NanModel, churn_frame


@pytest.mark.parametrize("chunk_rows", [7, 128, 300, 1000, 5000])
def test_predictions_equal_the_models_own(
    array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path, chunk_rows: int
) -> None:
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(
        array_model, parquet_input, out, chunk_rows=chunk_rows, keep=["id"], workers=2
    )
    labels, proba = expected(array_model, frame)
    written = read_output(out)
    assert list(written.columns) == ["id", "prediction", "proba_0", "proba_1", "proba_2"]
    assert written["id"].tolist() == list(range(1000))  # input order
    np.testing.assert_array_equal(written["prediction"].to_numpy(), labels)
    np.testing.assert_allclose(written[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)
    assert result.rows == 1000
    assert result.chunks == result.computed_chunks == -(-1000 // chunk_rows)
    assert result.resumed_chunks == 0
    assert result.uses_numpy
    assert not parts_dir(out).exists()  # parts removed once the output is complete


def test_one_row_chunks(array_model: Path, tmp_path: Path) -> None:
    data = numeric_frame(12, seed=5)
    source = tmp_path / "in.parquet"
    data.to_parquet(source, row_group_size=5)
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(array_model, source, out, chunk_rows=1, keep=["id"])
    assert result.chunks == 12
    written = read_output(out)
    assert written["id"].tolist() == list(range(12))
    np.testing.assert_array_equal(written["prediction"].to_numpy(), expected(array_model, data)[0])


def test_model_fitted_on_a_dataframe_gets_a_dataframe(
    named_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    # Warnings are errors here: scikit-learn's "X does not have valid feature names" fails.
    result = mlcycle.batch.predict(named_model, parquet_input, out, chunk_rows=300)
    labels, proba = expected(named_model, frame)
    assert result.uses_numpy
    written = read_output(out)
    np.testing.assert_array_equal(written["prediction"].to_numpy(), labels)
    np.testing.assert_allclose(written[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)


def test_string_columns_go_through_pandas(churn_model: Path, tmp_path: Path) -> None:
    data = churn_frame(500, seed=4)
    data["customer"] = [f"c{i}" for i in range(len(data))]
    source = tmp_path / "customers.parquet"
    data.to_parquet(source, row_group_size=64)
    out = tmp_path / "scores.parquet"
    result = mlcycle.batch.predict(churn_model, source, out, chunk_rows=90, keep=["customer"])
    assert not result.uses_numpy
    labels, proba = expected(churn_model, data)
    written = read_output(out)
    assert written["customer"].tolist() == data["customer"].tolist()
    np.testing.assert_array_equal(written["prediction"].to_numpy(), labels)
    np.testing.assert_allclose(written[["proba_0", "proba_1"]].to_numpy(), proba)


def test_integer_columns_with_missing_values_fall_back_to_pandas(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"a": rng.normal(size=300), "b": rng.integers(0, 5, 300)})
    model = LinearRegression().fit(train.to_numpy(), train["a"] * 3)
    model_dir = save(model, tmp_path / "linear", train.head())
    data = pd.DataFrame(
        {"a": rng.normal(size=50), "b": pd.array([1, None, 3, 4, 2] * 10, dtype="Int64")}
    )
    source = tmp_path / "in.parquet"
    data.to_parquet(source)
    out = tmp_path / "out.parquet"
    # Not silently turned into NaN by the NumPy path: the model fails as on model.predict.
    with pytest.raises(TypeError, match="NAType"):
        mlcycle.models.load(model_dir).predict(data)
    with pytest.raises(PredictionFailedError, match=r"chunk 0 .*TypeError.*NAType") as info:
        mlcycle.batch.predict(model_dir, source, out, chunk_rows=20)
    assert info.value.chunk == 0
    assert info.value.rows == (0, 19)


def test_regressor_writes_predictions_only(
    regressor: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(regressor, parquet_input, out, chunk_rows=333)
    assert result.columns == ("prediction",)
    labels, _ = expected(regressor, frame)
    np.testing.assert_allclose(read_output(out)["prediction"].to_numpy(), labels)
    with pytest.raises(InvalidInputError, match="no predict_proba") as info:
        mlcycle.batch.predict(regressor, parquet_input, out, probabilities=True)
    assert info.value.field == "probabilities"


def test_probabilities_can_be_left_out(
    array_model: Path, parquet_input: Path, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(array_model, parquet_input, out, probabilities=False)
    assert result.columns == ("prediction",)


def test_output_names_the_model_in_metadata_and_columns(
    array_model: Path, parquet_input: Path, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    mlcycle.batch.predict(array_model, parquet_input, out, chunk_rows=400, model_columns=True)
    table = pq.read_table(out)
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    assert meta["mlcycle.model_uri"] == str(array_model.resolve())
    assert len(meta["mlcycle.model_digest"]) == 64
    assert meta["mlcycle.input"] == f"Parquet input '{parquet_input}'"
    assert table.column("model_uri").to_pylist() == [str(array_model.resolve())] * 1000
    assert table.column("model_name").null_count == 1000  # a folder has no registry name
    assert table.column("model_version").null_count == 1000


def test_parquet_directory_is_read_in_path_order(
    array_model: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "parts-in"
    (folder / "b").mkdir(parents=True)
    frame.iloc[:300].to_parquet(folder / "a-0.parquet", row_group_size=100)
    frame.iloc[300:650].to_parquet(folder / "b" / "x.parquet", row_group_size=100)
    frame.iloc[650:].to_parquet(folder / "c.pq")
    frame.iloc[:5].to_parquet(folder / "_ignored.parquet")  # hidden and _ files are skipped
    (folder / "README.txt").write_text("not data")
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(array_model, folder, out, chunk_rows=256, keep=["id"])
    assert result.rows == 1000
    written = read_output(out)
    assert written["id"].tolist() == list(range(1000))
    np.testing.assert_array_equal(written["prediction"].to_numpy(), expected(array_model, frame)[0])


def test_csv_input(array_model: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "input.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(array_model, source, out, chunk_rows=150, keep=["id"])
    assert result.chunks == 7
    written = read_output(out)
    assert written["id"].tolist() == list(range(1000))
    loaded = mlcycle.models.load(array_model)
    np.testing.assert_array_equal(
        written["prediction"].to_numpy(), loaded.predict(pd.read_csv(source))
    )


def test_integer_input_columns_are_cast_like_the_model_does(
    array_model: Path, tmp_path: Path
) -> None:
    data = pd.DataFrame({c: np.arange(40, dtype=np.int32) % (i + 2) for i, c in enumerate(NUMERIC)})
    source = tmp_path / "ints.parquet"
    data.to_parquet(source)
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(array_model, source, out, chunk_rows=16)
    assert result.uses_numpy
    np.testing.assert_array_equal(
        read_output(out)["prediction"].to_numpy(), expected(array_model, data)[0]
    )


def test_a_loaded_model_can_be_given(
    array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    loaded = mlcycle.models.load(array_model)
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(loaded, parquet_input, out, executor=ThreadExecutor(2))
    assert result.model.uri == str(array_model)
    np.testing.assert_array_equal(read_output(out)["prediction"].to_numpy(), loaded.predict(frame))


# -- bad input ----------------------------------------------------------------------------


def test_missing_column_is_named_before_anything_is_written(
    array_model: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    frame.drop(columns=["f2"]).to_parquet(source)
    out = tmp_path / "preds.parquet"
    with pytest.raises(InvalidInputError, match="'f2' is missing") as info:
        mlcycle.batch.predict(array_model, source, out)
    assert info.value.field == "f2"
    assert not out.exists()
    assert not parts_dir(out).exists()


def test_wrong_column_type_is_named(array_model: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    frame.assign(f1=frame["f1"].astype(str)).to_parquet(source)
    with pytest.raises(InvalidInputError, match="'f1'") as info:
        mlcycle.batch.predict(array_model, source, tmp_path / "preds.parquet")
    assert info.value.field == "f1"


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        (["nope"], "cannot keep column 'nope'"),
        (["label", "prediction"], "cannot keep column 'prediction'"),
    ],
)
def test_bad_keep_columns(
    array_model: Path, parquet_input: Path, tmp_path: Path, keep: list[str], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        mlcycle.batch.predict(array_model, parquet_input, tmp_path / "o.parquet", keep=keep)
    assert info.value.field == "keep"


def test_kept_column_named_like_an_output_is_refused(
    array_model: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    frame.assign(proba_1=1.0).to_parquet(source)
    with pytest.raises(InvalidInputError, match="'proba_1' has the name of an output"):
        mlcycle.batch.predict(array_model, source, tmp_path / "o.parquet", keep=["proba_1"])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.parquet", "not found"),
        ("notes.txt", "unsupported input file"),
        ("empty-dir", "holds no Parquet files"),
        ("missing-dataset", "nor a registered dataset"),
        ("bad@v1", "the version is a number"),
    ],
)
def test_bad_inputs(
    array_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty-dir").mkdir()
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "art"))
    with client, pytest.raises(mlcycle.MlcycleError, match=message):
        mlcycle.batch.predict(array_model, name, tmp_path / "o.parquet", client=client)


def test_output_may_not_overwrite_the_input(array_model: Path, parquet_input: Path) -> None:
    with pytest.raises(InvalidInputError, match="would overwrite or land inside") as info:
        mlcycle.batch.predict(array_model, parquet_input, parquet_input)
    assert info.value.field == "output"
    with pytest.raises(InvalidInputError, match="would overwrite or land inside"):
        mlcycle.batch.predict(array_model, parquet_input.parent, parquet_input.parent / "o.pq")


def test_corrupt_parquet_is_refused(array_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.parquet"
    source.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(InvalidInputError, match="cannot read Parquet file"):
        mlcycle.batch.predict(array_model, source, tmp_path / "o.parquet")


def test_empty_input_is_refused(array_model: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "empty.parquet"
    frame.iloc[:0].to_parquet(source)
    with pytest.raises(InvalidInputError, match="has no rows"):
        mlcycle.batch.predict(array_model, source, tmp_path / "o.parquet")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"chunk_rows": 0}, "chunk_rows"),
        ({"workers": 0}, "workers"),
        ({"output": "no-such-dir/o.parquet"}, "output"),
        ({"output": "."}, "output"),
    ],
)
def test_bad_options(
    array_model: Path,
    parquet_input: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, object],
    field: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    output = kwargs.pop("output", "o.parquet")
    with pytest.raises(InvalidInputError) as info:
        mlcycle.batch.predict(array_model, parquet_input, str(output), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_failing_model_keeps_finished_chunks(tmp_path: Path) -> None:
    data = numeric_frame(100)
    model_dir = save(_Exploding(cut=1e8), tmp_path / "exploding", data[NUMERIC].head())
    data.loc[65, "f0"] = 1e9
    source = tmp_path / "in.parquet"
    data.to_parquet(source)
    out = tmp_path / "o.parquet"
    trusted = [f"{_Exploding.__module__}._Exploding"]
    with pytest.raises(PredictionFailedError, match=r"chunk 3 \(rows 60-79\).*RuntimeError: boom"):
        mlcycle.batch.predict(model_dir, source, out, chunk_rows=20, trusted=trusted)
    kept = {p.name for p in parts_dir(out).glob("chunk-*")}
    # Chunks before the failure are kept (so is any chunk already running beside it).
    assert {"chunk-000000.arrow", "chunk-000001.arrow", "chunk-000002.arrow"} <= kept
    assert "chunk-000003.arrow" not in kept
    assert not out.exists()
    assert not list(tmp_path.glob(".o.parquet*"))  # no temp file left behind


def test_a_model_returning_the_wrong_number_of_rows_is_refused(tmp_path: Path) -> None:
    data = numeric_frame(30)
    model_dir = save(_Short(), tmp_path / "short", data[NUMERIC].head())
    source = tmp_path / "in.parquet"
    data.to_parquet(source)
    with pytest.raises(InvalidInputError, match="returned 9 predictions for 10 rows"):
        mlcycle.batch.predict(
            model_dir,
            source,
            tmp_path / "o.parquet",
            chunk_rows=10,
            trusted=[f"{_Short.__module__}._Short"],
        )


def test_nan_predictions_are_written(tmp_path: Path) -> None:
    data = churn_frame(10)
    model_dir = save(NanModel(), tmp_path / "nan", data[FEATURES].head())
    source = tmp_path / "in.parquet"
    data.to_parquet(source)
    out = tmp_path / "o.parquet"
    mlcycle.batch.predict(
        model_dir, source, out, chunk_rows=2, trusted=[f"{NanModel.__module__}.NanModel"]
    )
    values = pq.read_table(out).column("prediction").to_numpy()
    assert np.isnan(values[::2]).all()
    assert (values[1::2] == 0).all()


class _Exploding:
    """Fails on a chunk holding a row whose ``f0`` is above ``cut``."""

    def __init__(self, cut: float) -> None:
        self.cut = cut

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        if (data["f0"] > self.cut).any():
            raise RuntimeError("boom")
        return np.zeros(len(data))


class _Short:
    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(data) - 1)


def test_arrow_types_of_outputs(array_model: Path, parquet_input: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    mlcycle.batch.predict(array_model, parquet_input, out, keep=["id", "label"])
    schema = pq.read_schema(out)
    assert schema.field("id").type == pa.int64()
    assert schema.field("prediction").type == pa.int64()
    assert schema.field("proba_2").type == pa.float64()
