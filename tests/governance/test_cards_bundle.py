"""Model cards (Markdown, HTML) and compliance bundles (a zip with a manifest of
checksums), through the client and the command line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

import mlcycle
from mlcycle.cli.app import app
from mlcycle.governance.bundle import verify_bundle
from tests.models._models import FEATURES, churn_frame, churn_pipeline


def _evaluated(client: mlcycle.Client) -> None:
    """churn v1 with training data lineage, an evaluation (slices, fairness) and gates."""
    frame = churn_frame(80)
    data = mlcycle.datasets.register("churn-data", frame, client=client)
    pipeline = churn_pipeline(frame)
    with client.start_run("churn", capture_environment=False) as run:
        run.log_input(data, "train")
        run.log_metric("roc_auc", 0.8)
        run.log_model(pipeline, "model", input_example=frame[FEATURES].head(3), register="churn")
        mlcycle.evaluate(
            pipeline, frame, "churned", slices=["plan"], sensitive="plan", run=run, client=client
        )
    client.registry.promote("churn", 1, alias="staging", force=True, reason="first")


def test_card_holds_every_section(gclient: mlcycle.Client) -> None:
    _evaluated(gclient)
    gclient.governance.set_card_fields(
        "churn", 1, intended_use="monthly churn scores", limitations="EU customers only"
    )
    card = gclient.governance.card("churn", 1)
    md = card.to_markdown()
    for heading in (
        "## Model details",
        "## Intended use and limitations",
        "## Training data (lineage and profile)",
        "## Evaluation",
        "## Fairness",
        "## Promotion gates",
        "## Approvals",
        "## Deployment history",
        "## Latest monitoring",
    ):
        assert heading in md
    assert "monthly churn scores" in md
    assert "churn-data:1" in md
    assert "| train |" in md
    html = card.to_html()
    assert html.startswith("<!doctype html>")
    assert "EU customers only" in html
    assert "| plan=basic |" in md  # a slice
    assert "| plan |" in md  # fairness


def test_bundle_holds_what_an_auditor_asks_for(gclient: mlcycle.Client, tmp_path: Path) -> None:
    _evaluated(gclient)
    target = tmp_path / "out" / "bundle.zip"
    manifest = gclient.governance.export_bundle("churn", 1, target)
    assert manifest["model"] == "churn"
    assert manifest["version"] == 1
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        lineage = json.loads(archive.read("lineage.json"))
        events = [json.loads(line) for line in archive.read("audit_events.jsonl").splitlines()]
    assert {
        "manifest.json",
        "model_card.md",
        "model_card.html",
        "model_card.json",
        "lineage.json",
        "audit_events.jsonl",
        "evaluation/evaluation/evaluation.json",
        "data/churn-data-v1/profile.json",
    } <= names
    assert lineage["inputs"][0]["name"] == "churn-data"
    actions = {e["action"] for e in events}
    assert {"model_version.create", "model_version.gates", "model.promote"} <= actions
    assert verify_bundle(target) == []
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("extra.txt", b"slipped in")
    assert verify_bundle(target) == ["extra.txt: not in the manifest"]


def test_card_and_bundle_from_the_command_line(
    gclient: mlcycle.Client, store_url: str, tmp_path: Path
) -> None:
    _evaluated(gclient)
    runner = CliRunner()
    base = ["--tracking-uri", store_url, "--artifact-uri", str(tmp_path / "artifacts")]
    md = runner.invoke(app, [*base, "models", "card", "churn", "1", "--md"])
    assert md.exit_code == 0, md.output
    assert "# Model card: churn version 1" in md.output
    html_path = tmp_path / "card.html"
    made = runner.invoke(
        app,
        [
            *base,
            "models",
            "card",
            "churn",
            "1",
            "--html",
            "-o",
            str(html_path),
            "--intended-use",
            "scores for the retention team",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "scores for the retention team" in html_path.read_text()
    bundle = tmp_path / "b.zip"
    exported = runner.invoke(
        app, [*base, "governance", "export", "churn", "1", str(bundle), "--json"]
    )
    assert exported.exit_code == 0, exported.output
    assert {f["path"] for f in json.loads(exported.output)["files"]} >= {"model_card.md"}
    missing = runner.invoke(app, [*base, "models", "card", "churn", "7"])
    assert missing.exit_code == 1
