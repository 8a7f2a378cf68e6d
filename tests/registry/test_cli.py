"""``mlcycle models ...`` and ``mlcycle evaluate`` with --json."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
import mlcycle.datasets as mds
from tests.cli.conftest import Cli
from tests.models._models import churn_frame
from tests.registry.conftest import log_version


@pytest.fixture
def seeded_cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    with cli.client() as c:
        c.create_experiment(
            "churn",
            task="classification",
            target="churned",
            primary_metric="roc_auc",
            direction="maximize",
            threshold=0.75,
        )
        log_version(c, auc=0.8)
        log_version(c, auc=0.7, params={"C": 0.1})
        mds.register("churn-test", churn_frame(80, seed=3), client=c)
    return cli


def test_models_commands(seeded_cli: Cli) -> None:
    cli = seeded_cli
    listed = cli.ok("models", "list", "--json").json()
    assert [(m["name"], m["latest_version"]) for m in listed] == [("churn", 2)]
    assert "churn" in cli.ok("models", "list").stdout
    versions = cli.ok("models", "versions", "churn", "--json").json()
    assert [v["version"] for v in versions] == [1, 2]
    promoted = cli.ok("models", "promote", "churn", "1", "--json").json()
    assert promoted["alias"] == "champion"
    assert all(g["passed"] for g in promoted["gates"])
    refused = cli("models", "promote", "churn", "2")
    assert refused.exit_code == 1
    assert "threshold:" in refused.stderr
    assert "no_regression:" in refused.stderr
    forced = cli.ok("models", "promote", "churn", "2", "--force", "--reason", "test", "--json")
    assert forced.json()["forced"] is True
    shown = cli.ok("models", "show", "churn", "--alias", "champion", "--json").json()
    assert shown["version"] == 2
    assert [g["forced"] for g in shown["gates"]] == [False, False, True, True]
    assert "Gate results" in cli.ok("models", "show", "churn", "2").stdout
    assert cli.ok("models", "show", "churn", "--json").json()["aliases"] == {"champion": 2}
    cli.ok("models", "alias", "churn", "challenger", "1")
    assert cli.ok("models", "show", "churn", "--json").json()["aliases"] == {
        "champion": 2,
        "challenger": 1,
    }
    cli.ok("models", "alias", "churn", "challenger", "--delete")
    diff = cli.ok("models", "compare", "churn", "1", "2", "--json").json()
    assert diff["metrics"]["roc_auc"] == [0.8, 0.7]
    assert "params.C" in cli.ok("models", "compare", "churn", "1", "2").stdout
    lineage = cli.ok("models", "lineage", "churn", "1", "--json").json()
    assert lineage["experiment"] == "churn"
    assert "Run" in cli.ok("models", "lineage", "churn", "--alias", "champion").stdout
    missing = cli("models", "show", "ghost")
    assert missing.exit_code == 1
    assert "'ghost'" in missing.stderr


def test_evaluate_command(seeded_cli: Cli) -> None:
    cli = seeded_cli
    out = cli.ok(
        "evaluate", "models:/churn/1", "--data", "churn-test@1", "--target", "churned", "--json"
    ).json()
    assert 0.0 <= out["metrics"]["roc_auc"] <= 1.0
    assert (
        "accuracy"
        in cli.ok(
            "evaluate", "models:/churn/1", "--data", "churn-test", "--target", "churned"
        ).stdout
    )
    with cli.client() as c:
        assert mlcycle.registry.get_model("churn", client=c).latest_version == 2
