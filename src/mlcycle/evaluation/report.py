"""The HTML report of an evaluation: one self-contained page (plots as embedded PNGs)."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlcycle.evaluation.result import EvaluationResult

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
h2{margin-top:28px;font-size:18px}
.plots img{max-width:520px;margin:4px}
"""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_report(result: EvaluationResult, *, plots: bool = True) -> str:
    parts = [
        f"<h1>Evaluation: {html.escape(result.task.value)} of {html.escape(result.target)}</h1>",
        f"<p>{result.n_rows:,} rows"
        + (f"; model {html.escape(result.model_uri)}" if result.model_uri else "")
        + (
            f"; positive class {html.escape(repr(result.positive_label))}"
            if result.positive_label is not None
            else ""
        )
        + "</p>",
        "<h2>Metrics</h2>",
    ]
    headers = ["metric", "value"]
    if result.intervals:
        level = f"{(result.confidence or 0) * 100:.0f}%"
        headers += [f"{level} low", f"{level} high"]
    rows = []
    for name, value in result.metrics.items():
        row: list[object] = [name, value]
        if result.intervals:
            row += list(result.intervals.get(name, (None, None)))
        rows.append(row)
    parts.append(_table(headers, rows))
    if result.per_class:
        names = list(next(iter(result.per_class.values())))
        parts += [
            "<h2>Per class</h2>",
            _table(
                ["class", *names],
                [[label, *scores.values()] for label, scores in result.per_class.items()],
            ),
        ]
    if result.confusion_matrix is not None and result.classes is not None:
        labels = [str(c) for c in result.classes]
        parts += [
            "<h2>Confusion matrix</h2><p>rows: true label; columns: predicted label</p>",
            _table(
                ["", *labels],
                [[label, *row] for label, row in zip(labels, result.confusion_matrix, strict=True)],
            ),
        ]
    if result.cv is not None:
        parts += [
            f"<h2>Cross-validation ({len(result.cv.folds)} folds)</h2>",
            _table(
                ["metric", "mean", "std"],
                [[name, mean, result.cv.std.get(name)] for name, mean in result.cv.mean.items()],
            ),
        ]
    for column, groups in result.slices.items():
        names = list(next(iter(groups.values()))) if groups else []
        parts += [
            f"<h2>Slices by {html.escape(column)}</h2>",
            _table(["slice", *names], [[label, *s.values()] for label, s in groups.items()]),
        ]
    for column, report in result.fairness.items():
        parts.append(f"<h2>Fairness across {html.escape(column)}</h2>")
        if report.demographic_parity_difference is not None:
            parts.append(
                _table(
                    ["measure", "value"],
                    [
                        ["demographic parity difference", report.demographic_parity_difference],
                        ["equalized odds difference", report.equalized_odds_difference],
                    ],
                )
            )
        names = list(next(iter(report.groups.values()))) if report.groups else []
        parts.append(
            _table(["group", *names], [[g, *s.values()] for g, s in report.groups.items()])
        )
    if result.explanation is not None:
        parts += _explanation(result)
    if plots and result.plots:
        images = "".join(
            f"<img alt='{html.escape(name)}' src='data:image/png;base64,"
            f"{base64.b64encode(plot.to_png()).decode()}'>"
            for name, plot in result.plots.items()
        )
        parts += ["<h2>Plots</h2>", f"<div class='plots'>{images}</div>"]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>mlcycle evaluation</title>"
        f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _explanation(result: EvaluationResult) -> list[str]:
    explanation = result.explanation
    assert explanation is not None
    importance = explanation.importance
    level = f"{importance.confidence * 100:.0f}%"
    shap_means = {} if explanation.shap is None else explanation.shap.mean_abs
    parts = [
        "<h2>Feature importance</h2>",
        f"<p>Drop in {html.escape(importance.metric)} (baseline {importance.baseline:.4g}) "
        f"when a feature is shuffled, {importance.repeats} repeats, {level} interval"
        + (
            f"; mean |SHAP| of the {html.escape(explanation.shap.output)} "
            f"({html.escape(explanation.shap.method)} explainer, "
            f"{len(explanation.shap.values):,} rows)"
            if explanation.shap is not None
            else ""
        )
        + "</p>",
        _table(
            ["feature", "importance", f"{level} low", f"{level} high", "mean |SHAP|"],
            [
                [r["feature"], r["importance"], r["ci_low"], r["ci_high"], shap_means.get(f)]
                for r in importance.table()
                for f in [r["feature"]]
            ],
        ),
    ]
    parts += [f"<p class='note'>{html.escape(note)}</p>" for note in explanation.notes]
    return parts
