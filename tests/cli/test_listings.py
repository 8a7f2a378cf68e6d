"""Listings fit a 100-column terminal: columns by priority, --wide, --columns, --json."""

from __future__ import annotations

import pytest

from mlcycle.cli import output
from tests.cli.conftest import Cli, Seeded

NARROW = {"COLUMNS": "100"}


def _fits(text: str, width: int = 100) -> None:
    assert all(len(line) <= width for line in text.splitlines()), text


def test_audit_list_is_one_short_line_per_event(cli: Cli, seeded: Seeded) -> None:
    out = cli.ok("audit", "list", env=NARROW).stdout
    _fits(out)
    assert "{'" not in out  # no dict reprs: --json has the records
    assert "status: RUNNING →" in out
    events = cli.ok("audit", "list", "--json").json()
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) <= 3 * len(events)
    only = cli.ok("audit", "list", "--columns", "#,action", env=NARROW).stdout
    assert "Target" not in only.splitlines()[1]  # the header row
    assert "run.status" in only
    assert "no column 'nope'" in cli("audit", "list", "--columns", "nope").stderr


def test_runs_list_fits_and_wide_shows_more(cli: Cli, seeded: Seeded) -> None:
    _fits(cli.ok("runs", "list", "churn", env=NARROW).stdout)
    _fits(cli.ok("experiments", "list", env=NARROW).stdout)


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("slice/contract=month-to-month/roc_auc", 20, "slice/cont…h/roc_auc"),
        ("short", 20, "short"),
    ],
)
def test_abbreviate_keeps_both_ends(text: str, width: int, expected: str) -> None:
    assert output.abbreviate(text, width) == expected


def test_columns_by_priority() -> None:
    columns = [
        output.Column("ID", ["a" * 30], priority=0),
        output.Column("Extra", ["b" * 50], priority=5),
        output.Column("Message", ["c " * 40], priority=1, flex=True, min_width=20),
    ]
    table, hidden = output.fit_columns(columns, width=80)
    assert hidden == ["Extra"]
    assert [c.header for c in table.columns] == ["ID", "Message"]
    wide, none = output.fit_columns(columns, width=80, wide=True)
    assert none == []
    assert len(wide.columns) == 3
