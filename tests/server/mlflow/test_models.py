"""Models through MLflow's client: sklearn autologging, log_model with an input example,
the registry, aliases and loading ``models:/name@alias``; read back through mlcycle."""

from __future__ import annotations

import uuid

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from mlcycle.entities.models import ModelSource
from tests.server.mlflow.conftest import Target


def _data() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(n_samples=200, n_features=4, random_state=0)
    return x, y


# mlflow warns about its own agent types' hints when pyfunc loads its schema helpers
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_log_model_register_alias_and_load(tracking: Target) -> None:
    mlflow.set_experiment(f"mlflow-models-{uuid.uuid4().hex[:8]}")
    name = f"churn-{uuid.uuid4().hex[:8]}"
    x, y = _data()
    with mlflow.start_run() as run:
        model = LogisticRegression(max_iter=200).fit(x, y)
        mlflow.log_metric("accuracy", float(model.score(x, y)))
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=x[:5], pip_requirements=["scikit-learn"]
        )
    version = mlflow.register_model(info.model_uri, name)
    assert version.version == "1"
    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", version.version)
    assert client.get_model_version_by_alias(name, "champion").version == "1"

    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(loaded.predict(x[:20]), model.predict(x[:20]))

    # the same registry through mlcycle
    registry = tracking.local.registry
    assert dict(registry.get_model(name).aliases) == {"champion": 1}
    stored = registry.get_version(name, 1)
    assert stored.run_id == run.info.run_id
    assert stored.flavor == "sklearn"
    files = {f.path for f in tracking.remote.list_artifacts(run.info.run_id)}
    assert f"{stored.artifact_path}/MLmodel" in files
    logged = client.get_logged_model(info.model_id)
    assert logged.source_run_id == run.info.run_id
    assert str(logged.status) == "READY"
    outputs = client.get_run(run.info.run_id).outputs
    assert outputs is not None
    assert [m.model_id for m in outputs.model_outputs] == [info.model_id]


def _autolog_fit(log_models: bool) -> str:
    x, y = _data()
    mlflow.sklearn.autolog(log_models=log_models, log_datasets=True, silent=True)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(C=0.5, max_iter=100).fit(x, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    return str(run.info.run_id)


# mlflow's autologging calls scikit-learn's log_loss with the argument's old name
@pytest.mark.filterwarnings("ignore:.*y_pred.* was renamed to .*y_proba:FutureWarning")
def test_autolog_on_a_real_fit(tracking: Target) -> None:
    mlflow.set_experiment(f"mlflow-autolog-{uuid.uuid4().hex[:8]}")
    run_id = _autolog_fit(log_models=False)
    fetched = MlflowClient().get_run(run_id)
    assert fetched.data.params["C"] == "0.5"
    assert fetched.data.params["max_iter"] == "100"
    assert "training_accuracy_score" in fetched.data.metrics
    assert fetched.data.tags["estimator_name"] == "LogisticRegression"
    assert fetched.inputs is not None
    assert [d.dataset.name for d in fetched.inputs.dataset_inputs] != []
    seen = tracking.remote.get_run(run_id)
    assert seen.params["C"] == "0.5"
    assert (
        seen.metrics["training_accuracy_score"] == fetched.data.metrics["training_accuracy_score"]
    )


# as above, and mlflow warns about its own agent types' hints while it logs the model
@pytest.mark.slow  # autologging the model infers its pip requirements in a subprocess
@pytest.mark.filterwarnings("ignore:.*y_pred.* was renamed to .*y_proba:FutureWarning")
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_autolog_logs_the_fitted_model(tracking: Target) -> None:
    mlflow.set_experiment(f"mlflow-autolog-model-{uuid.uuid4().hex[:8]}")
    run_id = _autolog_fit(log_models=True)
    fetched = MlflowClient().get_run(run_id)
    assert "training_accuracy_score" in fetched.data.metrics
    assert fetched.outputs is not None
    assert len(fetched.outputs.model_outputs) == 1
    files = {f.path for f in tracking.remote.list_artifacts(run_id)}
    assert "model/MLmodel" in files
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    x, _ = _data()
    assert loaded.predict(x[:3]).shape == (3,)


# MLflow deprecates stages but its client still has them; the API serves them
@pytest.mark.filterwarnings("ignore:.*transition_model_version_stage.*:FutureWarning")
@pytest.mark.filterwarnings("ignore:.*get_latest_versions.*:FutureWarning")
def test_registry_operations(tracking: Target) -> None:
    client = MlflowClient()
    name = f"reg-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(f"mlflow-reg-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment_id)
    client.log_text(run.info.run_id, "weights", "model/weights.txt")
    created = client.create_registered_model(name, tags={"team": "a"}, description="first")
    assert created.description == "first"
    with pytest.raises(MlflowException) as exists:
        client.create_registered_model(name)
    assert exists.value.error_code == "RESOURCE_ALREADY_EXISTS"
    v1 = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    v2 = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    assert (v1.version, v2.version, v1.status) == ("1", "2", "READY")
    client.update_registered_model(name, description="second")
    client.set_registered_model_tag(name, "k", "v")
    client.delete_registered_model_tag(name, "team")
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.update_model_version(name, "1", description="v1 notes")
    model = client.get_registered_model(name)
    assert model.description == "second"
    assert model.tags == {"k": "v"}
    version = client.get_model_version(name, "1")
    assert version.tags == {"validated": "yes"}
    assert version.description == "v1 notes"
    uri = client.get_model_version_download_uri(name, "1")
    assert uri.endswith(f"/{run.info.run_id}/artifacts/model")

    client.transition_model_version_stage(name, "1", "Production")
    assert [v.version for v in client.get_latest_versions(name, ["Production"])] == ["1"]
    client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert tracking.local.registry.get_version(name, 1).status.value == "archived"

    found = client.search_model_versions(f"name = '{name}' and run_id = '{run.info.run_id}'")
    assert sorted(v.version for v in found) == ["1", "2"]
    listed = client.search_registered_models(filter_string=f"name LIKE '{name[:6]}%'")
    assert name in [m.name for m in listed]

    client.delete_model_version(name, "1")
    with pytest.raises(MlflowException) as gone:
        client.get_model_version(name, "1")
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.rename_registered_model(name, f"{name}-renamed")
    assert tracking.local.registry.get_model(f"{name}-renamed").latest_version == 2
    client.delete_registered_model(f"{name}-renamed")
    with pytest.raises(MlflowException):
        client.get_registered_model(f"{name}-renamed")


