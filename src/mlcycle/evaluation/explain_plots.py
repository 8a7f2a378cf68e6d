"""Explanation plots: permutation importance as bars with intervals, the SHAP summary
(a beeswarm: one dot per row and feature, coloured by the feature's value) and SHAP
dependence plots (a feature's value against its SHAP value)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mlcycle.evaluation.plots import MAX_SCATTER_POINTS, Bar, Chart, Plot, Series

if TYPE_CHECKING:
    from mlcycle.evaluation.explanation import ShapSummary
    from mlcycle.evaluation.importance import FeatureImportance

#: Features shown in the importance bar chart and the beeswarm.
TOP_FEATURES = 15


def importance_plot(importance: FeatureImportance) -> Plot:
    def build() -> Chart:
        rows = importance.table()[:TOP_FEATURES]
        level = f"{importance.confidence * 100:.0f}%"
        return Chart(
            f"Permutation importance ({level} interval)",
            f"Drop in {importance.metric} when shuffled",
            "Feature",
            bars=tuple(Bar(r["feature"], r["importance"], r["ci_low"], r["ci_high"]) for r in rows),
        )

    return Plot("importance", build)


def _scaled(values: np.ndarray) -> np.ndarray:
    """Feature values mapped to 0..1 by rank (robust to outliers); non-numbers are 0.5."""
    try:
        numbers = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return np.full(len(values), 0.5)
    if len(numbers) < 2 or not np.isfinite(numbers).any():
        return np.full(len(numbers), 0.5)
    ranks = np.argsort(np.argsort(numbers, kind="stable"), kind="stable")
    return np.asarray(ranks / (len(numbers) - 1), dtype=float)


def beeswarm_plot(summary: ShapSummary, seed: int | None = 0) -> Plot:
    def build() -> Chart:
        top = list(summary.mean_abs)[:TOP_FEATURES][::-1]  # most important drawn on top
        position = {name: i for i, name in enumerate(summary.features)}
        rng = np.random.default_rng(seed)
        keep = max(MAX_SCATTER_POINTS // max(len(top), 1), 1)
        xs, ys, colours = [], [], []
        for row, name in enumerate(top):
            values = summary.values[:, position[name]]
            scaled = _scaled(summary.data[name].to_numpy())
            index = np.arange(len(values))
            if len(index) > keep:
                index = rng.choice(index, keep, replace=False)
            xs.append(values[index])
            ys.append(row + rng.uniform(-0.3, 0.3, len(index)))
            colours.append(scaled[index])
        return Chart(
            f"SHAP values ({summary.output})",
            "SHAP value (impact on the output)",
            "",
            (
                Series(
                    np.concatenate(xs) if xs else np.zeros(0),
                    np.concatenate(ys) if ys else np.zeros(0),
                    "rows",
                    markers=True,
                    colour=np.concatenate(colours) if colours else np.zeros(0),
                ),
            ),
            y_ticks=tuple(top),
        )

    return Plot("shap_summary", build)


def dependence_plot(summary: ShapSummary, feature: str) -> Plot:
    def build() -> Chart:
        column = summary.features.index(feature)
        x = np.asarray(summary.data[feature].to_numpy(), dtype=float)
        return Chart(
            f"SHAP dependence: {feature}",
            feature,
            f"SHAP value of {feature}",
            (Series(x, summary.values[:, column], "rows", markers=True),),
            reference="zero",
        )

    return Plot(f"shap_dependence_{feature}", build)
