"""JSON answers of the tracking server back into entities."""

from __future__ import annotations

import dataclasses
from typing import Any

from mlcycle.entities import ArtifactInfo, Experiment, LifecycleStage, Run, RunStatus
from mlcycle.entities.codec import from_json, read_number


def number(value: float | str) -> float:
    """A JSON number, or one of the strings the server writes for non-finite values."""
    return read_number(value)


def experiment(d: dict[str, Any]) -> Experiment:
    return from_json(Experiment, d)


_STATUS = {s.value: s for s in RunStatus}
_STAGE = {s.value: s for s in LifecycleStage}
_RUN_FIELDS = frozenset(f.name for f in dataclasses.fields(Run))


def run(d: dict[str, Any]) -> Run:
    """A run from its JSON object (which is consumed: its dicts become the run's)."""
    metrics: dict[str, Any] = d["metrics"]
    for key, value in metrics.items():
        if value.__class__ is not float:
            metrics[key] = number(value)
    d["status"] = _STATUS[d["status"]]
    d["lifecycle_stage"] = _STAGE[d["lifecycle_stage"]]
    if d.keys() != _RUN_FIELDS:  # a server of another version: let the constructor judge
        return Run(**{k: v for k, v in d.items() if k in _RUN_FIELDS})
    # Every field is here and already of its type: filling the instance directly skips the
    # frozen dataclass __init__ (one object.__setattr__ per field), a third of the time of
    # a 5,000-run search page.
    made = object.__new__(Run)
    made.__dict__.update(d)
    return made


def artifact(d: dict[str, Any]) -> ArtifactInfo:
    return from_json(ArtifactInfo, d)
