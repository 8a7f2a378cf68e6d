"""``HttpGovernance``: users, tokens, grants, approvals, the audit trail, retirement,
model cards, compliance bundles and retention through a tracking server's
``/api/v1/governance``."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from mlcycle.backends.http._wire import entity, get_json, seg, send_json
from mlcycle.entities import ModelVersion
from mlcycle.entities.cards import ModelCard
from mlcycle.entities.governance import RetentionReport
from mlcycle.governance.bundle import MANIFEST
from mlcycle.governance.retirement import (
    DEFAULT_PREDICTION_LOG_RETENTION,
    DEFAULT_RETIRED_ARTIFACT_RETENTION,
)
from mlcycle.remote.governance import RemoteGovernance

_G = "/api/v1/governance"
_CHUNK = 1 << 20


def _version(name: str, version: int) -> str:
    return f"{_G}/models/{seg(name)}/versions/{seg(version)}"


def _span(value: str | timedelta | int) -> str | int:
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    return value


class HttpGovernance(RemoteGovernance):
    """Governance through a server, acting as the owner of the session's token: every
    method of the in-process governance API, cards, bundles and retention included.

    >>> gov = HttpGovernance(HttpSession("http://127.0.0.1:5000", token="..."))
    >>> gov.export_bundle("churn", 4, "churn-v4.zip")["model"]  # doctest: +SKIP
    'churn'
    """

    def card(self, name: str, version: int) -> ModelCard:
        return entity(ModelCard, get_json(self.http, f"{_version(name, version)}/card"))

    def set_card_fields(self, name: str, version: int, **fields: str) -> ModelVersion:
        body = {"fields": fields}
        done = send_json(self.http, "PUT", f"{_version(name, version)}/card", body)
        return entity(ModelVersion, done)

    def export_bundle(self, name: str, version: int, path: str | Path) -> dict[str, Any]:
        """Download the bundle to ``path`` (a partial file until complete); returns its
        manifest, as the in-process call does."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with (
                self.http.stream("GET", f"{_version(name, version)}/bundle") as response,
                open(partial, "wb") as out,
            ):
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        with zipfile.ZipFile(target) as archive:
            manifest: dict[str, Any] = json.loads(archive.read(MANIFEST))
        return manifest

    def apply_retention(
        self,
        *,
        retired_artifacts: str | timedelta | int = DEFAULT_RETIRED_ARTIFACT_RETENTION,
        prediction_logs: str | timedelta | int = DEFAULT_PREDICTION_LOG_RETENTION,
        dry_run: bool = False,
    ) -> RetentionReport:
        body = {
            "retired_artifacts": _span(retired_artifacts),
            "prediction_logs": _span(prediction_logs),
            "dry_run": dry_run,
        }
        return entity(RetentionReport, send_json(self.http, "POST", f"{_G}/retention", body))
