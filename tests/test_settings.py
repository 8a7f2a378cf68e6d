"""Settings read the environment once and normalise URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcycle import InvalidInputError, Settings


def test_defaults_live_in_dot_mlcycle(tmp_path: Path) -> None:
    s = Settings.from_env({}, cwd=tmp_path)
    assert s.tracking_uri == f"sqlite:///{tmp_path / '.mlcycle' / 'mlcycle.db'}"
    assert s.artifact_uri == str(tmp_path / ".mlcycle" / "artifacts")
    assert not s.is_remote


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////x/y.db", "sqlite:////x/y.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ],
)
def test_uris_are_normalised(given: str, expected: str) -> None:
    s = Settings.from_env({"MLCYCLE_TRACKING_URI": given, "MLCYCLE_TOKEN": "t"})
    assert s.tracking_uri == expected
    assert s.token == "t"


def test_plain_paths_mean_sqlite_and_bad_schemes_are_refused(tmp_path: Path) -> None:
    s = Settings.from_env({"MLCYCLE_TRACKING_URI": str(tmp_path / "m.db")})
    assert s.tracking_uri == f"sqlite:///{tmp_path / 'm.db'}"
    with pytest.raises(InvalidInputError, match="ftp"):
        Settings.from_env({"MLCYCLE_TRACKING_URI": "ftp://x"})
    assert Settings.from_env({}).with_overrides(tracking_uri="http://h:1").is_remote
