"""Each flavor saves a real model into a directory and loads it back (no store needed)."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.base import RegressorMixin
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import mlcycle.models as mm
from mlcycle.errors import InvalidInputError, NotFoundError, UntrustedTypesError
from mlcycle.models import Flavor, LibraryVersionWarning
from mlcycle.models.manifest import MANIFEST_FILE
from tests.models._models import (
    FEATURES,
    MeanModel,
    ThresholdClassifier,
    churn_frame,
    churn_pipeline,
    double,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return churn_frame()


def test_sklearn_pipeline_round_trip(tmp_path: Path, frame: pd.DataFrame) -> None:
    model = churn_pipeline(frame)
    X = frame[FEATURES]
    manifest = mm.save(model, tmp_path / "m", input_example=X.head(3), metadata={"team": "a"})
    assert manifest.flavor is Flavor.SKLEARN
    assert manifest.model_class == "sklearn.pipeline.Pipeline"
    assert manifest.libraries["scikit-learn"]
    assert (tmp_path / "m" / "model.skops").is_file()
    loaded = mm.load(tmp_path / "m")
    assert loaded.flavor is Flavor.SKLEARN
    assert loaded.metadata == {"team": "a"}
    assert loaded.signature is not None
    assert loaded.signature.column_names == FEATURES
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.classes is not None
    assert loaded.classes.tolist() == [0, 1]
    example = loaded.input_example
    assert example is not None
    pd.testing.assert_frame_equal(example, X.head(3).reset_index(drop=True), check_dtype=False)


def test_estimator_fitted_on_arrays(tmp_path: Path, frame: pd.DataFrame) -> None:
    X = frame[["tenure", "charges"]].to_numpy()
    model = LogisticRegression().fit(X, frame["churned"])
    mm.save(model, tmp_path / "m", input_example=X[:2])
    loaded = mm.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.signature is not None
    assert loaded.signature.column_names == ["0", "1"]


@pytest.mark.parametrize(
    "model",
    [
        RandomForestRegressor(n_estimators=3, random_state=0),
        GradientBoostingRegressor(n_estimators=3, random_state=0),
        HistGradientBoostingRegressor(max_iter=3),
    ],
    ids=["forest", "boosting", "hist-boosting"],
)
def test_scikit_learn_internals_are_trusted(
    tmp_path: Path, frame: pd.DataFrame, model: RegressorMixin
) -> None:
    X = frame[["tenure", "calls"]]
    model.fit(X, frame["charges"])
    mm.save(model, tmp_path / "m", input_example=X.head())
    loaded = mm.load(tmp_path / "m")  # sklearn.tree._tree.Tree, TreePredictor: no trust needed
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    assert not loaded.has_predict_proba
    with pytest.raises(InvalidInputError, match="has no predict_proba"):
        loaded.predict_proba(X)


def test_other_types_are_named_and_can_be_trusted(tmp_path: Path, frame: pd.DataFrame) -> None:
    model = make_pipeline(FunctionTransformer(double), RandomForestRegressor(n_estimators=2))
    X = frame[["tenure", "calls"]]
    model.fit(X, frame["charges"])
    mm.save(model, tmp_path / "m", input_example=X.head())
    with pytest.raises(UntrustedTypesError, match=r"pass trusted=\['tests\.models") as caught:
        mm.load(tmp_path / "m")
    assert caught.value.types == ["tests.models._models.double"]
    loaded = mm.load(tmp_path / "m", trusted=caught.value.types)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))


def test_xgboost_classifier_in_native_format(tmp_path: Path, frame: pd.DataFrame) -> None:
    X = frame[["tenure", "charges", "calls"]]
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, frame["churned"])
    manifest = mm.save(model, tmp_path / "x", input_example=X.head())
    assert manifest.flavor is Flavor.XGBOOST
    assert manifest.model_file == "model.ubj"
    assert not list((tmp_path / "x").glob("*.pkl"))
    loaded = mm.load(tmp_path / "x")
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # int -> float is a safe cast; a missing column is named
    np.testing.assert_allclose(
        loaded.predict_proba(X.assign(tenure=X["tenure"].round().astype(int))),
        model.predict_proba(X.assign(tenure=X["tenure"].round())),
    )
    with pytest.raises(InvalidInputError, match="'calls'"):
        loaded.predict(X.drop(columns=["calls"]))


def test_xgboost_booster(tmp_path: Path, frame: pd.DataFrame) -> None:
    X = frame[["tenure", "charges"]]
    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": 2},
        xgb.DMatrix(X, label=frame["calls"]),
        num_boost_round=4,
    )
    mm.save(booster, tmp_path / "b", input_example=X.head())
    loaded = mm.load(tmp_path / "b")
    np.testing.assert_allclose(loaded.predict(X), booster.predict(xgb.DMatrix(X)))


def test_lightgbm_classifier_with_string_labels(tmp_path: Path, frame: pd.DataFrame) -> None:
    X = frame[["tenure", "charges", "calls"]]
    y = np.where(frame["churned"] == 1, "yes", "no")
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    manifest = mm.save(model, tmp_path / "l", input_example=X.head())
    assert manifest.flavor is Flavor.LIGHTGBM
    assert manifest.classes == ("no", "yes")
    loaded = mm.load(tmp_path / "l")
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_lightgbm_regressor(tmp_path: Path, frame: pd.DataFrame) -> None:
    X = frame[["tenure", "calls"]]
    model = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(X, frame["charges"])
    mm.save(model, tmp_path / "r", input_example=X.head())
    loaded = mm.load(tmp_path / "r")
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    assert not loaded.has_predict_proba


def test_python_model_with_artifacts(tmp_path: Path, frame: pd.DataFrame) -> None:
    scale = tmp_path / "scale.txt"
    scale.write_text("2.0")
    model = MeanModel(3.0, scale_file=scale)
    manifest = mm.save(model, tmp_path / "p", input_example=frame.head())
    assert manifest.flavor is Flavor.PYTHON
    assert manifest.model_class == "tests.models._models.MeanModel"
    scale.unlink()  # the copy in the model directory is what counts
    with pytest.raises(UntrustedTypesError, match=r"tests\.models\._models\.MeanModel"):
        mm.load(tmp_path / "p")
    loaded = mm.load(tmp_path / "p", trusted=["tests.models._models.MeanModel"])
    np.testing.assert_allclose(loaded.predict(frame), np.full(len(frame), 6.0))
    native = loaded.native
    assert isinstance(native, MeanModel)
    assert Path(native.artifacts["scale"]).is_relative_to(tmp_path / "p")


def test_python_classifier_has_predict_proba(tmp_path: Path, frame: pd.DataFrame) -> None:
    model = ThresholdClassifier("tenure", 24.0)
    mm.save(model, tmp_path / "t", input_example=frame.head())
    loaded = mm.load(tmp_path / "t", trusted=["tests.models._models.ThresholdClassifier"])
    assert loaded.classes is not None
    assert loaded.classes.tolist() == [0, 1]
    np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame))


def test_newer_library_version_warns_naming_both(tmp_path: Path, frame: pd.DataFrame) -> None:
    mm.save(churn_pipeline(frame), tmp_path / "m")
    path = tmp_path / "m" / MANIFEST_FILE
    data = json.loads(path.read_text())
    installed = data["libraries"]["scikit-learn"]
    data["libraries"]["scikit-learn"] = "99.0.0"
    path.write_text(json.dumps(data))
    with pytest.warns(LibraryVersionWarning, match="scikit-learn 99.0.0") as caught:
        mm.load(tmp_path / "m")
    assert installed in str(caught[0].message)


def test_refusals(tmp_path: Path, frame: pd.DataFrame) -> None:
    model = churn_pipeline(frame)
    mm.save(model, tmp_path / "m")
    with pytest.raises(InvalidInputError, match="not an empty directory"):
        mm.save(model, tmp_path / "m")
    with pytest.raises(InvalidInputError, match="cannot log a str"):
        mm.save("not a model", tmp_path / "s")
    with pytest.raises(InvalidInputError, match="could not predict on its input example"):
        mm.save(model, tmp_path / "e", input_example=pd.DataFrame({"x": [1]}))
    with pytest.raises(NotFoundError, match="not a model directory"):
        mm.load(tmp_path)
