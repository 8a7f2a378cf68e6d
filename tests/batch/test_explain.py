"""``mlcycle predict --explain``: each row's SHAP values beside its prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import mlcycle
from tests.batch.conftest import NUMERIC, read_output
from tests.cli.conftest import Cli


def test_predict_explain_adds_shap_columns_that_add_up(
    regressor: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    cli = Cli(tmp_path)
    out = tmp_path / "explained.parquet"
    cli.ok(
        "predict",
        str(regressor),
        "-i",
        str(parquet_input),
        "-o",
        str(out),
        "--chunk-rows",
        "400",
        "--explain",
    )
    written = read_output(out)
    names = [f"shap_{c}" for c in NUMERIC]
    assert list(written.columns[-len(names) :]) == names
    predicted = mlcycle.models.load(str(regressor)).predict(frame[NUMERIC])
    np.testing.assert_allclose(written["prediction"].to_numpy(), predicted)
    values = written[names].to_numpy()
    # a linear model's SHAP values add up to its prediction minus the background's mean
    offsets = predicted - values.sum(axis=1)
    np.testing.assert_allclose(offsets, offsets[0], atol=1e-8)
