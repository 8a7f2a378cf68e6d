"""Validation reports as values: how each rule fared on a dataset version.

:mod:`mlcycle.datasets.validation` evaluates rules and builds them; the store keeps them as
JSON (:meth:`ValidationReport.to_dict`) with the dataset version they judged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlcycle.entities import _html
from mlcycle.errors import InvalidInputError


@dataclass(frozen=True)
class RuleResult:
    """How one rule fared; ``failing_rows`` is None for rules not about rows."""

    rule: str
    kind: str
    column: str | None
    passed: bool
    message: str
    failing_rows: int | None = None
    example_rows: tuple[int, ...] = ()  # 0-based row numbers of the examples
    examples: tuple[dict[str, Any], ...] = ()  # up to 5 failing rows, as JSON-ready dicts


@dataclass(frozen=True)
class ValidationReport:
    num_rows: int
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "num_rows": self.num_rows,
            "passed": self.passed,
            "results": [
                {
                    **dataclasses.asdict(r),
                    "example_rows": list(r.example_rows),
                    "examples": list(r.examples),
                }
                for r in self.results
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        try:
            results = tuple(
                RuleResult(
                    rule=str(r["rule"]),
                    kind=str(r["kind"]),
                    column=r.get("column"),
                    passed=bool(r["passed"]),
                    message=str(r["message"]),
                    failing_rows=r.get("failing_rows"),
                    example_rows=tuple(int(i) for i in r.get("example_rows", ())),
                    examples=tuple(dict(e) for e in r.get("examples", ())),
                )
                for r in data["results"]
            )
            return cls(num_rows=int(data["num_rows"]), results=results)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a validation report: {exc!r}", field="data") from exc

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            mark = (
                "<span style='color:#080'>✔</span>"
                if r.passed
                else ("<span style='color:#c00'>✘</span>")
            )
            example = _html.fmt(r.examples[0]) if r.examples else ""
            rows.append(
                [mark, _html.fmt(r.rule), _html.fmt(r.failing_rows), _html.fmt(r.message), example]
            )
        verdict = "passed" if self.passed else f"{len(self.failures)} rule(s) failed"
        caption = f"Validation of {self.num_rows:,} rows: {verdict}"
        return _html.table(caption, ["", "rule", "failing rows", "detail", "example"], rows)
