"""The public registry API: registering, versions, aliases, URIs, promotion, lineage."""

from __future__ import annotations

import pandas as pd
import pytest

import mlcycle
import mlcycle.datasets as mds
from mlcycle import registry
from mlcycle.entities import ModelVersionStatus
from mlcycle.errors import (
    InvalidInputError,
    NotFoundError,
    PromotionRefusedError,
)
from tests.models._models import FEATURES, churn_frame, churn_pipeline
from tests.registry.conftest import log_version


def _problem(client: mlcycle.Client, threshold: float = 0.75) -> None:
    client.create_experiment(
        "churn",
        task="classification",
        target="churned",
        primary_metric="roc_auc",
        direction="maximize",
        threshold=threshold,
    )


def test_log_model_registers_versions_numbered_from_one(rclient: mlcycle.Client) -> None:
    first = log_version(rclient)
    second = log_version(rclient)
    assert first.registered_version is not None
    v1, v2 = registry.list_versions("churn")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.run_id == first.run_id
    assert v1.model_uri == first.uri
    assert v1.flavor == "sklearn"
    assert v1.status is ModelVersionStatus.READY
    assert v1.signature is not None
    assert v1.signature["inputs"]
    model = registry.get_model("churn")
    assert model.latest_version == 2
    assert [m.name for m in registry.list_models()] == ["churn"]
    assert registry.get_version("churn").version == 2  # latest
    assert second.run_id == registry.get_version("churn", 2).run_id


def test_register_by_run_uri(rclient: mlcycle.Client) -> None:
    info = log_version(rclient, register=False)
    v = registry.register(info.uri, "other", description="by hand", tags={"team": "a"})
    assert (v.name, v.version, v.description, dict(v.tags)) == (
        "other",
        1,
        "by hand",
        {"team": "a"},
    )
    with pytest.raises(NotFoundError, match="no model at 'nope'"):
        registry.register(f"runs:/{info.run_id}/nope", "other")


def test_aliases_move_and_models_uris_load(rclient: mlcycle.Client) -> None:
    log_version(rclient)
    log_version(rclient)
    registry.set_alias("churn", "champion", 1)
    assert registry.get_model("churn").aliases == {"champion": 1}
    registry.set_alias("churn", "champion", 2)
    assert registry.get_model("churn").aliases == {"champion": 2}
    assert registry.get_version("churn", alias="champion").version == 2
    assert registry.get_version("churn", 1).aliases == ()
    X = churn_frame(10)[FEATURES]
    for uri in ("models:/churn@champion", "models:/churn/1", "models:/churn/latest"):
        assert len(mlcycle.models.load(uri).predict(X)) == 10
    registry.delete_alias("churn", "champion")
    with pytest.raises(NotFoundError, match="no alias 'champion'"):
        mlcycle.models.load("models:/churn@champion")


def test_unknown_model_version_or_alias_is_named(rclient: mlcycle.Client) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        registry.get_model("ghost")
    with pytest.raises(NotFoundError, match="'ghost'"):
        mlcycle.models.load("models:/ghost/1")
    log_version(rclient)
    with pytest.raises(NotFoundError, match="no version 7"):
        mlcycle.models.load("models:/churn/7")
    with pytest.raises(NotFoundError, match="no alias 'gold'"):
        mlcycle.models.load("models:/churn@gold")
    with pytest.raises(NotFoundError, match="no alias 'gold'"):
        registry.delete_alias("churn", "gold")


@pytest.mark.parametrize("status", ["failed", "retired"])
def test_alias_on_failed_or_retired_version_is_refused(
    rclient: mlcycle.Client, status: str
) -> None:
    log_version(rclient)
    registry.set_alias("churn", "champion", 1)
    registry.set_status("churn", 1, status)
    assert registry.get_model("churn").aliases == {}  # it lost its alias
    with pytest.raises(InvalidInputError, match=f"is {status}"):
        registry.set_alias("churn", "champion", 1)
    with pytest.raises(InvalidInputError, match=f"is {status}"):
        registry.promote("churn", 1, force=True, reason="no")


def test_promote_passes_gates_and_stores_them(rclient: mlcycle.Client) -> None:
    _problem(rclient)
    log_version(rclient, auc=0.8)
    done = registry.promote("churn", 1)
    assert (done.alias, done.version, done.previous, done.forced) == ("champion", 1, None, False)
    assert {r.gate for r in done.results} == {"threshold", "no_regression"}
    stored = registry.gate_results("churn", 1)
    assert [r.gate for r in stored] == ["threshold", "no_regression"]
    assert stored[0].passed
    assert stored[0].value == 0.8
    assert stored[0].threshold == 0.75
    log_version(rclient, auc=0.79)
    done = registry.promote("churn", 2, tolerance=0.02)
    assert done.previous == 1
    assert mlcycle.models.load("models:/churn@champion").manifest.run_id == (
        registry.get_version("churn", 2).run_id
    )


def test_failed_gates_refuse_with_every_reason(rclient: mlcycle.Client) -> None:
    _problem(rclient, threshold=0.75)
    log_version(rclient, auc=0.9)
    registry.promote("churn", 1)
    log_version(rclient, auc=0.7)

    def never(context: registry.GateContext) -> tuple[bool, str]:
        return False, "not on a Friday"

    with pytest.raises(PromotionRefusedError) as caught:
        registry.promote("churn", 2, gates=[never, registry.FairnessGate(0.1)])
    message = str(caught.value)
    for reason in ("threshold:", "no_regression:", "never: not on a Friday", "fairness:"):
        assert reason in message
    assert "4 gate(s) failed" in message
    assert len(caught.value.results) == 4
    assert registry.get_model("churn").aliases == {"champion": 1}
    assert [r.passed for r in registry.gate_results("churn", 2)] == [False] * 4


