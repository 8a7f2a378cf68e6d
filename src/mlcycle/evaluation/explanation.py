"""What ``mlcycle.evaluate(..., explain=True)`` adds: permutation importance with
confidence intervals (overall and per slice) and, where ``shap`` is installed and the
model family allows it, SHAP values of a sample of the evaluation rows."""

from __future__ import annotations

import html
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.entities import _html
from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.explain_plots import beeswarm_plot, dependence_plot, importance_plot
from mlcycle.evaluation.explainers import (
    SHAP_INSTALL,
    ShapUnavailableError,
    shap_explainer,
)
from mlcycle.evaluation.importance import (
    METRICS,
    FeatureImportance,
    Scoring,
    permutation_importance,
)
from mlcycle.evaluation.plots import Plot

if TYPE_CHECKING:
    import pandas as pd

#: Rows of the evaluation data SHAP values are computed for (a seeded sample).
SHAP_ROWS = 1000
#: Features that get a dependence plot.
DEPENDENCE_PLOTS = 3
#: Features the notebook view of an explanation shows.
SHOWN_FEATURES = 10
_UNSAFE = re.compile(r"[^\w\-. :]")


@dataclass(frozen=True, kw_only=True)
class ShapSummary:
    """SHAP values of ``len(data)`` sampled evaluation rows (of ``rows_total``)."""

    method: str
    output: str
    features: tuple[str, ...]
    values: np.ndarray
    base_value: float
    data: pd.DataFrame
    rows_total: int

    @property
    def mean_abs(self) -> dict[str, float]:
        """Mean absolute SHAP value per feature, largest first."""
        means = np.abs(self.values).mean(axis=0) if len(self.values) else np.zeros(0)
        order = np.argsort(-means, kind="stable")
        return {self.features[i]: float(means[i]) for i in order}

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "output": self.output,
            "base_value": self.base_value,
            "rows": len(self.values),
            "rows_total": self.rows_total,
            "mean_abs": self.mean_abs,
        }


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """Global explanations of a model on the evaluation data."""

    importance: FeatureImportance
    shap: ShapSummary | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "importance": self.importance.to_dict(),
            "shap": None if self.shap is None else self.shap.to_dict(),
            "notes": list(self.notes),
        }

    def _repr_html_(self) -> str:
        """The most important features (at most :data:`SHOWN_FEATURES`): permutation
        importance with its interval as a small bar chart, and the mean absolute SHAP
        value where computed."""
        importance = self.importance
        rows = importance.table()
        shown = rows[:SHOWN_FEATURES]
        level = f"{importance.confidence:.0%}"
        lo = min([0.0, *(r["ci_low"] for r in shown if math.isfinite(r["ci_low"]))])
        hi = max([0.0, *(r["ci_high"] for r in shown if math.isfinite(r["ci_high"]))])
        shap_means = {} if self.shap is None else self.shap.mean_abs
        headers = ["#", "Feature", "Importance", f"{level} interval", ""]
        if shap_means:
            headers.append("Mean |SHAP|")
        cells = []
        for row in shown:
            cell = [
                _html.fmt(row["rank"]),
                _html.fmt(row["feature"]),
                _html.fmt(row["importance"]),
                f"[{_html.fmt(row['ci_low'])}, {_html.fmt(row['ci_high'])}]",
                _html.interval_bar(row["importance"], row["ci_low"], row["ci_high"], lo=lo, hi=hi),
            ]
            if shap_means:
                cell.append(_html.fmt(shap_means.get(row["feature"])))
            cells.append(cell)
        more = f", the top {len(shown)} of {len(rows)}" if len(rows) > len(shown) else ""
        caption = html.escape(
            f"Permutation importance: the drop of {importance.metric} when a feature is "
            f"shuffled ({importance.repeats} repeats{more})"
        )
        parts = [_html.table(caption, headers, cells)]
        if self.shap is not None:
            shap = self.shap
            about = f"SHAP ({shap.method}) of {len(shap.values):,} rows: the {shap.output}"
            parts.append(f"<p style='font-size:12px'>{html.escape(about)}</p>")
        parts += [f"<p style='font-size:12px'>{html.escape(note)}</p>" for note in self.notes]
        return "".join(parts)

    def flat_metrics(self, prefix: str = "") -> dict[str, float]:
        """``importance/<feature>`` (with ``_ci_low``/``_ci_high``),
        ``importance/slice/<column>/<label>/<feature>`` and ``shap/<feature>`` (mean
        absolute SHAP value), after ``prefix``."""
        out: dict[str, float] = {}
        for row in self.importance.table():
            key = f"{prefix}importance/{_safe(row['feature'])}"
            out[key] = row["importance"]
            out[f"{key}_ci_low"] = row["ci_low"]
            out[f"{key}_ci_high"] = row["ci_high"]
        for column, groups in self.importance.slices.items():
            for label, values in groups.items():
                for name, value in values.items():
                    if math.isfinite(value):
                        key = f"importance/slice/{_safe(column)}/{_safe(label)}/{_safe(name)}"
                        out[prefix + key] = value
        if self.shap is not None:
            for name, value in self.shap.mean_abs.items():
                out[f"{prefix}shap/{_safe(name)}"] = value
        return out

    def table_csv(self) -> str:
        """The importance table as CSV: one row per feature, most important first, with
        the mean absolute SHAP value where computed."""
        shap_means = {} if self.shap is None else self.shap.mean_abs
        lines = ["feature,rank,importance,std,ci_low,ci_high,mean_abs_shap"]
        for row in self.importance.table():
            mean_abs = shap_means.get(row["feature"])
            cells = [
                _csv(row["feature"]),
                str(row["rank"]),
                *(repr(row[k]) for k in ("importance", "std", "ci_low", "ci_high")),
                "" if mean_abs is None else repr(mean_abs),
            ]
            lines.append(",".join(cells))
        return "\n".join(lines) + "\n"

    def plots(self) -> dict[str, Plot]:
        """``importance`` (bar chart with intervals), ``shap_summary`` (beeswarm) and
        ``shap_dependence_<feature>`` for the top features."""
        plots = {"importance": importance_plot(self.importance)}
        summary = self.shap
        if summary is not None and len(summary.values):
            plots["shap_summary"] = beeswarm_plot(summary)
            for name in list(summary.mean_abs)[:DEPENDENCE_PLOTS]:
                if _numeric(summary.data[name]):
                    plots[f"shap_dependence_{_safe(name)}"] = dependence_plot(summary, name)
        return plots


