"""The deployments' logic: create, split, canary, shadow, roll back, and the canary
controller's step, over the deployments port and a model resolver.

Every change writes the new configuration and one history event with a compare-and-set
on the deployment's revision (ConflictError when another writer was first) and, when an
audit sink is given, one audit event ``deployment.<action>``.

Arms are named ``primary`` (a single model), ``a``, ``b``, ... (a split), ``candidate``
(a canary's) and ``shadow``. During a canary the stable serving arms keep their share
of ``100 - p`` percent (at 100% they stay listed with weight 0, so a rollback needs no
reload).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from mlcycle.clock import system_clock
from mlcycle.deployments import canary_controller as controller
from mlcycle.deployments.feedback_items import FeedbackItem, parse_feedback
from mlcycle.deployments.validation import (
    check_guards,
    check_name,
    check_options,
    check_percent,
    check_split,
    check_steps,
)
from mlcycle.entities.deployment_json import strategy_for, traffic_snapshot
from mlcycle.entities.deployment_state import (
    DeploymentState,
    FeedbackResult,
    ResolvedArm,
)
from mlcycle.entities.deployments import (
    Arm,
    ArmRole,
    ArmStats,
    CanaryPolicy,
    Deployment,
    DeploymentEvent,
    DeploymentStatus,
    Feedback,
    ServingOptions,
    Strategy,
)
from mlcycle.entities.governance import ApprovalKind
from mlcycle.errors import (
    ApprovalRequiredError,
    ConflictError,
    InvalidInputError,
    MlcycleError,
    NotFoundError,
)
from mlcycle.ids import new_id
from mlcycle.models.uris import RegisteredModelUri, parse_model_uri
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.deployments import DeploymentRepository, ModelResolver
from mlcycle.ports.governance import ChangeGuard
from mlcycle.suggest import did_you_mean
from mlcycle.types import Clock, IdFactory

PRIMARY = "primary"
CANDIDATE = "candidate"
SHADOW = "shadow"
#: The actor of the changes the canary controller makes on its own.
CONTROLLER = "canary-controller"


def _split_arm_name(index: int) -> str:
    return chr(ord("a") + index)


class DeploymentService:
    """Deployments over a repository (the store) and a model resolver (the registry).

    ``actor`` tells who makes each change (called per change, so a server can answer per
    request); ``min_requests`` and ``min_labelled``
    are what a canary step must see before it is judged (see :mod:`.canary`).
    """

    def __init__(
        self,
        repository: DeploymentRepository,
        resolver: ModelResolver,
        *,
        audit: AuditSink | None = None,
        guard: ChangeGuard | None = None,
        actor: Callable[[], str | None] | None = None,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
        min_requests: int = controller.MIN_REQUESTS,
        min_labelled: int = controller.MIN_LABELLED,
    ) -> None:
        self.repository = repository
        self.resolver = resolver
        self._audit = audit
        self._guard = guard
        self._actor = actor
        self._clock = clock
        self._new_id = new_id
        self.min_requests = min_requests
        self.min_labelled = min_labelled

    def _who(self) -> str | None:
        return self._actor() if self._actor is not None else None

    # -- reading ----------------------------------------------------------------------------

    def get(self, name: str) -> Deployment:
        """An active deployment. Raises NotFoundError naming it (and the close names)."""
        try:
            return self.repository.get(name)
        except NotFoundError as exc:
            names = [d.name for d in self.repository.list_deployments(include_deleted=False)]
            hint = did_you_mean(name, names)
            if not hint:
                raise
            raise NotFoundError(f"{exc}{hint}", field=exc.field) from None

    def list(self, *, include_deleted: bool = False) -> list[Deployment]:
        """Active deployments by name (deleted ones too with ``include_deleted``)."""
        return self.repository.list_deployments(include_deleted=include_deleted)

    list_deployments = list

    def history(self, name: str) -> builtins.list[DeploymentEvent]:
        """Every change of the deployment, oldest first (kept after a delete)."""
        return self.repository.history(name)

    def status(self, name: str) -> DeploymentState:
        """The deployment with each arm resolved to the model version it serves now (an
        alias URI follows the alias), and the canary's progress."""
        deployment = self.get(name)
        canary = deployment.canary
        return DeploymentState(
            deployment=deployment,
            arms=tuple(self._resolve_arm(a) for a in deployment.arms),
            stable_arms=tuple(self._resolve_arm(a) for a in deployment.stable_arms),
            canary=controller.progress(canary) if canary is not None else None,
        )

    def _resolve_arm(self, arm: Arm) -> ResolvedArm:
        try:
            return ResolvedArm(arm=arm, model=self.resolver.resolve(arm.model_uri))
        except MlcycleError as exc:
            return ResolvedArm(arm=arm, error=exc.message)

    # -- changes ----------------------------------------------------------------------------

    def create(
        self,
        name: str,
        model_uri: str,
        *,
        options: ServingOptions | None = None,
        description: str | None = None,
    ) -> Deployment:
        """Create the deployment ``name`` serving ``model_uri`` (one arm, ``primary``).

        The model must exist and load. The name of a deleted deployment may be used again:
        the new deployment continues its history and revision numbers.
        Raises AlreadyExistsError when an active deployment has the name.
        """
        name = check_name(name)
        options = check_options(options or ServingOptions())
        self.resolver.check(model_uri, field="model_uri", trusted=options.trusted)
        now = self._clock()
        arms = (Arm(name=PRIMARY, model_uri=model_uri.strip()),)
        deployment = Deployment(
            name=name,
            model_uri=model_uri.strip(),
            arms=arms,
            stable_arms=arms,
            options=options,
            description=description,
            created_at=now,
            updated_at=now,
        )
        event = DeploymentEvent(
            deployment=name,
            revision=1,
            action="create",
            at=now,
            actor=self._who(),
            after=traffic_snapshot(deployment),
        )
        created = self.repository.create(deployment, event, deployment_id=self._new_id())
        self._record("create", None, created)
        return created

    def delete(self, name: str, *, reason: str | None = None) -> Deployment:
        """Mark the deployment deleted: it disappears from listings and can no longer be
        served; its history is kept (``history`` still shows it)."""
        current = self.get(name)
        deleted = replace(current, status=DeploymentStatus.DELETED, canary=None)
        return self._change(current, deleted, "delete", reason=reason)

    def split(
        self, name: str, targets: Sequence[tuple[str, float]], *, reason: str | None = None
    ) -> Deployment:
        """Split traffic between models by weight (percentages adding up to 100):
        ``split("churn", [("models:/churn/3", 50), ("models:/churn/4", 50)])``.

        The arms are called ``a``, ``b``, ...; the split becomes the stable configuration.
        Raises ConflictError while a canary runs (roll it back first).
        """
        checked = check_split(targets)
        current = self.get(name)
        self._no_canary(current, "split")
        for uri, _ in checked:
            self.resolver.check(uri, field="targets", trusted=current.options.trusted)
        arms = tuple(
            Arm(name=_split_arm_name(i), model_uri=uri.strip(), weight=weight)
            for i, (uri, weight) in enumerate(checked)
        )
        new = replace(current, arms=arms, stable_arms=arms, strategy=Strategy.SPLIT, canary=None)
        return self._change(current, new, "split", reason=reason)

    def canary(
        self,
        name: str,
        candidate: str,
        *,
        steps: Sequence[int] = (5, 25, 50, 100),
        interval_s: float = 600.0,
        max_error_rate: float | None = None,
        max_p99_ms: float | None = None,
        min_accuracy: float | None = None,
        reason: str | None = None,
    ) -> Deployment:
        """Start a phased rollout of ``candidate``: it gets ``steps[0]`` percent of the
        traffic, then each next step every ``interval_s`` seconds while its guards hold
        (see :meth:`canary_tick`). The current serving arms are kept as the stable
        configuration (a running shadow is ended).

        The candidate must resolve and load, or the canary is refused and traffic is left
        as it is. Raises ConflictError while another canary runs.
        """
        steps_ = check_steps(steps)
        interval, error_rate, p99, accuracy = check_guards(
            interval_s=interval_s,
            max_error_rate=max_error_rate,
            max_p99_ms=max_p99_ms,
            min_accuracy=min_accuracy,
        )
        current = self.get(name)
        self._no_canary(current, "canary")
        if not isinstance(candidate, str):
            raise InvalidInputError("candidate must be a model URI", field="candidate")
        candidate = candidate.strip()
        stable = self._serving(current)
        if any(a.model_uri == candidate for a in stable):
            raise InvalidInputError(
                f"deployment {name!r} serves {candidate} already: a canary needs another model",
                field="candidate",
            )
        self.resolver.check(candidate, field="candidate", trusted=current.options.trusted)
        if self._guard is not None:  # a protected deployment: a second person approved
            self._guard.require(ApprovalKind.DEPLOYMENT, name, "start")
        policy = CanaryPolicy(
            candidate=candidate,
            steps=steps_,
            interval_s=interval,
            max_error_rate=error_rate,
            max_p99_ms=p99,
            min_accuracy=accuracy,
            step=0,
            step_started_at=self._clock(),
        )
        new = replace(
            current,
            arms=controller.canary_arms(stable, candidate, steps_[0]),
            stable_arms=stable,
            strategy=Strategy.CANARY,
            canary=policy,
        )
        return self._change(current, new, "canary", reason=reason)

    def shadow(
        self, name: str, candidate: str, *, percent: float = 100.0, reason: str | None = None
    ) -> Deployment:
        """Send a copy of ``percent`` percent of the traffic to ``candidate``; its answers
        are logged and compared, never returned. Serving arms are unchanged; ``rollback``
        (or a new ``shadow``) ends it. Raises ConflictError while a canary runs."""
        value = check_percent(percent)
        current = self.get(name)
        self._no_canary(current, "shadow")
        if not isinstance(candidate, str):
            raise InvalidInputError("candidate must be a model URI", field="candidate")
        candidate = candidate.strip()
        self.resolver.check(candidate, field="candidate", trusted=current.options.trusted)
        stable = self._serving(current)
        arms = (*stable, Arm(name=SHADOW, model_uri=candidate, weight=value, role=ArmRole.SHADOW))
        new = replace(current, arms=arms, stable_arms=stable, strategy=Strategy.SHADOW)
        return self._change(current, new, "shadow", reason=reason)

    def rollback(self, name: str, *, reason: str | None = None) -> Deployment:
        """Return to the last stable configuration at once (ending a canary or a shadow).

        Raises ConflictError when the deployment serves its stable configuration already.
        """
        current = self.get(name)
        if current.canary is None and current.arms == current.stable_arms:
            raise ConflictError(
                f"deployment {name!r} serves its stable configuration already: "
                "nothing to roll back",
                field="name",
            )
        return self._rollback(current, reason=reason, actor=self._who())[0]

    def _rollback(
        self, current: Deployment, *, reason: str | None, actor: str | None
    ) -> tuple[Deployment, DeploymentEvent]:
        stable = current.stable_arms or self._serving(current)
        new = replace(current, arms=stable, strategy=strategy_for(stable), canary=None)
        return self._write(current, new, "rollback", reason=reason, actor=actor)

    # -- the canary controller ----------------------------------------------------------------

    def canary_tick(
        self,
        name: str,
        stats: Mapping[str, ArmStats],
        now_ms: int | None = None,
        expected_revision: int | None = None,
    ) -> DeploymentEvent | None:
        """One step of the canary controller, called periodically by the serving process
        with what it observed of each arm (by arm name) since the current step began.

        Rolls back when a guard is breached, advances when the step's interval is over
        with enough requests, completes after the 100% step held for an interval (moving
        the deployment's alias to the candidate's version when it follows one). Returns
        the history event of the change, or None when nothing changed (or no canary runs).
        Raises ConflictError when the deployment is no longer at ``expected_revision``, or
        another process made the change first.
        """
        current = self.get(name)
        if expected_revision is not None and current.revision != expected_revision:
            raise ConflictError(
                f"deployment {name!r} is at revision {current.revision}, not "
                f"{expected_revision}: read it again",
                field="revision",
            )
        policy = current.canary
        if policy is None or current.strategy is not Strategy.CANARY:
            return None
        now = self._clock() if now_ms is None else now_ms
        decision = controller.decide(
            policy,
            stats.get(CANDIDATE),
            now,
            min_requests=self.min_requests,
            min_labelled=self.min_labelled,
        )
        if decision.action is controller.CanaryAction.HOLD:
            return None
        if decision.action is controller.CanaryAction.ROLLBACK:
            return self._rollback(current, reason=decision.reason, actor=CONTROLLER)[1]
        if decision.action is controller.CanaryAction.ADVANCE:
            step = decision.step
            new = replace(
                current,
                arms=controller.canary_arms(
                    current.stable_arms, policy.candidate, policy.steps[step]
                ),
                canary=replace(policy, step=step, step_started_at=now),
            )
            return self._write(
                current, new, "canary_step", reason=decision.reason, actor=CONTROLLER
            )[1]
        return self._complete(current, policy, decision.reason)

    def _complete(
        self, current: Deployment, policy: CanaryPolicy, reason: str
    ) -> DeploymentEvent | None:
        """Finish the rollout; on a protected deployment only once a second person approved
        completing it (until then the candidate keeps 100% and the canary waits)."""
        if self._guard is not None:
            try:
                self._guard.require(ApprovalKind.DEPLOYMENT, current.name, "complete")
            except ApprovalRequiredError:
                return None
        model_uri = policy.candidate
        target = parse_model_uri(current.model_uri)
        if isinstance(target, RegisteredModelUri) and target.alias is not None:
            try:
                resolved = self.resolver.resolve(policy.candidate, field="candidate")
                if resolved.name == target.name and resolved.version is not None:
                    self.resolver.move_alias(target.name, target.alias, resolved.version)
                    model_uri = current.model_uri  # it keeps following the alias
                    reason += f"; {target.name}@{target.alias} now points at version " + str(
                        resolved.version
                    )
            except MlcycleError as exc:
                return self._rollback(
                    current,
                    reason=f"the rollout could not complete: {exc.message}",
                    actor=CONTROLLER,
                )[1]
        arms = (Arm(name=PRIMARY, model_uri=model_uri),)
        new = replace(
            current,
            model_uri=model_uri,
            arms=arms,
            stable_arms=arms,
            strategy=Strategy.SINGLE,
            canary=None,
        )
        return self._write(current, new, "canary_complete", reason=reason, actor=CONTROLLER)[1]

    # -- feedback ---------------------------------------------------------------------------

    def record_feedback(
        self,
        deployment: str,
        items: Iterable[FeedbackItem],
        known: Callable[[str], bool] | None = None,
    ) -> FeedbackResult:
        """Store ground truth for answered requests: ``items`` are ``(request_id, label)``
        pairs or ``{"request_id": ..., "label": ...}`` mappings; a second label for a
        request replaces the first. With ``known``, request IDs it does not know are
        reported in the result and not stored. Labels must be JSON values.

        ``deployment`` is a deployment's name, or the registered model's name for a model
        served without a deployment; it need not exist in the store.
        """
        stored, unknown = parse_feedback(deployment, items, known, at=self._clock())
        count = self.repository.put_feedback(stored)
        return FeedbackResult(stored=count, unknown=tuple(unknown))

    def feedback_for(
        self, deployment: str, since: int | None = None, until: int | None = None
    ) -> builtins.list[Feedback]:
        """Labels stored for ``deployment`` with ``since <= at < until`` (ms), oldest first."""
        return self.repository.feedback(deployment, since=since, until=until)

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _serving(deployment: Deployment) -> tuple[Arm, ...]:
        """The serving arms outside a rollout: the stable arms during a canary or shadow."""
        if deployment.strategy in (Strategy.CANARY, Strategy.SHADOW) and deployment.stable_arms:
            return deployment.stable_arms
        return tuple(a for a in deployment.arms if a.role is ArmRole.SERVING)

    @staticmethod
    def _no_canary(deployment: Deployment, action: str) -> None:
        if deployment.canary is not None:
            raise ConflictError(
                f"deployment {deployment.name!r} has a canary of {deployment.canary.candidate} "
                f"running: roll it back (mlcycle deployments rollback {deployment.name}) "
                f"before a {action}",
                field="name",
            )

    def _change(
        self,
        current: Deployment,
        new: Deployment,
        action: str,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Deployment:
        return self._write(current, new, action, reason=reason, actor=actor)[0]

    def _write(
        self,
        current: Deployment,
        new: Deployment,
        action: str,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[Deployment, DeploymentEvent]:
        now = self._clock()
        new = replace(new, revision=current.revision + 1, updated_at=now)
        event = DeploymentEvent(
            deployment=current.name,
            revision=new.revision,
            action=action,
            at=now,
            actor=actor if actor is not None else self._who(),
            reason=reason,
            before=traffic_snapshot(current),
            after=traffic_snapshot(new),
        )
        stored = self.repository.update(new, event, expected_revision=current.revision)
        self._record(action, current, stored)
        return stored, event

    def _record(self, action: str, before: Deployment | None, after: Deployment) -> None:
        if self._audit is not None:
            self._audit.record(
                f"deployment.{action}",
                f"deployment:{after.name}",
                before=traffic_snapshot(before) if before is not None else None,
                after=traffic_snapshot(after),
            )
