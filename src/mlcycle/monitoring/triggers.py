"""Retraining triggers: run a monitor's retraining job when chosen alerts fire, then hold
the version it registers to the registry's promotion gates and, with the auto-canary
policy, start a canary for it.

A Python job ``package.module:function`` is called with a :class:`RetrainContext`. A shell
command gets the same information in environment variables: ``MLCYCLE_MONITOR``,
``MLCYCLE_DEPLOYMENT``, ``MLCYCLE_MODEL_NAME``, ``MLCYCLE_MODEL_VERSION``,
``MLCYCLE_ALERT_ID``, ``MLCYCLE_WINDOW`` (a Parquet file of the window: its inputs, the
prediction and, where feedback arrived, the label) and ``MLCYCLE_TRIGGER_CONTEXT`` (a JSON
file with all of it), besides the store's ``MLCYCLE_TRACKING_URI`` and
``MLCYCLE_ARTIFACT_URI``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import tempfile
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mlcycle.entities import ModelVersion
from mlcycle.entities.monitoring import (
    Alert,
    DeployedModel,
    Monitor,
    MonitorResult,
    RetrainKind,
    RetrainPolicy,
    RetrainRun,
    TriggerStatus,
)
from mlcycle.errors import InvalidInputError, MlcycleError, NotFoundError
from mlcycle.ports.api import DatasetsAPI, RegistryAPI
from mlcycle.tracking.run import ActiveRun

if TYPE_CHECKING:
    import pandas as pd

    from mlcycle.registry.service import RegistryService

#: Characters of a job's output kept with its record.
OUTPUT_CHARS = 20_000


class RetrainClient(Protocol):
    """What a retraining job gets to log its run and register its model: the
    :class:`mlcycle.Client` over the monitor's store (these members, and the rest)."""

    def start_run(self, experiment: str | None = None, name: str | None = None) -> ActiveRun: ...

    @property
    def registry(self) -> RegistryAPI: ...

    @property
    def datasets(self) -> DatasetsAPI: ...


@dataclass(frozen=True)
class RetrainContext:
    """What a retraining entry point receives.

    ``window`` holds the rows of the window that fired the alert: the model's inputs, the
    ``prediction`` and, for rows whose feedback arrived, the ``label``. ``client`` is the
    :class:`mlcycle.Client` over the monitor's store, to log runs and register versions.

    >>> def retrain(ctx):  # e.g. myproject.jobs:retrain
    ...     model = fit(ctx.window)  # doctest: +SKIP
    ...     with ctx.client.start_run("churn") as run:  # doctest: +SKIP
    ...         run.log_model(model, "model", register=ctx.model_name)
    """

    monitor: str
    deployment: str
    model_name: str | None
    model_version: int | None
    window: pd.DataFrame
    result: MonitorResult
    alert: Alert | None = None
    client: RetrainClient | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobOutcome:
    returned: Any
    output: str | None


def _entry_point(target: str) -> Callable[[RetrainContext], Any]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInputError(
            f"cannot import the retraining module {module_name!r}: {exc}", field="retrain"
        ) from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InvalidInputError(
            f"{module_name!r} has no function {attr!r} to retrain with", field="retrain"
        )
    return fn  # type: ignore[no-any-return]


def run_python(policy: RetrainPolicy, context: RetrainContext) -> JobOutcome:
    return JobOutcome(_entry_point(policy.target)(context), None)


