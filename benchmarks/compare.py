"""``--compare EARLIER``: each figure of this run beside the same figure of an earlier one.

``EARLIER`` is a suite's JSON (``bench-out/tracking.json``) or a folder of them (a whole
earlier ``--out``). Figures are matched by suite and benchmark name. The change is printed
as a ratio in the figure's own direction, so "1.30x better" reads the same for a rate and
a latency, and each line carries both runs' load averages: on a shared machine a change
smaller than the load moved is not a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import fmt, log

#: A change within this factor is printed as "same" (the noise floor of a quiet machine).
NOISE = 1.05


@dataclass(frozen=True)
class Figure:
    """One benchmark figure as a suite's JSON records it."""

    suite: str
    name: str
    unit: str
    value: float
    higher_is_better: bool
    met: bool
    load: float | None


def load_figures(path: Path) -> dict[tuple[str, str], Figure]:
    """The figures in a suite JSON, or in every ``*.json`` of a folder, by (suite, name).

    >>> load_figures(Path("bench-out"))  # doctest: +SKIP
    {('tracking', 'log_metric_per_call'): Figure(...), ...}
    """
    if not path.exists():
        raise SystemExit(f"--compare: {path} does not exist")
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    figures: dict[tuple[str, str], Figure] = {}
    for file in files:
        try:
            payload = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"--compare: {file} is not a benchmark JSON: {exc}") from exc
        if not isinstance(payload, dict) or "results" not in payload:
            continue  # some other JSON in the folder
        figures.update(_figures(payload))
    return figures


def _figures(payload: Mapping[str, Any]) -> Iterable[tuple[tuple[str, str], Figure]]:
    suite = str(payload.get("suite", "?"))
    for result in payload.get("results", []):
        load = result.get("details", {}).get("load_average_before")
        figure = Figure(
            suite=suite,
            name=str(result["name"]),
            unit=str(result.get("unit", "")),
            value=float(result["value"]),
            higher_is_better=bool(result.get("higher_is_better", False)),
            met=bool(result.get("met", False)),
            load=float(load[0]) if isinstance(load, list) and load else None,
        )
        yield (suite, figure.name), figure


def change(before: Figure, after: Figure) -> tuple[float | None, str]:
    """How many times better ``after`` is than ``before`` (above 1: better), and a word."""
    if before.value <= 0 or after.value <= 0:
        return None, "n/a"
    ratio = after.value / before.value if after.higher_is_better else before.value / after.value
    if 1 / NOISE <= ratio <= NOISE:
        return ratio, "same"
    return ratio, f"{fmt(ratio)}x better" if ratio > 1 else f"{fmt(1 / ratio)}x worse"


def compare(earlier: Path, current: Path) -> list[str]:
    """Lines comparing the figures in ``current`` (this run's ``--out``) with ``earlier``."""
    before = load_figures(earlier)
    after = load_figures(current)
    lines = [f"== compared with {earlier}"]
    for key in sorted(after):
        new = after[key]
        old = before.get(key)
        label = f"{new.suite}/{new.name}"
        if old is None:
            lines.append(f"{label}: {fmt(new.value)} {new.unit} (new; not in the earlier run)")
            continue
        _, word = change(old, new)
        flip = ""
        if old.met != new.met:
            flip = " | goal now MET" if new.met else " | goal now MISSED"
        loads = f"load {_load(old.load)} -> {_load(new.load)}"
        lines.append(
            f"{label}: {fmt(old.value)} -> {fmt(new.value)} {new.unit}: {word}{flip} ({loads})"
        )
    for key in sorted(set(before) - set(after)):
        lines.append(f"{key[0]}/{key[1]}: not run this time")
    return lines


def _load(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def print_comparison(earlier: Path, current: Path) -> None:
    for line in compare(earlier, current):
        log(line)
