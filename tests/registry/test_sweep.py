"""mlcycle.sweep on Optuna: nested trial runs, pruning, the best trial tagged."""

from __future__ import annotations

import pytest

import mlcycle
from mlcycle.client.sweep import BEST_TAG, STATE_TAG
from mlcycle.errors import InvalidInputError


def test_sweep_runs_nested_trials_and_tags_the_best(rclient: mlcycle.Client) -> None:
    def train(trial: mlcycle.Trial) -> float:
        x = trial.params["x"]
        trial.run.log_metric("seen", 1.0)
        return float((x - 2.0) ** 2 + (0 if trial.params["kind"] == "a" else 1))

    result = mlcycle.sweep(
        train, {"x": (-5.0, 5.0), "kind": ["a", "b"]}, n_trials=6, experiment="sw", seed=0
    )
    assert len(result.trials) == 6
    assert all(t.state == "complete" for t in result.trials)
    assert result.direction is mlcycle.Direction.MINIMIZE
    assert result.best_value == min(t.value for t in result.trials if t.value is not None)
    parent = rclient.get_run(result.run_id)
    assert parent.status is mlcycle.RunStatus.FINISHED
    assert parent.tags["mlcycle.sweep.best_run_id"] == result.best_run_id
    children = rclient.tracking.child_run_ids(result.run_id)
    assert sorted(children) == sorted(t.run_id for t in result.trials)
    best = rclient.get_run(result.best_run_id or "")
    assert best.tags[BEST_TAG] == "true"
    assert best.params["x"] == str(result.best_params["x"])
    others = [rclient.get_run(t.run_id) for t in result.trials if t.run_id != best.id]
    assert all(BEST_TAG not in r.tags for r in others)


def test_sweep_prunes_and_runs_in_parallel(rclient: mlcycle.Client) -> None:
    rclient.create_experiment("p", primary_metric="score", direction="maximize")

    def train(trial: mlcycle.Trial) -> float:
        level = trial.params["level"]
        for step in range(5):
            trial.report(level * (step + 1), step=step)
        return float(level * 5)

    result = mlcycle.sweep(train, {"level": (1, 10)}, n_trials=8, experiment="p", n_jobs=2, seed=1)
    assert result.metric == "score"
    assert result.direction is mlcycle.Direction.MAXIMIZE
    states = {t.state for t in result.trials}
    assert states <= {"complete", "pruned"}
    assert "complete" in states
    for t in result.trials:
        assert rclient.get_run(t.run_id).tags[STATE_TAG] == t.state


def test_sweep_refuses_a_bad_space(rclient: mlcycle.Client) -> None:
    with pytest.raises(InvalidInputError, match="low must be below high"):
        mlcycle.sweep(lambda t: 0.0, {"x": (1.0, 0.0)}, n_trials=1)
    with pytest.raises(InvalidInputError, match="n_trials"):
        mlcycle.sweep(lambda t: 0.0, {"x": [1, 2]}, n_trials=0)
