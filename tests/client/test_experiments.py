"""Get-or-create experiments: ``create_experiment(exist_ok=True)`` and ``set_experiment``."""

from __future__ import annotations

import pytest

import mlcycle
from mlcycle import Client


def test_exist_ok_returns_the_same_experiment(client: Client) -> None:
    first = client.create_experiment(
        "cancer", task="classification", primary_metric="auc", threshold=0.9
    )
    again = client.create_experiment(
        "cancer", task="classification", primary_metric="auc", threshold=0.9, exist_ok=True
    )
    assert again.id == first.id
    with pytest.raises(mlcycle.AlreadyExistsError):
        client.create_experiment(
            "cancer", task="classification", primary_metric="auc", threshold=0.9
        )


def test_exist_ok_with_another_problem_names_the_field(client: Client) -> None:
    client.create_experiment("cancer", task="classification", primary_metric="auc", threshold=0.9)
    with pytest.raises(mlcycle.ConflictError, match=r"threshold=0\.9, not 0\.8"):
        client.create_experiment(
            "cancer", task="classification", primary_metric="auc", threshold=0.8, exist_ok=True
        )


def test_set_experiment_is_where_start_run_logs(client: Client) -> None:
    exp = mlcycle.set_experiment("churn", task="regression")
    assert mlcycle.set_experiment("churn", task="regression").id == exp.id
    with mlcycle.start_run() as run:
        run.log_metric("mae", 1.0)
    assert client.get_run(run.id).experiment_id == exp.id


def test_unknown_experiment_suggests_the_close_name(client: Client) -> None:
    client.create_experiment("demo-churn")
    with pytest.raises(mlcycle.NotFoundError, match="did you mean 'demo-churn'"):
        client.get_experiment("demo")
