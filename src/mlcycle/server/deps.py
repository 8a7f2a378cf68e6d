"""What route functions receive: the tracking service and telemetry of this process."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mlcycle.server.telemetry import Telemetry
from mlcycle.tracking.service import TrackingService


def _service(request: Request) -> TrackingService:
    service: TrackingService = request.state.service
    return service


def _telemetry(request: Request) -> Telemetry:
    telemetry: Telemetry = request.state.telemetry
    return telemetry


Service = Annotated[TrackingService, Depends(_service)]
Metrics = Annotated[Telemetry, Depends(_telemetry)]
