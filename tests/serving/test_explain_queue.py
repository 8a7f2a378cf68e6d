"""The explain queue in process: concurrent requests to one version merged into batches,
each request given exactly its own rows' prediction and attributions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import mlcycle
from mlcycle.serving.decode import Inputs
from mlcycle.serving.explain_queue import Explained, Explainers
from mlcycle.serving.model import ServedModel

COLUMNS = [f"f{i}" for i in range(6)]


def _served(tmp_path: Path) -> tuple[ServedModel, pd.DataFrame]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(400, len(COLUMNS))), columns=COLUMNS)
    y = (X["f0"] - 0.5 * X["f1"] + rng.normal(0, 0.5, len(X)) > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=25, max_depth=3, n_jobs=1).fit(X, y)
    mlcycle.models.save(model, tmp_path / "gbm", input_example=X.head(30))
    loaded = mlcycle.models.load(tmp_path / "gbm")
    return ServedModel(loaded, key="gbm/1", name="gbm", version=1, label="1"), X


async def _explain_all(
    explainers: Explainers, served: ServedModel, requests: list[Inputs]
) -> list[Explained]:
    queue = explainers.queue(served)
    checked = [served.check(inputs) for inputs in requests]
    return await asyncio.gather(
        *(
            queue.explain(part, rows=inputs.rows, budget_s=5.0)
            for part, inputs in zip(checked, requests, strict=True)
        )
    )


@pytest.mark.parametrize("shape", ["matrix", "columns"])
def test_concurrent_requests_are_merged_and_each_gets_its_own_rows(
    tmp_path: Path, shape: str
) -> None:
    served, X = _served(tmp_path)
    sizes = [1, 3, 1, 2, 1, 1, 4, 1, 2]
    requests: list[Inputs] = []
    start = 0
    for size in sizes:
        rows = X.iloc[start : start + size]
        start += size
        if shape == "matrix":  # an OIP tensor [n, k] in the signature's order
            requests.append(Inputs(rows=size, matrix=rows.to_numpy()))
        else:  # named columns
            requests.append(Inputs(rows=size, columns={c: rows[c].to_numpy() for c in COLUMNS}))
    explainers = Explainers()
    try:
        alone = [asyncio.run(_explain_all(explainers, served, [r]))[0] for r in requests]
        queue = explainers.queue(served)
        assert (queue.batches, queue.requests) == (len(sizes), len(sizes))
        together = asyncio.run(_explain_all(explainers, served, requests))
    finally:
        explainers.close()
    # the first request runs alone while the others queue, then they go together
    assert queue.requests - len(sizes) == len(sizes)
    assert queue.batches - len(sizes) == 2
    for one, merged, size in zip(alone, together, sizes, strict=True):
        assert merged.attributions.values.shape == (size, len(COLUMNS))
        np.testing.assert_allclose(merged.attributions.values, one.attributions.values, atol=1e-12)
        np.testing.assert_array_equal(merged.prediction.predictions, one.prediction.predictions)
        assert merged.prediction.proba is not None
        assert one.prediction.proba is not None
        np.testing.assert_allclose(merged.prediction.proba, one.prediction.proba, atol=1e-12)
        assert merged.attributions.base_value == one.attributions.base_value
    # and they are the model's: the attributions add up to its log-odds
    rows = X.iloc[: sum(sizes)]
    values = np.vstack([m.attributions.values for m in together])
    native: Any = served.model.native
    margin = native.predict(rows, output_margin=True)
    np.testing.assert_allclose(
        values.sum(axis=1) + together[0].attributions.base_value, margin, atol=1e-4
    )
