"""``mlcycle.Client``: the public Python API over a local store (or, later, a server)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mlcycle.artifacts import LocalArtifactStore, S3ArtifactStore, open_artifact_store
from mlcycle.client.registry import register_model, version_scorer
from mlcycle.client.results import RunComparison, RunList
from mlcycle.durations import parse_duration_ms
from mlcycle.entities import (
    ArtifactInfo,
    Direction,
    Experiment,
    MetricHistory,
    Problem,
    Run,
    RunStatus,
    Task,
)
from mlcycle.errors import InvalidInputError, NotFoundError
from mlcycle.governance.audit import StoreAuditSink
from mlcycle.ports.backend import TrackingBackend
from mlcycle.remote import RemoteBackend
from mlcycle.remote.http import RetryPolicy
from mlcycle.settings import Settings
from mlcycle.store.sql import migrate
from mlcycle.store.sql.store import SqlStore, open_store, secret_box
from mlcycle.tracking.environment import PACKAGES_ARTIFACT, environment_tags, installed_packages
from mlcycle.tracking.run import ActiveRun
from mlcycle.tracking.service import DEFAULT_EXPERIMENT, TrackingService, make_problem
from mlcycle.tracking.system_metrics import SystemMetricsMonitor
from mlcycle.tracking.writer import BackgroundWriter

if TYPE_CHECKING:
    from mlcycle.client.governance import GovernanceClient
    from mlcycle.datasets.service import DatasetService
    from mlcycle.deployments.service import DeploymentService
    from mlcycle.monitoring.service import MonitorService
    from mlcycle.registry.service import RegistryService


class Client:
    """Read and write experiments, runs, metrics and artifacts.

    >>> import mlcycle
    >>> client = mlcycle.Client()  # MLCYCLE_TRACKING_URI, default ./.mlcycle/mlcycle.db
    >>> runs = client.search_runs(["churn"], filter="metrics.auc > 0.8",
    ...                           order_by=["metrics.auc DESC"])  # doctest: +SKIP
    >>> runs.to_pandas()  # doctest: +SKIP

    The constructor does no I/O; the store is opened (and created when new) on first use.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        artifact_uri: str | None = None,
        *,
        settings: Settings | None = None,
        backend: TrackingBackend | None = None,
    ) -> None:
        base = settings or Settings.from_env()
        self.settings = base.with_overrides(tracking_uri=tracking_uri, artifact_uri=artifact_uri)
        self._backend = backend
        self._service: TrackingService | None = None
        self._remote: RemoteBackend | None = None
        self._datasets: DatasetService | None = None
        self._registry: RegistryService | None = None
        self._deployments: DeploymentService | None = None
        self._monitoring: MonitorService | None = None
        self._governance: GovernanceClient | None = None
        self._lock = threading.Lock()
        self._writer = BackgroundWriter()

    @property
    def backend(self) -> TrackingBackend:
        """The tracking backend, built on first use: a tracking server's HTTP API for an
        http(s) tracking URI, else the local service over the store."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    if self.settings.is_remote:
                        remote = RemoteBackend(
                            self.settings.tracking_uri,
                            token=self.settings.token,
                            retry=RetryPolicy(
                                budget_s=self.settings.writer_retry_s,
                                max_backoff_s=self.settings.writer_backoff_max_s,
                            ),
                        )
                        weakref.finalize(self, remote.close)  # its connections go with the client
                        self._remote = remote
                        self._backend = remote
                        return remote
                    store = open_store(
                        self.settings.tracking_uri, secrets=secret_box(self.settings)
                    )
                    self._service = TrackingService(
                        store,
                        open_artifact_store(self.settings.artifact_uri),
                        audit=StoreAuditSink(store.governance),  # every change, audited
                    )
                    self._backend = self._service
        return self._backend

    @property
    def datasets(self) -> DatasetService:
        """The dataset service over this client's store and artifact folder, built on first
        use (``mlcycle.datasets`` calls it). Needs a local or database store."""
        if self._datasets is None:
            if self.settings.is_remote:
                raise InvalidInputError(
                    "datasets need a local or database store (sqlite:/// or postgresql://) "
                    "for now; a tracking server does not serve them yet",
                    field="tracking_uri",
                )
            self.backend  # noqa: B018 - opens the store of the tracking service
            service = self._service
            if (
                service is None
                or not isinstance(service.store, SqlStore)
                or not isinstance(service.artifact_store, LocalArtifactStore | S3ArtifactStore)
            ):
                raise InvalidInputError(
                    "datasets need a client built from a store URI, not a custom backend",
                    field="backend",
                )
            # Deferred: the dataset service loads pandas and pyarrow (most of a second),
            # which `import mlcycle` and the command line do not pay for until first use.
            from mlcycle.datasets.service import DatasetService

            self._datasets = DatasetService(
                service.store.datasets, service.artifact_store, audit=service.audit
            )
        return self._datasets

    @property
    def registry(self) -> RegistryService:
        """The model registry over this client's store, built on first use
        (``mlcycle.registry`` calls it). Needs a local or database store."""
        if self._registry is None:
            if self.settings.is_remote:
                raise InvalidInputError(
                    "the model registry needs a local or database store (sqlite:/// or "
                    "postgresql://) for now; a tracking server does not serve it yet",
                    field="tracking_uri",
                )
            self.backend  # noqa: B018 - opens the store of the tracking service
            service = self._service
            if service is None or not isinstance(service.store, SqlStore):
                raise InvalidInputError(
                    "the model registry needs a client built from a store URI, not a custom "
                    "backend",
                    field="backend",
                )
            # Deferred: mlcycle.registry's namespace re-exports the client layer's registry
            # functions, so its service can only be imported once this module is complete.
            from mlcycle.registry.service import RegistryService

            store = service.store
            self._registry = RegistryService(
                store.registry,
                service,
                run_inputs=store.datasets.run_inputs,
                score=version_scorer(self),
                audit=service.audit,
            )
        return self._registry

    @property
    def deployments(self) -> DeploymentService:
        """The deployment service over this client's store, built on first use
        (``mlcycle.deployments`` calls it). Needs a local or database store."""
        if self._deployments is None:
            registry = self.registry  # refuses a tracking server's URI or a custom backend
            service = self._service
            assert service is not None
            assert isinstance(service.store, SqlStore)
            # Deferred like the registry's: mlcycle.deployments' namespace re-exports the
            # client layer's functions, and loading a model needs mlcycle.client.models.
            from mlcycle.client.models import load
            from mlcycle.deployments.resolver import RegistryResolver
            from mlcycle.deployments.service import DeploymentService
            from mlcycle.governance.actor import current_actor

            def load_model(uri: str, trusted: Sequence[str]) -> object:
                return load(uri, trusted=list(trusted) or None, client=self)

            self._deployments = DeploymentService(
                service.store.deployments,
                RegistryResolver(registry, load=load_model),
                actor=current_actor,
                audit=service.audit,
            )
        return self._deployments

    @property
    def monitoring(self) -> MonitorService:
        """Monitors on this client's deployments, their results, alerts and retraining
        triggers, built on first use (``mlcycle.monitoring`` calls it). Needs a local or
        database store."""
        if self._monitoring is None:
            self.deployments  # noqa: B018 - refuses a server URI; opens the store
            service = self._service
            assert service is not None
            assert isinstance(service.store, SqlStore)
            # Deferred: the service loads pandas and SciPy, which `import mlcycle` does not
            # pay for.
            from mlcycle.client.monitored import ClientDeployments
            from mlcycle.monitoring.service import MonitorService
            from mlcycle.monitoring.webhooks import HttpPoster

            self._monitoring = MonitorService(
                service.store.monitoring,
                ClientDeployments(self),
                self.registry,
                self.datasets,
                poster=HttpPoster(),
                audit=service.audit,
                retrain_env={
                    "MLCYCLE_TRACKING_URI": self.settings.tracking_uri,
                    "MLCYCLE_ARTIFACT_URI": self.settings.artifact_uri,
                },
                retrain_client=self,
            )
        return self._monitoring

    @property
    def governance(self) -> GovernanceClient:
        """Users, tokens, approvals, the audit trail, model cards, retirement: over this
        client's store, or a tracking server's governance API (``mlcycle.governance``)."""
        if self._governance is None:
            from mlcycle.client.governance import governance_for  # imports the registry

            self._governance = governance_for(self)
        return self._governance

    def close(self) -> None:
        """Write pending metrics and release the store's (or the server's) connections."""
        self._writer.drain_all()
        if self._remote is not None:
            self._remote.close()
        if self._service is not None:
            self._service.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- experiments ---------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        *,
        task: Task | str = Task.OTHER,
        target: str | None = None,
        primary_metric: str | None = None,
        direction: Direction | str = Direction.MAXIMIZE,
        threshold: float | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Experiment:
        """Create an experiment with its problem definition.

        >>> client.create_experiment("churn", task="classification", target="churned",
        ...     primary_metric="roc_auc", direction="maximize", threshold=0.8)  # doctest: +SKIP
        """
        problem = make_problem(
            task=task,
            target=target,
            primary_metric=primary_metric,
            direction=direction,
            threshold=threshold,
        )
        return self.backend.create_experiment(
            name, problem=problem, description=description, tags=tags
        )

    def get_experiment(self, name_or_id: str) -> Experiment:
        """An experiment by name, or by ID. Raises NotFoundError naming it."""
        found = self.backend.find_experiment(name_or_id)
        if found is not None:
            return found
        try:
            return self.backend.get_experiment(name_or_id)
        except NotFoundError:
            raise NotFoundError(
                f"no experiment with name or ID {name_or_id!r}", field="experiment"
            ) from None

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        return self.backend.list_experiments(include_deleted=include_deleted)

    def rename_experiment(self, name_or_id: str, new_name: str) -> Experiment:
        return self.backend.update_experiment(self.get_experiment(name_or_id).id, name=new_name)

    def update_experiment(
        self,
        name_or_id: str,
        *,
        description: str | None = None,
        problem: Problem | None = None,
    ) -> Experiment:
        exp = self.get_experiment(name_or_id)
        return self.backend.update_experiment(exp.id, description=description, problem=problem)

    def set_experiment_tags(self, name_or_id: str, tags: Mapping[str, str]) -> None:
        self.backend.set_experiment_tags(self.get_experiment(name_or_id).id, tags)

    def delete_experiment(self, name_or_id: str) -> Experiment:
        """Soft-delete: hidden from listings and search until restored or collected by gc."""
        return self.backend.delete_experiment(self.get_experiment(name_or_id).id)

    def restore_experiment(self, name_or_id: str) -> Experiment:
        return self.backend.restore_experiment(self.get_experiment(name_or_id).id)

    def _experiment_ids(self, names_or_ids: Sequence[str] | str) -> list[str]:
        items = [names_or_ids] if isinstance(names_or_ids, str) else list(names_or_ids)
        return [self.get_experiment(item).id for item in items]

    # -- runs ----------------------------------------------------------------------------

    def start_run(
        self,
        experiment: str | Experiment | None = None,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent: ActiveRun | Run | str | None = None,
        *,
        description: str | None = None,
        system_metrics: bool = False,
        system_metrics_interval: float = 5.0,
        capture_environment: bool = True,
        on_end: Callable[[ActiveRun], None] | None = None,
    ) -> ActiveRun:
        """Start a run in ``experiment`` (a name, created when missing, or an ID).

        See :func:`mlcycle.start_run` for the context-manager form.
        """
        parent_id = parent if isinstance(parent, str) or parent is None else parent.id
        exp_id = self._resolve_run_experiment(experiment, parent_id)
        all_tags = environment_tags() if capture_environment else {}
        all_tags.update(tags or {})
        run = self.backend.create_run(
            exp_id, name=name, tags=all_tags, parent_id=parent_id, description=description
        )
        active = ActiveRun(
            self.backend,
            run,
            self._writer,
            on_end=on_end,
            inputs=lambda: self.datasets,
            register_model=lambda name, run_id, path: register_model(
                self, name, run_id=run_id, artifact_path=path
            ),
        )
        if capture_environment:
            try:
                active.log_text(installed_packages(), PACKAGES_ARTIFACT)
            except BaseException as exc:  # e.g. an unusable artifact store: not left RUNNING
                active.end(RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
                raise
        if system_metrics:
            SystemMetricsMonitor(active, interval=system_metrics_interval).start()
        return active

    def _resolve_run_experiment(
        self, experiment: str | Experiment | None, parent_id: str | None
    ) -> str:
        if isinstance(experiment, Experiment):
            return experiment.id
        if experiment is None:
            if parent_id is not None:
                return self.backend.get_run(parent_id).experiment_id
            experiment = DEFAULT_EXPERIMENT
        found = self.backend.find_experiment(experiment)
        if found is not None:
            return self.backend.get_or_create_experiment(found.name).id
        try:
            return self.backend.get_experiment(experiment).id
        except NotFoundError:
            return self.backend.get_or_create_experiment(experiment).id

    def get_run(self, run_id: str) -> Run:
        """A run with its params, latest metrics and tags. Raises NotFoundError."""
        return self.backend.get_run(run_id)

    def search_runs(
        self,
        experiment_names_or_ids: Sequence[str] | str,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        *,
        include_deleted: bool = False,
    ) -> RunList:
        """Runs matching ``filter``, e.g. ``"metrics.m1 > 0.5 and params.p1 = 'a'"``.

        Fields: ``params.<k>``, ``metrics.<k>`` (latest value), ``tags.<k>`` and attributes
        ``status``, ``name``, ``start_time``, ``end_time``, ``duration``, ``run_id``; operators
        ``= != < <= > >= LIKE ILIKE IN, NOT IN, IS NULL, IS NOT NULL``, combined with AND, OR,
        NOT and parentheses. ``order_by`` items look like ``"metrics.m2 DESC"``. The result
        is a list of runs with ``next_page_token`` and ``to_pandas()``.
        """
        page = self.backend.search_runs(
            self._experiment_ids(experiment_names_or_ids),
            filter,
            order_by,
            max_results=max_results,
            page_token=page_token,
            include_deleted=include_deleted,
        )
        return RunList(page.runs, page.next_page_token)

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> MetricHistory:
        """Steps, timestamps and values of one metric as NumPy arrays, ordered by step.

        With ``max_points`` the series is downsampled for charts, keeping each bucket's
        minimum and maximum.
        """
        return self.backend.get_metric_history(run_id, key, max_points=max_points)

    def compare_runs(self, run_ids: Sequence[str], *, all_keys: bool = False) -> RunComparison:
        """Params and metrics of the runs side by side (those that differ, by default)."""
        if len(run_ids) < 2:
            raise InvalidInputError("compare_runs needs at least two run IDs", field="run_ids")
        comparison = RunComparison.of([self.get_run(r) for r in run_ids])
        if all_keys:
            for key, value in comparison.same_params.items():
                comparison.params[key] = [value] * len(run_ids)
            for key, metric in comparison.same_metrics.items():
                comparison.metrics[key] = [metric] * len(run_ids)
        return comparison

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self.backend.set_tags(run_id, tags)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run and its child runs."""
        self.backend.delete_runs([run_id, *self._descendants(run_id)])

    def restore_run(self, run_id: str) -> None:
        self.backend.restore_runs([run_id, *self._descendants(run_id)])

    def _descendants(self, run_id: str) -> list[str]:
        found: list[str] = []
        frontier = [run_id]
        while frontier:
            children = [c for r in frontier for c in self.backend.child_run_ids(r)]
            found.extend(children)
            frontier = children
        return found

    # -- artifacts -----------------------------------------------------------------------

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """The run's files (under ``path``) with size and sha256."""
        return self.backend.list_artifacts(run_id, path)

    def download_artifacts(self, run_id: str, path: str = "", dest: str | Path = ".") -> Path:
        """Copy one artifact, or every artifact under a folder path, into ``dest``.

        Returns the local path of the file or folder.
        """
        dest = Path(dest)
        files = self.list_artifacts(run_id, path or None)
        clean = path.strip("/")
        exact = [f for f in files if f.path == clean]
        if exact:
            return self.backend.download_artifact(run_id, clean, dest / Path(clean).name)
        if not files:
            where = f" at {path!r}" if clean else ""
            raise NotFoundError(f"run {run_id} has no artifacts{where}", field="path")
        root = dest / Path(clean).name if clean else dest
        base = clean + "/" if clean else ""
        for f in files:
            self.backend.download_artifact(run_id, f.path, root / f.path[len(base) :])
        return root

    # -- maintenance ---------------------------------------------------------------------

    def gc(self, older_than: str | timedelta | int = "30d") -> dict[str, int]:
        """Remove runs and experiments deleted longer ago than ``older_than`` (e.g. "30d",
        a timedelta, or milliseconds), with their artifacts, for good."""
        if isinstance(older_than, str):
            ms = parse_duration_ms(older_than, field="older_than")
        elif isinstance(older_than, timedelta):
            ms = int(older_than.total_seconds() * 1000)
        else:
            ms = int(older_than)
        return self.backend.collect_garbage(ms)

    def upgrade_store(self) -> tuple[str | None, str]:
        """Migrate the store to the schema of this mlcycle version (``mlcycle db upgrade``).

        Returns the revisions before and after; a store already current is left as is.
        """
        if self.settings.is_remote:
            raise InvalidInputError(
                "db upgrade runs against the store itself, not a server URI", field="tracking_uri"
            )
        store = open_store(self.settings.tracking_uri, migrate=False)
        try:
            before = migrate.current_revision(store.db)
            after = migrate.upgrade(store.db)
        finally:
            store.close()
        return before, after

    def flush(self) -> None:
        """Write every pending metric point of every run of this client."""
        self._writer.drain_all(raise_errors=True)
