"""``mlcycle artifacts ...``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli, Seeded


def test_list(cli: Cli, seeded: Seeded) -> None:
    files = cli.ok("artifacts", "list", seeded.rf, "--json").json()
    assert [(f["path"], f["is_dir"]) for f in files] == [
        ("model/info.json", False),
        ("notes.txt", False),
    ]
    assert files[1]["size"] == 5
    assert len(files[1]["sha256"]) == 64

    under = cli.ok("artifacts", "list", seeded.rf, "--path", "model", "--json").json()
    assert [f["path"] for f in under] == ["model/info.json"]

    table = cli.ok("artifacts", "list", seeded.rf).stdout
    assert "model/info.json" in table
    assert "5 B" in table
    assert "2 files" in table


def test_list_empty_and_unknown(cli: Cli, seeded: Seeded) -> None:
    assert cli.ok("artifacts", "list", seeded.lr, "--json").json() == []
    assert "has no artifacts" in cli.ok("artifacts", "list", seeded.lr).stdout
    assert (
        cli("artifacts", "list", "nope").error_line()
        == "error: no run with ID, ID prefix or name 'nope'"
    )


def test_get_everything(cli: Cli, seeded: Seeded, tmp_path: Path) -> None:
    dest = tmp_path / "all"
    out = cli.ok("artifacts", "get", seeded.rf, "--dest", str(dest)).stdout
    assert "Downloaded 2 files" in out
    assert (dest / "notes.txt").read_text() == "hello"
    assert json.loads((dest / "model" / "info.json").read_text()) == {"trees": 100}


def test_get_one_file_and_a_folder(cli: Cli, seeded: Seeded, tmp_path: Path) -> None:
    out = cli.ok("artifacts", "get", seeded.rf, "notes.txt", "--dest", str(tmp_path / "one"))
    assert "Downloaded 1 file to" in out.stdout
    assert (tmp_path / "one" / "notes.txt").read_text() == "hello"

    cli.ok("artifacts", "get", seeded.rf, "model", "--dest", str(tmp_path / "folder"))
    assert (tmp_path / "folder" / "model" / "info.json").exists()


def test_get_unknown_path(cli: Cli, seeded: Seeded, tmp_path: Path) -> None:
    line = cli("artifacts", "get", seeded.rf, "nope.bin", "--dest", str(tmp_path)).error_line()
    assert "has no artifacts at 'nope.bin'" in line
