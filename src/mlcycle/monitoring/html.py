"""HTML for drift reports: one self-contained page (no script, no external file), with a
drift table and, per column, the reference and current distributions drawn as inline SVG
from the report's binned shares. The page's size depends on the number of columns and
bins, never on the number of rows.

:func:`distribution_svg` draws one :class:`~mlcycle.monitoring.report.Distribution`; the
monitor reports reuse it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlcycle.monitoring.report import ColumnDrift, Distribution, DriftReport

STYLE = """
.mlc-drift{font-family:system-ui,-apple-system,sans-serif;color:#222;font-size:14px}
.mlc-drift h1{font-size:22px;margin:0 0 6px}
.mlc-drift h2{font-size:17px;margin:26px 0 6px}
.mlc-drift h3{font-size:14px;margin:14px 0 2px}
.mlc-drift table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
.mlc-drift th,.mlc-drift td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
.mlc-drift th:first-child,.mlc-drift td:first-child{text-align:left}
.mlc-drift .yes{color:#b42318;font-weight:600}
.mlc-drift .no{color:#067647}
.mlc-drift .na{color:#888}
.mlc-drift .plots{display:flex;flex-wrap:wrap;gap:8px 28px}
.mlc-drift .plot p{margin:0;color:#555;font-size:12px}
.mlc-drift .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
"""
REFERENCE_COLOUR = "#9aa4b2"
CURRENT_COLOUR = "#2e6fdb"
_WIDTH, _HEIGHT, _PAD = 420, 150, 4


def render_drift_page(report: DriftReport, *, title: str) -> str:
    """A whole HTML document for ``report``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}body{{margin:24px}}</style></head>"
        f"<body>{render_drift_fragment(report, title=title)}</body></html>\n"
    )


def render_drift_fragment(report: DriftReport, *, title: str | None = None) -> str:
    """The report as one ``<div>`` (for notebooks: its own style, scoped by class)."""
    parts = [f'<div class="mlc-drift"><style>{STYLE}</style>']
    parts.append(f"<h1>{html.escape(title or report.title)}</h1>")
    parts.append(f"<p>{summary_line(report)}</p>")
    parts.append(drift_table(report))
    parts.append(legend())
    parts.append('<div class="plots">')
    for column in report.columns.values():
        if column.distribution is not None:
            parts.append(_column_plot(column, column.distribution))
    parts.append("</div></div>")
    return "".join(parts)


def summary_line(report: DriftReport) -> str:
    """ "Dataset drift: detected - 5 of 20 compared columns drifted (25%; limit 50%)"."""
    compared = report.compared_columns
    if report.drifted is None or report.share is None:
        return '<span class="na">Dataset drift: not computed (no column could be compared)</span>'
    verdict = (
        '<span class="yes">detected</span>'
        if report.drifted
        else ('<span class="no">not detected</span>')
    )
    drifted = len(report.drifted_columns)
    return (
        f"Dataset drift: {verdict} - {drifted} of {len(compared)} compared columns drifted "
        f"({report.share:.0%}; limit {report.drift_share:.0%})"
    )


def drift_table(report: DriftReport) -> str:
    """The table of columns: kind, method, score, threshold, verdict, rows, status."""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "column",
            "kind",
            "method",
            "score",
            "threshold",
            "drift",
            "reference rows",
            "current rows",
            "status",
        )
    )
    rows = []
    for column in report.columns.values():
        status = column.status.value
        if column.message:
            status += f": {column.message}"
        cells = [
            html.escape(column.name),
            column.kind.value if column.kind else "",
            column.method.value if column.method else "",
            _number(column.score),
            _number(column.threshold),
            _verdict(column.drifted),
            f"{column.reference_rows:,}",
            f"{column.current_rows:,}",
            html.escape(status),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def legend() -> str:
    return (
        f'<p class="legend"><span style="background:{REFERENCE_COLOUR}"></span>reference'
        f'<span style="background:{CURRENT_COLOUR}"></span>current</p>'
    )


def _column_plot(column: ColumnDrift, distribution: Distribution) -> str:
    note = column.method.value if column.method else ""
    if column.score is not None:
        note += f" {column.score:.4g}"
    if column.drifted is not None:
        note += " - drift" if column.drifted else " - no drift"
    return (
        f'<div class="plot"><h3>{html.escape(column.name)}</h3><p>{html.escape(note)}</p>'
        f"{distribution_svg(distribution)}</div>"
    )


def distribution_svg(distribution: Distribution) -> str:
    """Reference and current shares as bars in one SVG: overlaid for a histogram, side by
    side for categories; axis labels from the edges or category labels."""
    ref, cur = distribution.reference, distribution.current
    bins = max(len(ref), 1)
    top = max([*ref, *cur, 1e-12])
    plot_h = _HEIGHT - 34
    slot = (_WIDTH - 2 * _PAD) / bins
    shapes: list[str] = []
    for i in range(bins):
        x = _PAD + i * slot
        r = ref[i] if i < len(ref) else 0.0
        c = cur[i] if i < len(cur) else 0.0
        if distribution.kind == "histogram":
            shapes.append(_bar(x, slot, r, top, plot_h, REFERENCE_COLOUR, 0.75))
            shapes.append(_bar(x + slot * 0.2, slot * 0.6, c, top, plot_h, CURRENT_COLOUR, 0.75))
        else:
            shapes.append(_bar(x + slot * 0.1, slot * 0.4, r, top, plot_h, REFERENCE_COLOUR, 1))
            shapes.append(_bar(x + slot * 0.5, slot * 0.4, c, top, plot_h, CURRENT_COLOUR, 1))
    shapes.append(
        f'<line x1="{_PAD}" y1="{plot_h + 2}" x2="{_WIDTH - _PAD}" y2="{plot_h + 2}" '
        'stroke="#999"/>'
    )
    shapes.extend(_axis_labels(distribution, slot, plot_h))
    title = "share of values per bin, reference and current"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img"><title>{title}</title>'
        f"{''.join(shapes)}</svg>"
    )


def _bar(
    x: float, width: float, share: float, top: float, plot_h: float, colour: str, opacity: float
) -> str:
    height = max(share / top * (plot_h - 4), 0.0)
    if height <= 0:
        return ""
    return (
        f'<rect x="{x:.1f}" y="{plot_h + 2 - height:.1f}" width="{max(width, 0.5):.1f}" '
        f'height="{height:.1f}" fill="{colour}" fill-opacity="{opacity}">'
        f"<title>{share:.2%}</title></rect>"
    )


def _axis_labels(distribution: Distribution, slot: float, plot_h: float) -> list[str]:
    y = plot_h + 16
    if distribution.kind == "histogram" and distribution.edges:
        edges = distribution.edges
        picks = sorted({0, len(edges) // 2, len(edges) - 1})
        out = []
        for i in picks:
            x = _PAD + i * slot
            anchor = "start" if i == 0 else ("end" if i == len(edges) - 1 else "middle")
            out.append(_text(x, y, f"{edges[i]:.4g}", anchor))
        return out
    labels = distribution.labels
    step = max(1, len(labels) // 8)
    return [
        _text(_PAD + (i + 0.5) * slot, y, _short(labels[i]), "middle")
        for i in range(0, len(labels), step)
    ]


def _text(x: float, y: float, text: str, anchor: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" fill="#555" '
        f'text-anchor="{anchor}">{html.escape(text)}</text>'
    )


def _short(label: str, limit: int = 12) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _verdict(drifted: bool | None) -> str:
    if drifted is None:
        return '<span class="na">n/a</span>'
    return '<span class="yes">yes</span>' if drifted else '<span class="no">no</span>'
