"""Loading a model from the command line: library internals need no trust, other types
are named with the CLI's own spelling (``--trust TYPE``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import mlcycle.models as mm
from tests.cli.conftest import Cli
from tests.models._models import double


def _data(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.0, 1.0]})
    path = tmp_path / "in.parquet"
    frame.to_parquet(path)
    return frame, path


def test_a_forest_predicts_without_trust(cli: Cli, tmp_path: Path) -> None:
    frame, source = _data(tmp_path)
    mm.save(RandomForestRegressor(n_estimators=2).fit(frame, [1, 2, 3, 4]), tmp_path / "rf")
    out = tmp_path / "out.parquet"
    cli.ok("predict", str(tmp_path / "rf"), "-i", str(source), "-o", str(out), "-q")
    assert len(pd.read_parquet(out)) == 4


def test_other_types_name_the_trust_flag(cli: Cli, tmp_path: Path) -> None:
    frame, source = _data(tmp_path)
    model = make_pipeline(FunctionTransformer(double), RandomForestRegressor(n_estimators=2))
    mm.save(model.fit(frame, [1, 2, 3, 4]), tmp_path / "m")
    out = tmp_path / "out.parquet"
    line = cli("predict", str(tmp_path / "m"), "-i", str(source), "-o", str(out)).error_line()
    assert line.endswith("if you trust them, pass --trust tests.models._models.double")
    assert "trusted=" not in line
    cli.ok(
        "predict", str(tmp_path / "m"), "-i", str(source), "-o", str(out), "-q",
        "--trust", "tests.models._models.double",
    )  # fmt: skip
