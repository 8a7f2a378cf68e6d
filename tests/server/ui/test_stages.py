"""The pages of the stages after tracking (datasets, deployments, monitoring) over a store
holding the whole lifecycle, and their error states."""

from __future__ import annotations

import httpx

from tests.server.ui.conftest import Lifecycle
from tests.server.ui.test_pages import html


def test_run_page_lists_dataset_inputs_with_digests(
    life: httpx.Client, lifecycle: Lifecycle
) -> None:
    body = html(life.get(f"/runs/{lifecycle.run_id}"))
    inputs = body.split('id="inputs"')[1].split("</table>")[0]
    assert 'href="/datasets/churn-train/versions/1"' in inputs
    assert "train" in inputs
    assert "<code>" in inputs  # the digest


def test_dataset_pages(life: httpx.Client, lifecycle: Lifecycle) -> None:
    assert 'href="/datasets/churn-train"' in html(life.get("/datasets"))
    versions = html(life.get("/datasets/churn-train"))
    assert "v2" in versions
    assert "passed" in versions  # v1's validation
    v1 = html(life.get("/datasets/churn-train/versions/1"))
    assert "<svg" in v1  # histograms
    assert "tenure" in v1
    assert f'href="/runs/{lifecycle.run_id}"' in v1
    assert "not_null" in v1
    diff = html(life.get("/datasets/churn-train/diff", params={"old": 1, "new": 2}))
    assert "tenure" in diff
    assert "Rows 400 → 300" in diff


def test_dataset_errors(life: httpx.Client) -> None:
    assert "NotFoundError" in html(life.get("/datasets/nope"), 404)
    assert "version number" in html(life.get("/datasets/churn-train/versions/x"), 400)
    assert "old must be" in html(life.get("/datasets/churn-train/diff"), 400)
    assert "404" in html(life.get("/datasets/churn-train/versions/9"), 404)


def test_deployment_pages(life: httpx.Client) -> None:
    assert 'href="/deployments/churn-api"' in html(life.get("/deployments"))
    body = html(life.get("/deployments/churn-api"))
    assert 'href="/models/churn/versions/1"' in body  # the arm follows @champion
    assert "100%" in body
    traffic = body.split('id="traffic"')[1].split("</table>")[0]
    assert '<td class="num">200</td>' in traffic  # requests logged in the last hour
    assert "create" in body.split('id="history"')[1]
    assert 'href="/monitors/churn-watch"' in body
    assert "NotFoundError" in html(life.get("/deployments/nope"), 404)


def test_monitor_pages_and_alert_ack(life: httpx.Client, lifecycle: Lifecycle) -> None:
    listing = html(life.get("/monitors"))
    assert 'href="/monitors/churn-watch"' in listing
    body = html(life.get("/monitors/churn-watch"))
    assert 'id="drift"' in body
    assert "tenure" in body.split('id="drift"')[1]
    assert "Acknowledge" in body
    report = life.get("/monitors/churn-watch/report")
    assert report.headers["content-security-policy"] == "sandbox"
    assert "Feature drift" in report.text
    assert lifecycle.alert_id in html(life.get("/alerts"))
    acked = life.post(
        f"/alerts/{lifecycle.alert_id}/ack", data={"by": "ana", "back": "/alerts?status="}
    )
    assert acked.status_code == 303
    assert acked.headers["location"] == "/alerts?status="
    after = html(life.get("/alerts", params={"status": "acknowledged"}))
    assert "acknowledged by ana" in after
    assert "No alerts." in html(life.get("/alerts"))
    assert "unknown alert status" in html(life.get("/alerts", params={"status": "closed"}), 400)
    assert "404" in html(life.post(f"/alerts/{'0' * 32}/ack"), 404)
    assert "NotFoundError" in html(life.get("/monitors/nope"), 404)