def run_command(
    policy: RetrainPolicy, context: RetrainContext, *, env: Mapping[str, str]
) -> JobOutcome:
    """Run the shell command with the context in env vars and files; a non-zero exit is an
    error (its output is kept)."""
    with tempfile.TemporaryDirectory(prefix="mlcycle-retrain-") as tmp:
        window_path = Path(tmp) / "window.parquet"
        context.window.to_parquet(window_path, index=False)
        info = {
            "monitor": context.monitor,
            "deployment": context.deployment,
            "model_name": context.model_name,
            "model_version": context.model_version,
            "alert": None if context.alert is None else context.alert.to_dict(),
            "result": context.result.to_dict(details=False),
            "window": str(window_path),
        }
        context_path = Path(tmp) / "context.json"
        context_path.write_text(json.dumps(info, default=str))
        variables = {
            **os.environ,  # the command's PATH and the rest of this process's environment
            **env,
            "MLCYCLE_MONITOR": context.monitor,
            "MLCYCLE_DEPLOYMENT": context.deployment,
            "MLCYCLE_MODEL_NAME": context.model_name or "",
            "MLCYCLE_MODEL_VERSION": ""
            if context.model_version is None
            else str(context.model_version),
            "MLCYCLE_ALERT_ID": "" if context.alert is None else context.alert.id,
            "MLCYCLE_WINDOW": str(window_path),
            "MLCYCLE_TRIGGER_CONTEXT": str(context_path),
        }
        done = subprocess.run(
            policy.target,
            shell=True,
            env=variables,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
    output = done.stdout.decode(errors="replace")[-OUTPUT_CHARS:]
    if done.returncode != 0:
        raise _JobFailed(f"the retrain command exited with code {done.returncode}", output)
    return JobOutcome(None, output)


class _JobFailed(Exception):
    def __init__(self, message: str, output: str | None) -> None:
        super().__init__(message)
        self.output = output


@dataclass
class Retrainer:
    """Runs a monitor's retraining job and follows it through gates and canary.

    ``start_canary(deployment, model_uri, policy)`` starts the canary; ``env`` is given to
    shell commands (the store's location); ``client`` is handed to Python jobs.
    """

    registry: RegistryService
    start_canary: Callable[[str, str, RetrainPolicy], object]
    clock: Callable[[], int]
    new_id: Callable[[], str]
    env: Mapping[str, str] = field(default_factory=dict)
    client: RetrainClient | None = None

    def should_run(self, monitor: Monitor, alert: Alert) -> bool:
        policy = monitor.retrain
        return policy is not None and (not policy.on_rules or alert.rule in policy.on_rules)

    def run(
        self,
        monitor: Monitor,
        deployed: DeployedModel,
        window: pd.DataFrame,
        result: MonitorResult,
        alert: Alert | None,
        record: Callable[[RetrainRun], None],
    ) -> RetrainRun:
        """Run the job; ``record`` is called with the run when it starts and when it ends."""
        policy = monitor.retrain
        if policy is None:
            raise InvalidInputError(
                f"monitor {monitor.name!r} has no retraining job", field="retrain"
            )
        started = RetrainRun(
            id=self.new_id(),
            monitor=monitor.name,
            deployment=monitor.deployment,
            kind=policy.kind,
            target=policy.target,
            status=TriggerStatus.RUNNING,
            started_at=self.clock(),
            alert_id=None if alert is None else alert.id,
            model_name=deployed.name,
            base_version=deployed.version,
        )
        record(started)
        finished = self._follow(started, policy, monitor, deployed, window, result, alert)
        record(finished)
        return finished

    def _follow(
        self,
        run: RetrainRun,
        policy: RetrainPolicy,
        monitor: Monitor,
        deployed: DeployedModel,
        window: pd.DataFrame,
        result: MonitorResult,
        alert: Alert | None,
    ) -> RetrainRun:
        name = deployed.name
        before = self._latest(name)
        context = RetrainContext(
            monitor=monitor.name,
            deployment=monitor.deployment,
            model_name=name,
            model_version=deployed.version,
            window=window,
            result=result,
            alert=alert,
            client=self.client,
        )
        try:
            if policy.kind is RetrainKind.PYTHON:
                outcome = run_python(policy, context)
            else:
                outcome = run_command(policy, context, env=self.env)
        except _JobFailed as exc:
            return replace(
                run,
                status=TriggerStatus.FAILED,
                finished_at=self.clock(),
                message=str(exc),
                output=exc.output,
            )
        except Exception as exc:  # the user's job: record whatever it raised
            return replace(
                run,
                status=TriggerStatus.FAILED,
                finished_at=self.clock(),
                message=f"{type(exc).__name__}: {exc}",
                output=traceback.format_exc()[-OUTPUT_CHARS:],
            )
        new = self._new_version(name, before, outcome.returned)
        if new is None:
            return replace(
                run,
                status=TriggerStatus.NO_NEW_VERSION,
                finished_at=self.clock(),
                message="the job registered no new version"
                + ("" if name else " (the deployment does not serve a registered model)"),
                output=outcome.output,
            )
        return self._gates(run, policy, deployed, new, outcome.output)

    def _gates(
        self,
        run: RetrainRun,
        policy: RetrainPolicy,
        deployed: DeployedModel,
        new: ModelVersion,
        output: str | None,
    ) -> RetrainRun:
        alias = deployed.alias or "champion"
        try:
            gates = self.registry.check_gates(
                new.name,
                new.version,
                alias,
                reason=f"retraining trigger {run.id} of monitor {run.monitor!r}",
                trusted=deployed.trusted,
            )
        except MlcycleError as exc:
            return replace(
                run,
                status=TriggerStatus.FAILED,
                finished_at=self.clock(),
                model_name=new.name,
                new_version=new.version,
                message=f"gates could not run: {exc}",
                output=output,
            )
        summary = tuple(g.to_dict() for g in gates)
        failed = [g for g in gates if not g.passed]
        base = replace(
            run, model_name=new.name, new_version=new.version, gates=summary, output=output
        )
        if failed:
            reasons = "; ".join(f"{g.gate}: {g.detail}" for g in failed)
            return replace(
                base,
                status=TriggerStatus.GATES_FAILED,
                finished_at=self.clock(),
                message=f"version {new.version} failed its gates - {reasons}",
            )
        if not policy.auto_canary:
            return replace(
                base,
                status=TriggerStatus.GATES_PASSED,
                finished_at=self.clock(),
                message=f"version {new.version} passed its gates",
            )
        try:
            self.start_canary(run.deployment, new.uri, policy)
        except MlcycleError as exc:
            return replace(
                base,
                status=TriggerStatus.FAILED,
                finished_at=self.clock(),
                message=f"version {new.version} passed its gates but the canary was refused: {exc}",
            )
        return replace(
            base,
            status=TriggerStatus.CANARY_STARTED,
            finished_at=self.clock(),
            message=f"version {new.version} passed its gates; canary started "
            f"({', '.join(map(str, policy.canary_steps))} %)",
        )

    def _latest(self, name: str | None) -> int:
        if name is None:
            return 0
        versions = self.registry.list_versions(name) if self._exists(name) else []
        return max((v.version for v in versions), default=0)

    def _exists(self, name: str) -> bool:
        try:
            self.registry.get_model(name)
        except NotFoundError:
            return False
        return True

    def _new_version(self, name: str | None, before: int, returned: Any) -> ModelVersion | None:
        if isinstance(returned, ModelVersion) and returned.version > 0:
            return returned
        if name is None or not self._exists(name):
            return None
        versions = [v for v in self.registry.list_versions(name) if v.version > before]
        return max(versions, key=lambda v: v.version) if versions else None
