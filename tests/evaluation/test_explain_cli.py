"""``mlcycle evaluate --explain`` prints the importance table."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle.datasets as mds
from tests.cli.conftest import Cli
from tests.models._models import churn_frame
from tests.registry.conftest import log_version


@pytest.mark.slow
def test_evaluate_explain_prints_importance(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    with cli.client() as c:
        c.create_experiment("churn", task="classification", target="churned")
        log_version(c, auc=0.8)
        mds.register("churn-test", churn_frame(80, seed=3), client=c)
    out = cli.ok(
        "evaluate",
        "models:/churn/1",
        "--data",
        "churn-test@1",
        "--target",
        "churned",
        "--explain",
        "--explain-budget",
        "1",
    ).stdout
    assert "Feature importance" in out
    assert "charges" in out
    scripted = cli.ok(
        "evaluate",
        "models:/churn/1",
        "--data",
        "churn-test",
        "--target",
        "churned",
        "--explain",
        "--explain-budget",
        "1",
        "--json",
    ).json()
    ranked = scripted["explanation"]["importance"]["features"]
    assert {row["feature"] for row in ranked} == {"tenure", "charges", "calls", "plan"}
    assert ranked[0]["ci_low"] <= ranked[0]["importance"] <= ranked[0]["ci_high"]
