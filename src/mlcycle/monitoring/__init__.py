"""Monitoring: data drift between a reference and current data, per column and overall.

    >>> import pandas as pd
    >>> import mlcycle.monitoring as mon
    >>> ref = pd.DataFrame({"x": [float(i % 40) for i in range(4000)]})
    >>> report = mon.drift(ref, ref.assign(x=ref.x * 1.5))
    >>> report.drifted, report["x"].method.value
    (True, 'wasserstein')

Where things are:

* :mod:`mlcycle.monitoring.data_drift` - :func:`drift`: method selection, per-column statuses
* :mod:`mlcycle.monitoring.methods` - :class:`DriftMethod`, column kinds and statuses
* :mod:`mlcycle.monitoring.pairs` - a column's two samples: default method, scores, bins
* :mod:`mlcycle.monitoring.stattests` - the seven scores (KS, chi-squared, z, Wasserstein,
  Jensen-Shannon, PSI, KL)
* :mod:`mlcycle.monitoring.wasserstein` - the exact Wasserstein distance in linear time
* :mod:`mlcycle.monitoring.binning` - Sturges / per-value bins, empty-bin filling
* :mod:`mlcycle.monitoring.profile` - reading columns; :class:`ReferenceProfile`
* :mod:`mlcycle.monitoring.report` - :class:`DriftReport` (``to_dict``, ``to_html``)
* :mod:`mlcycle.monitoring.html` - the self-contained HTML page with SVG plots

Monitors on deployments (their windows of the prediction log, results over time, alert
rules, alerts and retraining triggers) are the functions below from
:mod:`mlcycle.client.monitoring`; their logic lives in:

* :mod:`mlcycle.monitoring.service` - :class:`MonitorService` (``mlcycle.Client().monitoring``)
* :mod:`mlcycle.monitoring.checks` - one run over one window: drift, quality, performance
* :mod:`mlcycle.monitoring.quality`, :mod:`mlcycle.monitoring.performance` - their checks
* :mod:`mlcycle.monitoring.reference` - the reference from the model's lineage
* :mod:`mlcycle.monitoring.alerts` - rules, cooldown; :mod:`mlcycle.monitoring.delivery`
  and :mod:`mlcycle.monitoring.webhooks` - the log and signed webhooks with retries
* :mod:`mlcycle.monitoring.triggers` - retraining jobs, gates, auto canary
* :mod:`mlcycle.monitoring.scheduler` - running due monitors in a background thread
* :mod:`mlcycle.monitoring.monitor_page` - a monitor's HTML report over its results

Importing this package loads NumPy only; pandas, pyarrow and SciPy load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle._lazy import attach

if TYPE_CHECKING:
    from mlcycle.client.monitoring import ack as ack
    from mlcycle.client.monitoring import add_alert_rule as add_alert_rule
    from mlcycle.client.monitoring import alert_rules as alert_rules
    from mlcycle.client.monitoring import create as create
    from mlcycle.client.monitoring import delete as delete
    from mlcycle.client.monitoring import delete_alert_rule as delete_alert_rule
    from mlcycle.client.monitoring import get as get
    from mlcycle.client.monitoring import get_alert as get_alert
    from mlcycle.client.monitoring import list_alerts as list_alerts
    from mlcycle.client.monitoring import list_monitors as list_monitors
    from mlcycle.client.monitoring import monitor_report as monitor_report
    from mlcycle.client.monitoring import monitor_report_dict as monitor_report_dict
    from mlcycle.client.monitoring import results as results
    from mlcycle.client.monitoring import results_frame as results_frame
    from mlcycle.client.monitoring import retrain as retrain
    from mlcycle.client.monitoring import retrains as retrains
    from mlcycle.client.monitoring import run as run
    from mlcycle.client.monitoring import run_due as run_due
    from mlcycle.client.monitoring import set_schedule as set_schedule
    from mlcycle.entities.monitoring import Alert as Alert
    from mlcycle.entities.monitoring import AlertCondition as AlertCondition
    from mlcycle.entities.monitoring import AlertRule as AlertRule
    from mlcycle.entities.monitoring import AlertStatus as AlertStatus
    from mlcycle.entities.monitoring import Delivery as Delivery
    from mlcycle.entities.monitoring import DeliveryStatus as DeliveryStatus
    from mlcycle.entities.monitoring import Monitor as Monitor
    from mlcycle.entities.monitoring import MonitorResult as MonitorResult
    from mlcycle.entities.monitoring import ResultStatus as ResultStatus
    from mlcycle.entities.monitoring import RetrainRun as RetrainRun
    from mlcycle.entities.monitoring import Severity as Severity
    from mlcycle.entities.monitoring import TriggerStatus as TriggerStatus
    from mlcycle.entities.monitoring import Window as Window
    from mlcycle.monitoring.data_drift import drift as drift
    from mlcycle.monitoring.methods import ColumnKind as ColumnKind
    from mlcycle.monitoring.methods import ColumnStatus as ColumnStatus
    from mlcycle.monitoring.methods import DriftMethod as DriftMethod
    from mlcycle.monitoring.profile import ReferenceProfile as ReferenceProfile
    from mlcycle.monitoring.report import ColumnDrift as ColumnDrift
    from mlcycle.monitoring.report import Distribution as Distribution
    from mlcycle.monitoring.report import DriftReport as DriftReport
    from mlcycle.monitoring.scheduler import Scheduler as Scheduler
    from mlcycle.monitoring.triggers import RetrainContext as RetrainContext

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Alert": "mlcycle.entities.monitoring:Alert",
        "AlertCondition": "mlcycle.entities.monitoring:AlertCondition",
        "AlertRule": "mlcycle.entities.monitoring:AlertRule",
        "AlertStatus": "mlcycle.entities.monitoring:AlertStatus",
        "ColumnDrift": "mlcycle.monitoring.report:ColumnDrift",
        "ColumnKind": "mlcycle.monitoring.methods:ColumnKind",
        "ColumnStatus": "mlcycle.monitoring.methods:ColumnStatus",
        "Delivery": "mlcycle.entities.monitoring:Delivery",
        "DeliveryStatus": "mlcycle.entities.monitoring:DeliveryStatus",
        "Distribution": "mlcycle.monitoring.report:Distribution",
        "DriftMethod": "mlcycle.monitoring.methods:DriftMethod",
        "DriftReport": "mlcycle.monitoring.report:DriftReport",
        "Monitor": "mlcycle.entities.monitoring:Monitor",
        "MonitorResult": "mlcycle.entities.monitoring:MonitorResult",
        "ReferenceProfile": "mlcycle.monitoring.profile:ReferenceProfile",
        "ResultStatus": "mlcycle.entities.monitoring:ResultStatus",
        "RetrainContext": "mlcycle.monitoring.triggers:RetrainContext",
        "RetrainRun": "mlcycle.entities.monitoring:RetrainRun",
        "Scheduler": "mlcycle.monitoring.scheduler:Scheduler",
        "Severity": "mlcycle.entities.monitoring:Severity",
        "TriggerStatus": "mlcycle.entities.monitoring:TriggerStatus",
        "Window": "mlcycle.entities.monitoring:Window",
        "ack": "mlcycle.client.monitoring:ack",
        "add_alert_rule": "mlcycle.client.monitoring:add_alert_rule",
        "alert_rules": "mlcycle.client.monitoring:alert_rules",
        "create": "mlcycle.client.monitoring:create",
        "delete": "mlcycle.client.monitoring:delete",
        "delete_alert_rule": "mlcycle.client.monitoring:delete_alert_rule",
        "drift": "mlcycle.monitoring.data_drift:drift",
        "get": "mlcycle.client.monitoring:get",
        "get_alert": "mlcycle.client.monitoring:get_alert",
        "list_alerts": "mlcycle.client.monitoring:list_alerts",
        "list_monitors": "mlcycle.client.monitoring:list_monitors",
        "monitor_report": "mlcycle.client.monitoring:monitor_report",
        "monitor_report_dict": "mlcycle.client.monitoring:monitor_report_dict",
        "results": "mlcycle.client.monitoring:results",
        "results_frame": "mlcycle.client.monitoring:results_frame",
        "retrain": "mlcycle.client.monitoring:retrain",
        "retrains": "mlcycle.client.monitoring:retrains",
        "run": "mlcycle.client.monitoring:run",
        "run_due": "mlcycle.client.monitoring:run_due",
        "set_schedule": "mlcycle.client.monitoring:set_schedule",
    },
)