def default_metric(classifier: bool, binary_with_proba: bool) -> str:
    if classifier:
        return "roc_auc" if binary_with_proba else "accuracy"
    return "r2"


def explain_model(
    model: object,
    X: pd.DataFrame,
    *,
    scoring: Scoring,
    baseline_output: np.ndarray,
    classifier: bool,
    positive_label: object,
    slices: Mapping[str, Sequence[tuple[str, np.ndarray]]],
    repeats: int,
    seed: int | None,
    confidence: float,
    budget_s: float,
) -> Explanation:
    """Permutation importance of every feature, then SHAP values of up to
    :data:`SHAP_ROWS` rows within what is left of ``budget_s`` seconds."""
    if scoring.metric not in METRICS:
        raise InvalidInputError(
            f"importance metric must be one of {', '.join(METRICS)}, got {scoring.metric!r}",
            field="importance_metric",
        )
    if not isinstance(budget_s, int | float) or budget_s <= 0:
        raise InvalidInputError(
            f"the explanation time budget must be a positive number of seconds, got {budget_s!r}",
            field="explain_budget_s",
        )
    started = time.perf_counter()
    importance = permutation_importance(
        model,
        X,
        scoring,
        repeats=repeats,
        seed=seed,
        confidence=confidence,
        baseline_output=baseline_output,
        slices=slices,
    )
    notes: list[str] = []
    rng = np.random.default_rng(seed)
    rows = X
    if len(X) > SHAP_ROWS:
        rows = X.iloc[np.sort(rng.choice(len(X), SHAP_ROWS, replace=False))]
    try:
        explainer = shap_explainer(
            model,
            X,
            positive_index=scoring.positive_index if classifier else None,
            positive_label=positive_label,
            classifier=classifier,
            seed=seed,
        )
    except ShapUnavailableError:
        notes.append(f"SHAP values were not computed: install the shap package ({SHAP_INSTALL})")
        return Explanation(importance=importance, notes=tuple(notes))
    except InvalidInputError as exc:
        notes.append(f"SHAP values were not computed: {exc}")
        return Explanation(importance=importance, notes=tuple(notes))
    left = max(budget_s - (time.perf_counter() - started), 0.0)
    attributions = explainer.explain(rows, budget_s=left, partial=True)
    if len(attributions.values) < len(rows):
        notes.append(
            f"SHAP values of {len(attributions.values)} of {len(rows)} sampled rows: "
            f"the {budget_s:g} s budget ran out (explain_budget_s=...)"
        )
    summary = ShapSummary(
        method=attributions.method,
        output=attributions.output,
        features=attributions.features,
        values=attributions.values,
        base_value=attributions.base_value,
        data=rows.iloc[: len(attributions.values)],
        rows_total=len(X),
    )
    return Explanation(importance=importance, shap=summary, notes=tuple(notes))


def _numeric(column: Any) -> bool:
    return bool(np.issubdtype(np.asarray(column).dtype, np.number))


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", str(text)) or "_"


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text