def test_force_needs_a_reason_and_is_recorded(rclient: mlcycle.Client) -> None:
    _problem(rclient)
    log_version(rclient, auc=0.5)
    with pytest.raises(InvalidInputError, match="reason"):
        registry.promote("churn", 1, force=True)
    done = registry.promote("churn", 1, force=True, reason="hotfix for incident 42")
    assert done.forced
    assert done.reason == "hotfix for incident 42"
    stored = registry.gate_results("churn", 1)
    assert stored
    assert all(r.forced and r.reason == "hotfix for incident 42" for r in stored)
    assert registry.get_model("churn").aliases == {"champion": 1}


def test_latency_gate_times_the_input_example(rclient: mlcycle.Client) -> None:
    log_version(rclient)
    done = registry.promote(
        "churn",
        1,
        "fast",
        gates=[registry.LatencyGate(max_p99_ms=5000, repeats=5)],
        defaults=False,
    )
    (result,) = done.results
    assert result.gate == "latency_p99"
    assert result.passed
    assert result.value is not None


def test_no_regression_needs_the_same_eval_dataset(rclient: mlcycle.Client) -> None:
    _problem(rclient, threshold=0.5)
    eval_a = mds.register("eval", pd.DataFrame({"x": [1, 2, 3]}))
    eval_b = mds.register("eval", pd.DataFrame({"x": [4, 5, 6]}))
    for auc, data in ((0.8, eval_a), (0.9, eval_b)):
        info = log_version(rclient, auc=auc)
        rclient.datasets.log_input(info.run_id, data, context="eval")
    registry.promote("churn", 1)
    with pytest.raises(PromotionRefusedError, match="not evaluated on the same dataset"):
        registry.promote("churn", 2)


def _log_on(client: mlcycle.Client, data: mds.DatasetVersion, *, flipped: bool) -> int:
    """Register a pipeline (trained on flipped labels when asked) evaluated on ``data``."""
    frame = churn_frame(120, seed=3)
    if flipped:
        frame["churned"] = 1 - frame["churned"]
    with client.start_run("churn", capture_environment=False) as run:
        run.log_input(data, context="test")
        run.log_metric("roc_auc", 0.9)
        info = run.log_model(
            churn_pipeline(frame), "model", input_example=frame[FEATURES].head(3), register="churn"
        )
    version = getattr(info.registered_version, "version", None)
    assert isinstance(version, int)
    return version


def test_no_regression_scores_both_on_the_candidates_new_data(rclient: mlcycle.Client) -> None:
    _problem(rclient, threshold=0.5)
    old = mds.register("eval", churn_frame(150, seed=1))
    new = mds.register("eval", churn_frame(150, seed=2))
    bad = _log_on(rclient, old, flipped=True)
    registry.promote("churn", bad)  # its own run says 0.9 on the old data
    good = _log_on(rclient, new, flipped=False)
    done = registry.promote("churn", good)
    (result,) = [r for r in done.results if r.gate == "no_regression"]
    assert "both scored on eval v2" in result.detail
    assert result.value is not None
    assert result.threshold is not None
    assert result.value > 0.8 > 0.2 > result.threshold  # the champion ranks backwards
    # The other way round: the flipped model loses on newer data, whatever its run says.
    newer = mds.register("eval", churn_frame(150, seed=4))
    worse = _log_on(rclient, newer, flipped=True)
    with pytest.raises(PromotionRefusedError, match="both scored on eval v3"):
        registry.promote("churn", worse)


def test_lineage_and_compare(rclient: mlcycle.Client) -> None:
    train = mds.register("churn-data", pd.DataFrame({"x": [1, 2, 3]}))
    frame = churn_frame(60)
    with rclient.start_run("churn", capture_environment=False) as run:
        run.log_input(train, context="train")
        run.log_params({"C": 1.0})
        run.log_metric("roc_auc", 0.8)
        run.log_model(churn_pipeline(frame), "model", register="churn")
    log_version(rclient, auc=0.85, params={"C": 0.5})
    lin = registry.lineage("churn", 1)
    assert lin.run.id == run.id
    assert lin.experiment is not None
    assert [(i.name, i.version, i.context) for i in lin.inputs] == [("churn-data", 1, "train")]
    assert lin.to_dict()["inputs"][0]["name"] == "churn-data"
    diff = registry.compare("churn", 1, 2)
    assert diff.params["C"] == ("1.0", "0.5")
    assert diff.metrics["roc_auc"] == (0.8, 0.85)
    assert [i.name for i in diff.inputs[0]] == ["churn-data"]
    assert diff.inputs[1] == ()


def test_the_registry_works_through_a_server(client: mlcycle.Client, backend_kind: str) -> None:
    if backend_kind != "remote":
        pytest.skip("the HTTP registry is for tracking servers")
    assert registry.list_models(client=client) == []
    with pytest.raises(NotFoundError, match="churn"):
        mlcycle.models.load("models:/churn/1", client=client)
