"""Evaluation plots: ROC, precision-recall, confusion matrix, calibration, residuals.

A :class:`Plot` computes its curve when first drawn (not during ``evaluate``), and draws
itself as a PNG (matplotlib, without pyplot's global state) or as interactive HTML
(plotly). Curves are thinned to at most 1,000 points and scatter plots to 5,000, so a
plot of a million rows stays small.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_CURVE_POINTS = 1000
MAX_SCATTER_POINTS = 5000


@dataclass(frozen=True)
class Series:
    x: np.ndarray
    y: np.ndarray
    label: str
    markers: bool = False
    colour: np.ndarray | None = None  # per-point values, drawn on a blue-red scale


@dataclass(frozen=True)
class Bar:
    """One horizontal bar with an interval (``low``..``high``)."""

    label: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Chart:
    """What a plot shows: lines or points, or a matrix of counts."""

    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...] = ()
    reference: str | None = None  # "diagonal" or "zero"
    matrix: np.ndarray | None = None
    matrix_labels: tuple[str, ...] = ()
    bars: tuple[Bar, ...] = ()  # drawn top to bottom
    y_ticks: tuple[str, ...] = ()  # labels of the rows 0, 1, ... of a beeswarm


class Plot:
    """One evaluation plot; ``to_png()`` and ``to_html()`` draw it."""

    def __init__(self, name: str, build: Callable[[], Chart]) -> None:
        self.name = name
        self._build = build

    @functools.cached_property
    def chart(self) -> Chart:
        return self._build()

    @functools.cached_property
    def _png(self) -> bytes:
        return render_png(self.chart)

    def to_png(self) -> bytes:
        return self._png

    def to_html(self, *, include_plotlyjs: bool | str = "cdn") -> str:
        return render_html(self.chart, include_plotlyjs=include_plotlyjs)

    def __repr__(self) -> str:
        return f"<Plot {self.name}>"


# -- the plots ----------------------------------------------------------------------------


def roc_plot(positive: np.ndarray, score: np.ndarray, auc: float | None) -> Plot:
    def build() -> Chart:
        from sklearn.metrics import roc_curve

        fpr, tpr, _ = roc_curve(positive, score)
        label = "ROC" if auc is None else f"ROC (AUC = {auc:.3f})"
        return Chart(
            "ROC curve",
            "False positive rate",
            "True positive rate",
            (Series(*_thin(fpr, tpr), label),),
            reference="diagonal",
        )

    return Plot("roc", build)


def pr_plot(positive: np.ndarray, score: np.ndarray, ap: float | None) -> Plot:
    def build() -> Chart:
        from sklearn.metrics import precision_recall_curve

        precision, recall, _ = precision_recall_curve(positive, score)
        label = "PR" if ap is None else f"PR (AP = {ap:.3f})"
        return Chart(
            "Precision-recall curve",
            "Recall",
            "Precision",
            (Series(*_thin(recall, precision), label),),
        )

    return Plot("pr", build)


def confusion_plot(matrix: np.ndarray, labels: Sequence[str]) -> Plot:
    def build() -> Chart:
        return Chart(
            "Confusion matrix",
            "Predicted label",
            "True label",
            matrix=matrix,
            matrix_labels=tuple(labels),
        )

    return Plot("confusion_matrix", build)


def calibration_plot(prob_true: np.ndarray, prob_pred: np.ndarray) -> Plot:
    def build() -> Chart:
        return Chart(
            "Calibration curve",
            "Mean predicted probability",
            "Fraction of positives",
            (Series(prob_pred, prob_true, "model", markers=True),),
            reference="diagonal",
        )

    return Plot("calibration", build)


def residuals_plot(y_true: np.ndarray, y_pred: np.ndarray, seed: int | None = 0) -> Plot:
    def build() -> Chart:
        index = np.arange(len(y_true))
        if len(index) > MAX_SCATTER_POINTS:
            index = np.sort(
                np.random.default_rng(seed).choice(index, MAX_SCATTER_POINTS, replace=False)
            )
        predicted = y_pred[index]
        return Chart(
            "Residuals",
            "Predicted value",
            "Residual (true - predicted)",
            (Series(predicted, y_true[index] - predicted, "rows", markers=True),),
            reference="zero",
        )

    return Plot("residuals", build)


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= MAX_CURVE_POINTS:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, MAX_CURVE_POINTS).astype(int))
    return x[keep], y[keep]


# -- drawing ------------------------------------------------------------------------------


def render_png(chart: Chart) -> bytes:
    """The chart as a PNG, drawn with matplotlib's object API (no pyplot, no backend state)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 4.5), dpi=100)
    ax = figure.add_subplot()
    if chart.matrix is not None:
        _draw_matrix(ax, figure, chart)
    elif chart.bars:
        _draw_bars(ax, chart.bars)
    else:
        for series in chart.series:
            if series.colour is not None:
                points = ax.scatter(
                    series.x, series.y, c=series.colour, cmap="coolwarm", s=6, alpha=0.7
                )
                figure.colorbar(points, ax=ax, label="feature value (low to high)")
            elif series.markers:
                ax.plot(series.x, series.y, "o", markersize=3, alpha=0.6, label=series.label)
            else:
                ax.plot(series.x, series.y, label=series.label)
        if chart.reference == "diagonal":
            ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
        elif chart.reference == "zero":
            ax.axhline(0.0, linestyle="--", color="grey", linewidth=1)
        if chart.y_ticks:
            ax.set_yticks(range(len(chart.y_ticks)), labels=list(chart.y_ticks))
            ax.axvline(0.0, linestyle="--", color="grey", linewidth=1)
        elif any(series.colour is None for series in chart.series):
            ax.legend(loc="best")
    ax.set_title(chart.title)
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_bars(ax: Any, bars: tuple[Bar, ...]) -> None:
    positions = np.arange(len(bars))[::-1]
    values = np.array([b.value for b in bars])
    errors = np.array([[b.value - b.low for b in bars], [b.high - b.value for b in bars]])
    ax.barh(positions, values, xerr=np.clip(errors, 0, None), color="#4c78a8", capsize=3)
    ax.set_yticks(positions, labels=[b.label for b in bars])
    ax.axvline(0.0, color="grey", linewidth=1)


