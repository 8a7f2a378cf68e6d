"""Rendering pages: the Jinja2 environment (autoescaped), its filters, and
:func:`page`, which every page route returns through."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from mlcycle import __version__
from mlcycle.server.auth import principal_of
from mlcycle.server.ui import assets

TEMPLATES = Path(__file__).parent / "templates"


def when(ms: int | None) -> str:
    """Milliseconds since the epoch as ``2026-12-07 01:52:03`` (UTC); ``-`` for None."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: int | None) -> str:
    """A duration in milliseconds as ``850 ms``, ``12.3 s``, ``4 min 05 s`` or ``2 h 03 min``."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def number(value: object) -> str:
    """A metric value with up to 6 significant digits; NaN and infinities spelled out."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:.6g}"


def size(n: int | None) -> str:
    """A byte count as ``812 B``, ``3.4 KB``, ``1.2 MB``."""
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def query(base: dict[str, Any], **changes: Any) -> str:
    """``?a=1&b=2``: ``base`` with ``changes`` applied (None removes a key)."""
    merged = {**base, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "", [])}
    return "?" + urlencode(kept, doseq=True) if kept else "?"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(when=when, duration=duration, number=number, size=size)
    env.globals.update(static=assets.url, app_version=__version__, query=query, zip=zip)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The HTML response of ``template``, with the layout's context (who is logged in,
    the current path for the navigation)."""
    principal = principal_of(request)
    html = render(
        template,
        user=principal.name if principal else None,
        role=principal.role.value if principal else None,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
