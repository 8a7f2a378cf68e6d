"""Real-browser flows: Playwright driving Debian's Chromium (never a downloaded browser)
against one live ``--auth`` server over a seeded store.

Flows: the MLflow link, open a run from the table, filter with an inline error, compare two
runs, zoom a chart (the server re-buckets), approve a promotion with two users, acknowledge
an alert.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from mlcycle.governance.service import GovernanceService
from mlcycle.server import ServerConfig
from mlcycle.store.sql.store import open_store
from tests.server.live import ThreadServer
from tests.server.ui.conftest import Lifecycle, Seeded, seed, seed_lifecycle

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "ui"
PASSWORDS = {"ana": "ana-password-1", "bo": "bo-password-22"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded, Lifecycle]]:
    seeded = seed(tmp_path_factory.mktemp("browser"))
    lifecycle = seed_lifecycle(seeded.settings)
    store = open_store(seeded.settings.tracking_uri)
    try:
        users = GovernanceService(store.governance).users
        users.create_user("ana", role="editor", password=PASSWORDS["ana"])
        users.create_user("bo", role="approver", password=PASSWORDS["bo"])
    finally:
        store.close()
    with ThreadServer(seeded.settings, ServerConfig(auth=True)) as server:
        yield server.url, seeded, lifecycle


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield found
        found.close()


def login(browser: Browser, url: str, user: str, *, dark: bool = False) -> Page:
    """A page of a new browser context at 1280 px, logged in as ``user``."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="dark" if dark else "light"
    )
    page = context.new_page()
    page.goto(url + "/experiments")
    assert "/login" in page.url  # redirected there, with the page to return to
    page.get_by_label("User").fill(user)
    page.get_by_label("Password or API token").fill(PASSWORDS[user])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/experiments")
    return page


def test_lifecycle_in_a_browser(site: tuple[str, Seeded, Lifecycle], browser: Browser) -> None:
    url, seeded, lifecycle = site
    page = login(browser, url, "ana")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "experiments.png"))

    # the link the MLflow client prints
    page.goto(f"{url}/#/experiments/{seeded.experiment_id}/runs/{seeded.runs[1]}")
    page.wait_for_url(f"**/runs/{seeded.runs[1]}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("run-1")

    # filter the runs table; a bad filter says where it fails
    page.goto(f"{url}/experiments/{seeded.experiment_id}")
    box = page.locator("input[name=filter]")
    box.fill("params.model = 'gbm' AND")
    box.press("Enter")
    assert "position" in page.get_by_role("alert").inner_text()
    box = page.locator("input[name=filter]")
    box.fill("params.model = 'gbm'")
    box.press("Enter")
    page.wait_for_url("**filter=*")
    names = page.locator("#runs tbody td:nth-child(2) a").all_inner_texts()
    assert sorted(names) == ["run-2", "run-3"]
    page.screenshot(path=str(SHOTS / "runs.png"))

    # open a run from the table; its charts draw when on screen
    page.get_by_role("link", name="run-2").click()
    page.wait_for_url("**/runs/*")
    chart = page.locator('figure.chart[data-key="loss"]')
    chart.scroll_into_view_if_needed()
    page.wait_for_selector('figure.chart[data-key="loss"][data-drawn="1"]')
    page.screenshot(path=str(SHOTS / "run.png"))

    # compare two runs selected in the table
    page.goto(f"{url}/experiments/{seeded.experiment_id}")
    page.get_by_label("select run-0").check()
    page.get_by_label("select run-3").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/compare?*")
    header = page.locator("#compare thead").inner_text()
    assert "run-0" in header
    assert "run-3" in header
    page.wait_for_selector('figure.chart[data-key="loss"][data-drawn="1"]')

    # zoom a 20,000-point chart: the browser asks the server for the range again
    page.goto(f"{url}/runs/{seeded.long_run}")
    figure = page.locator('figure.chart[data-key="loss"]')
    page.wait_for_selector('figure.chart[data-key="loss"][data-drawn="1"]')
    assert "20000 points in range" in figure.locator("figcaption").inner_text()
    box_ = figure.locator(".u-over").bounding_box()
    assert box_ is not None
    with page.expect_response(lambda r: "metric-buckets" in r.url and "start=" in r.url):
        page.mouse.move(box_["x"] + box_["width"] * 0.2, box_["y"] + 50)
        page.mouse.down()
        page.mouse.move(box_["x"] + box_["width"] * 0.3, box_["y"] + 50, steps=5)
        page.mouse.up()
    page.wait_for_function(
        "() => !document.querySelector('figure.chart figcaption').textContent"
        ".startsWith('20000 points')"
    )
    page.screenshot(path=str(SHOTS / "zoom.png"))

    # ana asks for v2 to become champion; bo approves; the alias moves
    page.goto(f"{url}/models/churn-model/versions/2")
    page.get_by_role("button", name="Request promotion").click()
    page.wait_for_url("**/models/churn-model/versions/2")
    assert "Someone else must approve" in page.locator("#approvals").inner_text()
    reviewer = login(browser, url, "bo", dark=True)  # bo prefers dark mode
    reviewer.goto(f"{url}/models/churn-model/versions/2")
    reviewer.get_by_role("button", name="Approve").click()
    reviewer.wait_for_url("**/models/churn-model/versions/2")
    assert "@champion" in reviewer.get_by_role("heading", level=1).inner_text()
    background = reviewer.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 19, 24)"  # the dark palette
    reviewer.screenshot(path=str(SHOTS / "approval-dark.png"))

    # acknowledge the monitor's alert from its page; it is recorded as ana's
    page.goto(f"{url}/monitors/churn-watch")
    page.screenshot(path=str(SHOTS / "monitor.png"), full_page=True)
    assert f'action="/alerts/{lifecycle.alert_id}/ack"' in page.content()
    page.get_by_role("button", name="Acknowledge", exact=False).first.click()
    page.wait_for_url("**/monitors/churn-watch")
    assert "acknowledged by ana" in page.locator("#alerts").inner_text()
    page.goto(f"{url}/alerts?status=acknowledged")
    assert "acknowledged by ana" in page.locator("#alerts").inner_text()

    # audit trail: the approval is there and the chain holds
    reviewer.goto(f"{url}/audit")
    assert "Chain verified" in reviewer.locator("#chain").inner_text()
    assert "approval" in reviewer.locator("#events").inner_text()