def test_versions_registered_by_mlcycle_are_seen_by_mlflow(tracking: Target) -> None:
    name = f"mc-{uuid.uuid4().hex[:8]}"
    experiment = f"mc-reg-{uuid.uuid4().hex[:8]}"
    with tracking.local.start_run(experiment, capture_environment=False) as run:
        run.log_text("w", "model/weights.txt")
    tracking.local.registry.add_version(name, ModelSource(run.id, "model"), flavor="python")
    tracking.local.registry.set_alias(name, "prod", 1)
    client = MlflowClient()
    version = client.get_model_version_by_alias(name, "prod")
    assert version.run_id == run.id
    assert version.source == f"runs:/{run.id}/model"
    assert client.get_registered_model(name).aliases == {"prod": "1"}


def test_logged_models_search_tags_metrics_and_delete(tracking: Target) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(f"mlflow-logged-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment_id)
    first = client.create_logged_model(
        experiment_id,
        name="agent",
        source_run_id=run.info.run_id,
        params={"lr": "0.1"},
        tags={"kind": "x"},
        model_type="agent",
    )
    second = client.create_logged_model(experiment_id, name="other")
    assert first.artifact_location.endswith(f"/{run.info.run_id}/artifacts/agent")
    assert second.artifact_location.startswith("mlflow-artifacts:/")
    client.finalize_logged_model(first.model_id, LoggedModelStatus.READY)
    client.log_metric(run.info.run_id, "acc", 0.9, step=1, model_id=first.model_id)
    assert client.get_run(run.info.run_id).data.metrics == {"acc": 0.9}

    found = client.search_logged_models([experiment_id], filter_string="metrics.acc > 0.5")
    assert [m.model_id for m in found] == [first.model_id]
    assert found[0].params == {"lr": "0.1"}
    assert [m.key for m in found[0].metrics or []] == ["acc"]
    ordered = client.search_logged_models(
        [experiment_id], order_by=[{"field_name": "name", "ascending": False}]
    )
    assert [m.name for m in ordered] == ["other", "agent"]

    client.set_logged_model_tags(second.model_id, {"k": "v"})
    assert client.get_logged_model(second.model_id).tags["k"] == "v"
    client.delete_logged_model_tag(second.model_id, "k")
    assert "k" not in client.get_logged_model(second.model_id).tags
    client.delete_logged_model(second.model_id)
    with pytest.raises(MlflowException) as gone:
        client.get_logged_model(second.model_id)
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert [m.model_id for m in client.search_logged_models([experiment_id])] == [first.model_id]
