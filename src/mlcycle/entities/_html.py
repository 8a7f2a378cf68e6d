"""Tiny HTML helpers for the notebook representations (``_repr_html_``) of results."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

_STYLE = "border-collapse:collapse;font-size:12px"
_CELL = "padding:2px 6px;border-bottom:1px solid #ddd;text-align:left"


def fmt(value: object) -> str:
    """Short human-readable form of a number or value (escaped for HTML)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    return html.escape(text if len(text) <= 40 else text[:39] + "…")


def table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; ``rows`` hold cells that are already escaped HTML."""
    head = "".join(f"<th style='{_CELL}'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{cell}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return (
        f"<table style='{_STYLE}'><caption style='text-align:left'>{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def details(caption: str, pairs: Sequence[tuple[str, object]]) -> str:
    """Label/value rows (None values are left out), in the same look as :func:`table`."""
    rows = [
        [f"<b>{html.escape(label)}</b>", fmt(value)] for label, value in pairs if value is not None
    ]
    return table(caption, ["", ""], rows)


def sparkline(values: Sequence[float], *, width: int = 160, height: int = 32) -> str:
    """A small inline SVG line chart of ``values`` (NaN and infinities left out)."""
    points = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if not points:
        return ""
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span_x = max(len(values) - 1, 1)
    span_y = (hi - lo) or 1.0
    coords = " ".join(
        f"{i / span_x * (width - 4) + 2:.1f},{height - 2 - (v - lo) / span_y * (height - 4):.1f}"
        for i, v in points
    )
    return (
        f"<svg width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        "xmlns='http://www.w3.org/2000/svg' role='img'>"
        f"<polyline fill='none' stroke='#1f77b4' stroke-width='1.5' points='{coords}'/></svg>"
    )


def interval_bar(
    value: float, low: float, high: float, *, lo: float, hi: float, width: int = 140
) -> str:
    """A small inline SVG bar from 0 to ``value`` with a whisker from ``low`` to ``high``,
    on a shared axis from ``lo`` to ``hi`` (so the bars of one table compare)."""
    height = 12
    span = (hi - lo) or 1.0

    def x(v: float) -> float:
        v = v if math.isfinite(v) else 0.0
        return round((min(max(v, lo), hi) - lo) / span * (width - 2) + 1, 1)

    zero, end = x(0.0), x(value)
    left, right = min(zero, end), max(zero, end)
    return (
        f"<svg width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        "xmlns='http://www.w3.org/2000/svg' role='img'>"
        f"<title>{fmt(value)} [{fmt(low)}, {fmt(high)}]</title>"
        f"<rect x='{left}' y='2' width='{max(right - left, 0.5)}' height='8' fill='#1f77b4'/>"
        f"<line x1='{x(low)}' x2='{x(high)}' y1='6' y2='6' stroke='#222' stroke-width='1'/>"
        f"<line x1='{x(low)}' x2='{x(low)}' y1='3' y2='9' stroke='#222' stroke-width='1'/>"
        f"<line x1='{x(high)}' x2='{x(high)}' y1='3' y2='9' stroke='#222' stroke-width='1'/>"
        f"<line x1='{zero}' x2='{zero}' y1='0' y2='{height}' stroke='#999' stroke-width='1'/>"
        "</svg>"
    )
