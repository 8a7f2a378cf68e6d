"""Generated test data (seeded, no downloads)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mixed_frame(n: int = 5_000, seed: int = 0) -> pd.DataFrame:
    """Numbers with gaps, categories, booleans and timestamps."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(10.0, 3.0, n)
    normal[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "normal": normal,
            "small_int": rng.integers(-5, 6, n),
            "city": rng.choice(["Oslo", "Rome", "Lima", "Pune"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "flag": rng.random(n) < 0.25,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
        }
    )
