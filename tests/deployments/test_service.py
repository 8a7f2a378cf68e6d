"""The deployment service over real stores and real registered models: each strategy's
rules, rollback, the canary controller's steps, the alias move on completion, feedback."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
from mlcycle.clock import ManualClock
from mlcycle.deployments.service import CONTROLLER, DeploymentService
from mlcycle.entities import ArmRole, ArmStats, DeploymentStatus, ServingOptions, Strategy
from mlcycle.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from tests.deployments.conftest import START, ListAudit, make_service
from tests.registry.conftest import log_version

MINUTE = 60_000


def _healthy(requests: int = 100) -> dict[str, ArmStats]:
    return {
        "candidate": ArmStats(arm="candidate", version=2, since=0, requests=requests, p99_ms=9.0)
    }


def _weights(service: DeploymentService, name: str = "churn") -> dict[str, float]:
    return {a.name: a.weight for a in service.get(name).arms}


# -- create, get, list, delete ------------------------------------------------------------


def test_create_records_history_and_audit(service: DeploymentService, audit: ListAudit) -> None:
    d = service.create("churn", "models:/churn@champion", description="churn scoring")
    assert [(a.name, a.model_uri, a.weight) for a in d.arms] == [
        ("primary", "models:/churn@champion", 100.0)
    ]
    assert d.stable_arms == d.arms
    assert (d.strategy, d.revision, d.created_at) == (Strategy.SINGLE, 1, START)
    assert service.get("churn") == d
    assert [x.name for x in service.list()] == ["churn"]
    [event] = service.history("churn")
    assert (event.action, event.actor, event.before) == ("create", "tester", None)
    assert event.after is not None
    assert event.after["arms"][0]["name"] == "primary"
    assert [(e.action, e.target) for e in audit.events] == [
        ("deployment.create", "deployment:churn")
    ]
    with pytest.raises(AlreadyExistsError, match="'churn' exists already"):
        service.create("churn", "models:/churn/1")


@pytest.mark.parametrize(
    ("uri", "error", "match"),
    [
        ("models:/churn/9", NotFoundError, "cannot deploy models:/churn/9: .*no version 9"),
        ("models:/nope@champion", NotFoundError, "'nope' does not exist"),
        ("models:/churn@gone", NotFoundError, "cannot deploy models:/churn@gone"),
        ("s3x://bucket/m", InvalidInputError, "model_uri: model URI .* unknown scheme"),
        ("runs:/0123abcd/model", NotFoundError, "cannot deploy runs:/0123abcd/model"),
        ("/no/such/dir", NotFoundError, "no model directory there"),
        ("", InvalidInputError, "model_uri must be a non-empty model URI"),
    ],
)
def test_create_refuses_a_model_that_cannot_be_served(
    service: DeploymentService, uri: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as info:
        service.create("churn", uri)
    assert getattr(info.value, "field", None) == "model_uri"
    assert service.list() == []


def test_create_checks_name_and_options(service: DeploymentService) -> None:
    with pytest.raises(InvalidInputError, match="invalid deployment name 'a/b'") as info:
        service.create("a/b", "models:/churn/1")
    assert info.value.field == "name"
    bad = [
        (ServingOptions(max_batch_size=0), "max_batch_size"),
        (ServingOptions(max_latency_ms=-1), "max_latency_ms"),
        (ServingOptions(log_sample_rate=1.5), "log_sample_rate"),
        (ServingOptions(routing_key=" "), "routing_key"),
    ]
    for options, field in bad:
        with pytest.raises(InvalidInputError) as info:
            service.create("churn", "models:/churn/1", options=options)
        assert info.value.field == field


def test_a_retired_version_is_refused(dclient: mlcycle.Client, service: DeploymentService) -> None:
    dclient.registry.set_status("churn", 2, "retired")
    with pytest.raises(InvalidInputError, match="version 2 of 'churn' is retired"):
        service.create("churn", "models:/churn/2")


def test_a_model_that_does_not_load_is_refused(
    dclient: mlcycle.Client, service: DeploymentService, tmp_path: Path
) -> None:
    info = log_version(dclient, "churn")  # version 3, whose model file we break
    [skops] = (tmp_path / "artifacts").rglob(f"{info.run_id}/model/*.skops")
    skops.write_bytes(b"not a model")
    service.create("churn", "models:/churn@champion")
    with pytest.raises(InvalidInputError, match="models:/churn/3: the model does not load") as e:
        service.canary("churn", "models:/churn/3", max_p99_ms=50)
    assert e.value.field == "candidate"
    assert service.get("churn").revision == 1  # stable traffic untouched


def test_delete_keeps_history_and_the_name_can_be_used_again(
    service: DeploymentService,
) -> None:
    service.create("churn", "models:/churn/1")
    deleted = service.delete("churn", reason="retiring")
    assert deleted.status is DeploymentStatus.DELETED
    with pytest.raises(NotFoundError):
        service.get("churn")
    assert service.list() == []
    assert [d.name for d in service.list(include_deleted=True)] == ["churn"]
    again = service.create("churn", "models:/churn/2")
    assert again.revision == 3
    assert [(e.revision, e.action) for e in service.history("churn")] == [
        (1, "create"),
        (2, "delete"),
        (3, "create"),
    ]


# -- split --------------------------------------------------------------------------------


def test_split_names_arms_and_checks_weights(service: DeploymentService) -> None:
    service.create("churn", "models:/churn@champion")
    d = service.split("churn", [("models:/churn/1", 30), ("models:/churn/2", 70)])
    assert d.strategy is Strategy.SPLIT
    assert [(a.name, a.model_uri, a.weight) for a in d.arms] == [
        ("a", "models:/churn/1", 30.0),
        ("b", "models:/churn/2", 70.0),
    ]
    assert d.stable_arms == d.arms
    cases = [
        ([], "targets", "at least one"),
        ([("models:/churn/1", 50), ("models:/churn/2", 40)], "weight", "add up to 100, not 90"),
        ([("models:/churn/1", 120), ("models:/churn/2", -20)], "weight", "from 0 to 100"),
        ([("models:/churn/1", "x")], "weight", "must be a number"),
        ([("models:/churn/1",)], "targets", "must be a \\(model URI, weight\\) pair"),
        ([("models:/churn/7", 100)], "targets", "no version 7"),
    ]
    for targets, field, match in cases:
        with pytest.raises((InvalidInputError, NotFoundError), match=match) as info:
            service.split("churn", targets)  # type: ignore[arg-type]
        assert info.value.field == field
    assert service.get("churn").revision == 2


def test_status_resolves_aliases_now(dclient: mlcycle.Client, service: DeploymentService) -> None:
    service.create("churn", "models:/churn@champion")
    state = service.status("churn")
    assert [(a.arm.name, a.version, a.error) for a in state.arms] == [("primary", 1, None)]
    assert state.arms[0].model is not None
    assert state.arms[0].model.name == "churn"
    dclient.registry.set_alias("churn", "champion", 2)
    assert service.status("churn").arm("primary").version == 2
    dclient.registry.set_status("churn", 2, "retired")  # the alias goes with it
    broken = service.status("churn").arm("primary")
    assert broken.version is None
    assert broken.error is not None
    assert "no alias 'champion'" in broken.error.replace('"', "'")
    assert state.to_dict()["arms"][0]["version"] == 1


# -- canary -------------------------------------------------------------------------------


def test_canary_validation(service: DeploymentService) -> None:
    service.create("churn", "models:/churn@champion")
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"steps": (5, 5, 100)}, "steps", "increase strictly: 5 follows 5"),
        ({"steps": (5, 50)}, "steps", "end at 100, not 50"),
        ({"steps": (0, 100)}, "steps", "from 1 to 100"),
        ({"steps": ()}, "steps", "ending at 100"),
        ({"steps": (5.5, 100)}, "steps", "whole percentage"),
        ({"interval_s": 0}, "interval", "more than 0 s"),
        ({"max_error_rate": 2}, "max_error_rate", "from 0 to 1"),
        ({"max_p99_ms": 0}, "max_p99_ms", "above 0"),
        ({"min_accuracy": -0.1}, "min_accuracy", "from 0 to 1"),
    ]
    for kwargs, field, match in cases:
        with pytest.raises(InvalidInputError, match=match) as info:
            service.canary("churn", "models:/churn/2", **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(InvalidInputError, match="serves models:/churn@champion already"):
        service.canary("churn", "models:/churn@champion")
    with pytest.raises(NotFoundError, match="no version 5") as missing:
        service.canary("churn", "models:/churn/5")
    assert missing.value.field == "candidate"
    assert service.get("churn").revision == 1


def test_canary_steps_up_and_completion_moves_the_alias(
    dclient: mlcycle.Client, service: DeploymentService, clock: ManualClock, audit: ListAudit
) -> None:
    service.create("churn", "models:/churn@champion")
    d = service.canary("churn", "models:/churn/2", interval_s=600, max_p99_ms=50)
    assert d.strategy is Strategy.CANARY
    assert _weights(service) == {"primary": 95.0, "candidate": 5.0}
    assert d.stable_arms == (d.arms[0].__class__(name="primary", model_uri=d.model_uri),)
    assert d.canary is not None
    assert d.canary.step_started_at == START
    progress = service.status("churn").canary
    assert progress is not None
    assert (progress.percent, progress.next_step_at) == (5, START + 10 * MINUTE)
    with pytest.raises(ConflictError, match="has a canary of models:/churn/2 running"):
        service.canary("churn", "models:/churn/1")
    with pytest.raises(ConflictError, match="roll it back"):
        service.split("churn", [("models:/churn/1", 100)])

    # Before the interval is over: nothing changes.
    assert service.canary_tick("churn", _healthy(), START + MINUTE, d.revision) is None
    # Too few requests after the interval: hold.
    assert service.canary_tick("churn", _healthy(5), START + 11 * MINUTE, d.revision) is None
    now = START + 11 * MINUTE
    for percent in (25, 50, 100):
        event = service.canary_tick("churn", _healthy(), now, service.get("churn").revision)
        assert event is not None
        assert event.action == "canary_step"
        assert event.actor == CONTROLLER
        assert _weights(service)["candidate"] == percent
        now += 11 * MINUTE
    assert _weights(service) == {"primary": 0.0, "candidate": 100.0}
    done = service.canary_tick("churn", _healthy(), now, service.get("churn").revision)
    assert done is not None
    assert done.action == "canary_complete"
    assert "churn@champion now points at version 2" in (done.reason or "")
    final = service.get("churn")
    assert final.strategy is Strategy.SINGLE
    assert final.canary is None
    assert [(a.name, a.model_uri) for a in final.arms] == [("primary", "models:/churn@champion")]
    assert final.stable_arms == final.arms
    assert dclient.registry.get_model("churn").aliases == {"champion": 2}
    assert service.status("churn").arm("primary").version == 2
    assert [e.action for e in service.history("churn")] == [
        "create",
        "canary",
        "canary_step",
        "canary_step",
        "canary_step",
        "canary_complete",
    ]
    assert audit.events[-1].action == "deployment.canary_complete"
    # No canary any more: a tick does nothing.
    assert service.canary_tick("churn", _healthy(), now, final.revision) is None


def test_completion_without_an_alias_switches_the_model_uri(service: DeploymentService) -> None:
    service.create("churn", "models:/churn/1")
    service.canary("churn", "models:/churn/2", steps=(100,), interval_s=1)
    event = service.canary_tick("churn", _healthy(), START + 1000)
    assert event is not None
    assert event.action == "canary_complete"
    d = service.get("churn")
    assert d.model_uri == "models:/churn/2"
    assert [a.model_uri for a in d.arms] == ["models:/churn/2"]


def test_a_breached_guard_rolls_back_automatically(
    service: DeploymentService, audit: ListAudit
) -> None:
    service.create("churn", "models:/churn@champion")
    service.split("churn", [("models:/churn@champion", 60), ("models:/churn/1", 40)])
    d = service.canary("churn", "models:/churn/2", interval_s=600, max_p99_ms=50)
    assert _weights(service) == {"a": 57.0, "b": 38.0, "candidate": 5.0}
    event = service.canary_tick("churn", _healthy(), START + 11 * MINUTE, d.revision)
    assert event is not None
    slow = {"candidate": ArmStats(arm="candidate", version=2, since=0, requests=80, p99_ms=83.1)}
    rollback = service.canary_tick("churn", slow, START + 12 * MINUTE, event.revision)
    assert rollback is not None
    assert rollback.action == "rollback"
    assert rollback.reason == "p99 83.1 ms > 50 ms at step 2 (25%)"
    assert rollback.actor == CONTROLLER
    after = service.get("churn")
    assert after.strategy is Strategy.SPLIT
    assert after.canary is None
    assert _weights(service) == {"a": 60.0, "b": 40.0}
    assert service.history("churn")[-1] == rollback
    assert audit.events[-1].action == "deployment.rollback"
    assert audit.events[-1].before is not None
    assert audit.events[-1].before["strategy"] == "canary"


def test_a_stale_tick_is_a_conflict(dclient: mlcycle.Client, clock: ManualClock) -> None:
    first, second = make_service(dclient, clock), make_service(dclient, clock)
    first.create("churn", "models:/churn@champion")
    d = first.canary("churn", "models:/churn/2", interval_s=600)
    assert first.canary_tick("churn", _healthy(), START + 11 * MINUTE, d.revision) is not None
    # The second process read the same revision; the step happened already.
    with pytest.raises(ConflictError, match="at revision 3, not 2"):
        second.canary_tick("churn", _healthy(), START + 11 * MINUTE, d.revision)
    assert [e.action for e in first.history("churn")].count("canary_step") == 1


# -- shadow and rollback --------------------------------------------------------------------


def test_shadow_then_rollback(service: DeploymentService) -> None:
    service.create("churn", "models:/churn@champion")
    with pytest.raises(ConflictError, match="nothing to roll back"):
        service.rollback("churn")
    with pytest.raises(InvalidInputError, match="more than 0 and at most 100") as info:
        service.shadow("churn", "models:/churn/2", percent=0)
    assert info.value.field == "percent"
    d = service.shadow("churn", "models:/churn/2", percent=50)
    assert d.strategy is Strategy.SHADOW
    assert [(a.name, a.weight, a.role) for a in d.arms] == [
        ("primary", 100.0, ArmRole.SERVING),
        ("shadow", 50.0, ArmRole.SHADOW),
    ]
    assert [a.arm.name for a in service.status("churn").shadow] == ["shadow"]
    # A canary during a shadow ends the shadow.
    c = service.canary("churn", "models:/churn/2", interval_s=60)
    assert [a.name for a in c.arms] == ["primary", "candidate"]
    with pytest.raises(ConflictError):
        service.shadow("churn", "models:/churn/2")
    back = service.rollback("churn", reason="not now")
    assert back.strategy is Strategy.SINGLE
    assert [(a.name, a.weight) for a in back.arms] == [("primary", 100.0)]
    last = service.history("churn")[-1]
    assert (last.action, last.reason, last.actor) == ("rollback", "not now", "tester")


# -- feedback -------------------------------------------------------------------------------


def test_feedback_reports_unknown_requests(service: DeploymentService) -> None:
    known = {"r1", "r2"}
    result = service.record_feedback(
        "churn",
        [("r1", 1), {"request_id": "r2", "label": "yes"}, ("r9", 0)],
        known=known.__contains__,
    )
    assert (result.stored, result.unknown) == (2, ("r9",))
    assert service.record_feedback("churn", [("r1", 0)]).stored == 1
    got = service.feedback_for("churn")
    assert {f.request_id: f.label for f in got} == {"r1": 0, "r2": "yes"}
    assert all(f.at == START for f in got)
    assert service.feedback_for("churn", since=START + 1) == []
    with pytest.raises(InvalidInputError) as info:
        service.record_feedback("churn", [("", 1)])
    assert info.value.field == "request_id"
    with pytest.raises(InvalidInputError, match="not a JSON value") as info:
        service.record_feedback("churn", [("r3", object())])
    assert info.value.field == "label"
    with pytest.raises(InvalidInputError, match="needs request_id and label"):
        service.record_feedback("churn", [{"request_id": "r4"}])
    # A model served without a deployment keeps feedback under its registered name.
    assert service.record_feedback("Churn model", [("r1", 1)]).stored == 1
    assert [f.label for f in service.feedback_for("Churn model")] == [1]
    with pytest.raises(InvalidInputError) as info:
        service.record_feedback(" ", [("r1", 1)])
    assert info.value.field == "deployment"


def test_public_api_on_the_default_client(dclient: mlcycle.Client) -> None:
    d = mlcycle.deployments.create("churn", "models:/churn@champion", max_batch_size=16)
    assert d.options.max_batch_size == 16
    assert mlcycle.deployments.get("churn") == d
    assert [x.name for x in mlcycle.deployments.list()] == ["churn"]
    assert mlcycle.deployments.list_deployments() == mlcycle.deployments.list()
    c = mlcycle.deployments.canary("churn", "models:/churn/2", interval="90s", max_p99_ms=50)
    assert c.canary is not None
    assert c.canary.interval_s == 90.0
    assert mlcycle.deployments.status("churn").canary is not None
    mlcycle.deployments.rollback("churn")
    mlcycle.deployments.split("churn", [("models:/churn/1", 50), ("models:/churn/2", 50)])
    mlcycle.deployments.shadow("churn", "models:/churn/1", percent=10)
    assert len(mlcycle.deployments.history("churn")) == 5
    stored = mlcycle.deployments.record_feedback("churn", [("r1", 1), ("r2", 0)])
    assert stored.stored == 2
    frame = mlcycle.deployments.feedback("churn")
    assert list(frame.columns) == ["request_id", "label", "time"]
    assert sorted(frame["request_id"]) == ["r1", "r2"]
    assert str(frame["time"].dtype).endswith("UTC]")
    with pytest.raises(InvalidInputError, match="interval 'soon' is not a duration"):
        mlcycle.deployments.canary("churn", "models:/churn/2", interval="soon")
    mlcycle.deployments.delete("churn")
    assert mlcycle.deployments.list() == []


def test_prediction_log_stays_the_reader_function(tmp_path: Path) -> None:
    import mlcycle.deployments.prediction_logs  # the module has its own name
    from mlcycle.deployments import prediction_log

    assert prediction_log is mlcycle.deployments.prediction_log
    assert callable(prediction_log)
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "artifacts"))
    with pytest.raises(NotFoundError, match="no deployment or prediction log named 'churn'"):
        prediction_log("churn", client=client)  # not silently empty
    reader = mlcycle.deployments.prediction_logs.read_prediction_log
    empty = reader(str(tmp_path / "artifacts"), "churn")
    assert len(empty) == 0
    assert "request_id" in empty.columns
