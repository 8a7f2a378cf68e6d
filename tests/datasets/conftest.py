"""Fixtures for the dataset stage: a client over SQLite and PostgreSQL stores.

Datasets need a store (not a tracking server), so ``dclient`` is built from ``store_url``
and runs on the store kinds only; ``store`` is the same store, to look into its tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

import mlcycle
from mlcycle.store.sql.schema import (
    DATASET_SOURCES,
    DATASET_VALIDATIONS,
    DATASET_VERSION_PARENTS,
    DATASET_VERSIONS,
    DATASETS,
    RUN_INPUTS,
)
from mlcycle.store.sql.store import SqlStore

DATASET_TABLES = (
    DATASETS,
    DATASET_VERSIONS,
    DATASET_VERSION_PARENTS,
    DATASET_VALIDATIONS,
    DATASET_SOURCES,
    RUN_INPUTS,
)


@pytest.fixture
def artifact_root(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


@pytest.fixture
def dclient(store_url: str, artifact_root: Path) -> Iterator[mlcycle.Client]:
    """A client over an empty store (SQLite or PostgreSQL), set as the default client."""
    c = mlcycle.Client(store_url, str(artifact_root))
    mlcycle.set_client(c)
    yield c
    mlcycle.set_client(None)
    c.close()


def stored_files(root: Path) -> list[str]:
    """Every file under the artifact root (temporary ones too), relative and sorted."""
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def row_counts(store: SqlStore) -> dict[str, int]:
    with store.db.engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in DATASET_TABLES
        }


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Numbers with gaps, a label, a group and a time column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    x[::17] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "x": x,
            "label": rng.choice(["yes", "no"], n, p=[0.3, 0.7]),
            "user": rng.integers(0, 20, n),
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), "h"),
        }
    )
