"""The deployments' port: what the deployment service needs from the store.

Every change to a deployment is a compare-and-set on its ``revision``: the repository
writes the new configuration and its history event only if the stored revision is still
the one the caller read, so two processes cannot both advance (or roll back) a canary;
the loser gets ConflictError and reads again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mlcycle.entities.deployment_state import ResolvedModel
from mlcycle.entities.deployments import Deployment, DeploymentEvent, Feedback


class DeploymentRepository(Protocol):
    def create(
        self, deployment: Deployment, event: DeploymentEvent, *, deployment_id: str
    ) -> Deployment:
        """Insert ``deployment`` (revision 1) with its first history event.

        A deleted deployment of the same name is replaced in place: its history is kept
        and the revision continues from it. Raises AlreadyExistsError when an active
        deployment has the name.
        """
        ...

    def get(self, name: str, *, include_deleted: bool = False) -> Deployment:
        """Raises NotFoundError naming the deployment (a deleted one counts as missing
        unless ``include_deleted``)."""
        ...

    def list_deployments(self, *, include_deleted: bool = False) -> list[Deployment]:
        """Deployments by name."""
        ...

    def update(
        self, deployment: Deployment, event: DeploymentEvent, *, expected_revision: int
    ) -> Deployment:
        """Store ``deployment`` (whose ``revision`` is ``expected_revision + 1``) and append
        ``event``, in one transaction, only if the stored revision is ``expected_revision``.

        Raises ConflictError when another writer changed the deployment first, and
        NotFoundError when it does not exist.
        """
        ...

    def history(self, name: str) -> list[DeploymentEvent]:
        """Every event of the deployment (deleted ones too), oldest first."""
        ...

    def put_feedback(self, items: Sequence[Feedback]) -> int:
        """Store labels; a second label for the same (deployment, request ID) replaces the
        first. Returns how many were written."""
        ...

    def feedback(
        self, deployment: str, *, since: int | None = None, until: int | None = None
    ) -> list[Feedback]:
        """Labels stored for ``deployment`` with ``since <= at < until``, oldest first."""
        ...


class ModelResolver(Protocol):
    """How the deployment service learns what a model URI names now, checks that it can
    be served, and moves an alias when a canary completes."""

    def resolve(self, uri: str, *, field: str = "model_uri") -> ResolvedModel:
        """The model ``uri`` names now. Raises InvalidInputError (naming ``field``) for a
        malformed URI or a version that cannot be served (FAILED or RETIRED), and
        NotFoundError for a model, version, alias or run that does not exist."""
        ...

    def check(
        self, uri: str, *, field: str = "model_uri", trusted: Sequence[str] = ()
    ) -> ResolvedModel:
        """``resolve``, then load the model to prove it can be served (InvalidInputError
        naming ``field`` when it does not load)."""
        ...

    def move_alias(self, name: str, alias: str, version: int) -> None:
        """Point the registered model's ``alias`` at ``version``."""
        ...
