"""The evidence on a model card: each chart with a short reading of what it shows.

From an evaluation report (the ``evaluation.json`` that :func:`mlcycle.evaluate` logs) and
the PNG plots logged beside it: ROC, precision-recall, confusion matrix, calibration or
residuals, feature importance, SHAP summary and dependence; and two charts drawn here,
the headline metric per slice and the fairness groups. Every reading is computed from the
numbers behind its chart.

    >>> evidence = evaluation_evidence("evaluation/evaluation.json", report, pngs)  # doctest: +SKIP
    >>> evidence[0].title, evidence[0].reading  # doctest: +SKIP
    ('ROC curve', 'ROC AUC 0.861: a random churner is ranked above a random stayer 86% ...')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from mlcycle.entities.cards import Evidence
from mlcycle.evaluation.plots import Bar, Chart, render_png

#: The headline metric of a slice chart, the first the report has.
SLICE_METRICS = ("roc_auc", "accuracy", "f1", "r2", "rmse", "mae")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _f(value: Any) -> str:
    return "-" if not isinstance(value, int | float) else f"{value:.3g}"


def _plot_reading(name: str, report: Mapping[str, Any]) -> tuple[str, str]:
    metrics = report.get("metrics") or {}
    if name == "roc":
        auc = metrics.get("roc_auc")
        return "ROC curve", (
            f"ROC AUC {_f(auc)}: a random positive is ranked above a random negative "
            f"{auc:.0%} of the time (0.5 is chance)."
            if isinstance(auc, int | float)
            else "The trade-off between true and false positive rates."
        )
    if name == "pr":
        return "Precision-recall curve", (
            f"Average precision {_f(metrics.get('pr_auc'))}: precision kept as recall grows; "
            "it matters most when positives are rare."
        )
    if name == "confusion_matrix":
        matrix = report.get("confusion_matrix") or []
        total = sum(sum(row) for row in matrix)
        right = sum(matrix[i][i] for i in range(len(matrix))) if matrix else 0
        text = (
            f"{right:,} of {total:,} rows classified right ({right / total:.1%})."
            if total
            else "Counts of true against predicted labels."
        )
        return "Confusion matrix", text
    if name == "calibration":
        calibration = report.get("calibration") or {}
        pred, true = calibration.get("prob_pred") or [], calibration.get("prob_true") or []
        gaps = [abs(p - t) for p, t in zip(pred, true, strict=False)]
        if gaps:
            text = (
                f"Predicted probabilities are off the observed rate by {sum(gaps) / len(gaps):.3f} "
                f"on average (largest gap {max(gaps):.3f}); closer to the diagonal is better."
            )
        else:
            text = "Predicted probability against observed rate."
        return "Calibration", text
    if name == "residuals":
        return "Residuals", (
            f"RMSE {_f(metrics.get('rmse'))}, MAE {_f(metrics.get('mae'))}; a pattern "
            "around zero means errors that depend on the prediction."
        )
    explanation = report.get("explanation") or {}
    importance = explanation.get("importance") or {}
    if name == "importance":
        rows = importance.get("features") or []
        significant = [r for r in rows if (r.get("ci_low") or 0) > 0]
        if rows:
            top = rows[0]
            text = (
                f"{top['feature']} matters most: shuffling it costs {_f(top['importance'])} "
                f"of {importance.get('metric')}. {len(significant)} of {len(rows)} features "
                "matter beyond the noise of the repeats."
            )
        else:
            text = "Permutation importance of each feature."
        return "Feature importance", text
    shap = explanation.get("shap") or {}
    if name == "shap_summary":
        ranked = list((shap.get("mean_abs") or {}).items())[:3]
        shown = ", ".join(f"{k} ({v:.3g})" for k, v in ranked)
        return "SHAP summary", (
            f"Largest mean |SHAP| on the {shap.get('output', 'output')}: {shown}; each dot is a "
            "row, red for high feature values."
        )
    if name.startswith("shap_dependence_"):
        feature = name[len("shap_dependence_") :]
        return f"SHAP dependence: {feature}", (
            f"How {feature}'s value moves the {shap.get('output', 'output')} of a row."
        )
    return name.replace("_", " ").capitalize(), ""


def _slice_chart(report: Mapping[str, Any], key: str) -> list[Evidence]:
    found = []
    for column, groups in sorted((report.get("slices") or {}).items()):
        metric = next(
            (m for m in SLICE_METRICS if any(m in scores for scores in groups.values())), None
        )
        if metric is None:
            continue
        values = {
            label: scores[metric]
            for label, scores in groups.items()
            if isinstance(scores.get(metric), int | float) and math.isfinite(scores[metric])
        }
        if not values:
            continue
        bars = tuple(Bar(str(label), float(v), float(v), float(v)) for label, v in values.items())
        chart = Chart(f"{metric} by {column}", metric, column, bars=bars)
        low = min(values, key=lambda k: values[k])
        high = max(values, key=lambda k: values[k])
        overall = (report.get("metrics") or {}).get(metric)
        reading = (
            f"{metric} ranges from {values[low]:.3g} ({column}={low}) to {values[high]:.3g} "
            f"({column}={high})" + (f", {_f(overall)} overall." if overall is not None else ".")
        )
        found.append(
            Evidence(
                f"{key}-slice-{_safe(column)}", f"{metric} by {column}", reading, render_png(chart)
            )
        )
    return found


def _fairness_chart(report: Mapping[str, Any], key: str) -> list[Evidence]:
    found = []
    for column, fairness in sorted((report.get("fairness") or {}).items()):
        groups = fairness.get("groups") or {}
        metric = next(
            (
                m
                for m in ("selection_rate", *SLICE_METRICS)
                if any(m in scores for scores in groups.values())
            ),
            None,
        )
        if metric is None:
            continue
        bars = tuple(
            Bar(str(g), float(s[metric]), float(s[metric]), float(s[metric]))
            for g, s in groups.items()
            if isinstance(s.get(metric), int | float)
        )
        chart = Chart(f"{metric} across {column}", metric, column, bars=bars)
        parity = fairness.get("demographic_parity_difference")
        odds = fairness.get("equalized_odds_difference")
        largest = max((v for v in (parity, odds) if isinstance(v, int | float)), default=None)
        verdict = (
            ""
            if largest is None
            else " A small gap (at most 0.1)."
            if largest <= 0.1
            else " A gap worth a look (above 0.1)."
        )
        reading = (
            f"Across {column}: demographic parity difference {_f(parity)}, equalized odds "
            f"difference {_f(odds)}.{verdict}"
        )
        found.append(
            Evidence(
                f"{key}-fairness-{_safe(column)}",
                f"Fairness across {column}",
                reading,
                render_png(chart),
            )
        )
    return found


def evaluation_evidence(
    path: str, report: Mapping[str, Any], pngs: Mapping[str, bytes]
) -> list[Evidence]:
    """The charts of one evaluation report (``path`` in the run), with readings; ``pngs``
    maps a plot name to its logged image."""
    key = _safe(path.rsplit("/", 1)[0] if "/" in path else "evaluation")
    found = []
    for name in report.get("plots") or []:
        title, reading = _plot_reading(str(name), report)
        found.append(Evidence(f"{key}-{_safe(str(name))}", title, reading, pngs.get(str(name))))
    return found + _slice_chart(report, key) + _fairness_chart(report, key)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_") or "x"
