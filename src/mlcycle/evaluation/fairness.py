"""Fairness across the groups of a sensitive column.

For binary classification, per group: the selection rate (share predicted positive), the
true positive rate and the false positive rate (scikit-learn's ``recall_score`` of the
positive and of the negative class), and across groups:

* demographic parity difference = max - min selection rate;
* equalized odds difference = the larger of the TPR and FPR ranges (max - min).

These are Fairlearn's definitions; a group without positives (or negatives) has no TPR
(or FPR) and is left out of that range. Every task also gets its metrics per group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlcycle.evaluation.groups import Grouping
from mlcycle.evaluation.metrics import ClassificationArrays, Scores


@dataclass(frozen=True)
class FairnessReport:
    """Fairness of the predictions across the groups of one sensitive column.

    ``groups`` maps each group label to its row count, metrics and (binary tasks)
    ``selection_rate``, ``tpr`` and ``fpr``. The differences are None for other tasks.
    """

    column: str
    demographic_parity_difference: float | None
    equalized_odds_difference: float | None
    groups: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "demographic_parity_difference": self.demographic_parity_difference,
            "equalized_odds_difference": self.equalized_odds_difference,
            "groups": self.groups,
        }


def fairness_report(
    grouping: Grouping,
    scores_of: Callable[[np.ndarray], Scores],
    arrays: ClassificationArrays | None,
) -> FairnessReport:
    """Per-group metrics (``scores_of(index)``), plus parity figures for binary tasks."""
    from sklearn.metrics import recall_score

    groups: dict[str, dict[str, float | None]] = {}
    rates: list[tuple[float, float, float]] = []
    for label, index in zip(grouping.labels, grouping.indices, strict=True):
        row: dict[str, float | None] = {"n": float(len(index)), **scores_of(index)}
        if arrays is not None and arrays.pos is not None:
            truth = arrays.y_true[index] == arrays.pos
            chosen = arrays.y_pred[index] == arrays.pos
            selection = float(np.mean(chosen))
            tpr = float(recall_score(truth, chosen, zero_division=np.nan))
            tnr = float(recall_score(~truth, ~chosen, zero_division=np.nan))
            fpr = 1.0 - tnr
            row.update(selection_rate=selection, tpr=_finite(tpr), fpr=_finite(fpr))
            rates.append((selection, tpr, fpr))
        groups[label] = row
    if not rates:
        return FairnessReport(grouping.column, None, None, groups)
    selections, tprs, fprs = (np.asarray(r) for r in zip(*rates, strict=True))
    return FairnessReport(
        grouping.column,
        demographic_parity_difference=_spread(selections),
        equalized_odds_difference=_max_or_none(_spread(tprs), _spread(fprs)),
        groups=groups,
    )


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _spread(values: np.ndarray) -> float | None:
    known = values[np.isfinite(values)]
    return float(known.max() - known.min()) if len(known) else None


def _max_or_none(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None
