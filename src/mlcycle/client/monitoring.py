"""The public monitoring API for deployments, re-exported by :mod:`mlcycle.monitoring`.

Every function works on the default client (``mlcycle.get_client()``) unless ``client=``
is given; monitors need a local or database store.

    >>> import mlcycle.monitoring as mon
    >>> mon.create("churn-drift", "churn", window="1h", schedule="15m")  # doctest: +SKIP
    >>> mon.add_alert_rule("churn-drift", "dataset_drift", severity="critical",
    ...     webhook="https://hooks.example.com/ml", secret="s3cret")  # doctest: +SKIP
    >>> result = mon.run("churn-drift")  # doctest: +SKIP
    >>> result.status, result.drift_share  # doctest: +SKIP
    >>> mon.list_alerts(status="open")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcycle.client.client import Client
from mlcycle.client.fluent import get_client
from mlcycle.entities.monitoring import Alert, AlertRule, Monitor, MonitorResult, RetrainRun
from mlcycle.monitoring.monitor_page import render_monitor_page
from mlcycle.ports.api import MonitoringAPI

if TYPE_CHECKING:
    import pandas as pd


def _service(client: Client | None) -> MonitoringAPI:
    return (client or get_client()).monitoring


def create(
    name: str,
    deployment: str,
    *,
    window: str = "1h",
    reference: str | None = None,
    schedule: str | None = None,
    min_rows: int = 30,
    retrain: str | None = None,
    retrain_command: str | None = None,
    on_alerts: Sequence[str] = (),
    auto_canary: bool = False,
    canary_steps: Sequence[int] = (10, 50, 100),
    canary_interval: str = "10m",
    description: str | None = None,
    client: Client | None = None,
) -> Monitor:
    """Create the monitor ``name`` on ``deployment``.

    ``window`` is a time span up to each run (``"1h"``, ``"30m"``, ``"7d"``) or a row count
    (``"10000rows"``). ``reference`` is a dataset version ``NAME@VERSION``; by default the
    training dataset of the deployed model version's lineage. ``schedule`` (``"15m"``) is
    how often ``mlcycle server --scheduler`` or :func:`run_due` runs it. Windows with fewer
    than ``min_rows`` rows record ``insufficient_data``.

    ``retrain`` (``"package.module:function"``) or ``retrain_command`` (a shell command)
    runs when one of ``on_alerts`` (alert rule names; empty: any rule) fires; a version it
    registers is held to the promotion gates, and with ``auto_canary`` a canary of
    ``canary_steps`` percent every ``canary_interval`` starts for it.

    >>> mlcycle.monitoring.create("churn-drift", "churn", window="10000rows",
    ...     schedule="15m", retrain="jobs.churn:retrain", auto_canary=True)  # doctest: +SKIP

    Raises NotFoundError for a missing deployment or reference (or a deployed version with
    no training data in its lineage), AlreadyExistsError for a taken name, and
    InvalidInputError naming a bad option.
    """
    return _service(client).create(
        name,
        deployment,
        window=window,
        reference=reference,
        schedule=schedule,
        min_rows=min_rows,
        retrain=retrain,
        retrain_command=retrain_command,
        on_alerts=on_alerts,
        auto_canary=auto_canary,
        canary_steps=canary_steps,
        canary_interval=canary_interval,
        description=description,
    )


def get(name: str, *, client: Client | None = None) -> Monitor:
    """The monitor ``name``. Raises NotFoundError naming it."""
    return _service(client).get(name)


def list_monitors(deployment: str | None = None, *, client: Client | None = None) -> list[Monitor]:
    """Every monitor by name (of one deployment when given)."""
    return _service(client).list_monitors(deployment)


def delete(name: str, *, client: Client | None = None) -> None:
    """Delete the monitor ``name`` with its results, rules, alerts and retraining records."""
    _service(client).delete(name)


def set_schedule(name: str, schedule: str | None, *, client: Client | None = None) -> Monitor:
    """Change how often the scheduler runs the monitor (``None``: only when asked)."""
    return _service(client).replace_schedule(name, schedule)


def run(name: str, *, client: Client | None = None) -> MonitorResult:
    """Run the monitor ``name`` once, now: read its window of the prediction log, record
    the result (drift, quality, performance), fire its alert rules and any retraining.

    >>> result = mlcycle.monitoring.run("churn-drift")  # doctest: +SKIP
    >>> result.status.value, result.drift_share  # doctest: +SKIP
    ('issues', 0.6)
    """
    return _service(client).run(name)


def run_due(*, every: bool = False, client: Client | None = None) -> list[MonitorResult]:
    """Run the monitors whose schedule is due (``every``: unscheduled ones too); what
    ``mlcycle monitors run`` without a name does."""
    return _service(client).run_due(every=every)


def results(
    name: str,
    *,
    since: int | None = None,
    limit: int | None = None,
    client: Client | None = None,
) -> list[MonitorResult]:
    """The monitor's results, oldest first: its time series (the newest ``limit``)."""
    return _service(client).results(name, since=since, limit=limit)


