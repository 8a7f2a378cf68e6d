"""Webhook signing secrets are stored encrypted under the server's secret key, readable
through key rotation, and never in plain text in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mlcycle.entities.monitoring import AlertCondition, AlertRule, Monitor, Severity, Window
from mlcycle.errors import StoreError
from mlcycle.ids import new_id
from mlcycle.store.sql.secrets import SecretBox
from mlcycle.store.sql.store import open_store

SECRET = "hook-s3cret-that-signs"


def _rule(name: str) -> AlertRule:
    return AlertRule(
        id=new_id(),
        monitor="m",
        name=name,
        condition=AlertCondition.COLUMN_DRIFT,
        column="age",
        severity=Severity.CRITICAL,
        webhook_url="https://hooks.example/x",
        secret=SECRET,
        created_at=1,
    )


def _stored(url: str) -> list[str]:
    store = open_store(url)
    with store.db.engine.connect() as conn:
        found = [str(v) for v in conn.execute(text("SELECT secret FROM alert_rules")).scalars()]
    store.close()
    return found


def test_webhook_secrets_are_encrypted_at_rest_and_rotate(store_url: str) -> None:
    store = open_store(store_url, secrets=SecretBox("old key of the server"))
    store.monitoring.create_monitor(
        Monitor(id=new_id(), name="m", deployment="churn", window=Window.parse("1h"))
    )
    store.monitoring.add_rule(_rule("r1"))
    assert store.monitoring.list_rules("m")[0].secret == SECRET
    store.close()
    assert SECRET not in _stored(store_url)[0]
    assert _stored(store_url)[0].startswith("enc:v1:")
    for box, message in ((None, "MLCYCLE_SECRET_KEY is not set"), (SecretBox("x"), "decrypted")):
        other = open_store(store_url, secrets=box)
        with pytest.raises(StoreError, match=message):
            other.monitoring.list_rules("m")
        other.close()
    # rotation: the new key encrypts, the old one still decrypts until resealed
    rotated = open_store(store_url, secrets=SecretBox("new key", ["old key of the server"]))
    assert rotated.monitoring.list_rules("m")[0].secret == SECRET
    assert rotated.monitoring.reseal_secrets() == 1
    rotated.close()
    fresh = open_store(store_url, secrets=SecretBox("new key"))
    assert fresh.monitoring.list_rules("m")[0].secret == SECRET
    fresh.close()
