"""Artifacts: logging files, folders, text, dicts and figures; listing and download."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import plotly.graph_objects as go
import pytest

import mlcycle
from mlcycle import Client


def test_files_folders_text_and_dicts(client: Client, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.bin").write_bytes(b"\x00\x01" * 1000)
    single = tmp_path / "model.pkl"
    single.write_bytes(b"model-bytes")
    with mlcycle.start_run(experiment="art", capture_environment=False) as run:
        info = run.log_artifact(single, artifact_path="models")
        run.log_artifacts(src, artifact_path="data")
        run.log_text("hello", "notes/hello.txt")
        run.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        run.log_dict({"a": 1}, "config.yaml")
    assert info.path == "models/model.pkl"
    assert info.sha256 == hashlib.sha256(b"model-bytes").hexdigest()
    listed = {a.path: a for a in client.list_artifacts(run.id)}
    assert set(listed) == {
        "models/model.pkl",
        "data/a.txt",
        "data/sub/b.bin",
        "notes/hello.txt",
        "config.json",
        "config.yaml",
    }
    assert listed["data/sub/b.bin"].size == 2000
    assert {a.path for a in client.list_artifacts(run.id, "data")} == {
        "data/a.txt",
        "data/sub/b.bin",
    }
    out = tmp_path / "out"
    folder = client.download_artifacts(run.id, "data", dest=out)
    assert (folder / "a.txt").read_text() == "alpha"
    assert (folder / "sub" / "b.bin").read_bytes() == b"\x00\x01" * 1000
    one = client.download_artifacts(run.id, "config.json", dest=out)
    assert json.loads(one.read_text()) == {"a": 1, "b": [1, 2]}
    everything = client.download_artifacts(run.id, dest=tmp_path / "all")
    assert (everything / "notes" / "hello.txt").read_text() == "hello"


def test_figures(client: Client) -> None:
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    pfig = go.Figure(data=go.Scatter(y=[1, 3, 2]))
    with mlcycle.start_run(experiment="art", capture_environment=False) as run:
        png = run.log_figure(fig, "plots/line.png")
        html = run.log_figure(pfig, "plots/line.html")
        with pytest.raises(mlcycle.InvalidInputError, match="html"):
            run.log_figure(pfig, "plots/line.png")
        with pytest.raises(mlcycle.InvalidInputError, match="figure"):
            run.log_figure(object(), "x.png")
    plt.close(fig)
    assert (png.size or 0) > 1000
    assert (html.size or 0) > 100
    with client.tracking.open_artifact(run.id, "plots/line.png") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_bad_artifact_input(client: Client, tmp_path: Path) -> None:
    with mlcycle.start_run(experiment="art", capture_environment=False) as run:
        with pytest.raises(mlcycle.InvalidInputError, match="no file"):
            run.log_artifact(tmp_path / "missing.txt")
        with pytest.raises(mlcycle.InvalidInputError, match="directory"):
            run.log_artifact(tmp_path)
        with pytest.raises(mlcycle.InvalidInputError, match="relative"):
            run.log_text("x", "../escape.txt")
    with pytest.raises(mlcycle.NotFoundError):
        client.download_artifacts(run.id, "nothing-here", dest=tmp_path)