def _draw_matrix(ax: Any, figure: Any, chart: Chart) -> None:
    matrix = np.asarray(chart.matrix)
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax)
    ticks = np.arange(len(chart.matrix_labels))
    ax.set_xticks(ticks, labels=list(chart.matrix_labels))
    ax.set_yticks(ticks, labels=list(chart.matrix_labels))
    high = matrix.max() / 2.0 if matrix.size else 0
    if matrix.size <= 400:
        for (i, j), count in np.ndenumerate(matrix):
            colour = "white" if count > high else "black"
            ax.text(j, i, f"{count:,}", ha="center", va="center", color=colour, fontsize=8)


def render_html(chart: Chart, *, include_plotlyjs: bool | str = "cdn") -> str:
    """The chart as an interactive plotly page."""
    import plotly.graph_objects as go

    figure = go.Figure()
    if chart.matrix is not None:
        labels = list(chart.matrix_labels)
        figure.add_trace(
            go.Heatmap(
                z=np.asarray(chart.matrix).tolist(),
                x=labels,
                y=labels,
                colorscale="Blues",
                text=np.asarray(chart.matrix).tolist(),
                texttemplate="%{text}",
            )
        )
        figure.update_yaxes(autorange="reversed", type="category")
        figure.update_xaxes(type="category")
    elif chart.bars:
        bars = chart.bars[::-1]
        figure.add_trace(
            go.Bar(
                x=[b.value for b in bars],
                y=[b.label for b in bars],
                orientation="h",
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [max(b.high - b.value, 0.0) for b in bars],
                    "arrayminus": [max(b.value - b.low, 0.0) for b in bars],
                },
            )
        )
    else:
        for series in chart.series:
            marker = (
                None
                if series.colour is None
                else {"color": series.colour.tolist(), "colorscale": "RdBu_r", "size": 4}
            )
            figure.add_trace(
                go.Scatter(
                    x=series.x.tolist(),
                    y=series.y.tolist(),
                    mode="markers" if series.markers or marker else "lines",
                    name=series.label,
                    marker=marker,
                )
            )
        if chart.y_ticks:
            figure.update_yaxes(
                tickvals=list(range(len(chart.y_ticks))), ticktext=list(chart.y_ticks)
            )
        if chart.reference == "diagonal":
            figure.add_trace(
                go.Scatter(
                    x=[0, 1], y=[0, 1], mode="lines", name="reference", line={"dash": "dash"}
                )
            )
        elif chart.reference == "zero":
            figure.add_hline(y=0.0, line_dash="dash")
    figure.update_layout(
        title=chart.title, xaxis_title=chart.x_label, yaxis_title=chart.y_label, width=650
    )
    html: str = figure.to_html(include_plotlyjs=include_plotlyjs, full_html=True)
    return html
