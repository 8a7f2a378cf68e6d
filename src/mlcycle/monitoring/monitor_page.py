"""A monitor's report as one self-contained HTML page: the latest window's drift table with
reference-vs-current distributions per feature (the drift report's own fragment), its data
quality and performance, and drift, quality and performance over time across results.

Everything comes from stored results, which keep binned summaries only: the page never
holds a raw row, so it stays small however large the windows were.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mlcycle.entities.monitoring import Monitor, MonitorResult
from mlcycle.monitoring.report import DriftReport

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3b}
.muted{color:#777}.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{border:1px solid #eee;padding:8px}
"""


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _num(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return _esc(value)
    if isinstance(value, int | float):
        return f"{value:.4g}" if math.isfinite(value) else _esc(value)
    return _esc(value)


def line_chart(
    title: str, times: Sequence[int], values: Sequence[float | None], *, y_max: float | None = None
) -> str:
    """An inline SVG line chart of ``values`` over ``times`` (gaps where None)."""
    width, height, pad = 420, 160, 32
    points = [(t, v) for t, v in zip(times, values, strict=True) if v is not None]
    if not points:
        return f'<div class="chart"><b>{_esc(title)}</b><p class="muted">no values yet</p></div>'
    t0, t1 = min(p[0] for p in points), max(p[0] for p in points)
    lo = min(0.0, min(p[1] for p in points))
    hi = y_max if y_max is not None else max(p[1] for p in points)
    hi = hi if hi > lo else lo + 1.0
    span_t = (t1 - t0) or 1

    def xy(t: int, v: float) -> tuple[float, float]:
        x = pad + (t - t0) / span_t * (width - 2 * pad)
        y = height - pad - (v - lo) / (hi - lo) * (height - 2 * pad)
        return x, y

    coords = [xy(t, v) for t, v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#3366cc"/>' for x, y in coords)
    axis = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="2" y="{pad + 4}" font-size="10">{_num(hi)}</text>'
        f'<text x="2" y="{height - pad}" font-size="10">{_num(lo)}</text>'
        f'<text x="{pad}" y="{height - 8}" font-size="10">{_esc(_time(t0))}</text>'
        f'<text x="{width - pad}" y="{height - 8}" font-size="10" text-anchor="end">'
        f"{_esc(_time(t1))}</text>"
    )
    return (
        f'<div class="chart"><b>{_esc(title)}</b><br><svg width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}">{axis}'
        f'<polyline fill="none" stroke="#3366cc" stroke-width="1.5" points="{path}"/>{dots}'
        "</svg></div>"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _quality(section: Mapping[str, Any]) -> str:
    if not section:
        return '<p class="muted">not computed for this window</p>'
    rows = []
    for name, col in section.get("columns", {}).items():
        issues = col.get("issues", [])
        rows.append(
            [
                _esc(name),
                f'<span class="{"bad" if issues else "ok"}">{_esc(col.get("status"))}</span>',
                _num(col.get("missing_share")),
                _num(col.get("reference_missing_share")),
                _num(col.get("out_of_range", "")),
                _esc(", ".join(col.get("unseen_categories", []))),
                _esc("; ".join(issues)),
            ]
        )
    return _table(
        ["column", "status", "missing", "reference missing", "out of range", "unseen", "issues"],
        rows,
    )


def _performance(section: Mapping[str, Any]) -> str:
    if not section:
        return '<p class="muted">not computed for this window</p>'
    status = section.get("status")
    head = (
        f"<p>status: <b>{_esc(status)}</b>; {section.get('labelled_rows', 0)} labelled rows "
        f"of {section.get('rows', 0)} (at least {section.get('min_rows')} needed); primary "
        f"metric: {_esc(section.get('primary_metric'))}</p>"
    )
    metrics = section.get("metrics", {})
    baseline = section.get("baseline", {})
    rows = [
        [_esc(k), _num(v), _num(baseline.get(k)), _num(section.get("delta", {}).get(k))]
        for k, v in metrics.items()
    ]
    return head + (_table(["metric", "window", "baseline", "delta"], rows) if rows else "")


def _single(section: Mapping[str, Any], what: str) -> str:
    if not section:
        return ""
    drifted = section.get("drifted")
    verdict = "n/a" if drifted is None else ("drift" if drifted else "no drift")
    return (
        f"<p>{_esc(what)}: <b>{_esc(verdict)}</b> ({_esc(section.get('method'))} score "
        f"{_num(section.get('score'))}, status {_esc(section.get('status'))})</p>"
    )


def render_monitor_page(monitor: Monitor, results: Sequence[MonitorResult]) -> str:
    """The report page of ``monitor`` over ``results`` (oldest first)."""
    title = f"Monitor {monitor.name} on deployment {monitor.deployment}"
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_esc(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{_esc(title)}</h1>",
        f"<p>window {_esc(monitor.window)}; reference "
        f"{_esc(monitor.reference_ref or 'training data of the deployed version')}; "
        f"{len(results)} result(s)</p>",
    ]
    computed = [r for r in results if r.section("feature_drift")]
    latest = results[-1] if results else None
    if latest is not None:
        parts.append(
            f"<h2>Latest window</h2><p>{_esc(_time(latest.window_start))} to "
            f"{_esc(_time(latest.window_end))}: {latest.rows} rows, status "
            f"<b>{_esc(latest.status.value)}</b>"
            + (f" - {_esc(latest.message)}" if latest.message else "")
            + f"; model {_esc(latest.model_name)} version {_esc(latest.model_version)}; "
            f"reference {_esc(latest.reference)}</p>"
        )
    last = computed[-1] if computed else None
    if last is not None:
        if last is not latest:
            parts.append(
                f"<p class='muted'>Drift and quality below are from the last window "
                f"with enough data ({_esc(_time(last.created_at))}).</p>"
            )
        parts.append("<h2>Feature drift</h2>")
        weighed = last.section("feature_drift").get("importance")
        if isinstance(weighed, Mapping) and weighed.get("summary"):
            parts.append(f"<p><b>By importance:</b> {_esc(weighed['summary'])}</p>")
        parts.append(DriftReport.from_dict(last.section("feature_drift"))._repr_html_())
        parts.append(_single(last.section("prediction_drift"), "Prediction drift"))
        parts.append(_single(last.section("target_drift"), "Target drift"))
        parts.append("<h2>Data quality</h2>" + _quality(last.section("quality")))
        parts.append("<h2>Performance</h2>" + _performance(last.section("performance")))
    parts.append("<h2>Over time</h2><div class='charts'>")
    times = [r.created_at for r in results]
    parts.append(
        line_chart("share of drifted features", times, [r.drift_share for r in results], y_max=1.0)
    )
    parts.append(
        line_chart(
            "data quality issues",
            times,
            [float(r.quality_issues) if r.section("quality") else None for r in results],
        )
    )
    metric = next(
        (
            r.section("performance").get("primary_metric")
            for r in reversed(results)
            if r.section("performance").get("primary_metric")
        ),
        None,
    )
    if metric:
        parts.append(
            line_chart(
                f"{metric} (labelled rows)",
                times,
                [r.section("performance").get("metrics", {}).get(metric) for r in results],
            )
        )
    parts.append(line_chart("rows per window", times, [float(r.rows) for r in results]))
    parts.append("</div><h2>Results</h2>")
    parts.append(
        _table(
            [
                "time",
                "status",
                "rows",
                "labelled",
                "drift share",
                "dataset drift",
                "quality issues",
                "performance drop",
                "message",
            ],
            [
                [
                    _esc(_time(r.created_at)),
                    _esc(r.status.value),
                    str(r.rows),
                    str(r.labelled_rows),
                    _num(r.drift_share),
                    _esc(r.dataset_drift),
                    str(r.quality_issues),
                    _esc(r.performance_drop),
                    _esc(r.message),
                ]
                for r in reversed(results)
            ],
        )
    )
    parts.append("</body></html>")
    return "".join(parts)
