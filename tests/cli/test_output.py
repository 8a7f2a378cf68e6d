"""Shared rendering helpers of :mod:`mlcycle.cli.output`."""

from __future__ import annotations

import json
import math

import pytest

from mlcycle.cli import output


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (math.nan, "NaN"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (100.0, "100"),
        (0.99444, "0.9944"),
        (1234567.891, "1.235e+06"),
    ],
)
def test_fmt_number(value: float | None, text: str) -> None:
    assert output.fmt_number(value) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "-"), (850, "850ms"), (12_300, "12.3s"), (245_000, "4m 05s"), (7_380_000, "2h 03m")],
)
def test_fmt_duration(ms: int | None, text: str) -> None:
    assert output.fmt_duration(ms) == text


def test_fmt_size() -> None:
    assert output.fmt_size(5) == "5 B"
    assert output.fmt_size(2048) == "2.0 KB"
    assert output.fmt_size(None) == "-"


def test_mask_uri_hides_passwords_only() -> None:
    assert (
        output.mask_uri("postgresql+psycopg://me:s3cret@db:5432/ml")
        == "postgresql+psycopg://me:***@db:5432/ml"
    )
    assert output.mask_uri("sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"


def test_metric_field_quotes_keys_with_spaces() -> None:
    assert output.metric_field("roc_auc") == "metrics.roc_auc"
    assert output.metric_field("val auc") == "metrics.`val auc`"


def test_print_json_is_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_json({"a": math.nan, "b": [math.inf, 1.5], "c": None})
    text = capsys.readouterr().out

    def reject(name: str) -> None:
        raise AssertionError(name)

    assert json.loads(text, parse_constant=reject) == {"a": None, "b": [None, 1.5], "c": None}
