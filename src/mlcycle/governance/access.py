"""Credentials: API tokens (random, stored as SHA-256, compared in constant time),
passwords (argon2), and turning an ``Authorization`` header into a :class:`Principal`.

A token looks like ``mlc_<id>_<secret>``: the ``id`` is public (listings, revocation) and
finds the stored hash; the whole token's SHA-256 is compared with ``hmac.compare_digest``.
A plain hash suits tokens (unlike passwords) because the secret is 256 random bits.
Messages never contain a token or a password.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mlcycle.clock import system_clock
from mlcycle.entities.governance import ApiToken, Principal, User
from mlcycle.errors import AuthenticationError, NotFoundError
from mlcycle.governance.throttle import LoginThrottle
from mlcycle.ports.governance import GovernanceRepository
from mlcycle.types import Clock

TOKEN_PREFIX = "mlc_"
_TOKEN = re.compile(r"^mlc_([0-9a-f]{16})_([A-Za-z0-9_\-]{43})$")
_HINT = "create one with `mlcycle tokens create --user NAME` and send it as a bearer token"
_hasher = PasswordHasher()


def new_token_secret() -> tuple[str, str]:
    """A new token's public ID and the whole token (``mlc_<id>_<secret>``)."""
    token_id = secrets.token_hex(8)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash no password matches, verified for unknown users so that they cost the same
    argon2 verification as a wrong password (their timing does not reveal who exists)."""
    return _hasher.hash(secrets.token_urlsafe(32))


def password_matches(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the argon2 hash ``stored``; with no hash (an unknown
    user, or one without a password) a dummy hash is verified, at the same cost."""
    if stored is None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash(), password)
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


class Authenticator:
    """Checks credentials against the store.

    >>> auth = Authenticator(store.governance)  # doctest: +SKIP
    >>> auth.authenticate("Bearer mlc_...").name  # doctest: +SKIP
    'ana'
    """

    def __init__(
        self,
        repository: GovernanceRepository,
        *,
        clock: Clock = system_clock,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.repository = repository
        self._clock = clock
        self.throttle = throttle or LoginThrottle(clock=clock)

    def authenticate(self, authorization: str | None, client: str | None = None) -> Principal:
        """The principal an ``Authorization`` header value stands for.

        Accepts ``Bearer <token>`` and ``Basic base64(user:token)`` (or ``user:password``
        for a user with a password). Raises AuthenticationError saying what is wrong, and
        TooManyAttemptsError while failed password logins of the user or from ``client``
        (the caller's address) must wait.
        """
        if not authorization or not authorization.strip():
            raise AuthenticationError(f"authentication required: no token was sent ({_HINT})")
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return self._principal(self.check_token(value))
        if scheme.lower() == "basic":
            return self._principal(self._basic(value, client))
        raise AuthenticationError(
            f"unsupported authorization scheme {scheme[:20]!r}: use Bearer or Basic"
        )

    def check_token(self, token: str) -> User:
        """The user of a valid token; AuthenticationError for a malformed, unknown,
        revoked or expired one, or a disabled user."""
        match = _TOKEN.match(token)
        if match is None:
            raise AuthenticationError(
                "malformed token: expected mlc_<16 hex digits>_<43 characters>"
            )
        found = self.repository.token_for_auth(match.group(1))
        # Hash even when the ID is unknown, so timing does not tell IDs apart.
        presented = token_hash(token)
        stored = found[1] if found is not None else "0" * 64
        if found is None or not hmac.compare_digest(presented, stored):
            raise AuthenticationError("invalid token: no such token")
        record, _, user = found
        return self._usable(record, user)

    def _usable(self, record: ApiToken, user: User) -> User:
        now = self._clock()
        if record.revoked_at is not None:
            raise AuthenticationError(
                f"token {record.id} was revoked on {_when(record.revoked_at)}"
            )
        if record.expires_at is not None and now >= record.expires_at:
            raise AuthenticationError(
                f"token {record.id} expired on {_when(record.expires_at)}; {_HINT}"
            )
        if user.disabled:
            raise AuthenticationError(f"user {user.name!r} is disabled")
        return user

    def _basic(self, value: str, client: str | None = None) -> User:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("malformed basic credentials: not base64") from None
        name, sep, secret = decoded.partition(":")
        if not sep or not secret:
            raise AuthenticationError("malformed basic credentials: expected user:token")
        if secret.startswith(TOKEN_PREFIX):
            user = self.check_token(secret)
            if name and name != user.name:
                raise AuthenticationError(f"the token does not belong to user {name[:100]!r}")
            return user
        self.throttle.check(name, client)
        try:
            stored = self.repository.password_hash(name)
        except NotFoundError:  # an unknown user fails like a wrong password, as slowly
            stored = None
        if not password_matches(stored, secret):
            self.throttle.failed(name, client)
            raise AuthenticationError("invalid user name or password")
        self.throttle.succeeded(name, client)
        user = self.repository.get_user(name)
        if user.disabled:
            raise AuthenticationError(f"user {user.name!r} is disabled")
        return user

    def _principal(self, user: User) -> Principal:
        return Principal(name=user.name, role=user.role)

    def with_grants(self, principal: Principal) -> Principal:
        """``principal`` with its per-experiment and per-model grants loaded."""
        grants = tuple(self.repository.list_grants(principal.name))
        return Principal(name=principal.name, role=principal.role, grants=grants)
