"""The public deployments API, re-exported as :mod:`mlcycle.deployments`.

Every function works on the default client (``mlcycle.get_client()``) unless ``client=``
is given; it calls the client's deployments API (``client.deployments``), which a backend
that does not offer it refuses with CapabilityUnavailableError.

    >>> import mlcycle
    >>> mlcycle.deployments.create("churn", "models:/churn@champion")  # doctest: +SKIP
    >>> mlcycle.deployments.canary("churn", "models:/churn/4", steps=(5, 25, 50, 100),
    ...     interval="10m", max_error_rate=0.01, max_p99_ms=50)  # doctest: +SKIP
    >>> mlcycle.deployments.status("churn").canary  # doctest: +SKIP
    >>> mlcycle.deployments.rollback("churn", reason="p99 too high")  # doctest: +SKIP
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from mlcycle.client.client import Client
from mlcycle.client.fluent import get_client
from mlcycle.deployments.feedback_items import FeedbackItem
from mlcycle.durations import parse_duration_ms
from mlcycle.entities.deployment_state import DeploymentState, FeedbackResult
from mlcycle.entities.deployments import Deployment, DeploymentEvent, ServingOptions
from mlcycle.errors import InvalidInputError, NotFoundError
from mlcycle.ports.api import DeploymentsAPI
from mlcycle.suggest import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

Moment = datetime | int | float | None


def _service(client: Client | None) -> DeploymentsAPI:
    return (client or get_client()).deployments


def create(
    name: str,
    model_uri: str,
    *,
    max_batch_size: int | None = None,
    max_latency_ms: float | None = None,
    log_sample_rate: float | None = None,
    routing_key: str | None = None,
    trusted: Sequence[str] = (),
    options: ServingOptions | None = None,
    description: str | None = None,
    client: Client | None = None,
) -> Deployment:
    """Create the deployment ``name`` serving ``model_uri`` (a ``models:/`` URI, which
    may follow an alias, a ``runs:/`` URI or a model directory).

    Serving options default to :class:`ServingOptions`' (``max_batch_size`` 64,
    ``max_latency_ms`` 2, every request logged); pass them one by one or as ``options``.
    The model must exist and load (``trusted`` names extra types it may hold).

    >>> mlcycle.deployments.create("churn", "models:/churn@champion",
    ...                            max_batch_size=32)  # doctest: +SKIP

    Raises AlreadyExistsError when an active deployment has the name, NotFoundError or
    InvalidInputError when the model cannot be served.
    """
    base = options or ServingOptions()
    merged = ServingOptions(
        max_batch_size=base.max_batch_size if max_batch_size is None else max_batch_size,
        max_latency_ms=base.max_latency_ms if max_latency_ms is None else max_latency_ms,
        log_sample_rate=base.log_sample_rate if log_sample_rate is None else log_sample_rate,
        routing_key=base.routing_key if routing_key is None else routing_key,
        trusted=tuple(trusted) or base.trusted,
    )
    return _service(client).create(name, model_uri, options=merged, description=description)


def get(name: str, *, client: Client | None = None) -> Deployment:
    """The deployment ``name``. Raises NotFoundError naming it.

    >>> mlcycle.deployments.get("churn").arms  # doctest: +SKIP
    """
    return _service(client).get(name)


def list_deployments(
    *, include_deleted: bool = False, client: Client | None = None
) -> builtins.list[Deployment]:
    """Every active deployment, by name (deleted ones too with ``include_deleted``).
    Also available as ``mlcycle.deployments.list()``.

    >>> [d.name for d in mlcycle.deployments.list()]  # doctest: +SKIP
    ['churn', 'fraud']
    """
    return _service(client).list(include_deleted=include_deleted)


def status(name: str, *, client: Client | None = None) -> DeploymentState:
    """The deployment with each arm resolved to the version it serves now (an alias URI
    follows its alias) and the canary's progress.

    >>> state = mlcycle.deployments.status("churn")  # doctest: +SKIP
    >>> [(a.arm.name, a.version, a.arm.weight) for a in state.arms]  # doctest: +SKIP
    [('primary', 3, 95.0), ('candidate', 4, 5.0)]
    """
    return _service(client).status(name)


def history(name: str, *, client: Client | None = None) -> builtins.list[DeploymentEvent]:
    """Every change of the deployment, oldest first: who, when, why, before and after.

    >>> [(e.revision, e.action, e.reason) for e in mlcycle.deployments.history("churn")]
    ... # doctest: +SKIP
    """
    return _service(client).history(name)


def delete(name: str, *, reason: str | None = None, client: Client | None = None) -> Deployment:
    """Delete the deployment (its history is kept; the name may be used again).

    >>> mlcycle.deployments.delete("churn")  # doctest: +SKIP
    """
    return _service(client).delete(name, reason=reason)


def split(
    name: str,
    targets: Sequence[tuple[str, float]],
    *,
    reason: str | None = None,
    client: Client | None = None,
) -> Deployment:
    """A/B test: split the traffic between models by weight (percent, adding up to 100).
    Requests with the same routing key always reach the same arm.

    >>> mlcycle.deployments.split(
    ...     "churn", [("models:/churn/3", 50), ("models:/churn/4", 50)])  # doctest: +SKIP
    """
    return _service(client).split(name, targets, reason=reason)


def _seconds(value: str | float | timedelta, field: str) -> float:
    if isinstance(value, str):
        return parse_duration_ms(value, field=field) / 1000
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            f'{field} must be a duration ("10m"), a timedelta or seconds', field=field
        )
    return float(value)


def canary(
    name: str,
    candidate: str,
    *,
    steps: Sequence[int] = (5, 25, 50, 100),
    interval: str | float | timedelta = "10m",
    max_error_rate: float | None = None,
    max_p99_ms: float | None = None,
    min_accuracy: float | None = None,
    reason: str | None = None,
    client: Client | None = None,
) -> Deployment:
    """Roll ``candidate`` out in steps: it gets ``steps[0]`` percent of the traffic, then
    the next step every ``interval`` (``"10m"``, a timedelta, or seconds) while its guards
    hold. A breached guard rolls back at once and records why; completing the 100% step
    makes the candidate the deployment's model (moving the alias it follows, if any).
    The serving process drives the steps.

    >>> mlcycle.deployments.canary("churn", "models:/churn/4", interval="10m",
    ...     max_error_rate=0.01, max_p99_ms=50, min_accuracy=0.8)  # doctest: +SKIP
    """
    return _service(client).canary(
        name,
        candidate,
        steps=steps,
        interval_s=_seconds(interval, "interval"),
        max_error_rate=max_error_rate,
        max_p99_ms=max_p99_ms,
        min_accuracy=min_accuracy,
        reason=reason,
    )


def shadow(
    name: str,
    candidate: str,
    *,
    percent: float = 100.0,
    reason: str | None = None,
    client: Client | None = None,
) -> Deployment:
    """Mirror ``percent`` percent of the traffic to ``candidate``: its answers are logged
    (arm ``shadow``) for comparison and never returned.

    >>> mlcycle.deployments.shadow("churn", "models:/churn/4", percent=100)  # doctest: +SKIP
    """
    return _service(client).shadow(name, candidate, percent=percent, reason=reason)


def rollback(name: str, *, reason: str | None = None, client: Client | None = None) -> Deployment:
    """Return to the last stable configuration at once (ends a canary or a shadow).

    >>> mlcycle.deployments.rollback("churn", reason="error spike")  # doctest: +SKIP
    """
    return _service(client).rollback(name, reason=reason)


def record_feedback(
    name: str, items: Iterable[FeedbackItem], *, client: Client | None = None
) -> FeedbackResult:
    """Store ground truth for answered requests: ``(request_id, label)`` pairs or
    ``{"request_id": ..., "label": ...}`` mappings (a later label replaces an earlier
    one). The serving process's ``POST /feedback`` also checks the request IDs.

    >>> mlcycle.deployments.record_feedback("churn", [("9f1c...", 1)])  # doctest: +SKIP
    """
    return _service(client).record_feedback(name, items)


def _ms(moment: Moment, field: str) -> int | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1000)
    if isinstance(moment, bool) or not isinstance(moment, int | float):
        raise InvalidInputError(
            f"{field} must be a datetime or milliseconds since the epoch", field=field
        )
    return int(moment)


def feedback(
    name: str, since: Moment = None, until: Moment = None, *, client: Client | None = None
) -> pd.DataFrame:
    """The labels stored for ``name`` with ``since <= time < until`` (datetimes, naive
    ones UTC, or ms since the epoch), as a DataFrame with columns ``request_id``,
    ``label`` and ``time`` (UTC), oldest first; join it to :func:`prediction_log` on
    ``request_id``.

    >>> labels = mlcycle.deployments.feedback("churn")  # doctest: +SKIP
    >>> log = mlcycle.deployments.prediction_log("churn")  # doctest: +SKIP
    >>> log.merge(labels, on="request_id")  # doctest: +SKIP
    """
    import pandas as pd  # deferred: importing mlcycle does not pay for pandas

    items = _service(client).feedback_for(name, _ms(since, "since"), _ms(until, "until"))
    return pd.DataFrame(
        {
            "request_id": pd.Series([f.request_id for f in items], dtype="object"),
            "label": pd.Series([f.label for f in items], dtype="object"),
            "time": pd.to_datetime(
                pd.Series([f.at for f in items], dtype="int64"), unit="ms", utc=True
            ),
        }
    )


def prediction_log(
    name: str, since: Moment = None, until: Moment = None, *, client: Client | None = None
) -> pd.DataFrame:
    """The logged predictions of deployment ``name`` with ``since <= time < until``: one
    row per predicted input row with time, request ID, version, arm, latency, prediction,
    probabilities and inputs (see :mod:`mlcycle.deployments.prediction_logs`).

    A name that is neither a deployment nor a served model with a log (``mlcycle serve
    --name``) raises NotFoundError with the close names; a known one with no predictions
    in the range gives an empty frame.

    >>> from datetime import datetime, timedelta, UTC
    >>> mlcycle.deployments.prediction_log(
    ...     "churn", since=datetime.now(UTC) - timedelta(hours=1))  # doctest: +SKIP
    """
    # Deferred: the reader loads NumPy, pandas and pyarrow, which `import mlcycle` skips.
    from mlcycle.deployments.prediction_logs import has_prediction_log, read_prediction_log

    active = client or get_client()
    logs = active.backend.prediction_logs  # the artifact store's, or the server's
    if isinstance(name, str) and name and not has_prediction_log(logs, name):
        names = [d.name for d in _service(active).list(include_deleted=True)]
        if name not in names:
            raise NotFoundError(
                f"no deployment or prediction log named {name!r}" + did_you_mean(name, names),
                field="name",
            )
    return read_prediction_log(logs, name, since, until)
