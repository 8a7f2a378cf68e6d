"""The plumbing both HTTP edges share (``mlcycle/edges.py``)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter

from mlcycle.edges import check_listen, log_config, render_metrics
from mlcycle.errors import InvalidInputError


@pytest.mark.parametrize(
    ("port", "workers", "field"), [(70000, 1, "port"), (-1, 1, "port"), (5000, 0, "workers")]
)
def test_bad_listen_options_name_their_field(port: int, workers: int, field: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_listen(port, workers)
    assert refused.value.field == field


def test_log_config_covers_uvicorn_and_the_edge() -> None:
    config = log_config("debug", "mlcycle.server")
    assert set(config["loggers"]) == {"uvicorn", "mlcycle.server"}
    assert all(v["level"] == "DEBUG" for v in config["loggers"].values())


def test_metrics_render_one_process() -> None:
    registry = CollectorRegistry()
    Counter("edge_test_things", "things", registry=registry).inc(3)
    assert b"edge_test_things_total 3.0" in render_metrics(registry, None)
