"""Four eyes: protected changes need an approval by a second person.

Moving a protected alias (by default ``champion`` of every model) and starting or
completing a rollout to a protected deployment need an APPROVED request. The requester
cannot approve their own request, and the approver needs the approver (or admin) role.
For an alias, approving moves it at once; a deployment's approval is used up by the
rollout that it allows (the deployments service asks :class:`ApprovalGuard`).

Protection follows a model's identity, not its name: a rule for the alias of a registered
model is stored against the model's ID, so renaming the model (and renaming it back) keeps
its aliases protected. Every change of where a protected alias points needs an approval:
setting it (``set_alias``, promotion, a canary's completion) and removing it
(``delete_alias``: deleting the alias, or the version or model holding it, or retiring that
version).

Protection works only with authentication (the server's ``--auth``): without it nobody
can be told apart, so it is off, and requesting an approval says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mlcycle.clock import system_clock
from mlcycle.entities.governance import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Permission,
    Protection,
)
from mlcycle.errors import (
    ApprovalRequiredError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from mlcycle.governance.actor import current_actor
from mlcycle.ids import new_id
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.governance import GovernanceRepository
from mlcycle.types import Clock, IdFactory

DEFAULT_PROTECTED_ALIAS = "champion"
ALIAS_ACTION = "set_alias"
DELETE_ALIAS_ACTION = "delete_alias"
ALIAS_ACTIONS = (ALIAS_ACTION, DELETE_ALIAS_ACTION)
#: The prefix of a protection rule's target that names a model by its ID.
MODEL_ID = "model-id:"
DEPLOYMENT_ACTIONS = ("start", "complete")
ANY = "*"
OFF_MESSAGE = (
    "approvals are off: the server runs without authentication, so protected aliases and "
    "deployments change without approval; start it with `mlcycle server --auth`"
)

GateResults = Callable[[str, int], Sequence[Mapping[str, Any]]]
ApplyAlias = Callable[[str, str, int], object]
RemoveAlias = Callable[[str, str], object]
#: ``() -> {model name: model ID}`` of every registered model.
Identities = Callable[[], Mapping[str, str]]


def protected(
    protections: Sequence[Protection], kind: ApprovalKind, target: str | Sequence[str], name: str
) -> bool:
    """Whether a change is protected: the exact rule, else the rule for every target
    (``*``), else the default (only the ``champion`` alias is protected). ``target`` may
    list the names of one target, most specific first (a model's ID rule, then its name)."""
    targets = [target] if isinstance(target, str) else list(target)
    rules = {(p.target, p.name): p.protected for p in protections if p.kind == kind}
    keys = [(t, name) for t in targets] + [(ANY, name)] + [(t, ANY) for t in targets]
    for key in [*keys, (ANY, ANY)]:
        if key in rules:
            return rules[key]
    return kind == ApprovalKind.ALIAS and name == DEFAULT_PROTECTED_ALIAS


class Approvals:
    """Request, approve, reject and list approvals; configure protection.

    >>> approvals = Approvals(store.governance, enabled=True, audit=sink)  # doctest: +SKIP
    >>> req = approvals.request("alias", "churn", version=4, comment="beats v3")  # doctest: +SKIP
    >>> with acting_as("bo"):  # an approver, not the requester  # doctest: +SKIP
    ...     approvals.approve(req.id, comment="checked the slices")
    """

    def __init__(
        self,
        repository: GovernanceRepository,
        *,
        enabled: bool,
        audit: AuditSink | None = None,
        gate_results: GateResults | None = None,
        apply_alias: ApplyAlias | None = None,
        actor: Callable[[], str] = current_actor,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
    ) -> None:
        self.repository = repository
        self.enabled = enabled
        self._audit = audit
        self.gate_results = gate_results
        self.apply_alias = apply_alias
        #: removes an alias once its removal is approved (set by attach_registry)
        self.remove_alias: RemoveAlias | None = None
        #: the registered models' identities (set by attach_registry); without it, rules
        #: are kept by model name
        self.identities: Identities | None = None
        self._actor = actor
        self._clock = clock
        self._new_id = new_id

    def _record(self, action: str, approval: Approval, before: Approval | None = None) -> None:
        if self._audit is not None:
            self._audit.record(
                action,
                f"approval:{approval.id}",
                before=None if before is None else before.to_dict(),
                after=approval.to_dict(),
            )

    # -- protection -------------------------------------------------------------------------

    def is_protected(self, kind: ApprovalKind | str, target: str, name: str = ANY) -> bool:
        """Whether the change needs an approval (always False while approvals are off)."""
        if not self.enabled:
            return False
        kind = ApprovalKind(kind)
        return protected(
            self.repository.list_protections(), kind, self._targets(kind, target), name
        )

    def _model_id(self, target: str) -> str | None:
        if self.identities is None or target == ANY:
            return None
        return self.identities().get(target)

    def _targets(self, kind: ApprovalKind, target: str) -> list[str]:
        """The rule targets that apply to ``target``: a model's ID rule, then its name's."""
        model_id = self._model_id(target) if kind == ApprovalKind.ALIAS else None
        return [target] if model_id is None else [MODEL_ID + model_id, target]

    def bind_rules(self) -> int:
        """Give every alias rule kept by a model's name (made before rules followed
        identities) the model's ID, so a rename cannot shed it. Returns how many."""
        if self.identities is None:
            return 0
        identities = self.identities()
        rules = self.repository.list_protections()
        present = {(p.target, p.name) for p in rules}
        bound = 0
        for rule in rules:
            model_id = identities.get(rule.target)
            if rule.kind != ApprovalKind.ALIAS or model_id is None:
                continue
            if (MODEL_ID + model_id, rule.name) not in present:
                self.repository.set_protection(
                    Protection(
                        kind=rule.kind,
                        target=MODEL_ID + model_id,
                        name=rule.name,
                        protected=rule.protected,
                    )
                )
                bound += 1
        return bound

    def protect(
        self, kind: ApprovalKind | str, target: str, name: str = ANY, *, protected: bool = True
    ) -> Protection:
        """Require (or with ``protected=False`` stop requiring) approval for an alias of a
        model (``target`` a model name or ``*``, ``name`` the alias) or a deployment
        (``target`` its name)."""
        kind = _kind(kind)
        if not target.strip() or not name.strip():
            raise InvalidInputError("target and name must not be empty", field="target")
        rule = Protection(kind=kind, target=target.strip(), name=name.strip(), protected=protected)
        stored = rule
        if kind == ApprovalKind.ALIAS and rule.target != ANY and self.identities is not None:
            model_id = self._model_id(rule.target)
            if model_id is None:
                raise NotFoundError(
                    f"no registered model {rule.target!r}: register it before protecting its "
                    "aliases, or protect the alias of every model with '*'",
                    field="target",
                )
            stored = Protection(
                kind=kind, target=MODEL_ID + model_id, name=rule.name, protected=protected
            )
        self.repository.set_protection(stored)
        if self._audit is not None:
            self._audit.record(
                "protection.set", f"{kind.value}:{rule.target}", before=None, after=rule.to_dict()
            )
        return rule

    def protections(self) -> list[Protection]:
        """Every rule, a model's rule showing the model's current name."""
        names = {v: k for k, v in self.identities().items()} if self.identities else {}
        shown = []
        for rule in self.repository.list_protections():
            if rule.target.startswith(MODEL_ID):
                model_id = rule.target.removeprefix(MODEL_ID)
                target = names.get(model_id, rule.target)
                rule = Protection(
                    kind=rule.kind, target=target, name=rule.name, protected=rule.protected
                )
            shown.append(rule)
        return shown

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        kind: ApprovalKind | str,
        target: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        action: str | None = None,
        comment: str | None = None,
    ) -> Approval:
        """Ask for approval of one change: ``kind="alias"`` with ``version`` (and
        ``alias``, default champion; ``action`` ``set_alias``, the default, or
        ``delete_alias`` with the version the alias points at), or ``kind="deployment"``
        with ``action`` ``start`` or ``complete``. The request carries the version's latest
        gate results."""
        if not self.enabled:
            raise ConflictError(OFF_MESSAGE, field="approvals")
        kind = _kind(kind)
        if kind == ApprovalKind.ALIAS:
            alias = alias or DEFAULT_PROTECTED_ALIAS
            if version is None or isinstance(version, bool) or version < 1:
                raise InvalidInputError("an alias approval needs a version", field="version")
            action = action or ALIAS_ACTION
            if action not in ALIAS_ACTIONS:
                raise InvalidInputError(
                    f"action must be one of {', '.join(ALIAS_ACTIONS)}, got {action!r}",
                    field="action",
                )
            name = alias
        else:
            if action not in DEPLOYMENT_ACTIONS:
                raise InvalidInputError(
                    f"action must be one of {', '.join(DEPLOYMENT_ACTIONS)}, got {action!r}",
                    field="action",
                )
            name = ANY
        if not self.is_protected(kind, target, name):
            what = f"alias {alias!r} of {target!r}" if kind == ApprovalKind.ALIAS else target
            raise ConflictError(
                f"{kind.value} {what} is not protected: change it directly, no approval needed",
                field="target",
            )
        gates: tuple[Mapping[str, Any], ...] = ()
        if kind == ApprovalKind.ALIAS and self.gate_results is not None and version:
            gates = tuple(self.gate_results(target, version))
        approval = Approval(
            id=self._new_id(),
            kind=kind,
            target=target,
            action=action,
            version=version,
            alias=alias if kind == ApprovalKind.ALIAS else None,
            requester=self._actor(),
            comment=comment,
            gates=gates,
            created_at=self._clock(),
        )
        self.repository.create_approval(approval)
        self._record("approval.request", approval)
        return approval

    def get(self, approval_id: str) -> Approval:
        return self.repository.get_approval(approval_id)

    def list(
        self, *, status: ApprovalStatus | str | None = None, target: str | None = None
    ) -> list[Approval]:
        parsed = None
        if status is not None:
            try:
                parsed = ApprovalStatus(status)
            except ValueError:
                choices = ", ".join(s.value for s in ApprovalStatus)
                raise InvalidInputError(
                    f"invalid status {status!r}: one of {choices}", field="status"
                ) from None
        return self.repository.list_approvals(status=parsed, target=target)

    def _may_approve(self, actor: str) -> bool:
        try:
            user = self.repository.get_user(actor)
        except NotFoundError:
            return False
        return not user.disabled and Permission.APPROVE in user.role.permissions

    def approve(self, approval_id: str, *, comment: str | None = None) -> Approval:
        """Approve a pending request (not one's own; needs the approver role). An alias
        request is applied at once: the alias moves."""
        actor = self._actor()
        current = self.repository.get_approval(approval_id)
        if actor == current.requester:
            raise PermissionDeniedError(
                f"{actor!r} requested approval {approval_id} and cannot approve it: "
                "a second person must",
                field="approval",
            )
        if not self._may_approve(actor):
            raise PermissionDeniedError(
                f"{actor!r} cannot approve: the approver or admin role is needed",
                field="approval",
            )
        approved = self.repository.update_approval(
            approval_id,
            expect=ApprovalStatus.PENDING,
            values={
                "status": ApprovalStatus.APPROVED,
                "decided_by": actor,
                "decision_comment": comment,
                "decided_at": self._clock(),
            },
        )
        self._record("approval.approve", approved, current)
        if approved.kind == ApprovalKind.ALIAS and approved.action == DELETE_ALIAS_ACTION:
            if self.remove_alias is not None:
                assert approved.alias is not None
                self.remove_alias(approved.target, approved.alias)
                return self.repository.get_approval(approval_id)
        elif approved.kind == ApprovalKind.ALIAS and self.apply_alias is not None:
            assert approved.alias is not None
            assert approved.version is not None
            self.apply_alias(approved.target, approved.alias, approved.version)
            return self.repository.get_approval(approval_id)
        return approved

    def reject(self, approval_id: str, *, comment: str | None = None) -> Approval:
        """Reject a pending request (an approver), or withdraw one's own."""
        actor = self._actor()
        current = self.repository.get_approval(approval_id)
        if actor != current.requester and not self._may_approve(actor):
            raise PermissionDeniedError(
                f"{actor!r} cannot reject: the approver or admin role is needed (or be the "
                "requester, to withdraw it)",
                field="approval",
            )
        rejected = self.repository.update_approval(
            approval_id,
            expect=ApprovalStatus.PENDING,
            values={
                "status": ApprovalStatus.REJECTED,
                "decided_by": actor,
                "decision_comment": comment,
                "decided_at": self._clock(),
            },
        )
        self._record("approval.reject", rejected, current)
        return rejected


