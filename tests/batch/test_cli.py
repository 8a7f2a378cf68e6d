"""``mlcycle predict``: through the console script's error table (CliRunner)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlcycle
import mlcycle.datasets as mds
from tests.batch.conftest import NUMERIC, expected, numeric_frame, read_output, save
from tests.cli.conftest import Cli
from tests.models._models import churn_frame
from tests.registry.conftest import log_version


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_predict_a_file_with_a_model_folder(
    cli: Cli, array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    args = ["predict", str(array_model), "-i", str(parquet_input), "-o", str(out)]
    done = cli.ok(*args, "--chunk-rows", "300", "--keep", "id, label", "--workers", "2")
    assert done.stdout.startswith(f"Wrote 1,000 rows to {out} with {array_model.resolve()}")
    assert "(4 chunks)" in done.stdout
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    written = read_output(out)
    assert list(written.columns[:3]) == ["id", "label", "prediction"]
    np.testing.assert_array_equal(written["prediction"].to_numpy(), expected(array_model, frame)[0])

    summary = cli.ok(*args, "--no-proba", "--model-columns", "--json").json()
    assert summary["rows"] == 1000
    assert summary["columns"] == ["prediction", "model_name", "model_version", "model_uri"]
    assert summary["chunks"] == summary["computed_chunks"] == 1  # 100,000 rows per chunk
    assert summary["model_uri"] == str(array_model.resolve())


@pytest.mark.parametrize("where", ["store", "server"])
def test_predict_a_registered_model_on_a_dataset(
    cli: Cli, tmp_path: Path, where: str, request: pytest.FixtureRequest
) -> None:
    """On a store, and with only a server's URI (the model and the dataset come through
    the server; the refusals read the same)."""
    if where == "server":
        server = request.getfixturevalue("remote_server")
        server.reset()
        cli.tracking_uri = server.url
    data = churn_frame(120, seed=2)
    with cli.client() as c:
        log_version(c)
        mds.register("scoring", data, client=c)
    out = tmp_path / "scores.parquet"
    done = cli.ok("predict", "models:/churn/1", "-i", "scoring@1", "-o", str(out), "--json")
    assert done.json()["model_name"] == "churn"
    assert done.json()["model_version"] == 1
    with cli.client() as c:
        model = mlcycle.models.load("models:/churn/1", client=c)
        np.testing.assert_array_equal(
            read_output(out)["prediction"].to_numpy(), model.predict(data)
        )
        mlcycle.registry.set_status("churn", 1, "retired", client=c)
    line = cli("predict", "models:/churn/1", "-i", "scoring", "-o", str(out)).error_line()
    assert "churn/1 (models:/churn/1) is retired" in line
    line = cli("predict", "models:/churn/7", "-i", "scoring", "-o", str(out)).error_line()
    assert "7" in line


def test_bad_input_is_one_line(
    cli: Cli, array_model: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    frame.drop(columns=["f3"]).to_parquet(source)
    out = str(tmp_path / "o.parquet")
    line = cli("predict", str(array_model), "-i", str(source), "-o", out).error_line()
    assert "column 'f3' is missing" in line
    line = cli("predict", str(array_model), "-i", "nope.csv", "-o", out).error_line()
    assert "not found: 'nope.csv'" in line
    line = cli("predict", "models:/", "-i", str(source), "-o", out).error_line()
    assert "model URI" in line
    usage = cli("predict", str(array_model), "-i", str(source), "-o", out, "--chunk-rows", "0")
    assert usage.exit_code == 2


def test_resume_refusal_and_restart(
    cli: Cli, array_model: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    frame.assign(f0=np.where(frame["id"] == 700, 1e9, frame["f0"])).to_parquet(source)
    out = tmp_path / "o.parquet"
    interrupting = save(_Interrupting(), tmp_path / "interrupting", numeric_frame(5)[NUMERIC])
    args = ["-i", str(source), "-o", str(out), "--chunk-rows", "100"]
    trust = ["--trust", f"{__name__}._Interrupting"]
    interrupted = cli("predict", str(interrupting), *args, *trust)
    assert interrupted.exit_code == 130
    assert "run the same command again to resume" in interrupted.stderr
    finished = {p.name for p in Path(f"{out}.parts").glob("chunk-*")}
    assert {f"chunk-{i:06d}.arrow" for i in range(7)} <= finished
    line = cli("predict", str(array_model), *args).error_line()
    assert "different model" in line
    assert "--restart" in line
    cli.ok("predict", str(array_model), *args, "--restart")
    assert read_output(out).shape[0] == 1000


class _Interrupting:
    """Raises KeyboardInterrupt, as Ctrl-C would, on a chunk with ``f0`` above 1e8."""

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        if (data["f0"] > 1e8).any():
            raise KeyboardInterrupt
        return np.zeros(len(data))
