"""``run.log_model`` and ``mlcycle.models.load`` through a run, on every backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

import mlcycle
from mlcycle import Client
from mlcycle.errors import ArtifactNotFoundError, InvalidInputError
from mlcycle.models import Flavor
from mlcycle.models.info import MODELS_TAG
from tests.models._models import FEATURES, MeanModel, churn_frame, churn_pipeline


@pytest.fixture
def frame() -> pd.DataFrame:
    return churn_frame(120)


def test_sklearn_pipeline_through_a_run(client: Client, frame: pd.DataFrame) -> None:
    model = churn_pipeline(frame)
    X = frame[FEATURES]
    with mlcycle.start_run(experiment="models") as run:
        info = run.log_model(model, "model", input_example=X.head())
    assert info.uri == f"runs:/{run.id}/model"
    assert info.flavor is Flavor.SKLEARN
    assert info.signature is not None
    assert info.signature.column_names == FEATURES
    files = {a.path for a in client.list_artifacts(run.id, "model")}
    assert {"model/model.json", "model/model.skops", "model/input_example.json"} <= files
    assert json.loads(client.get_run(run.id).tags[MODELS_TAG]) == [
        {"name": "model", "flavor": "sklearn"}
    ]
    loaded = mlcycle.models.load(info.uri)
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    again = mlcycle.models.load(info.uri)  # warm: read in place or from the cache
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert again.uri == info.uri


def test_xgboost_lightgbm_and_python_models(client: Client, frame: pd.DataFrame) -> None:
    X = frame[["tenure", "charges", "calls"]]
    y = frame["churned"]
    boosted = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y)
    light = lgb.LGBMRegressor(n_estimators=4, verbose=-1).fit(X, frame["charges"])
    mean = MeanModel(2.5)
    with mlcycle.start_run(experiment="models") as run:
        run.log_model(boosted, "xgb", input_example=X.head())
        run.log_model(light, "lgbm", input_example=X.head())
        mlcycle.models.log(mean, "python", input_example=frame.head())
    listed = json.loads(client.get_run(run.id).tags[MODELS_TAG])
    assert [(m["name"], m["flavor"]) for m in listed] == [
        ("xgb", "xgboost"),
        ("lgbm", "lightgbm"),
        ("python", "python"),
    ]
    loaded = mlcycle.models.load(f"runs:/{run.id}/xgb")
    np.testing.assert_allclose(loaded.predict_proba(X), boosted.predict_proba(X))
    loaded = mlcycle.models.load(f"runs:/{run.id}/lgbm")
    np.testing.assert_allclose(loaded.predict(X), light.predict(X))
    loaded = mlcycle.models.load(
        f"runs:/{run.id}/python", trusted=["tests.models._models.MeanModel"]
    )
    np.testing.assert_allclose(loaded.predict(frame), np.full(len(frame), 2.5))


def test_signature_is_enforced_after_loading(client: Client, frame: pd.DataFrame) -> None:
    X = frame[["tenure", "calls"]]
    model = LogisticRegression().fit(X.astype(float), frame["churned"])
    with mlcycle.start_run() as run:
        info = run.log_model(model, "model", input_example=X.astype({"calls": float}).head())
    loaded = mlcycle.models.load(info.uri)
    # calls given as integers: safe cast to float, same predictions
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X.astype(float)))
    with pytest.raises(InvalidInputError, match="column 'tenure' is missing") as caught:
        loaded.predict(X.drop(columns=["tenure"]))
    assert caught.value.field == "tenure"
    with pytest.raises(InvalidInputError, match="column 'calls' has dtype"):
        loaded.predict(X.assign(calls="many"))


def test_register_on_a_store_and_through_a_server(client: Client, frame: pd.DataFrame) -> None:
    model = churn_pipeline(frame)
    with mlcycle.start_run() as run:
        info = run.log_model(model, "model", register="churn")
    assert isinstance(info.registered_version, mlcycle.registry.ModelVersion)
    assert info.registered_version.version == 1
    assert mlcycle.models.load("models:/churn/1").flavor is Flavor.SKLEARN
    assert mlcycle.models.load(f"runs:/{run.id}/model").flavor is Flavor.SKLEARN


def test_missing_models_and_runs(client: Client, frame: pd.DataFrame) -> None:
    with mlcycle.start_run() as run:
        run.log_text("hello", "notes/readme.txt")
    with pytest.raises(ArtifactNotFoundError, match="no model at 'notes'"):
        mlcycle.models.load(f"runs:/{run.id}/notes")
    with pytest.raises(ArtifactNotFoundError):
        mlcycle.models.load(f"runs:/{run.id}/nothing")
    with pytest.raises(InvalidInputError, match="no active run"):
        mlcycle.models.log(churn_pipeline(frame), "model")


def test_remote_loads_are_cached_by_content(
    client: Client, backend_kind: str, frame: pd.DataFrame
) -> None:
    with mlcycle.start_run() as run:
        info = run.log_model(churn_pipeline(frame), "model")
    mlcycle.models.load(info.uri)
    cache = Path(client.settings.artifact_uri) / ".cache" / "models" / run.id / "model"
    if backend_kind != "remote":  # a local artifact store is read in place
        assert not cache.exists()
        return
    (entry,) = cache.iterdir()
    assert (entry / "model.json").is_file()
    mlcycle.models.load(info.uri)
    assert list(cache.iterdir()) == [entry]


@pytest.fixture
def autologging() -> Iterator[None]:
    mlcycle.autolog()
    yield
    mlcycle.autolog(disable=True)


def test_autolog_logs_the_model_and_its_signature(
    client: Client, autologging: None, frame: pd.DataFrame
) -> None:
    with mlcycle.start_run(experiment="auto") as run:
        model = churn_pipeline(frame)
    loaded = mlcycle.models.load(f"runs:/{run.id}/model")
    assert loaded.signature is not None
    assert loaded.signature.column_names == FEATURES
    X = frame[FEATURES]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