class ApprovalGuard:
    """The :class:`~mlcycle.ports.governance.ChangeGuard` services consult before a
    protected change: it lets the change through when it is unprotected, or uses up the
    matching APPROVED request; otherwise it raises ApprovalRequiredError.

    >>> guard = ApprovalGuard(approvals)  # doctest: +SKIP
    >>> guard.require("deployment", "churn-prod", "start")  # doctest: +SKIP
    """

    def __init__(self, approvals: Approvals) -> None:
        self.approvals = approvals

    def require(
        self,
        kind: ApprovalKind | str,
        target: str,
        action: str,
        *,
        version: int | None = None,
        alias: str | None = None,
    ) -> str | None:
        kind = _kind(kind)
        name = alias if kind == ApprovalKind.ALIAS and alias else ANY
        if not self.approvals.is_protected(kind, target, name):
            return None
        repository = self.approvals.repository
        found = repository.find_approved(kind, target, action, version=version, alias=alias)
        if found is None:
            raise ApprovalRequiredError(_how_to_ask(kind, target, action, version, alias))
        applied = repository.update_approval(
            found.id,
            expect=ApprovalStatus.APPROVED,
            values={"status": ApprovalStatus.APPLIED, "applied_at": self.approvals._clock()},
        )
        self.approvals._record("approval.apply", applied, found)
        return found.id


