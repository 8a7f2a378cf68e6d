"""Drift weighted by importance: the features of a drift section ordered by how much the
model relies on them, and which drifted features matter to it.

The importance is the permutation importance the model version's run logged
(``mlcycle.evaluate(..., explain=True)`` logs ``importance/<feature>`` with its interval
``importance/<feature>_ci_low`` / ``_ci_high``). A feature *matters* when the lower end of
its interval is above zero (shuffling it hurts the model beyond the noise of the
repeats), or, without an interval, when its importance is positive.

    >>> section = {"columns": {"a": {"drifted": True}, "b": {"drifted": True}}}
    >>> metrics = {"importance/a": 0.0, "importance/b": 0.2, "importance/b_ci_low": 0.1}
    >>> weigh(section, metrics)["importance"]["matter"]
    ['b']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "importance/"
_BOUNDS = ("_ci_low", "_ci_high")


def importance_of(metrics: Mapping[str, float]) -> dict[str, tuple[float, float | None]]:
    """``{feature: (importance, lower bound or None)}`` from a run's metrics."""
    found: dict[str, tuple[float, float | None]] = {}
    for key, value in metrics.items():
        if not key.startswith(PREFIX) or key.endswith(_BOUNDS):
            continue
        name = key[len(PREFIX) :]
        if name.startswith("slice/"):
            continue
        low = metrics.get(f"{key}_ci_low")
        found[name] = (float(value), None if low is None else float(low))
    return found


def weigh(section: Mapping[str, Any], metrics: Mapping[str, float]) -> dict[str, Any]:
    """The drift ``section`` with its columns ordered by importance (features without
    one last, in their order) and an ``importance`` part: ``ranked`` (features, most
    important first), ``matter`` and ``do_not_matter`` (the drifted ones), a ``summary``
    sentence; unchanged when the run logged no importance."""
    importance = importance_of(metrics)
    columns = section.get("columns")
    if not importance or not isinstance(columns, Mapping) or not columns:
        return dict(section)
    names = list(columns)
    order = sorted(names, key=lambda n: (n not in importance, -importance.get(n, (0.0, None))[0]))

    def matters(name: str) -> bool:
        value, low = importance.get(name, (0.0, None))
        return (low if low is not None else value) > 0

    ranked = {}
    for name in order:
        column = dict(columns[name]) if isinstance(columns[name], Mapping) else columns[name]
        if isinstance(column, dict) and name in importance:
            column["importance"] = importance[name][0]
        ranked[name] = column
    drifted = [n for n in order if isinstance(columns[n], Mapping) and columns[n].get("drifted")]
    matter = [n for n in drifted if matters(n)]
    rest = [n for n in drifted if not matters(n)]
    if matter:
        summary = f"{len(matter)} drifted feature(s) matter to this model: {', '.join(matter)}" + (
            f"; {len(rest)} drifted one(s) barely do: {', '.join(rest)}" if rest else ""
        )
    elif rest:
        summary = f"the drifted features barely matter to this model: {', '.join(rest)}"
    else:
        summary = "no feature drifted"
    out = dict(section)
    out["columns"] = ranked
    out["importance"] = {
        "ranked": [n for n in order if n in importance],
        "matter": matter,
        "do_not_matter": rest,
        "summary": summary,
    }
    return out
