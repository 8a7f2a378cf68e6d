"""Secrets kept at rest encrypted: the signing secrets of alert webhooks.

A webhook secret must be readable to sign each delivery (an HMAC needs the key itself), so
it cannot be stored as a hash. It is stored encrypted with Fernet (AES-128-CBC and
HMAC-SHA256, from ``cryptography``) under a key derived from the server's secret key
(``MLCYCLE_SECRET_KEY``, see :class:`~mlcycle.settings.Settings`). Stored values look like
``enc:v1:<token>``; a value without that prefix was stored before encryption (or without a
key) and is read as is.

Rotation: give the new key as ``MLCYCLE_SECRET_KEY`` and the old one in
``MLCYCLE_SECRET_KEYS_OLD`` (comma-separated); everything stays readable, new secrets use
the new key, and ``mlcycle db reseal-secrets`` re-encrypts the stored ones under it. Then
drop the old key.

>>> box = SecretBox("a server secret of some length")
>>> sealed = box.seal("hook-secret")
>>> sealed.startswith("enc:v1:") and box.open(sealed) == "hook-secret"
True
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from mlcycle.errors import InvalidInputError, StoreError

PREFIX = "enc:v1:"
MAX_SECRET = 256


def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


class SecretBox:
    """Seal and open stored secrets with the current key (first) and older keys."""

    def __init__(self, key: str | None = None, old_keys: Sequence[str] = ()) -> None:
        keys = [k for k in (key, *old_keys) if k]
        self.enabled = key is not None and bool(key)
        self._fernet = MultiFernet([_fernet(k) for k in keys]) if keys else None

    def seal(self, secret: str | None) -> str | None:
        """The stored form of ``secret`` (encrypted when a key is set)."""
        if secret is None:
            return None
        if len(secret) > MAX_SECRET:
            raise InvalidInputError(
                f"secret must have at most {MAX_SECRET} characters, got {len(secret)}",
                field="secret",
            )
        if not self.enabled or self._fernet is None:
            return secret
        return PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The secret a stored value holds."""
        if stored is None or not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise StoreError(
                "a webhook secret is stored encrypted but MLCYCLE_SECRET_KEY is not set: "
                "give the server's secret key"
            )
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise StoreError(
                "a webhook secret cannot be decrypted with MLCYCLE_SECRET_KEY (or "
                "MLCYCLE_SECRET_KEYS_OLD): was the key changed without keeping the old one?"
            ) from None
