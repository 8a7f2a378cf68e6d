"""Reproducible train/validation/test splits as arrays of row numbers.

:func:`split_indices` is a pure function of the column values, the fractions and the seed:
the same data split in batches of any size, or read from Parquet instead of pandas, gives
the same indices. Four modes:

* random (default): a seeded permutation of all rows;
* ``stratify="label"``: each class is split on its own, so it keeps its share in every
  split (missing labels form a class of their own);
* ``group="user_id"``: whole groups go to one split, about the requested share of rows;
* ``time="ts"``: rows sorted by time (ties by row number); the last rows form the test
  split and the rows before them the validation split.

    >>> import pandas as pd
    >>> parts = split_indices(pd.DataFrame({"x": range(10)}), test=0.2, seed=1)
    >>> sorted(parts), len(parts["train"]), len(parts["test"])
    (['test', 'train'], 8, 2)

Each array holds 0-based row positions (``DataFrame.iloc``, ``Table.take``), sorted
ascending (int64). Split sizes are rounded to the nearest row, and a requested split is
never left empty.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets.reading import DataLike, open_batches, read_table
from mlcycle.errors import InvalidInputError

Indices = npt.NDArray[np.int64]
_LABELS = {"train": 0, "validation": 1, "test": 2}


def split_indices(
    table: DataLike,
    test: float = 0.2,
    validation: float = 0.0,
    stratify: str | None = None,
    group: str | None = None,
    time: str | None = None,
    seed: int = 0,
) -> dict[str, Indices]:
    """Row numbers of the ``train`` and ``test`` splits (and ``validation`` if > 0).

    >>> import pyarrow as pa
    >>> t = pa.table({"ts": [5, 1, 4, 2, 3]})
    >>> split_indices(t, test=0.2, time="ts")["test"].tolist()
    [0]
    """
    for name, share in (("test", test), ("validation", validation)):
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
            raise InvalidInputError(
                f"{name} must be a fraction in [0, 1), got {share!r}", field=name
            )
    if test + validation >= 1:
        raise InvalidInputError(
            f"test + validation must be below 1, got {test} + {validation}", field="validation"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(f"seed must be an integer >= 0, got {seed!r}", field="seed")
    modes = {k: v for k, v in (("stratify", stratify), ("group", group), ("time", time)) if v}
    if len(modes) > 1:
        raise InvalidInputError(
            f"use at most one of stratify, group and time, got {', '.join(modes)}",
            field=next(iter(modes)),
        )
    mode, column = next(iter(modes.items()), ("random", None))
    values, n = _column(table, mode, column)
    shares = {"test": test, "validation": validation}
    rng = np.random.default_rng(seed)
    if mode == "stratify":
        parts = _stratified(*_codes(values), shares, rng, column or "")
    elif mode == "group":
        parts = _grouped(_codes(values)[0], shares, rng, column or "")
    else:
        # Random or time: order the rows, then cut train | validation | test.
        order = _time_order(values, column or "") if mode == "time" else rng.permutation(n)
        labels = _ranked_labels(n, shares)
        parts = {k: order[labels == _LABELS[k]] for k in _names(shares)}
    return {k: np.sort(v).astype(np.int64) for k, v in parts.items()}


def _names(shares: dict[str, float]) -> list[str]:
    return ["train", "test"] + (["validation"] if shares["validation"] > 0 else [])


def _column(table: DataLike, mode: str, column: str | None) -> tuple[pa.Array | None, int]:
    if column is None:
        stream = open_batches(table)
        rows = stream.num_rows
        if rows is None:  # CSV: count while streaming
            rows = sum(b.num_rows for b in open_batches(table, columns=[stream.schema.names[0]]))
        return None, rows
    schema = open_batches(table).schema
    if not isinstance(column, str) or column not in schema.names:
        raise InvalidInputError(f"{mode}: unknown column {column!r}", field=mode)
    values = read_table(table, columns=[column])[column].combine_chunks()
    return values, len(values)


def _sizes(n: int, shares: dict[str, float], what: str) -> dict[str, int]:
    """Rows per split: rounded, at least one for each requested split, train not empty."""
    sizes = {k: (max(1, round(s * n)) if s > 0 else 0) for k, s in shares.items()}
    if n - sum(sizes.values()) < 1:
        needed = 1 + sum(1 for s in shares.values() if s > 0)
        raise InvalidInputError(
            f"{what} has {n} row(s); this split needs at least {needed}",
            field="stratify" if what.startswith("class") else "test",
        )
    return sizes


def _ranked_labels(n: int, shares: dict[str, float]) -> npt.NDArray[np.int8]:
    """Split label per rank: train first, then validation, then test."""
    sizes = _sizes(n, shares, "the data")
    labels = np.zeros(n, dtype=np.int8)
    labels[n - sizes["test"] - sizes["validation"] : n - sizes["test"]] = _LABELS["validation"]
    labels[n - sizes["test"] :] = _LABELS["test"]
    return labels


def _time_order(values: Any, column: str) -> Indices:
    if values.null_count:
        raise InvalidInputError(
            f"time column '{column}' has {values.null_count} missing value(s)", field="time"
        )
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    # sort_indices is stable: equal times keep row order.
    return np.asarray(pc.sort_indices(values).to_numpy(), dtype=np.int64)


def _codes(values: Any) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Dense codes numbered in sorted value order (missing last), independent of batching;
    and the value of each code."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    uniques = pc.unique(values.drop_null())
    uniques = uniques.take(pc.sort_indices(uniques))
    codes = pc.fill_null(pc.index_in(values, value_set=uniques), len(uniques))
    return np.asarray(codes.to_numpy(), dtype=np.int64), [*uniques.to_pylist(), None]


def _stratified(
    codes: npt.NDArray[np.int64],
    classes: list[Any],
    shares: dict[str, float],
    rng: np.random.Generator,
    column: str,
) -> dict[str, Indices]:
    # Shuffle, then order by class: each class is a random permutation of its rows.
    order = np.lexsort((rng.random(len(codes)), codes)).astype(np.int64)
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    labels = np.zeros(len(codes), dtype=np.int8)
    for code in np.flatnonzero(counts):
        name = "missing" if classes[code] is None else repr(classes[code])
        sizes = _sizes(int(counts[code]), shares, f"class {name} of stratify column '{column}'")
        end = starts[code] + counts[code]
        labels[end - sizes["test"] - sizes["validation"] : end - sizes["test"]] = 1
        labels[end - sizes["test"] : end] = 2
    return {k: order[labels == _LABELS[k]] for k in _names(shares)}


def _grouped(
    codes: npt.NDArray[np.int64], shares: dict[str, float], rng: np.random.Generator, column: str
) -> dict[str, Indices]:
    counts = np.bincount(codes)
    groups = rng.permutation(np.flatnonzero(counts))
    wanted = [k for k in ("test", "validation") if shares[k] > 0]
    if len(groups) < len(wanted) + 1:
        raise InvalidInputError(
            f"group column '{column}' has {len(groups)} group(s); need {len(wanted) + 1}",
            field="group",
        )
    n = len(codes)
    label_of_group = np.zeros(len(counts), dtype=np.int8)
    cursor = 0
    for name in wanted:
        # Take whole groups until the share of rows is closest to the target, keeping at
        # least one group for this split and one for each split still to fill (and train).
        rows = np.cumsum(counts[groups[cursor:]])
        remaining = len(wanted) - wanted.index(name)
        best = int(np.argmin(np.abs(rows - shares[name] * n))) + 1
        take = min(max(best, 1), len(groups) - cursor - remaining)
        label_of_group[groups[cursor : cursor + take]] = _LABELS[name]
        cursor += take
    labels = label_of_group[codes]
    return {k: np.flatnonzero(labels == _LABELS[k]).astype(np.int64) for k in _names(shares)}
