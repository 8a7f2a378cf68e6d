"""Users, their API tokens and their grants (what ``mlcycle users`` and ``mlcycle tokens``
do). Every change is recorded in the audit trail, without secrets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlcycle.clock import system_clock
from mlcycle.durations import parse_duration_ms
from mlcycle.entities.governance import (
    ApiToken,
    Grant,
    GrantLevel,
    NewToken,
    ResourceKind,
    Role,
    User,
)
from mlcycle.errors import InvalidInputError
from mlcycle.governance.access import hash_password, new_token_secret, token_hash
from mlcycle.ids import new_id
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.governance import GovernanceRepository
from mlcycle.types import Clock, IdFactory

_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,99}$")
MIN_PASSWORD = 12


def check_user_name(name: object) -> str:
    if not isinstance(name, str) or not _USER_NAME.match(name):
        raise InvalidInputError(
            f"invalid user name {name!r}: 1-100 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
            field="name",
        )
    return name


def parse_role(role: object) -> Role:
    try:
        return Role(str(role))
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"invalid role {role!r}: one of {choices}", field="role") from None


def parse_level(level: object) -> GrantLevel:
    try:
        return GrantLevel(str(level))
    except ValueError:
        choices = ", ".join(g.value for g in GrantLevel)
        raise InvalidInputError(
            f"invalid permission {level!r}: one of {choices}", field="permission"
        ) from None


def parse_kind(kind: object) -> ResourceKind:
    try:
        return ResourceKind(str(kind))
    except ValueError:
        raise InvalidInputError(
            f"invalid resource kind {kind!r}: experiment or model", field="kind"
        ) from None


class UserAdmin:
    """Create and manage users, tokens and grants.

    >>> admin = UserAdmin(store.governance, audit=sink)  # doctest: +SKIP
    >>> admin.create_user("ana", role="editor")  # doctest: +SKIP
    >>> admin.create_token("ana", expires="90d").secret  # shown once  # doctest: +SKIP
    'mlc_...'
    """

    def __init__(
        self,
        repository: GovernanceRepository,
        *,
        audit: AuditSink | None = None,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
    ) -> None:
        self.repository = repository
        self._audit = audit
        self._clock = clock
        self._new_id = new_id

    def _record(
        self,
        action: str,
        target: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        if self._audit is not None:
            self._audit.record(action, target, before=before, after=after)

    # -- users ------------------------------------------------------------------------------

    def create_user(
        self,
        name: str,
        *,
        role: Role | str = Role.VIEWER,
        admin: bool = False,
        password: str | None = None,
    ) -> User:
        """Create a user (``admin=True`` is ``role="admin"``); a password is optional
        (tokens are what API clients use) and stored as an argon2 hash."""
        chosen = Role.ADMIN if admin else parse_role(role)
        if password is not None and len(password) < MIN_PASSWORD:
            raise InvalidInputError(
                f"password too short: at least {MIN_PASSWORD} characters", field="password"
            )
        now = self._clock()
        user = User(name=check_user_name(name), role=chosen, created_at=now, updated_at=now)
        created = self.repository.create_user(
            user,
            user_id=self._new_id(),
            password_hash=None if password is None else hash_password(password),
        )
        self._record("user.create", f"user:{name}", None, created.to_dict())
        return created

    def get_user(self, name: str) -> User:
        return self.repository.get_user(name)

    def list_users(self) -> list[User]:
        return self.repository.list_users()

    def set_disabled(self, name: str, disabled: bool = True) -> User:
        """Disable a user (their tokens stop working at once) or enable them again."""
        before = self.repository.get_user(name)
        after = self.repository.update_user(name, updated_at=self._clock(), disabled=disabled)
        action = "user.disable" if disabled else "user.enable"
        self._record(action, f"user:{name}", before.to_dict(), after.to_dict())
        return after

    def set_role(self, name: str, role: Role | str) -> User:
        before = self.repository.get_user(name)
        after = self.repository.update_user(name, updated_at=self._clock(), role=parse_role(role))
        self._record("user.role", f"user:{name}", before.to_dict(), after.to_dict())
        return after

    def set_password(self, name: str, password: str) -> User:
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(
                f"password too short: at least {MIN_PASSWORD} characters", field="password"
            )
        after = self.repository.update_user(
            name, updated_at=self._clock(), password_hash=hash_password(password)
        )
        self._record("user.password", f"user:{name}", None, {"password": "changed"})
        return after

    # -- tokens -----------------------------------------------------------------------------

    def create_token(
        self, user: str, *, expires: str | int | None = None, name: str | None = None
    ) -> NewToken:
        """A new token for ``user``; ``expires`` is a duration ("90d") or milliseconds.

        The returned ``secret`` is the only copy: the store keeps its SHA-256.
        """
        self.repository.get_user(user)
        now = self._clock()
        if expires is None:
            expires_at = None
        else:
            ms = (
                parse_duration_ms(expires, field="expires")
                if isinstance(expires, str)
                else int(expires)
            )
            if ms <= 0:
                raise InvalidInputError("expires must be a positive duration", field="expires")
            expires_at = now + ms
        token_id, secret = new_token_secret()
        token = ApiToken(id=token_id, user=user, name=name, created_at=now, expires_at=expires_at)
        self.repository.create_token(token, token_hash=token_hash(secret))
        self._record("token.create", f"user:{user}", None, token.to_dict())
        return NewToken(token=token, secret=secret)

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        return self.repository.list_tokens(user)

    def revoke_token(self, token_id: str) -> ApiToken:
        revoked = self.repository.revoke_token(token_id, at=self._clock())
        self._record("token.revoke", f"user:{revoked.user}", None, revoked.to_dict())
        return revoked

    # -- grants -----------------------------------------------------------------------------

    def grant(
        self, user: str, kind: ResourceKind | str, resource: str, level: GrantLevel | str
    ) -> Grant:
        """Let ``user`` read, write or manage one experiment (by ID) or model (by name)."""
        if not isinstance(resource, str) or not resource.strip():
            raise InvalidInputError("resource must not be empty", field="resource")
        grant = Grant(
            user=user,
            kind=parse_kind(kind),
            resource=resource.strip(),
            level=parse_level(level),
            created_at=self._clock(),
        )
        self.repository.set_grant(grant)
        self._record("grant.set", f"user:{user}", None, grant.to_dict())
        return grant

    def revoke_grant(self, user: str, kind: ResourceKind | str, resource: str) -> None:
        parsed = parse_kind(kind)
        self.repository.delete_grant(user, parsed, resource)
        self._record(
            "grant.delete",
            f"user:{user}",
            {"kind": parsed.value, "resource": resource},
            None,
        )

    def list_grants(self, user: str | None = None) -> list[Grant]:
        return self.repository.list_grants(user)
