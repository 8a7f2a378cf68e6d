"""mlcycle: one tool for the whole machine-learning lifecycle.

>>> import mlcycle
>>> with mlcycle.start_run(experiment="demo") as run:  # doctest: +SKIP
...     run.log_param("lr", 0.01)
...     run.log_metric("loss", 0.3)
>>> mlcycle.Client().search_runs("demo", filter="metrics.loss < 0.5")  # doctest: +SKIP
>>> v = mlcycle.datasets.register("churn", "churn.parquet")  # doctest: +SKIP
>>> mlcycle.registry.promote("churn", 3)  # the champion, if its gates pass  # doctest: +SKIP
>>> mlcycle.sweep(train, {"lr": (1e-4, 0.1, "log")}, n_trials=20)  # doctest: +SKIP
"""

# stage namespaces; no pandas or pyarrow
from mlcycle import datasets, deployments, models, monitoring, registry
from mlcycle.client.autolog import autolog
from mlcycle.client.client import Client
from mlcycle.client.evaluation import evaluate
from mlcycle.client.fluent import active_run, get_client, set_client, set_experiment, start_run
from mlcycle.client.results import RunComparison, RunList
from mlcycle.client.sweep import SweepResult, Trial, sweep
from mlcycle.entities import (
    ArtifactInfo,
    DatasetVersion,
    Direction,
    Experiment,
    LifecycleStage,
    MetricHistory,
    Problem,
    Run,
    RunStatus,
    Task,
)
from mlcycle.errors import (
    AlreadyExistsError,
    ApprovalRequiredError,
    ArtifactNotFoundError,
    AuthenticationError,
    ConflictError,
    FilterSyntaxError,
    InvalidInputError,
    MlcycleError,
    ModelRetiredError,
    NotFoundError,
    PermissionDeniedError,
    RemoteError,
    SchemaOutdatedError,
    StoreError,
    ValidationFailedError,
)
from mlcycle.settings import Settings
from mlcycle.tracking.run import ActiveRun

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "AlreadyExistsError",
    "ApprovalRequiredError",
    "ArtifactInfo",
    "ArtifactNotFoundError",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "DatasetVersion",
    "Direction",
    "Experiment",
    "FilterSyntaxError",
    "InvalidInputError",
    "LifecycleStage",
    "MetricHistory",
    "MlcycleError",
    "ModelRetiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
    "RemoteError",
    "Run",
    "RunComparison",
    "RunList",
    "RunStatus",
    "SchemaOutdatedError",
    "Settings",
    "StoreError",
    "SweepResult",
    "Task",
    "Trial",
    "ValidationFailedError",
    "__version__",
    "active_run",
    "autolog",
    "datasets",
    "deployments",
    "evaluate",
    "get_client",
    "models",
    "monitoring",
    "registry",
    "set_client",
    "set_experiment",
    "start_run",
    "sweep",
]
