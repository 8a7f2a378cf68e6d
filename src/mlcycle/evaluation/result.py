"""``EvaluationResult``: metrics, slices, fairness, intervals, folds and plots."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlcycle.entities import Task, _html
from mlcycle.evaluation.explanation import Explanation
from mlcycle.evaluation.fairness import FairnessReport
from mlcycle.evaluation.plots import Plot
from mlcycle.evaluation.report import render_report
from mlcycle.evaluation.resampling import CrossValidation

EVALUATION_JSON = "evaluation.json"
EVALUATION_HTML = "evaluation.html"
PLOTS_DIR = "plots"
IMPORTANCE_CSV = "importance.csv"
_UNSAFE = re.compile(r"[^\w\-. :]")


@dataclass(frozen=True)
class Calibration:
    """The calibration curve of a binary classifier: per probability bin, the mean
    predicted probability and the observed fraction of positives."""

    prob_pred: tuple[float, ...]
    prob_true: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"prob_pred": list(self.prob_pred), "prob_true": list(self.prob_true)}


@dataclass(frozen=True, kw_only=True)
class EvaluationResult:
    """What :func:`mlcycle.evaluate` found.

    * ``metrics``: ``accuracy, precision, recall, f1, f2, roc_auc, pr_auc, log_loss``
      (binary: of the positive class; multiclass: macro averages; the last three need
      ``predict_proba``) or ``mse, rmse, mae, r2, mape``.
    * ``slices``: ``{column: {slice label: {"n": rows, metric: value}}}``.
    * ``fairness``: ``{sensitive column: FairnessReport}``.
    * ``intervals``: ``{metric: (low, high)}`` bootstrap confidence intervals.
    * ``cv``: per-fold metrics with mean and standard deviation.
    * ``plots``: ``{name: Plot}`` (``roc``, ``pr``, ``confusion_matrix``,
      ``calibration`` or ``residuals``; with ``explain=True`` also ``importance``,
      ``shap_summary`` and ``shap_dependence_<feature>``), each with ``to_png()`` and
      ``to_html()``.
    * ``explanation``: permutation importance and SHAP values (``explain=True``).
    """

    task: Task
    target: str
    n_rows: int
    metrics: dict[str, float]
    classes: tuple[Any, ...] | None = None
    positive_label: Any = None
    confusion_matrix: tuple[tuple[int, ...], ...] | None = None
    per_class: dict[str, dict[str, float]] | None = None
    calibration: Calibration | None = None
    slices: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    fairness: dict[str, FairnessReport] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    confidence: float | None = None
    cv: CrossValidation | None = None
    plots: dict[str, Plot] = field(default_factory=dict)
    explanation: Explanation | None = None
    model_uri: str | None = None
    run_id: str | None = None
    artifact_path: str | None = None

    def _repr_html_(self) -> str:
        """The metrics, per slice column the slices' metrics, and the explanation (the
        top features' importance with intervals) when there is one, as compact tables."""
        caption = f"Evaluation: {self.task.value}, {self.n_rows:,} rows, target {self.target}"
        parts = [_html.details(_html.fmt(caption), sorted(self.metrics.items()))]
        for column, slices in self.slices.items():
            keys = sorted({k for s in slices.values() for k in s if k != "n"})[:6]
            rows = [
                [_html.fmt(label), _html.fmt(s.get("n"))] + [_html.fmt(s.get(k)) for k in keys]
                for label, s in slices.items()
            ]
            parts.append(_html.table(f"By {_html.fmt(column)}", ["Slice", "n", *keys], rows))
        if self.explanation is not None:
            parts.append(self.explanation._repr_html_())
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the plots, JSON-ready (NaN becomes None)."""
        data = {
            "task": self.task.value,
            "target": self.target,
            "n_rows": self.n_rows,
            "model_uri": self.model_uri,
            "metrics": self.metrics,
            "classes": None if self.classes is None else list(self.classes),
            "positive_label": self.positive_label,
            "confusion_matrix": None
            if self.confusion_matrix is None
            else [list(row) for row in self.confusion_matrix],
            "per_class": self.per_class,
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "slices": self.slices,
            "fairness": {k: v.to_dict() for k, v in self.fairness.items()},
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "confidence": self.confidence,
            "cv": None if self.cv is None else self.cv.to_dict(),
            "plots": sorted(self.plots),
            "explanation": None if self.explanation is None else self.explanation.to_dict(),
        }
        cleaned: dict[str, Any] = _clean(data)
        return cleaned

    def flat_metrics(self, prefix: str = "") -> dict[str, float]:
        """The numbers logged as run metrics.

        ``<metric>`` for the headline metrics, ``<metric>_ci_low``/``_ci_high`` for
        intervals, ``cv/<metric>/mean`` and ``/std``, ``slice/<column>/<label>/<metric>``,
        ``fairness/<column>/demographic_parity_difference`` and
        ``.../equalized_odds_difference``, all after ``prefix``.
        """
        out: dict[str, float] = {}

        def put(key: str, value: float | None) -> None:
            if value is not None:
                out[prefix + key] = float(value)

        for name, value in self.metrics.items():
            put(name, value)
        for name, (low, high) in self.intervals.items():
            put(f"{name}_ci_low", low)
            put(f"{name}_ci_high", high)
        if self.cv is not None:
            for name, mean in self.cv.mean.items():
                put(f"cv/{name}/mean", mean)
                put(f"cv/{name}/std", self.cv.std.get(name))
        for column, groups in self.slices.items():
            for label, scores in groups.items():
                for name, score in scores.items():
                    put(f"slice/{_safe(column)}/{_safe(label)}/{name}", score)
        for column, report in self.fairness.items():
            put(
                f"fairness/{_safe(column)}/demographic_parity_difference",
                report.demographic_parity_difference,
            )
            put(
                f"fairness/{_safe(column)}/equalized_odds_difference",
                report.equalized_odds_difference,
            )
        if self.explanation is not None:
            out.update(self.explanation.flat_metrics(prefix))
        return out

    def to_html(self, *, plots: bool = True) -> str:
        """A self-contained HTML report (plots embedded as PNG images)."""
        return render_report(self, plots=plots)

    def save(self, directory: str | Path) -> list[Path]:
        """Write ``evaluation.json``, ``evaluation.html``, ``plots/<name>.png`` and
        ``.html`` (and ``importance.csv`` when explained) into ``directory``; returns the
        files written."""
        root = Path(directory)
        (root / PLOTS_DIR).mkdir(parents=True, exist_ok=True)
        written = []
        for name, plot in self.plots.items():
            png = root / PLOTS_DIR / f"{name}.png"
            png.write_bytes(plot.to_png())
            html = root / PLOTS_DIR / f"{name}.html"
            html.write_text(plot.to_html())
            written += [png, html]
        summary = root / EVALUATION_JSON
        summary.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        report = root / EVALUATION_HTML
        report.write_text(self.to_html())
        if self.explanation is not None:
            table = root / IMPORTANCE_CSV
            table.write_text(self.explanation.table_csv())
            written.append(table)
        return [summary, report, *written]

    def logged(self, run_id: str, artifact_path: str) -> EvaluationResult:
        return replace(self, run_id=run_id, artifact_path=artifact_path)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return f"<EvaluationResult {self.task.value} n={self.n_rows}: {shown}>"


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", str(text)) or "_"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        return _clean(value.item())
    return value
