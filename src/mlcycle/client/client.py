"""``mlcycle.Client``: the public Python API, a facade over a backend (a store or a server)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from mlcycle.backends import Backend, Hooks, open_backend
from mlcycle.client.loading import load_model
from mlcycle.client.registry import ClientRegistrar, version_scorer
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
from mlcycle.errors import ConflictError, InvalidInputError, NotFoundError
from mlcycle.ports.api import (
    DatasetsAPI,
    DeploymentsAPI,
    GovernanceAPI,
    MonitoringAPI,
    RegistryAPI,
    TrackingAPI,
)
from mlcycle.search.filters import Comparison, Entity, Field, Filter, Not
from mlcycle.search.parser import parse_filter
from mlcycle.settings import Settings
from mlcycle.store.sql import migrate
from mlcycle.store.sql.store import open_store
from mlcycle.suggest import did_you_mean
from mlcycle.tracking.environment import PACKAGES_ARTIFACT, environment_tags, installed_packages
from mlcycle.tracking.lookup import experiment_by_name_or_id
from mlcycle.tracking.run import ActiveRun
from mlcycle.tracking.service import DEFAULT_EXPERIMENT, make_problem
from mlcycle.tracking.system_metrics import SystemMetricsMonitor
from mlcycle.tracking.writer import BackgroundWriter


class Client:
    """Experiments, runs, metrics and artifacts, and every stage's API, over one backend.

    >>> import mlcycle
    >>> client = mlcycle.Client()  # MLCYCLE_TRACKING_URI, default ./.mlcycle/mlcycle.db
    >>> runs = client.search_runs(["churn"], filter="metrics.auc > 0.8",
    ...                           order_by=["metrics.auc DESC"])  # doctest: +SKIP
    >>> runs.to_pandas()  # doctest: +SKIP
    >>> client.registry.list_models()  # doctest: +SKIP

    The client is a facade over a :class:`~mlcycle.backends.Backend`: the one opened for
    the settings' tracking URI (a store, or a server), or the one given as ``backend``
    (a bare tracking API, such as a :class:`~mlcycle.remote.RemoteBackend`, offers
    tracking only). A capability the backend does not offer is refused by the backend
    with CapabilityUnavailableError.

    The constructor does no I/O; the backend is opened (a new store created) on first use.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        artifact_uri: str | None = None,
        *,
        settings: Settings | None = None,
        backend: Backend | TrackingAPI | None = None,
    ) -> None:
        base = settings or Settings.from_env()
        self.settings = base.with_overrides(tracking_uri=tracking_uri, artifact_uri=artifact_uri)
        if backend is None or isinstance(backend, Backend):
            self._backend = backend
        else:
            self._backend = Backend(tracking=backend, where="this client's tracking backend")
        self._owns_backend = backend is None
        self._lock = threading.Lock()
        self._writer = BackgroundWriter()

    @property
    def backend(self) -> Backend:
        """The backend, opened on first use: a tracking server's for an http(s) tracking
        URI, else the local one over the store (:func:`mlcycle.backends.open_backend`)."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    hooks = Hooks(
                        load_model=lambda uri, trusted: load_model(self, uri, list(trusted)),
                        score=version_scorer(self),
                        retrain_client=self,
                    )
                    self._backend = open_backend(self.settings, hooks=hooks)
        return self._backend

    @property
    def tracking(self) -> TrackingAPI:
        """Experiments, runs, metrics and artifacts (the backend's tracking API)."""
        return self.backend.tracking

    @property
    def datasets(self) -> DatasetsAPI:
        """The datasets API (``mlcycle.datasets`` calls it)."""
        return self.backend.datasets

    @property
    def registry(self) -> RegistryAPI:
        """The model registry (``mlcycle.registry`` calls it)."""
        return self.backend.registry

    @property
    def deployments(self) -> DeploymentsAPI:
        """Deployments, rollouts and feedback (``mlcycle.deployments`` calls it)."""
        return self.backend.deployments

    @property
    def monitoring(self) -> MonitoringAPI:
        """Monitors, their results, alerts and retraining (``mlcycle.monitoring``)."""
        return self.backend.monitoring

    @property
    def governance(self) -> GovernanceAPI:
        """Users, tokens, approvals, the audit trail, model cards, retirement."""
        return self.backend.governance

    def close(self) -> None:
        """Write pending metrics and release the store's (or the server's) connections
        (a backend given to the constructor stays open: its owner closes it)."""
        self._writer.drain_all()
        if self._owns_backend and self._backend is not None:
            self._backend.close()

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
        exist_ok: bool = False,
    ) -> Experiment:
        """Create an experiment with its problem definition.

        With ``exist_ok=True`` an experiment of that name that states the same problem is
        returned as it is (so a script can run twice); one with a different problem raises
        ``ConflictError`` naming the field. Otherwise an existing name raises
        ``AlreadyExistsError``.

        >>> client.create_experiment("churn", task="classification", target="churned",
        ...     primary_metric="roc_auc", direction="maximize", threshold=0.8,
        ...     exist_ok=True)  # doctest: +SKIP
        """
        problem = make_problem(
            task=task,
            target=target,
            primary_metric=primary_metric,
            direction=direction,
            threshold=threshold,
        )
        if exist_ok:
            existing = self.tracking.find_experiment(name)
            if existing is not None:
                _check_same_problem(existing, problem)
                return existing
        return self.tracking.create_experiment(
            name, problem=problem, description=description, tags=tags
        )

    def get_experiment(self, name_or_id: str) -> Experiment:
        """An experiment by name, or by ID. Raises NotFoundError naming it."""
        return experiment_by_name_or_id(self.tracking, name_or_id)

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        return self.tracking.list_experiments(include_deleted=include_deleted)

    def rename_experiment(self, name_or_id: str, new_name: str) -> Experiment:
        return self.tracking.update_experiment(self.get_experiment(name_or_id).id, name=new_name)

    def update_experiment(
        self,
        name_or_id: str,
        *,
        description: str | None = None,
        problem: Problem | None = None,
    ) -> Experiment:
        exp = self.get_experiment(name_or_id)
        return self.tracking.update_experiment(exp.id, description=description, problem=problem)

    def set_experiment_tags(self, name_or_id: str, tags: Mapping[str, str]) -> None:
        self.tracking.set_experiment_tags(self.get_experiment(name_or_id).id, tags)

    def delete_experiment(self, name_or_id: str) -> Experiment:
        """Soft-delete: hidden from listings and search until restored or collected by gc."""
        return self.tracking.delete_experiment(self.get_experiment(name_or_id).id)

    def restore_experiment(self, name_or_id: str) -> Experiment:
        return self.tracking.restore_experiment(self.get_experiment(name_or_id).id)

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
        run = self.tracking.create_run(
            exp_id, name=name, tags=all_tags, parent_id=parent_id, description=description
        )
        active = ActiveRun(
            self.tracking,
            run,
            self._writer,
            on_end=on_end,
            inputs=lambda: self.datasets,
            register_model=ClientRegistrar(self),
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
                return self.tracking.get_run(parent_id).experiment_id
            experiment = DEFAULT_EXPERIMENT
        found = self.tracking.find_experiment(experiment)
        if found is not None:
            return self.tracking.get_or_create_experiment(found.name).id
        try:
            return self.tracking.get_experiment(experiment).id
        except NotFoundError:
            return self.tracking.get_or_create_experiment(experiment).id

    def get_run(self, run_id: str) -> Run:
        """A run with its params, latest metrics and tags. Raises NotFoundError."""
        return self.tracking.get_run(run_id)

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
        items = (
            [experiment_names_or_ids]
            if isinstance(experiment_names_or_ids, str)
            else list(experiment_names_or_ids)
        )
        experiment_ids, page = self.tracking.search_runs_in(
            items,
            filter,
            order_by,
            max_results=max_results,
            page_token=page_token,
            include_deleted=include_deleted,
        )
        if not page.runs and filter and page_token is None:
            self._check_filter_keys(experiment_ids, filter, include_deleted=include_deleted)
        return RunList(page.runs, page.next_page_token)

    def _check_filter_keys(
        self, experiment_ids: list[str], filter: str, *, include_deleted: bool
    ) -> None:
        """After an empty search: a param or metric key that no run of the experiments has
        is a typo rather than "no match"; raise InvalidInputError naming the close keys."""
        for field in _keys_of(parse_filter(filter)):
            if field.entity not in (Entity.PARAM, Entity.METRIC):
                continue
            quoted = field.key.replace("`", "\\`")
            has = self.tracking.search_runs(
                experiment_ids,
                f"{field.entity.value}.`{quoted}` IS NOT NULL",
                None,
                max_results=1,
                include_deleted=include_deleted,
            )
            if has.runs:
                continue
            sample = self.tracking.search_runs(
                experiment_ids, None, None, max_results=200, include_deleted=include_deleted
            ).runs
            known = {
                key
                for run in sample
                for key in (run.metrics if field.entity is Entity.METRIC else run.params)
            }
            kind = "metric" if field.entity is Entity.METRIC else "param"
            raise InvalidInputError(
                f"filter: no run here has the {kind} {field.key!r}"
                + did_you_mean(field.key, known),
                field="filter",
            )

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> MetricHistory:
        """Steps, timestamps and values of one metric as NumPy arrays, ordered by step.

        With ``max_points`` the series is downsampled for charts, keeping each bucket's
        minimum and maximum.
        """
        return self.tracking.get_metric_history(run_id, key, max_points=max_points)

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
        self.tracking.set_tags(run_id, tags)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run and its child runs."""
        self.tracking.delete_runs([run_id, *self._descendants(run_id)])

    def restore_run(self, run_id: str) -> None:
        self.tracking.restore_runs([run_id, *self._descendants(run_id)])

    def _descendants(self, run_id: str) -> list[str]:
        found: list[str] = []
        frontier = [run_id]
        while frontier:
            children = [c for r in frontier for c in self.tracking.child_run_ids(r)]
            found.extend(children)
            frontier = children
        return found

    # -- artifacts -----------------------------------------------------------------------

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """The run's files (under ``path``) with size and sha256."""
        return self.tracking.list_artifacts(run_id, path)

    def download_artifacts(self, run_id: str, path: str = "", dest: str | Path = ".") -> Path:
        """Copy one artifact, or every artifact under a folder path, into ``dest``.

        Returns the local path of the file or folder.
        """
        dest = Path(dest)
        files = self.list_artifacts(run_id, path or None)
        clean = path.strip("/")
        exact = [f for f in files if f.path == clean]
        if exact:
            return self.tracking.download_artifact(run_id, clean, dest / Path(clean).name)
        if not files:
            where = f" at {path!r}" if clean else ""
            raise NotFoundError(f"run {run_id} has no artifacts{where}", field="path")
        root = dest / Path(clean).name if clean else dest
        base = clean + "/" if clean else ""
        for f in files:
            self.tracking.download_artifact(run_id, f.path, root / f.path[len(base) :])
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
        return self.tracking.collect_garbage(ms)

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


def _check_same_problem(existing: Experiment, problem: Problem) -> None:
    """Raise ConflictError when ``problem`` differs from the stored experiment's."""
    for name in ("task", "target", "primary_metric", "direction", "threshold"):
        stored, given = getattr(existing.problem, name), getattr(problem, name)
        if stored != given:
            raise ConflictError(
                f"experiment {existing.name!r} exists with {name}={stored!r}, not {given!r}",
                field=name,
            )


def _keys_of(node: Filter | None) -> list[Field]:
    """The fields a filter compares, in order."""
    if node is None:
        return []
    if isinstance(node, Comparison):
        return [node.field]
    if isinstance(node, Not):
        return _keys_of(node.item)
    return [field for item in node.items for field in _keys_of(item)]
