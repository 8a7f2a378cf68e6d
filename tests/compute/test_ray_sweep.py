"""``mlcycle.sweep(..., backend="ray")``: trials as Ray tasks on a real local cluster,
tracked like the default backend's (nested runs, pruning, the best tagged)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

import mlcycle
from mlcycle.client.sweep import BEST_TAG, STATE_TAG, TRIAL_TAG
from mlcycle.errors import InvalidInputError

pytestmark = pytest.mark.slow


def test_trials_run_as_ray_tasks_and_are_tracked_like_local_ones(
    ray_cluster: ModuleType, tmp_path: Path
) -> None:
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "artifacts"))
    client.create_experiment("ray-sweep", primary_metric="score", direction="maximize")

    def train(trial: mlcycle.Trial) -> float:
        import os

        trial.run.log_param("pid", os.getpid())
        level = float(trial.params["level"])
        for step in range(4):
            trial.report(level * (step + 1), step=step)
        if trial.params["kind"] == "broken":
            raise RuntimeError("this configuration crashes")
        return level * 4

    result = mlcycle.sweep(
        train,
        {"level": (1, 10), "kind": ["ok", "broken"]},
        n_trials=8,
        experiment="ray-sweep",
        backend="ray",
        seed=3,
        client=client,
    )

    assert [t.number for t in result.trials] == list(range(8))
    states = {t.state for t in result.trials}
    assert "complete" in states
    assert states <= {"complete", "pruned", "failed"}
    children = client.backend.child_run_ids(result.run_id)
    assert sorted(children) == sorted(t.run_id for t in result.trials)
    driver_pid = str(__import__("os").getpid())
    for t in result.trials:
        run = client.get_run(t.run_id)
        assert run.tags[STATE_TAG] == t.state
        assert run.tags[TRIAL_TAG] == str(t.number)
        assert run.params["pid"] != driver_pid  # trained in a Ray worker, not here
        if t.state == "failed":
            assert t.params["kind"] == "broken"
            assert run.status is mlcycle.RunStatus.FAILED
    best = client.get_run(result.best_run_id or "")
    assert best.tags[BEST_TAG] == "true"
    assert result.best_value == max(t.value for t in result.trials if t.value is not None)
    assert client.get_run(result.run_id).status is mlcycle.RunStatus.FINISHED
    client.close()


def test_an_unknown_backend_is_refused_before_any_run(tmp_path: Path) -> None:
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "artifacts"))
    with pytest.raises(InvalidInputError, match="unknown sweep backend 'spark'"):
        mlcycle.sweep(lambda t: 0.0, {"x": [1, 2]}, n_trials=1, backend="spark", client=client)
    assert all(len(client.search_runs([e.id])) == 0 for e in client.list_experiments())
    client.close()
