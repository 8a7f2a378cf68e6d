"""Finding an experiment by what a user typed: its name, else its ID.

>>> experiment_by_name_or_id(backend, "churn")  # doctest: +SKIP
Experiment(id='01a2...', name='churn', ...)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle.errors import NotFoundError
from mlcycle.suggest import did_you_mean

if TYPE_CHECKING:
    from mlcycle.entities import Experiment
    from mlcycle.ports.backend import TrackingBackend


def experiment_by_name_or_id(tracking: TrackingBackend, name_or_id: str) -> Experiment:
    """The experiment called ``name_or_id``, else the one with that ID. Raises
    NotFoundError naming it, with the closest names."""
    found = tracking.find_experiment(name_or_id)
    if found is not None:
        return found
    try:
        return tracking.get_experiment(name_or_id)
    except NotFoundError:
        names = [e.name for e in tracking.list_experiments()]
        raise NotFoundError(
            f"no experiment with name or ID {name_or_id!r}" + did_you_mean(name_or_id, names),
            field="experiment",
        ) from None
