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
