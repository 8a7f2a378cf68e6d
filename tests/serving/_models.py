"""Python models for the serving tests: one that fails on a trigger value, one that is
slow, one that always fails. They live in a module (not a test file) so the server
process can import them; load them with ``--trust tests.serving._models.<Class>``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TRIGGER = -999.0


class Flaky:
    """A classifier on ``x``: class 1 when x > 0. Raises when x is ``TRIGGER``."""

    def __init__(self) -> None:
        self.classes_ = np.array([0, 1])

    def predict_proba(self, data: pd.DataFrame) -> Any:
        x = data["x"].to_numpy(dtype=float)
        if (x == TRIGGER).any():
            raise ValueError("the trigger value reached the model")
        p = 1.0 / (1.0 + np.exp(-x))
        return np.column_stack([1.0 - p, p])

    def predict(self, data: pd.DataFrame) -> Any:
        return (self.predict_proba(data)[:, 1] > 0.5).astype(int)


GATE = -1.0


class Slow:
    """Predicts ``x * 2`` after sleeping ``delay`` seconds per call. A row with x equal
    to ``GATE`` holds the call until the file ``gate`` exists (at most a minute)."""

    def __init__(self, delay: float, gate: str = "") -> None:
        self.delay = delay
        self.gate = gate

    def predict(self, data: pd.DataFrame) -> Any:
        x = data["x"].to_numpy(dtype=float)
        if (x == GATE).any():
            deadline = time.monotonic() + 60
            while not Path(self.gate).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        else:
            time.sleep(self.delay)
        return x * 2.0


class Broken:
    """Fails on every call except on its own input example (so it loads and warms)."""

    def predict(self, data: pd.DataFrame) -> Any:
        if (data["x"].to_numpy(dtype=float) == 0.5).all():
            return np.zeros(len(data), dtype=int)
        raise RuntimeError("this candidate is broken")


TRUST = [f"tests.serving._models.{name}" for name in ("Flaky", "Slow", "Broken")]
