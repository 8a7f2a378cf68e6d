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

from mlcycle.client.monitoring import (
    ack,
    add_alert_rule,
    alert_rules,
    create,
    delete,
    delete_alert_rule,
    get,
    get_alert,
    list_alerts,
    list_monitors,
    monitor_report,
    monitor_report_dict,
    results,
    results_frame,
    retrain,
    retrains,
    run,
    run_due,
    set_schedule,
)
from mlcycle.entities.monitoring import (
    Alert,
    AlertCondition,
    AlertRule,
    AlertStatus,
    Delivery,
    DeliveryStatus,
    Monitor,
    MonitorResult,
    ResultStatus,
    RetrainRun,
    Severity,
    TriggerStatus,
    Window,
)
from mlcycle.monitoring.data_drift import drift
from mlcycle.monitoring.methods import ColumnKind, ColumnStatus, DriftMethod
from mlcycle.monitoring.profile import ReferenceProfile
from mlcycle.monitoring.report import ColumnDrift, Distribution, DriftReport
from mlcycle.monitoring.scheduler import Scheduler
from mlcycle.monitoring.triggers import RetrainContext

__all__ = [
    "Alert",
    "AlertCondition",
    "AlertRule",
    "AlertStatus",
    "ColumnDrift",
    "ColumnKind",
    "ColumnStatus",
    "Delivery",
    "DeliveryStatus",
    "Distribution",
    "DriftMethod",
    "DriftReport",
    "Monitor",
    "MonitorResult",
    "ReferenceProfile",
    "ResultStatus",
    "RetrainContext",
    "RetrainRun",
    "Scheduler",
    "Severity",
    "TriggerStatus",
    "Window",
    "ack",
    "add_alert_rule",
    "alert_rules",
    "create",
    "delete",
    "delete_alert_rule",
    "drift",
    "get",
    "get_alert",
    "list_alerts",
    "list_monitors",
    "monitor_report",
    "monitor_report_dict",
    "results",
    "results_frame",
    "retrain",
    "retrains",
    "run",
    "run_due",
    "set_schedule",
]