def _how_to_ask(
    kind: ApprovalKind, target: str, action: str, version: int | None, alias: str | None
) -> str:
    if kind == ApprovalKind.ALIAS and action == DELETE_ALIAS_ACTION:
        return (
            f"the alias {alias!r} of {target!r} is protected: removing it from version "
            f"{version} (deleting the alias, the version or the model, or retiring the "
            "version) needs an approval by a second person; run `mlcycle approvals request "
            f"alias {target} {version} --alias {alias} --action delete_alias --comment ...` "
            "and ask an approver"
        )
    if kind == ApprovalKind.ALIAS:
        return (
            f"the alias {alias!r} of {target!r} is protected: moving it to version {version} "
            f"needs an approval by a second person; run `mlcycle approvals request alias "
            f"{target} {version} --alias {alias} --comment ...` and ask an approver"
        )
    return (
        f"deployment {target!r} is protected: to {action} a rollout, run `mlcycle approvals "
        f"request deployment {target} --action {action} --comment ...` and ask an approver"
    )


def _kind(kind: ApprovalKind | str) -> ApprovalKind:
    try:
        return ApprovalKind(kind)
    except ValueError:
        raise InvalidInputError(
            f"invalid approval kind {kind!r}: alias or deployment", field="kind"
        ) from None
