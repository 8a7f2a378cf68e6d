"""Data drift between a reference and a current sample, column by column.

The default method per column is Evidently 0.7's, so both give the same verdicts:

* reference values (after dropping missing values, NaN and +/-inf) <= 1000: a numeric column
  with more than 5 distinct values (both samples together) gets Kolmogorov-Smirnov (drift
  when p <= 0.05); any other column chi-squared when it has more than 2 distinct values,
  else the two-proportion z-test (drift when p < 0.05);
* more than 1000: a numeric column with more than 5 distinct values gets the Wasserstein
  distance normed by the reference's standard deviation, any other column the
  Jensen-Shannon distance (drift when >= 0.1);
* the dataset drifts when at least half of the compared columns drift.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from mlcycle.errors import InvalidInputError
from mlcycle.monitoring.methods import (
    ColumnKind,
    ColumnStatus,
    DriftMethod,
    MethodArg,
    ThresholdArg,
    parse_method,
    parse_threshold,
    per_column,
)
from mlcycle.monitoring.pairs import CategoryPair, NumericPair, Pair
from mlcycle.monitoring.profile import (
    UNSUPPORTED,
    ColumnSample,
    Frame,
    ReferenceProfile,
    current_sample,
    open_frame,
    reference_sample,
)
from mlcycle.monitoring.report import ColumnDrift, DriftReport, dataset_verdict
from mlcycle.monitoring.wasserstein import Workspace

#: Tables with at least this many reference values in all are compared on several threads.
_PARALLEL_VALUES = 2_000_000
_MAX_WORKERS = 4


def drift(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    method: MethodArg = None,
    threshold: ThresholdArg = None,
    *,
    drift_share: float = 0.5,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column.

    Args:
        reference: a pandas DataFrame, a pyarrow Table or a dict of arrays; or a
            :class:`ReferenceProfile` built once from one, to compare many windows.
        current: the data to check, of the same forms (not a profile).
        columns: the columns to compare (default: the reference's; columns only the
            current data has are reported as ``new_in_current``).
        method: ``ks``, ``chisquare``, ``z``, ``wasserstein``, ``jensenshannon``, ``psi``
            or ``kl_div`` for every column, or a mapping of column name to method; columns
            without one get Evidently 0.7's default (see the module docstring).
        threshold: one number or a mapping of column name to number; the default is the
            method's (0.05 for the tests' p-values, 0.1 for distances).
        drift_share: the share of drifted columns at which the dataset drifts.

    Returns:
        A :class:`DriftReport`; a column that cannot be compared (missing on one side,
        no values left, mismatched types, ...) has a status saying why, never an error.

    Raises:
        InvalidInputError: an unknown method, a bad threshold or drift share, a mapping
            naming a column not compared, a column in neither sample, or input that is
            not a table (the error's ``field`` names the argument).

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> ref = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
        >>> cur = pd.DataFrame({"x": rng.normal(0.5, 1, 5000), "c": rng.choice(["a", "b"], 5000)})
        >>> report = drift(ref, cur)
        >>> report.drifted_columns, report.share, report.drifted
        (['x'], 0.5, True)
        >>> drift(ref, cur, method={"x": "psi"}, threshold={"x": 0.2})["x"].drifted
        True
    """
    share_limit = _drift_share(drift_share)
    profile = _profile(reference, columns)
    frame = open_frame(current, field="current")
    names, statuses = _column_plan(profile, frame, columns)
    method_all, method_for = per_column(method, names, parse_method, field="method")
    threshold_all, threshold_for = per_column(threshold, names, parse_threshold, field="threshold")

    spaces = threading.local()  # one Workspace per thread, for this call only

    def one(name: str) -> ColumnDrift:
        if name in statuses:
            status, message = statuses[name]
            return ColumnDrift(name=name, status=status, message=message)
        chosen = method_for.get(name, method_all)
        limit = threshold_for.get(name, threshold_all)
        if not hasattr(spaces, "workspace"):
            spaces.workspace = Workspace()
        return compare_column(profile[name], frame, name, chosen, limit, workspace=spaces.workspace)

    # NumPy releases the GIL in most of the work: big tables use a thread per core.
    workers = min(len(names), os.cpu_count() or 1, _MAX_WORKERS)
    if workers > 1 and profile.rows * len(names) >= _PARALLEL_VALUES:
        with ThreadPoolExecutor(workers, thread_name_prefix="mlcycle-drift") as pool:
            results = list(pool.map(one, names))
    else:
        results = [one(name) for name in names]
    share, drifted = dataset_verdict(results, share_limit)
    return DriftReport(
        columns={r.name: r for r in results}, share=share, drifted=drifted, drift_share=share_limit
    )


