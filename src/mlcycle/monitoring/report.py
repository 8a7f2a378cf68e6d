"""What :func:`mlcycle.monitoring.drift` returns: a :class:`DriftReport` of one
:class:`ColumnDrift` per column, each with a binned :class:`Distribution` of both samples
(never their rows), as a dict (``to_dict``/``from_dict``, JSON-ready) or an HTML page.

    >>> report = DriftReport(columns={}, share=None, drifted=None)
    >>> report.to_dict()["share"], report.reason
    (None, 'no column to compare')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlcycle.monitoring.html import render_drift_fragment, render_drift_page
from mlcycle.monitoring.methods import ColumnKind, ColumnStatus, DriftMethod


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """A column's reference and current samples, binned for plotting.

    ``kind`` is ``"histogram"`` (``edges``: ``len(reference) + 1`` bin edges over both
    samples' range) or ``"categories"`` (``labels``: one per bar; the most frequent values,
    then ``"(other)"`` for the rest). ``reference`` and ``current`` are shares of each
    sample's non-missing values.
    """

    kind: str
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "reference": list(self.reference),
            "current": list(self.current),
        }
        if self.kind == "histogram":
            data["edges"] = list(self.edges)
        else:
            data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        return cls(
            kind=str(data["kind"]),
            reference=tuple(float(x) for x in data["reference"]),
            current=tuple(float(x) for x in data["current"]),
            edges=tuple(float(x) for x in data.get("edges", ())),
            labels=tuple(str(x) for x in data.get("labels", ())),
        )


@dataclass(frozen=True, kw_only=True)
class ColumnDrift:
    """One column's comparison.

    ``score`` is the method's p-value (tests) or distance; ``drifted`` its verdict against
    ``threshold``. When ``status`` is not ``ok``, ``score`` and ``drifted`` are ``None``
    and ``message`` says why. ``reference_rows`` and ``current_rows`` count the values
    compared (missing values, NaN and +/-inf dropped).
    """

    name: str
    status: ColumnStatus
    kind: ColumnKind | None = None
    method: DriftMethod | None = None
    score: float | None = None
    threshold: float | None = None
    drifted: bool | None = None
    reference_rows: int = 0
    current_rows: int = 0
    message: str | None = None
    distribution: Distribution | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.value if self.method is not None else None,
            "score": self.score,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "status": self.status.value,
            "kind": self.kind.value if self.kind is not None else None,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "message": self.message,
            "distribution": self.distribution.to_dict() if self.distribution else None,
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> ColumnDrift:
        distribution = data.get("distribution")
        return cls(
            name=name,
            status=ColumnStatus(data.get("status", "ok")),
            kind=ColumnKind(data["kind"]) if data.get("kind") else None,
            method=DriftMethod(data["method"]) if data.get("method") else None,
            score=_float_or_none(data.get("score")),
            threshold=_float_or_none(data.get("threshold")),
            drifted=data.get("drifted"),
            reference_rows=int(data.get("reference_rows", 0)),
            current_rows=int(data.get("current_rows", 0)),
            message=data.get("message"),
            distribution=Distribution.from_dict(distribution) if distribution else None,
        )


def _float_or_none(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class DriftReport:
    """The drift of each column and of the dataset.

    ``share`` is the share of compared columns (status ``ok``) that drifted, ``drifted``
    whether it reached ``drift_share`` (0.5 by default, as in Evidently); both are ``None``
    when no column could be compared.

        >>> import pandas as pd
        >>> from mlcycle.monitoring import drift
        >>> ref = pd.DataFrame({"x": [float(i % 50) for i in range(2000)]})
        >>> report = drift(ref, ref.assign(x=ref.x + 10))
        >>> report.drifted, report["x"].method.value, round(report["x"].score, 3)
        (True, 'wasserstein', 0.693)
        >>> html = report.to_html()  # a self-contained page with a table and plots
    """

    columns: Mapping[str, ColumnDrift]
    share: float | None
    drifted: bool | None
    drift_share: float = 0.5
    title: str = field(default="Data drift", compare=False)

    def __getitem__(self, name: str) -> ColumnDrift:
        return self.columns[name]

    @property
    def drifted_columns(self) -> list[str]:
        """The names of the columns that drifted, in report order."""
        return [name for name, column in self.columns.items() if column.drifted]

    @property
    def compared_columns(self) -> list[str]:
        """The names of the columns that could be compared (status ``ok``)."""
        return [n for n, c in self.columns.items() if c.status is ColumnStatus.OK]

    @property
    def reason(self) -> str | None:
        """Why there is no verdict (``share`` is None): the columns' statuses, counted, e.g.
        ``"no column could be compared: 3 empty_current (the current data has no rows)"``;
        None when there is a verdict."""
        if self.share is not None:
            return None
        if not self.columns:
            return "no column to compare"
        counts: dict[str, int] = {}
        messages: dict[str, str] = {}
        for column in self.columns.values():
            counts[column.status.value] = counts.get(column.status.value, 0) + 1
            if column.message:
                messages.setdefault(column.status.value, column.message)
        parts = [
            f"{count} {status}" + (f" ({messages[status]})" if status in messages else "")
            for status, count in counts.items()
        ]
        return "no column could be compared: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """``{"columns": {name: {"method", "score", "threshold", "drifted", "status",
        "kind", "reference_rows", "current_rows", "message", "distribution"}},
        "share", "drifted", "drift_share", "reason"}``, ready for JSON (``reason`` says why
        there is no verdict, else null)."""
        return {
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
            "share": self.share,
            "drifted": self.drifted,
            "drift_share": self.drift_share,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """The report ``to_dict`` gave (e.g. read back from JSON)."""
        columns = {str(k): ColumnDrift.from_dict(str(k), v) for k, v in data["columns"].items()}
        return cls(
            columns=columns,
            share=_float_or_none(data.get("share")),
            drifted=data.get("drifted"),
            drift_share=float(data.get("drift_share", 0.5)),
        )

    def to_html(self, *, title: str | None = None) -> str:
        """One self-contained HTML page: the drift table and, per column, the reference
        and current distributions as inline SVG (from binned shares, never rows)."""
        return render_drift_page(self, title=title or self.title)

    def _repr_html_(self) -> str:
        return render_drift_fragment(self)

    def __repr__(self) -> str:
        if self.share is None:
            return f"DriftReport(drifted=None, columns={len(self.columns)}, reason={self.reason!r})"
        return (
            f"DriftReport(drifted={self.drifted}, share={self.share:.0%}, "
            f"columns={len(self.columns)}, drifted_columns={self.drifted_columns})"
        )


def dataset_verdict(
    columns: Sequence[ColumnDrift], drift_share: float
) -> tuple[float | None, bool | None]:
    """The share of compared columns that drifted, and whether it reaches ``drift_share``."""
    compared = [c for c in columns if c.status is ColumnStatus.OK]
    if not compared:
        return None, None
    share = sum(1 for c in compared if c.drifted) / len(compared)
    return share, share >= drift_share
