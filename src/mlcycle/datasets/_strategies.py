"""How :func:`~mlcycle.datasets.cleaning.impute_missing` fills a column (no pandas or
pyarrow here: :mod:`mlcycle.datasets` re-exports :class:`Constant`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Constant:
    """Impute with a fixed value: ``impute_missing(t, {"city": Constant("unknown")})``."""

    value: Any


Strategy = Literal["mean", "median", "mode"] | Constant
