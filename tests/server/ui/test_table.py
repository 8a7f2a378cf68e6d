"""The runs table's view model: columns as the filter language names fields."""

from __future__ import annotations

import pytest

from mlcycle.entities import Run, RunStatus
from mlcycle.errors import InvalidInputError
from mlcycle.server.ui.table import Column, cell, group_runs, parse_columns, parse_limit


def run(i: int, model: str, loss: float) -> Run:
    return Run(
        id=f"r{i}",
        experiment_id="e",
        name=f"run-{i}",
        status=RunStatus.FINISHED,
        start_time=1000,
        end_time=1500 + i,
        params={"model": model},
        metrics={"loss": loss},
    )


def test_columns_parse_with_metric_aggregates() -> None:
    cols = parse_columns("params.lr, metrics.loss:min,metrics.a:b:max,attributes.duration,tags.t")
    assert cols == [
        Column("params", "lr"),
        Column("metrics", "loss", "min"),
        Column("metrics", "a:b", "max"),
        Column("attributes", "duration"),
        Column("tags", "t"),
    ]
    assert cols[1].label == "loss (min)"
    assert cols[1].sortable is None  # the store sorts by last values only
    assert cols[0].sortable == "params.lr"


@pytest.mark.parametrize("bad", ["weights.x", "params.", "attributes.color", "loss"])
def test_bad_columns_name_the_field(bad: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_columns(bad)
    assert raised.value.field == "cols"


def test_limits() -> None:
    assert parse_limit("") == 50
    assert parse_limit("250") == 250
    for bad in ("0", "501", "x"):
        with pytest.raises(InvalidInputError, match="limit"):
            parse_limit(bad)


def test_cells_and_groups() -> None:
    runs = [run(0, "rf", 0.5), run(1, "rf", 0.3), run(2, "gbm", 0.1)]
    extremes = {("r0", "loss"): (0.2, 0.9)}.get

    def lookup(run_id: str, key: str) -> tuple[float, float] | None:
        return extremes((run_id, key))

    assert cell(runs[0], Column("metrics", "loss", "max"), lookup) == 0.9
    assert cell(runs[1], Column("metrics", "loss", "max"), lookup) is None
    assert cell(runs[2], Column("attributes", "duration"), lookup) == 502
    groups = group_runs(runs, Column("params", "model"), [Column("metrics", "loss")], lookup)
    assert [(g.value, g.count) for g in groups] == [("rf", 2), ("gbm", 1)]
    assert groups[0].stats["metrics.loss"] == pytest.approx((0.4, 0.3, 0.5))
