"""The SQL store: one object that holds a repository per aggregate."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from mlcycle.entities import LifecycleStage, RunPage
from mlcycle.errors import StoreError
from mlcycle.search import Filter, OrderBy
from mlcycle.settings import Settings
from mlcycle.store.sql.artifacts import SqlArtifactIndex
from mlcycle.store.sql.datasets import SqlDatasets
from mlcycle.store.sql.deployments import SqlDeployments
from mlcycle.store.sql.engine import Database, make_engine
from mlcycle.store.sql.experiments import SqlExperiments
from mlcycle.store.sql.governance import SqlGovernance
from mlcycle.store.sql.metrics import SqlMetrics
from mlcycle.store.sql.migrate import ensure_schema
from mlcycle.store.sql.monitoring import SqlMonitoring
from mlcycle.store.sql.registry import SqlRegistry
from mlcycle.store.sql.runs import SqlRuns
from mlcycle.store.sql.search import search_runs
from mlcycle.store.sql.secrets import SecretBox


class SqlStore:
    """Metadata in SQLite or PostgreSQL.

    Build it with :func:`open_store`, which also creates the schema of a new, empty store.
    """

    def __init__(self, db: Database, secrets: SecretBox | None = None) -> None:
        self.db = db
        self.experiments = SqlExperiments(db)
        self.runs = SqlRuns(db)
        self.metrics = SqlMetrics(db)
        self.artifacts = SqlArtifactIndex(db)
        self.datasets = SqlDatasets(db)
        self.registry = SqlRegistry(db)
        self.governance = SqlGovernance(db)
        self.deployments = SqlDeployments(db)
        self.monitoring = SqlMonitoring(db, secrets)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Filter | None = None,
        order_by: Sequence[OrderBy] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        stages: Sequence[LifecycleStage] = (LifecycleStage.ACTIVE,),
    ) -> RunPage:
        return search_runs(
            self.db, experiment_ids, filter, order_by, max_results, page_token, stages
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write of the block one transaction: all of them are stored, or none.

        >>> with store.transaction():  # doctest: +SKIP
        ...     store.runs.log_params(run_id, {"lr": "0.1"})
        ...     store.runs.set_tags(run_id, {"team": "a"})
        """
        with self.db.write():
            yield

    def close(self) -> None:
        self.db.dispose()


def open_store(url: str, *, migrate: bool = True, secrets: SecretBox | None = None) -> SqlStore:
    """Connect to the store at ``url``; create and migrate it when it is new and empty.

    ``secrets`` encrypts secrets at rest (webhook signing secrets; see
    :func:`secret_box`); without it they are stored as given.

    A SQLite file's folder is created when missing.
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder of the SQLite store {database!r}: {exc.strerror}"
                ) from exc
    db = Database(make_engine(url))
    if migrate:
        ensure_schema(db)
    return SqlStore(db, secrets)


def secret_box(settings: Settings) -> SecretBox:
    """The secret box of ``settings``' ``MLCYCLE_SECRET_KEY`` (and older keys)."""
    return SecretBox(settings.secret_key, settings.old_secret_keys)
