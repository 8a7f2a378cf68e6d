"""The local artifact store: what it accepts as a root."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
from mlcycle.artifacts.local import LocalArtifactStore
from mlcycle.errors import InvalidInputError


def test_a_file_uri_is_a_local_folder(tmp_path: Path) -> None:
    store = LocalArtifactStore(f"file://{tmp_path}")
    store.put_bytes("a/b.txt", b"hi")
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"hi"


@pytest.mark.parametrize("uri", ["gs://bucket", "hdfs://nn/x", "ftp://host/x"])
def test_an_unsupported_scheme_is_refused_not_written_as_a_folder(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInputError, match="is not supported") as caught:
        LocalArtifactStore("s3://bucket/prefix")  # not a local folder either
    assert caught.value.field == "artifact_uri"
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", uri)
    with pytest.raises(InvalidInputError, match="is not supported") as refused:
        client.create_experiment("e")  # the first use opens the stores
    assert uri in str(refused.value)
    assert not any(p.name.endswith(":") for p in tmp_path.iterdir())
    client.close()
