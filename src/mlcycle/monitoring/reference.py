"""The reference a monitor compares with: a dataset version (by default the training data
of the deployed model's lineage), its features and target, and its statistics, computed
once per dataset version and kept in memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlcycle.entities import DatasetVersion, ModelLineage, Problem
from mlcycle.errors import InvalidInputError, NotFoundError
from mlcycle.monitoring.profile import ReferenceProfile
from mlcycle.monitoring.quality import ReferenceStats, reference_stats
from mlcycle.registry.gates import TRAINING_CONTEXTS

if TYPE_CHECKING:
    import pandas as pd

    from mlcycle.datasets.service import DatasetService


@dataclass(frozen=True)
class Reference:
    """A reference dataset version, loaded, with what the model's lineage says of it.

    ``features`` are the model's input columns (its signature's, else the reference's
    columns but the target); ``target`` is the experiment's target column when the
    reference holds it. ``profile`` (for drift) and ``stats`` (for data quality) are
    computed once per dataset version.
    """

    version: DatasetVersion
    frame: pd.DataFrame
    features: tuple[str, ...]
    target: str | None
    stats: ReferenceStats
    profile: ReferenceProfile
    problem: Problem
    baseline: Mapping[str, float]

    @property
    def ref(self) -> str:
        return f"{self.version.name}@{self.version.version}"


def training_input(lineage: ModelLineage) -> tuple[str, int]:
    """The training dataset version of a model version's run.

    Raises NotFoundError when the run recorded none (pass a reference explicitly then).
    """
    training = [i for i in lineage.inputs if i.context.lower() in TRAINING_CONTEXTS]
    if not training:
        raise NotFoundError(
            f"version {lineage.version.version} of model {lineage.version.name!r} has no "
            f"training dataset in its lineage (run {lineage.run.id} logged no input with "
            "context 'train'); give the monitor a reference NAME@VERSION",
            field="reference",
        )
    chosen = training[-1]
    return chosen.name, chosen.version


def signature_inputs(signature: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The input column names of a stored model signature (empty when unknown)."""
    if not signature:
        return ()
    inputs = signature.get("inputs")
    if not isinstance(inputs, Sequence):
        return ()
    return tuple(str(c["name"]) for c in inputs if isinstance(c, Mapping) and "name" in c)


class ReferenceCache:
    """Loaded references by dataset version ID, least recently used dropped first."""

    def __init__(self, datasets: DatasetService, *, size: int = 4) -> None:
        self._datasets = datasets
        self._size = size
        self._items: OrderedDict[tuple[str, tuple[str, ...], str | None], Reference] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        name: str,
        version: int,
        *,
        features: Sequence[str] = (),
        problem: Problem | None = None,
        baseline: Mapping[str, float] | None = None,
    ) -> Reference:
        """The reference ``name@version``, loaded on first use."""
        dataset = self._datasets.get(name, version)
        problem = problem or Problem()
        target = problem.target if problem.target in dataset.columns else None
        chosen = tuple(features) or tuple(c for c in dataset.columns if c != target)
        key = (dataset.id, chosen, target)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        if found is None:
            columns = [c for c in dataset.columns if c in chosen or c == target]
            if not columns:
                raise InvalidInputError(
                    f"reference {name}@{version} holds none of the model's input columns "
                    f"({', '.join(chosen[:5])}...)",
                    field="reference",
                )
            frame = self._datasets.load(dataset, columns=columns)
            present = [c for c in chosen if c in frame.columns]
            stats = reference_stats(frame[present], dataset.profile)
            profile = ReferenceProfile.from_frame(frame, columns=present)
            found = Reference(dataset, frame, chosen, target, stats, profile, problem, {})
            with self._lock:
                self._items[key] = found
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return Reference(
            found.version,
            found.frame,
            found.features,
            found.target,
            found.stats,
            found.profile,
            problem,
            dict(baseline or {}),
        )
