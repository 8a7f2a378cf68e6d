"""The version page's model card over a real server: the owner's statement, the feature
importance with intervals, the evaluation charts with their readings, and the label-free
estimate beside the realised performance."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

import mlcycle
from mlcycle.server import ServerConfig
from mlcycle.settings import Settings
from tests.models._models import FEATURES, churn_frame, churn_pipeline
from tests.monitoring._setup import (
    DEPLOYMENT,
    EXPERIMENT,
    MODEL,
    TRAINING,
    Setup,
    log_predictions,
    send_feedback,
)
from tests.server.live import ThreadServer
from tests.server.ui.test_browser import ARGS, CHROMIUM
from tests.server.ui.test_pages import html

pytestmark = pytest.mark.slow  # an explained evaluation, two monitor runs, a live server

HOUR = 3_600_000


@dataclass
class Carded:
    settings: Settings
    estimate: dict[str, object]  # the monitor's estimated_performance section, with labels


def seed_card(root: Path) -> Carded:
    """A version whose run holds an explained evaluation, an owner field filled, and a
    monitor that estimated a window before its labels, then saw them."""
    settings = Settings.from_env(
        {
            "MLCYCLE_TRACKING_URI": f"sqlite:///{root / 'card.db'}",
            "MLCYCLE_ARTIFACT_URI": str(root / "artifacts"),
        }
    )
    with mlcycle.Client(settings=settings) as client:
        client.create_experiment(
            EXPERIMENT, task="classification", target="churned", primary_metric="roc_auc"
        )
        train = churn_frame(400, seed=1)
        data = mlcycle.datasets.register(TRAINING, train, client=client)
        model = churn_pipeline(train)
        with client.start_run(EXPERIMENT, capture_environment=False) as run:
            run.log_input(data, context="train")
            run.log_model(model, "model", input_example=train[FEATURES].head(3), register=MODEL)
            mlcycle.evaluate(
                model,
                churn_frame(300, seed=2)[[*FEATURES, "churned"]],
                "churned",
                explain=True,
                importance_repeats=3,
                explain_budget_s=5.0,
                run=run,
                client=client,
            )
        client.registry.set_alias(MODEL, "champion", 1)
        client.deployments.create(DEPLOYMENT, f"models:/{MODEL}@champion")
        client.governance.set_card_fields(MODEL, 1, intended_use="<b>monthly</b> churn scores")
        setup = Setup(client, train, model)
        now = int(time.time() * 1000)
        earlier = churn_frame(400, seed=5)
        ids = log_predictions(setup, earlier, start_ms=now - 3 * HOUR, spacing_ms=1000)
        send_feedback(setup, ids, earlier["churned"].tolist())
        window = churn_frame(300, seed=6)
        late = log_predictions(setup, window, start_ms=now - HOUR // 2, prefix="late")
        client.monitoring.create("churn-watch", DEPLOYMENT, window="1h")
        client.monitoring.run("churn-watch", now=now)
        send_feedback(setup, late, window["churned"].tolist())
        result = client.monitoring.run("churn-watch", now=now + 1)
        with client.start_run(EXPERIMENT, capture_environment=False) as run:  # version 2
            run.log_model(model, "model", input_example=train[FEATURES].head(3), register=MODEL)
    return Carded(settings, result.section("estimated_performance"))


@pytest.fixture(scope="module")
def carded(tmp_path_factory: pytest.TempPathFactory) -> Carded:
    return seed_card(tmp_path_factory.mktemp("card"))


@pytest.fixture(scope="module")
def card_ui(carded: Carded) -> Iterator[httpx.Client]:
    with (
        ThreadServer(carded.settings, ServerConfig()) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client


def _section(body: str, key: str) -> str:
    return body.split(f'id="card-{key}"')[1].split("</section>")[0]


def test_the_version_page_shows_the_cards_evidence(card_ui: httpx.Client, carded: Carded) -> None:
    body = html(card_ui.get(f"/models/{MODEL}/versions/1"))
    owner = _section(body, "owner")
    assert "&lt;b&gt;monthly&lt;/b&gt; churn scores" in owner  # the owner's words, escaped
    assert "not stated by the owner" in owner  # limitations, ethical considerations
    assert "--limitations TEXT --ethical-considerations TEXT" in owner
    assert "--intended-use" not in owner

    importance = _section(body, "importance")
    assert "evaluation/evaluation.json" in importance
    rows = importance.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == len(FEATURES)
    assert all("<svg" in row and "<rect" in row for row in rows)  # a bar with its interval
    assert all(any(f"<td>{f}</td>" in row for f in FEATURES) for row in rows)
    assert "95% intervals" in importance

    evidence = _section(body, "evidence")
    for title in ("ROC curve", "Feature importance", "Calibration"):
        assert f"<strong>{title}</strong>" in evidence
    assert evidence.count('src="data:image/png;base64,') >= 4
    assert "matters most" in evidence  # the importance chart's reading

    performance = _section(body, "performance")
    assert 'href="/monitors/churn-watch"' in performance
    metrics = carded.estimate["metrics"]
    assert isinstance(metrics, dict)
    realised = carded.estimate["realised"]
    assert isinstance(realised, dict)
    table = performance.split("<tbody>")[1]
    for name, found in metrics.items():
        row = table.split(f"<td>{name}")[1].split("</tr>")[0]
        assert f"{found['value']:.6g}" in row
        assert f"[{found['low']:.6g}, {found['high']:.6g}]" in row
        assert f"{realised[name]:.6g}" in row
    assert "(judged)" in table
    # every section of the card still follows, collapsed
    assert "Intended use and limitations" in body.split('id="card"')[1]


def test_a_version_without_evidence_says_how_to_get_it(card_ui: httpx.Client) -> None:
    body = html(card_ui.get(f"/models/{MODEL}/versions/2"))
    assert "No explained evaluation" in _section(body, "importance")
    assert "mlcycle evaluate --explain" in _section(body, "importance")
    assert "No evaluation was logged" in _section(body, "evidence")
    assert "No monitor has estimated" in _section(body, "performance")
    owner = _section(body, "owner")
    assert owner.count("not stated by the owner") == 3
    assert "refuses promotion while intended use, limitations, ethical considerations are" in owner


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium")
def test_the_cards_charts_draw_in_a_browser(card_ui: httpx.Client, tmp_path: Path) -> None:
    shots = Path(os.environ.get("UI_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(f"{card_ui.base_url}/models/{MODEL}/versions/1")
            importance = page.get_by_role("heading", name="Feature importance")
            importance.scroll_into_view_if_needed()
            bars = page.locator("#card-importance table svg rect")
            assert bars.count() == len(FEATURES)
            widths = [float(b.get_attribute("width") or 0) for b in bars.all()]
            assert widths == sorted(widths, reverse=True)  # most important first, longest
            page.locator("#card-evidence img").last.scroll_into_view_if_needed()
            page.wait_for_function(
                "() => [...document.querySelectorAll('#card-evidence img')]"
                ".every(i => i.complete && i.naturalWidth > 0)"
            )
            rows = page.locator("#card-performance tbody tr")
            assert rows.count() == 5  # accuracy, precision, recall, F1, ROC AUC
            page.get_by_text("Every section of the model card").click()
            assert page.get_by_role("heading", name="Latest monitoring").is_visible()
            page.locator("#card-owner").screenshot(path=str(shots / "card-owner.png"))
            page.screenshot(path=str(shots / "model-card.png"), full_page=True)
            assert failed == []
        finally:
            browser.close()
