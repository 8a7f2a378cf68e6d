"""Model cards with evidence: charts with readings (evaluation plots, importance, slices,
fairness), lineage to the deployment, each metric once, owner fields from the CLI, and a
gate that refuses promotion while they are empty."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import xgboost as xgb
from typer.testing import CliRunner

import mlcycle
from mlcycle.cli.app import app
from mlcycle.errors import PromotionRefusedError
from mlcycle.registry import CardGate
from tests.models._models import NUMERIC, churn_frame

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _explained(client: mlcycle.Client) -> None:
    frame = churn_frame(300)
    frame["plan_code"] = frame["plan"].map({"basic": 0, "plus": 1, "pro": 2})
    features = [*NUMERIC, "plan_code"]
    data = mlcycle.datasets.register("churn-data", frame, client=client)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1)
    model.fit(frame[features], frame["churned"])
    with client.start_run("churn", capture_environment=False) as run:
        run.log_input(data, "train")
        run.log_model(model, "model", input_example=frame[features].head(3), register="churn")
        mlcycle.evaluate(
            model,
            frame[[*features, "churned"]],
            "churned",
            slices=["plan_code"],
            sensitive="plan_code",
            explain=True,
            importance_repeats=2,
            run=run,
            client=client,
        )
    client.deployments.create("churn-api", "models:/churn/1")


@pytest.mark.slow
def test_card_shows_charts_with_readings_lineage_and_each_metric_once(
    gclient: mlcycle.Client, tmp_path: Path
) -> None:
    _explained(gclient)
    card = gclient.governance.card("churn", 1)
    titles = [e.title for e in card.evidence]
    for title in ("ROC curve", "Feature importance", "SHAP summary", "Calibration"):
        assert title in titles
    assert "roc_auc by plan_code" in titles
    assert "Fairness across plan_code" in titles
    assert all(e.png is not None and e.png.startswith(PNG_MAGIC) for e in card.evidence)
    importance = next(e for e in card.evidence if e.title == "Feature importance")
    assert "matters most" in importance.reading
    roc = next(e for e in card.evidence if e.title == "ROC curve")
    assert re.search(r"ROC AUC 0\.\d+", roc.reading)
    assert card.lineage[0].startswith("Dataset: churn-data@1 (train)")
    assert card.lineage[-1] == "Deployments: churn-api"
    md = card.to_markdown()
    assert "## Evidence" in md
    assert "![ROC curve](card_assets/evaluation-roc.png)" in md
    assert "## Lineage (dataset to deployment)" in md
    # each metric once: the evaluation's, not again under the training run
    assert md.count("| metric roc_auc |") == 0
    assert md.count("slice/plan_code") == 0
    assert md.count("importance/") == 0
    html = card.to_html()
    assert html.count("data:image/png;base64,") == len(card.evidence)
    data = card.to_dict()
    assert data["evidence"][0]["asset"].startswith("card_assets/")
    target = tmp_path / "bundle.zip"
    gclient.governance.export_bundle("churn", 1, target)
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        card_json = json.loads(archive.read("model_card.json"))
    assert {e["asset"] for e in card_json["evidence"]} <= names


def test_card_gate_refuses_promotion_while_the_owner_fields_are_empty(
    gclient: mlcycle.Client, store_url: str, tmp_path: Path
) -> None:
    frame = churn_frame(60)
    model = xgb.XGBClassifier(n_estimators=5, n_jobs=1).fit(frame[NUMERIC], frame["churned"])
    with gclient.start_run("churn", capture_environment=False) as run:
        run.log_model(model, "model", input_example=frame[NUMERIC].head(3), register="churn")
    with pytest.raises(PromotionRefusedError, match="ethical considerations"):
        gclient.registry.promote("churn", 1, gates=[CardGate()])
    runner = CliRunner()
    store = ["--tracking-uri", store_url, "--artifact-uri", str(tmp_path / "artifacts")]
    refused = runner.invoke(app, [*store, "models", "promote", "churn", "1", "--require-card"])
    assert refused.exit_code == 1
    assert "model_card" in str(refused.exception)
    set_fields = runner.invoke(
        app,
        [
            *store,
            "models",
            "card",
            "churn",
            "1",
            "--intended-use",
            "monthly churn scores",
            "--limitations",
            "EU customers only",
            "--ethical-considerations",
            "no protected attributes used",
            "-o",
            str(tmp_path / "card.md"),
        ],
    )
    assert set_fields.exit_code == 0, set_fields.output
    assert "no protected attributes used" in (tmp_path / "card.md").read_text()
    done = runner.invoke(
        app, [*store, "models", "promote", "churn", "1", "--require-card", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert any(g["gate"] == "model_card" and g["passed"] for g in json.loads(done.output)["gates"])
