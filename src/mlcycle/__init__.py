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

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle._lazy import attach

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mlcycle import datasets as datasets
    from mlcycle import deployments as deployments
    from mlcycle import models as models
    from mlcycle import monitoring as monitoring
    from mlcycle import registry as registry
    from mlcycle.client.autolog import autolog as autolog
    from mlcycle.client.client import Client as Client
    from mlcycle.client.evaluation import evaluate as evaluate
    from mlcycle.client.fluent import active_run as active_run
    from mlcycle.client.fluent import get_client as get_client
    from mlcycle.client.fluent import set_client as set_client
    from mlcycle.client.fluent import set_experiment as set_experiment
    from mlcycle.client.fluent import start_run as start_run
    from mlcycle.client.results import RunComparison as RunComparison
    from mlcycle.client.results import RunList as RunList
    from mlcycle.client.sweep import SweepResult as SweepResult
    from mlcycle.client.sweep import Trial as Trial
    from mlcycle.client.sweep import sweep as sweep
    from mlcycle.entities import ArtifactInfo as ArtifactInfo
    from mlcycle.entities import DatasetVersion as DatasetVersion
    from mlcycle.entities import Direction as Direction
    from mlcycle.entities import Experiment as Experiment
    from mlcycle.entities import LifecycleStage as LifecycleStage
    from mlcycle.entities import MetricHistory as MetricHistory
    from mlcycle.entities import Problem as Problem
    from mlcycle.entities import Run as Run
    from mlcycle.entities import RunStatus as RunStatus
    from mlcycle.entities import Task as Task
    from mlcycle.errors import AlreadyExistsError as AlreadyExistsError
    from mlcycle.errors import ApprovalRequiredError as ApprovalRequiredError
    from mlcycle.errors import ArtifactNotFoundError as ArtifactNotFoundError
    from mlcycle.errors import AuthenticationError as AuthenticationError
    from mlcycle.errors import ConflictError as ConflictError
    from mlcycle.errors import FilterSyntaxError as FilterSyntaxError
    from mlcycle.errors import InvalidInputError as InvalidInputError
    from mlcycle.errors import MlcycleError as MlcycleError
    from mlcycle.errors import ModelRetiredError as ModelRetiredError
    from mlcycle.errors import NotFoundError as NotFoundError
    from mlcycle.errors import PermissionDeniedError as PermissionDeniedError
    from mlcycle.errors import RemoteError as RemoteError
    from mlcycle.errors import SchemaOutdatedError as SchemaOutdatedError
    from mlcycle.errors import StoreError as StoreError
    from mlcycle.errors import ValidationFailedError as ValidationFailedError
    from mlcycle.settings import Settings as Settings
    from mlcycle.tracking.run import ActiveRun as ActiveRun

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ActiveRun": "mlcycle.tracking.run:ActiveRun",
        "AlreadyExistsError": "mlcycle.errors:AlreadyExistsError",
        "ApprovalRequiredError": "mlcycle.errors:ApprovalRequiredError",
        "ArtifactInfo": "mlcycle.entities:ArtifactInfo",
        "ArtifactNotFoundError": "mlcycle.errors:ArtifactNotFoundError",
        "AuthenticationError": "mlcycle.errors:AuthenticationError",
        "Client": "mlcycle.client.client:Client",
        "ConflictError": "mlcycle.errors:ConflictError",
        "DatasetVersion": "mlcycle.entities:DatasetVersion",
        "Direction": "mlcycle.entities:Direction",
        "Experiment": "mlcycle.entities:Experiment",
        "FilterSyntaxError": "mlcycle.errors:FilterSyntaxError",
        "InvalidInputError": "mlcycle.errors:InvalidInputError",
        "LifecycleStage": "mlcycle.entities:LifecycleStage",
        "MetricHistory": "mlcycle.entities:MetricHistory",
        "MlcycleError": "mlcycle.errors:MlcycleError",
        "ModelRetiredError": "mlcycle.errors:ModelRetiredError",
        "NotFoundError": "mlcycle.errors:NotFoundError",
        "PermissionDeniedError": "mlcycle.errors:PermissionDeniedError",
        "Problem": "mlcycle.entities:Problem",
        "RemoteError": "mlcycle.errors:RemoteError",
        "Run": "mlcycle.entities:Run",
        "RunComparison": "mlcycle.client.results:RunComparison",
        "RunList": "mlcycle.client.results:RunList",
        "RunStatus": "mlcycle.entities:RunStatus",
        "SchemaOutdatedError": "mlcycle.errors:SchemaOutdatedError",
        "Settings": "mlcycle.settings:Settings",
        "StoreError": "mlcycle.errors:StoreError",
        "SweepResult": "mlcycle.client.sweep:SweepResult",
        "Task": "mlcycle.entities:Task",
        "Trial": "mlcycle.client.sweep:Trial",
        "ValidationFailedError": "mlcycle.errors:ValidationFailedError",
        "active_run": "mlcycle.client.fluent:active_run",
        "autolog": "mlcycle.client.autolog:autolog",
        "datasets": "mlcycle.datasets",
        "deployments": "mlcycle.deployments",
        "evaluate": "mlcycle.client.evaluation:evaluate",
        "get_client": "mlcycle.client.fluent:get_client",
        "models": "mlcycle.models",
        "monitoring": "mlcycle.monitoring",
        "registry": "mlcycle.registry",
        "set_client": "mlcycle.client.fluent:set_client",
        "set_experiment": "mlcycle.client.fluent:set_experiment",
        "start_run": "mlcycle.client.fluent:start_run",
        "sweep": "mlcycle.client.sweep:sweep",
    },
    eager=("__version__",),
)
