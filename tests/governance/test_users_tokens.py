"""Users and tokens: a token is shown once and stored as a hash; expired, revoked,
malformed and unknown tokens and disabled users are refused; passwords are argon2."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import text

from mlcycle.clock import ManualClock
from mlcycle.entities.governance import Permission, ResourceKind, Role, canonical_json
from mlcycle.errors import AlreadyExistsError, AuthenticationError, InvalidInputError, NotFoundError
from mlcycle.governance.service import GovernanceService
from mlcycle.store.sql.store import SqlStore


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def test_users_are_created_listed_and_checked(gov: GovernanceService) -> None:
    gov.users.create_user("ana", admin=True)
    gov.users.create_user("bo", role="editor")
    assert [(u.name, u.role) for u in gov.users.list_users()] == [
        ("ana", Role.ADMIN),
        ("bo", Role.EDITOR),
    ]
    with pytest.raises(AlreadyExistsError, match="exists already"):
        gov.users.create_user("ana")
    with pytest.raises(InvalidInputError, match="invalid user name") as bad:
        gov.users.create_user("no spaces")
    assert bad.value.field == "name"
    with pytest.raises(InvalidInputError, match="invalid role"):
        gov.users.create_user("cy", role="root")
    with pytest.raises(NotFoundError, match="'zed' does not exist"):
        gov.users.set_disabled("zed")


def test_a_token_is_stored_only_as_its_hash(gov: GovernanceService, store: SqlStore) -> None:
    gov.users.create_user("ana", role="editor")
    made = gov.users.create_token("ana", expires="90d", name="laptop")
    assert made.secret.startswith("mlc_")
    assert made.token.expires_at == made.token.created_at + 90 * 86_400_000
    with store.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_tokens")).all()
        trail = conn.execute(text("SELECT * FROM audit_events")).all()
    assert made.secret not in repr(rows)
    assert made.secret not in repr(trail)
    assert made.secret not in canonical_json([e.to_dict() for e in gov.trail.events()])
    assert gov.authenticator.authenticate(f"Bearer {made.secret}").name == "ana"
    assert gov.authenticator.authenticate(_basic("ana", made.secret)).name == "ana"
    assert gov.authenticator.authenticate(_basic("", made.secret)).name == "ana"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "no token was sent"),
        ("", "no token was sent"),
        ("Bearer", "malformed token"),
        ("Bearer not-a-token", "malformed token"),
        ("Token abc", "unsupported authorization scheme"),
        ("Basic !!!", "not base64"),
        ("Basic " + base64.b64encode(b"nocolon").decode(), "expected user:token"),
        ("Bearer mlc_0123456789abcdef_" + "a" * 43, "no such token"),
    ],
)
def test_bad_credentials_are_refused(
    gov: GovernanceService, header: str | None, message: str
) -> None:
    with pytest.raises(AuthenticationError, match=message):
        gov.authenticator.authenticate(header)


def test_a_tampered_token_is_refused(gov: GovernanceService) -> None:
    gov.users.create_user("ana")
    secret = gov.users.create_token("ana").secret
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with pytest.raises(AuthenticationError, match="no such token") as refused:
        gov.authenticator.authenticate(f"Bearer {tampered}")
    assert tampered not in str(refused.value)


def test_expired_revoked_and_disabled(gov: GovernanceService, clock: ManualClock) -> None:
    gov.users.create_user("ana")
    short = gov.users.create_token("ana", expires="1h")
    other = gov.users.create_token("ana")
    clock.advance(3_600_000)
    with pytest.raises(AuthenticationError, match=f"token {short.token.id} expired"):
        gov.authenticator.authenticate(f"Bearer {short.secret}")
    gov.users.revoke_token(other.token.id)
    with pytest.raises(AuthenticationError, match="was revoked"):
        gov.authenticator.authenticate(f"Bearer {other.secret}")
    third = gov.users.create_token("ana")
    gov.users.set_disabled("ana")
    with pytest.raises(AuthenticationError, match="'ana' is disabled"):
        gov.authenticator.authenticate(f"Bearer {third.secret}")
    gov.users.set_disabled("ana", False)
    assert gov.authenticator.authenticate(f"Bearer {third.secret}").name == "ana"
    with pytest.raises(InvalidInputError, match="not a duration"):
        gov.users.create_token("ana", expires="soon")
    with pytest.raises(NotFoundError, match="no token with ID"):
        gov.users.revoke_token("nope")


def test_basic_auth_with_another_users_token_is_refused(gov: GovernanceService) -> None:
    gov.users.create_user("ana")
    gov.users.create_user("bo")
    secret = gov.users.create_token("ana").secret
    with pytest.raises(AuthenticationError, match="does not belong to user 'bo'"):
        gov.authenticator.authenticate(_basic("bo", secret))


def test_passwords_are_argon2(gov: GovernanceService, store: SqlStore) -> None:
    gov.users.create_user("ana", password="correct horse battery")
    with store.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar()
    assert str(stored).startswith("$argon2id$")
    assert gov.authenticator.authenticate(_basic("ana", "correct horse battery")).name == "ana"
    with pytest.raises(AuthenticationError, match="invalid user name or password"):
        gov.authenticator.authenticate(_basic("ana", "wrong horse battery"))
    with pytest.raises(AuthenticationError, match="invalid user name or password"):
        gov.authenticator.authenticate(_basic("nobody", "correct horse battery"))
    with pytest.raises(InvalidInputError, match="too short"):
        gov.users.create_user("bo", password="short")


def test_grants_widen_a_role(gov: GovernanceService) -> None:
    gov.users.create_user("vic")
    gov.users.grant("vic", "experiment", "e1", "write")
    gov.users.grant("vic", "model", "churn", "manage")
    principal = gov.authenticator.with_grants(
        gov.authenticator.authenticate(f"Bearer {gov.users.create_token('vic').secret}")
    )
    assert not principal.can(Permission.WRITE)
    assert principal.can(Permission.WRITE, ResourceKind.EXPERIMENT, "e1")
    assert not principal.can(Permission.MANAGE, ResourceKind.EXPERIMENT, "e1")
    assert not principal.can(Permission.WRITE, ResourceKind.EXPERIMENT, "e2")
    assert principal.can(Permission.MANAGE, ResourceKind.MODEL, "churn")
    gov.users.revoke_grant("vic", "model", "churn")
    assert [g.resource for g in gov.users.list_grants("vic")] == ["e1"]
    with pytest.raises(NotFoundError, match="has no grant"):
        gov.users.revoke_grant("vic", "model", "churn")
    with pytest.raises(InvalidInputError, match="invalid permission"):
        gov.users.grant("vic", "model", "churn", "own")


def test_every_change_is_audited(gov: GovernanceService) -> None:
    gov.users.create_user("ana")
    token = gov.users.create_token("ana")
    gov.users.set_role("ana", "approver")
    gov.users.revoke_token(token.token.id)
    gov.users.grant("ana", "model", "m", "read")
    actions = [e.action for e in gov.trail.events()]
    assert actions == ["user.create", "token.create", "user.role", "token.revoke", "grant.set"]
    assert gov.trail.verify().ok
