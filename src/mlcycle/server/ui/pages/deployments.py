"""Deployments: the traffic split, canary progress with its guards, shadow arms, the
history of every change, and the request rate and latency of the last hour from the
prediction log."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlcycle.client.client import Client
from mlcycle.client.deployments import prediction_log
from mlcycle.clock import system_clock
from mlcycle.server.ui.deps import Services
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

WINDOW_MS = 3_600_000
BUCKET_MS = 300_000


@dataclass(frozen=True)
class ArmTraffic:
    """One arm's requests in the last hour: per 5 minutes, and latency percentiles."""

    arm: str
    requests: int
    per_bucket: list[int]
    p50_ms: float | None
    p95_ms: float | None


def traffic(stages: Client, name: str, now: int) -> list[ArmTraffic]:
    """Requests per arm in the hour before ``now`` (ms), from the prediction log."""
    import pandas as pd  # on first use: the server starts without pandas

    frame = prediction_log(name, since=now - WINDOW_MS, client=stages)
    if frame.empty:
        return []
    frame = frame.drop_duplicates(["request_id", "arm"])  # one row per request and arm
    epoch = pd.Timestamp(0, tz="UTC")
    times = ((frame["time"] - epoch) // pd.Timedelta(milliseconds=1)).to_numpy(dtype=np.int64)
    found = []
    buckets = WINDOW_MS // BUCKET_MS
    for arm in sorted(frame["arm"].dropna().unique()):
        mask = (frame["arm"] == arm).to_numpy()
        slot = np.clip((times[mask] - (now - WINDOW_MS)) // BUCKET_MS, 0, buckets - 1)
        latency = frame.loc[mask, "latency_ms"].dropna().to_numpy(dtype=float)
        found.append(
            ArmTraffic(
                arm=str(arm),
                requests=int(mask.sum()),
                per_bucket=np.bincount(slot.astype(np.int64), minlength=buckets).tolist(),
                p50_ms=float(np.percentile(latency, 50)) if latency.size else None,
                p95_ms=float(np.percentile(latency, 95)) if latency.size else None,
            )
        )
    return found


@dataclass(frozen=True)
class ShadowComparison:
    """A shadow arm against the arms that answered the same requests."""

    arm: str
    requests: int
    agreement: float | None  # share of requests where both predicted the same (first row)


def shadow_comparison(
    stages: Client, name: str, shadows: list[str], now: int
) -> list[ShadowComparison]:
    """How often each shadow arm agreed with the live answer in the last hour."""
    if not shadows:
        return []
    frame = prediction_log(name, since=now - WINDOW_MS, client=stages)
    if frame.empty:
        return [ShadowComparison(arm, 0, None) for arm in shadows]
    first = frame.sort_values("row").drop_duplicates(["request_id", "arm"])
    live = first[~first["arm"].isin(shadows)].set_index("request_id")["prediction"]
    found = []
    for arm in shadows:
        mine = first[first["arm"] == arm].set_index("request_id")["prediction"]
        common = mine.index.intersection(live.index)
        same = [str(a) == str(b) for a, b in zip(mine[common], live[common], strict=True)]
        found.append(ShadowComparison(arm, len(common), float(np.mean(same)) if same else None))
    return found


@router.get("/deployments")
def deployments(request: Request, ui: Services) -> HTMLResponse:
    """Every active deployment, its strategy and arms."""
    return page(request, "deployments.html", title="Deployments", deployments=ui.deployments.list())


@router.get("/deployments/{name}")
def deployment(request: Request, ui: Services, name: str) -> HTMLResponse:
    state = ui.deployments.status(name)
    now = system_clock()
    return page(
        request,
        "deployment.html",
        title=name,
        state=state,
        d=state.deployment,
        history=list(reversed(ui.deployments.history(name))),
        traffic=traffic(ui.stages, name, now),
        shadows=shadow_comparison(ui.stages, name, [r.arm.name for r in state.shadow], now),
        monitors=ui.monitoring.list_monitors(name),
    )
