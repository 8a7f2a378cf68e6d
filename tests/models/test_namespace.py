"""The public ``mlcycle.models`` namespace: documented names, and a cheap import."""

from __future__ import annotations

import subprocess
import sys

import mlcycle
import mlcycle.models as mm


def test_names_resolve_and_are_documented() -> None:
    assert mlcycle.models is mm
    assert sorted(mm.__all__) == mm.__all__
    for name in mm.__all__:
        assert getattr(mm, name).__doc__, f"mlcycle.models.{name} has no docstring"
    assert {"evaluate", "models"} <= set(mlcycle.__all__)


def test_importing_mlcycle_loads_no_model_or_plotting_library() -> None:
    code = (
        "import sys, mlcycle, mlcycle.models, mlcycle.evaluation.evaluator\n"
        "heavy = ['pandas', 'sklearn', 'skops', 'xgboost', 'lightgbm', 'matplotlib', 'plotly']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == ""
