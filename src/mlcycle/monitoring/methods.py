"""The drift methods by name, what each returns, its default threshold and which columns it
fits; the vocabulary of a drift report (column kinds and statuses).

Names and defaults are Evidently 0.7's, so its users can carry their settings over::

    >>> DriftMethod("wasserstein").default_threshold
    0.1
    >>> DriftMethod.KS.is_test, DriftMethod.PSI.is_test
    (True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import TypeAlias, TypeVar

from mlcycle.errors import InvalidInputError


class ColumnKind(StrEnum):
    """How a column's values are compared: as numbers or as categories.

    Floats, and integers with more than 10 distinct reference values, are numeric; strings,
    booleans, pandas categoricals and integers with at most 10 distinct values are
    categorical (Evidently infers the same).
    """

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class ColumnStatus(StrEnum):
    """Whether a column could be compared; every status but ``ok`` leaves the column's
    ``score`` and ``drifted`` at ``None`` and out of the dataset's drift share.

    * ``ok``: compared.
    * ``missing_in_current``: the reference has the column, the current data does not.
    * ``missing_in_reference``: a column asked for (``columns=``) that only the current
      data has.
    * ``new_in_current``: a column only the current data has (reported, not compared).
    * ``empty_reference`` / ``empty_current``: no value left after dropping missing values,
      NaN and +/-inf (an empty window, or an all-NaN column).
    * ``type_mismatch``: e.g. numbers in the reference, strings in the current data.
    * ``unsupported_type``: values drift is not defined for (dates, lists, mixed objects).
    * ``method_not_applicable``: the method asked for does not fit the column's kind
      (KS and Wasserstein need numbers).
    """

    OK = "ok"
    MISSING_IN_CURRENT = "missing_in_current"
    MISSING_IN_REFERENCE = "missing_in_reference"
    NEW_IN_CURRENT = "new_in_current"
    EMPTY_REFERENCE = "empty_reference"
    EMPTY_CURRENT = "empty_current"
    TYPE_MISMATCH = "type_mismatch"
    UNSUPPORTED_TYPE = "unsupported_type"
    METHOD_NOT_APPLICABLE = "method_not_applicable"


class DriftMethod(StrEnum):
    """A way to compare a column's reference and current values.

    Statistical tests (``ks``, ``chisquare``, ``z``) score with a p-value and flag drift
    when it is below the threshold (KS: at or below); distances (``wasserstein``, normed by
    the reference's standard deviation, ``jensenshannon``, ``psi``, ``kl_div``) flag drift
    when the distance is at or above it.
    """

    KS = "ks"
    CHISQUARE = "chisquare"
    Z = "z"
    WASSERSTEIN = "wasserstein"
    JENSENSHANNON = "jensenshannon"
    PSI = "psi"
    KL_DIV = "kl_div"

    @property
    def is_test(self) -> bool:
        """True when the score is a p-value (small means drift)."""
        return self in _TESTS

    @property
    def default_threshold(self) -> float:
        return 0.05 if self.is_test else 0.1

    @property
    def numeric_only(self) -> bool:
        return self in (DriftMethod.KS, DriftMethod.WASSERSTEIN)

    def is_drift(self, score: float, threshold: float) -> bool:
        """The verdict for ``score`` against ``threshold``, as Evidently decides it."""
        if self is DriftMethod.KS:
            return score <= threshold
        if self.is_test:
            return score < threshold
        return score >= threshold


_TESTS = frozenset({DriftMethod.KS, DriftMethod.CHISQUARE, DriftMethod.Z})

MethodArg: TypeAlias = str | DriftMethod | Mapping[str, str | DriftMethod] | None
ThresholdArg: TypeAlias = float | Mapping[str, float] | None
T = TypeVar("T")


def parse_method(value: object, field: str = "method") -> DriftMethod:
    """``value`` as a :class:`DriftMethod`, or an InvalidInputError naming ``field``."""
    if isinstance(value, DriftMethod):
        return value
    if isinstance(value, str):
        try:
            return DriftMethod(value.strip().lower())
        except ValueError:
            pass
    known = ", ".join(m.value for m in DriftMethod)
    raise InvalidInputError(
        f"{field}: unknown drift method {value!r}; use one of: {known}", field=field
    )


def parse_threshold(value: object, field: str = "threshold") -> float:
    """A finite, non-negative threshold, or an InvalidInputError naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            f"{field}: a threshold must be a number, not {value!r}", field=field
        )
    number = float(value)
    if not (number >= 0.0 and number != float("inf")):
        raise InvalidInputError(
            f"{field}: a threshold must be a finite number >= 0, not {value!r}", field=field
        )
    return number


def per_column(
    value: object, names: Sequence[str], parse: Callable[[object, str], T], *, field: str
) -> tuple[T | None, dict[str, T]]:
    """Split a one-value-or-mapping argument into (the value for every column, per-column
    values); a mapping may only name columns of ``names``."""
    if value is None:
        return None, {}
    if isinstance(value, Mapping):
        unknown = [str(k) for k in value if k not in names]
        if unknown:
            raise InvalidInputError(
                f"{field}: no column {', '.join(repr(u) for u in unknown)} is compared "
                f"(columns: {', '.join(names) or 'none'})",
                field=field,
            )
        return None, {str(k): parse(v, f"{field}[{k!r}]") for k, v in value.items()}
    return parse(value, field), {}
