"""The UI with ``--auth``: the login page and session cookie, the permission table on every
page and action, four-eyes approvals from the page, and logging out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from mlcycle.governance.service import GovernanceService
from mlcycle.server import ServerConfig
from mlcycle.server.auth import SESSION_COOKIE
from mlcycle.store.sql.store import open_store
from tests.server.live import ThreadServer
from tests.server.ui.conftest import Seeded, seed
from tests.server.ui.test_pages import html

PASSWORDS = {"vic": "viewer-password", "ana": "editor-password", "bo": "approver-password"}
ROLES = {"vic": "viewer", "ana": "editor", "bo": "approver"}


@dataclass
class AuthSite:
    url: str
    seeded: Seeded
    clients: list[httpx.Client]

    def login(self, user: str) -> httpx.Client:
        """A client logged in as ``user`` (closed with the module's server)."""
        client = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(client)
        answer = client.post(
            "/login", data={"user": user, "secret": PASSWORDS[user], "next": "/models"}
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/models"
        assert SESSION_COOKIE in client.cookies
        return client


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthSite]:
    seeded = seed(tmp_path_factory.mktemp("ui-auth"))
    store = open_store(seeded.settings.tracking_uri)
    try:
        users = GovernanceService(store.governance).users
        for name, role in ROLES.items():
            users.create_user(name, role=role, password=PASSWORDS[name])
    finally:
        store.close()
    with ThreadServer(seeded.settings, ServerConfig(auth=True)) as server:
        found = AuthSite(server.url, seeded, [])
        yield found
        for client in found.clients:
            client.close()


def test_a_browser_without_a_session_goes_to_the_login_page(site: AuthSite) -> None:
    with httpx.Client(base_url=site.url) as anonymous:
        page = anonymous.get("/experiments?q=x", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=%2Fexperiments%3Fq%3Dx"
        assert anonymous.get("/experiments").status_code == 401  # a script gets a 401
        login = html(anonymous.get("/login", params={"next": "//evil.example/"}))
        assert 'value="/experiments"' in login  # no open redirect
        assert '<label for="secret">' in login
        assert anonymous.get("/ui/static/app.css").status_code == 200  # assets are public


def test_wrong_or_missing_credentials_stay_on_the_login_page(site: AuthSite) -> None:
    with httpx.Client(base_url=site.url) as anonymous:
        wrong = anonymous.post("/login", data={"user": "ana", "secret": "nope"})
        assert "invalid" in html(wrong, 401).lower()
        assert SESSION_COOKIE not in anonymous.cookies
        assert "enter your user name" in html(anonymous.post("/login", data={"user": "ana"}), 400)


def test_the_session_cookie_opens_pages_and_logout_revokes_it(site: AuthSite) -> None:
    client = site.login("vic")
    body = html(client.get("/experiments"))
    assert "vic <small>(viewer)</small>" in body
    secret = client.cookies[SESSION_COOKIE]
    out = client.post("/logout")
    assert out.status_code == 303
    with httpx.Client(base_url=site.url) as again:
        again.cookies.set(SESSION_COOKIE, secret)
        assert again.get("/experiments").status_code == 401  # the token is revoked


def test_the_permission_table_applies_to_page_actions(site: AuthSite) -> None:
    viewer = site.login("vic")
    denied = viewer.post("/models/churn-model/versions/1/approvals", data={"alias": "champion"})
    assert "needs write permission" in html(denied, 403)
    version = html(viewer.get("/models/churn-model/versions/1"))
    assert "Request promotion" not in version  # no form the role cannot use
    assert "Retire this version" not in version


def test_two_users_approve_a_promotion_from_the_page(site: AuthSite) -> None:
    editor, approver = site.login("ana"), site.login("bo")
    asked = editor.post("/models/churn-model/versions/1/approvals", data={"alias": "champion"})
    assert asked.status_code == 303
    page = html(editor.get("/models/churn-model/versions/1"))
    approval_id = page.split('action="/approvals/')[1].split("/")[0]
    assert "Someone else must approve" in page
    assert 'action="/approvals/' + approval_id + '/approve"' not in page  # ana cannot
    refused = editor.post(f"/approvals/{approval_id}/approve")
    assert "needs approve permission" in html(refused, 403)
    done = approver.post(f"/approvals/{approval_id}/approve", data={"comment": "ok"})
    assert done.status_code == 303
    after = html(approver.get("/models/churn-model/versions/1"))
    assert "@champion" in after
    assert "bo" in after.split('id="approvals"')[1]
    again = approver.post(f"/approvals/{approval_id}/approve")
    assert 'id="action-error"' in html(again, 409)  # decided already, said on the page