def _drift_share(value: object) -> float:
    share = parse_threshold(value, "drift_share")
    if not 0 < share <= 1:
        raise InvalidInputError(
            f"drift_share: must be in (0, 1], not {value!r}", field="drift_share"
        )
    return share


def _profile(reference: Any, columns: Sequence[str] | None) -> ReferenceProfile:
    if columns is not None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise InvalidInputError("columns: expected a list of column names", field="columns")
        if len(set(columns)) != len(columns):
            raise InvalidInputError("columns: a column is named twice", field="columns")
    if isinstance(reference, ReferenceProfile):
        return reference
    frame = open_frame(reference, field="reference")
    names = frame.names if columns is None else [c for c in columns if c in frame.names]
    samples = {name: reference_sample(frame.raw(name), name) for name in names}
    return ReferenceProfile(samples, rows=frame.rows)


def _column_plan(
    profile: ReferenceProfile, frame: Frame, columns: Sequence[str] | None
) -> tuple[list[str], dict[str, tuple[ColumnStatus, str]]]:
    """The columns to report, and those with a status known before comparing."""
    statuses: dict[str, tuple[ColumnStatus, str]] = {}
    if columns is None:
        names = profile.names + [n for n in frame.names if n not in profile]
        for name in names:
            if name not in profile:
                statuses[name] = (ColumnStatus.NEW_IN_CURRENT, "only the current data has it")
    else:
        names = list(columns)
        absent = [n for n in names if n not in profile and n not in frame.names]
        if absent:
            raise InvalidInputError(
                f"columns: {', '.join(repr(a) for a in absent)} in neither the reference "
                "nor the current data",
                field="columns",
            )
        for name in names:
            if name not in profile:
                statuses[name] = (ColumnStatus.MISSING_IN_REFERENCE, "the reference lacks it")
    for name in names:
        if name in profile and name not in frame.names:
            statuses[name] = (ColumnStatus.MISSING_IN_CURRENT, "the current data lacks it")
    return names, statuses


def compare_column(
    ref: ColumnSample,
    frame: Frame,
    name: str,
    method: DriftMethod | None,
    threshold: float | None,
    *,
    workspace: Workspace | None = None,
) -> ColumnDrift:
    """One column's drift, or the status that explains why there is none."""
    if ref.kind is None:
        return _status(name, ColumnStatus.UNSUPPORTED_TYPE, f"values of type {ref.dtype}")
    raw = frame.raw(name)
    cur = current_sample(raw, ref)
    if isinstance(cur, str):
        status = ColumnStatus.TYPE_MISMATCH
        if raw.family == UNSUPPORTED:
            status = ColumnStatus.UNSUPPORTED_TYPE
        return _status(name, status, cur, ref=ref)
    base = ColumnDrift(
        name=name,
        status=ColumnStatus.OK,
        kind=ref.kind,
        reference_rows=ref.size,
        current_rows=cur.size,
    )
    if ref.size == 0:
        message = "no reference values (empty, or all missing, NaN or inf)"
        return replace(base, status=ColumnStatus.EMPTY_REFERENCE, message=message)
    if cur.size == 0:
        message = "no current values (empty, or all missing, NaN or inf)"
        return replace(base, status=ColumnStatus.EMPTY_CURRENT, message=message)
    pair: Pair = (
        NumericPair(ref, cur, workspace)
        if ref.kind is ColumnKind.NUMERIC
        else CategoryPair(ref, cur)
    )
    chosen = method or pair.default_method()
    if chosen.numeric_only and ref.kind is not ColumnKind.NUMERIC:
        return replace(
            base,
            status=ColumnStatus.METHOD_NOT_APPLICABLE,
            method=chosen,
            message=f"{chosen.value} compares numbers; this column is categorical",
            distribution=pair.distribution(),
        )
    limit = chosen.default_threshold if threshold is None else threshold
    score = pair.score(chosen)
    return replace(
        base,
        method=chosen,
        score=score,
        threshold=limit,
        drifted=chosen.is_drift(score, limit),
        distribution=pair.distribution(),
    )


def _status(
    name: str, status: ColumnStatus, message: str, *, ref: ColumnSample | None = None
) -> ColumnDrift:
    return ColumnDrift(
        name=name,
        status=status,
        message=message,
        kind=ref.kind if ref is not None else None,
        reference_rows=ref.size if ref is not None else 0,
    )