def results_frame(name: str, *, client: Client | None = None) -> pd.DataFrame:
    """The monitor's results as a DataFrame, one row per run (summary columns only)."""
    import pandas as pd  # pandas is loaded on first use, not by `import mlcycle`

    rows = [r.to_dict(details=False) for r in results(name, client=client)]
    return pd.DataFrame(rows)


def monitor_report(
    name: str,
    path: str | Path | None = None,
    *,
    limit: int | None = None,
    client: Client | None = None,
) -> str:
    """The monitor's report as a self-contained HTML page (written to ``path`` when given):
    the latest drift table with distributions per feature, data quality, performance,
    and drift, quality and performance over time. It embeds binned summaries, never rows.
    """
    service = _service(client)
    page = render_monitor_page(service.get(name), service.results(name, limit=limit))
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page


def monitor_report_dict(
    name: str, *, limit: int | None = None, client: Client | None = None
) -> dict[str, Any]:
    """The report's content as JSON-ready data: the monitor and its results."""
    service = _service(client)
    return {
        "monitor": service.get(name).to_dict(),
        "results": [r.to_dict() for r in service.results(name, limit=limit)],
    }


def add_alert_rule(
    monitor: str,
    on: str,
    *,
    name: str | None = None,
    severity: str = "warning",
    cooldown: str | int = "1h",
    webhook: str | None = None,
    secret: str | None = None,
    metric: str | None = None,
    tolerance: float | None = None,
    client: Client | None = None,
) -> AlertRule:
    """Alert when ``on`` holds for a result of ``monitor``.

    ``on`` is ``dataset_drift``, ``column_drift:COLUMN``, ``prediction_drift``,
    ``target_drift``, ``quality`` (or ``quality:COLUMN``) or ``performance`` (``metric``,
    default the experiment's primary metric, worse than the version's evaluation baseline
    by more than ``tolerance``, default 0.05). A condition that persists alerts once, then
    again only after ``cooldown`` (or once it cleared). Alerts go to the log and, with
    ``webhook``, as a JSON POST signed with HMAC-SHA256 of ``secret`` in the
    ``X-Mlcycle-Signature`` header, retried with exponential backoff.

    >>> mlcycle.monitoring.add_alert_rule("churn-drift", "column_drift:age",
    ...     severity="critical", cooldown="6h", webhook="https://hooks.example.com/ml",
    ...     secret="s3cret")  # doctest: +SKIP
    """
    return _service(client).add_rule(
        monitor,
        on,
        name=name,
        severity=severity,
        cooldown=cooldown,
        webhook=webhook,
        secret=secret,
        metric=metric,
        tolerance=tolerance,
    )


def alert_rules(monitor: str, *, client: Client | None = None) -> list[AlertRule]:
    """The alert rules of ``monitor`` with their state (active since, last fired)."""
    return _service(client).rules(monitor)


def delete_alert_rule(monitor: str, name: str, *, client: Client | None = None) -> None:
    """Remove an alert rule (its past alerts are kept)."""
    _service(client).delete_rule(monitor, name)


def list_alerts(
    *,
    monitor: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    client: Client | None = None,
) -> list[Alert]:
    """Alerts newest first, with their deliveries; ``status`` is ``open``,
    ``acknowledged`` or ``resolved``."""
    return _service(client).alerts(monitor=monitor, status=status, limit=limit)


def get_alert(alert_id: str, *, client: Client | None = None) -> Alert:
    """One alert with its deliveries. Raises NotFoundError for an unknown ID."""
    return _service(client).get_alert(alert_id)


def ack(alert_id: str, *, by: str | None = None, client: Client | None = None) -> Alert:
    """Acknowledge an open alert. Raises NotFoundError for an unknown ID."""
    return _service(client).ack(alert_id, by=by)


def retrain(name: str, *, client: Client | None = None) -> RetrainRun:
    """Run the monitor's retraining job now on its current window, without an alert."""
    return _service(client).retrain(name)


def retrains(name: str, *, client: Client | None = None) -> list[RetrainRun]:
    """Every retraining trigger of the monitor and its outcome, oldest first."""
    return _service(client).retrains(name)
