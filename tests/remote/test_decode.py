"""Runs decoded from the server's JSON equal runs built by their constructor."""

from __future__ import annotations

import math

import orjson

from mlcycle.entities import LifecycleStage, Run, RunStatus
from mlcycle.remote import decode
from mlcycle.server import encode


def test_runs_survive_the_wire() -> None:
    original = Run(
        id="a" * 32,
        experiment_id="b" * 32,
        name="r",
        status=RunStatus.FAILED,
        start_time=1,
        end_time=5,
        parent_id="c" * 32,
        description="d",
        error="boom",
        lifecycle_stage=LifecycleStage.DELETED,
        deleted_at=9,
        params={"p": "1"},
        metrics={"m": 0.5, "n": math.nan, "i": math.inf, "j": -math.inf},
        tags={"t": "x"},
    )
    back = decode.run(orjson.loads(orjson.dumps(encode.run(original))))
    assert isinstance(back.status, RunStatus)
    assert back.status is RunStatus.FAILED
    assert back.duration == 4
    assert math.isnan(back.metrics["n"])
    assert back == Run(**{**back.__dict__, "metrics": back.metrics})
    assert {k: v for k, v in back.metrics.items() if k != "n"} == {
        "m": 0.5,
        "i": math.inf,
        "j": -math.inf,
    }
    assert (back.id, back.params, back.tags, back.error) == (
        "a" * 32,
        {"p": "1"},
        {"t": "x"},
        "boom",
    )


def test_an_older_server_without_a_field_still_decodes() -> None:
    made = Run(id="a", experiment_id="b", name="r", status=RunStatus.RUNNING, start_time=0)
    data = orjson.loads(orjson.dumps(encode.run(made)))
    del data["deleted_at"]
    assert decode.run(data) == made
