"""A model card as the version page shows it: the owner's statement, the feature
importance with its intervals, the evaluation's charts with their readings, and the
label-free estimate of each monitor beside the realised performance.

The page reads these from the same :class:`~mlcycle.entities.cards.ModelCard` the HTML,
Markdown and JSON cards render, so the browser and the compliance bundle agree.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from mlcycle.entities import _html
from mlcycle.entities.cards import ModelCard
from mlcycle.entities.governance import CARD_FIELDS

#: Features the importance table shows (the most important first).
TOP_FEATURES = 15


@dataclass(frozen=True)
class OwnerField:
    name: str  # intended_use
    label: str  # Intended use
    value: str | None
    option: str  # --intended-use


@dataclass(frozen=True)
class Importance:
    """One evaluation's permutation importance, top features first."""

    report: str  # the evaluation.json path in the run
    metric: str
    repeats: int
    confidence: float
    features: list[dict[str, Any]]  # rank, feature, importance, ci_low, ci_high, bar, shap
    total: int


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    reading: str
    src: str | None  # a data: URI of the PNG


@dataclass(frozen=True)
class Estimate:
    """One monitor's latest window: its label-free estimates beside the realised values."""

    monitor: str
    status: str
    rows: int | None
    when: int | None
    metrics: list[dict[str, Any]]


@dataclass(frozen=True)
class CardView:
    owner: list[OwnerField]
    importance: list[Importance]
    figures: list[Figure]
    estimates: list[Estimate]
    sections: list[tuple[str, list[str], list[list[str]]]]

    @property
    def owner_missing(self) -> list[str]:
        return [f.label.lower() for f in self.owner if not f.value]


def card_view(card: ModelCard) -> CardView:
    """What the version page shows of ``card``."""
    owner = [
        OwnerField(
            name=f,
            label=f.replace("_", " ").capitalize(),
            value=card.fields.get(f) or None,
            option="--" + f.replace("_", "-"),
        )
        for f in CARD_FIELDS
    ]
    return CardView(
        owner=owner,
        importance=[i for e in card.evaluations if (i := _importance(e)) is not None],
        figures=[
            Figure(
                key=e.key,
                title=e.title,
                reading=e.reading,
                src=None
                if e.png is None
                else "data:image/png;base64," + base64.b64encode(e.png).decode(),
            )
            for e in card.evidence
        ],
        estimates=[_estimate(m) for m in card.monitoring if m.get("performance")],
        sections=card.sections(),
    )


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _importance(evaluation: Mapping[str, Any]) -> Importance | None:
    explanation = evaluation.get("explanation") or {}
    found = explanation.get("importance") if isinstance(explanation, Mapping) else None
    if not isinstance(found, Mapping) or not found.get("features"):
        return None
    rows = [r for r in found["features"] if isinstance(r, Mapping)]
    shown = rows[:TOP_FEATURES]
    lows = [_number(r.get("ci_low")) for r in shown]
    highs = [_number(r.get("ci_high")) for r in shown]
    lo = min([0.0, *(v for v in lows if math.isfinite(v))])
    hi = max([0.0, *(v for v in highs if math.isfinite(v))])
    shap = explanation.get("shap") or {}
    shap_means = shap.get("mean_abs") or {} if isinstance(shap, Mapping) else {}
    features = []
    for row, low, high in zip(shown, lows, highs, strict=True):
        value = _number(row.get("importance"))
        features.append(
            {
                "rank": row.get("rank"),
                "feature": row.get("feature"),
                "importance": value,
                "ci_low": low,
                "ci_high": high,
                # our own SVG: numbers only, the feature name is not in it
                "bar": Markup(_html.interval_bar(value, low, high, lo=lo, hi=hi, width=180)),
                "shap": shap_means.get(row.get("feature")),
            }
        )
    return Importance(
        report=str(evaluation.get("path", "")),
        metric=str(found.get("metric", "")),
        repeats=int(found.get("repeats") or 0),
        confidence=float(found.get("confidence") or 0.95),
        features=features,
        total=len(rows),
    )


def _estimate(row: Mapping[str, Any]) -> Estimate:
    return Estimate(
        monitor=str(row.get("monitor", "")),
        status=str(row.get("status", "")),
        rows=row.get("rows"),
        when=row.get("created_at"),
        metrics=[dict(m) for m in row.get("performance") or [] if isinstance(m, Mapping)],
    )
