"""Artifacts through MLflow's client (the artifact proxy), seen by mlcycle's client."""

from __future__ import annotations

import uuid
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from tests.server.mlflow.conftest import Target


def test_log_and_download_artifacts(tracking: Target, tmp_path: Path) -> None:
    mlflow.set_experiment(f"mlflow-artifacts-{uuid.uuid4().hex[:8]}")
    single = tmp_path / "notes.txt"
    single.write_text("hello artifacts\n")
    folder = tmp_path / "plots"
    (folder / "deep").mkdir(parents=True)
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "deep" / "b.bin").write_bytes(bytes(range(256)) * 1000)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifacts(str(folder), artifact_path="plots")
        mlflow.log_text("inline", "texts/inline.txt")
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")

    client = MlflowClient()
    top = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert top == {("notes.txt", False), ("plots", True), ("texts", True)}
    plots = {(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, "plots")}
    assert plots == {("plots/a.csv", False, 8), ("plots/deep", True, None)}

    got_file = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="notes.txt", dst_path=str(tmp_path / "d1")
    )
    assert Path(got_file).read_text() == "hello artifacts\n"
    got_dir = client.download_artifacts(run_id, "plots", str(tmp_path))
    assert (Path(got_dir) / "deep" / "b.bin").read_bytes() == bytes(range(256)) * 1000
    assert (Path(got_dir) / "a.csv").read_text() == "x,y\n1,2\n"

    # the same files through mlcycle's client, with sizes and digests
    files = {f.path: f.size for f in tracking.remote.list_artifacts(run_id)}
    assert files == {
        "notes.txt": 16,
        "plots/a.csv": 8,
        "plots/deep/b.bin": 256_000,
        "texts/inline.txt": 6,
    }
    copy = tracking.remote.download_artifacts(run_id, "texts/inline.txt", tmp_path / "d2")
    assert copy.read_text() == "inline"


def test_artifacts_logged_by_mlcycle_download_through_mlflow(
    tracking: Target, tmp_path: Path
) -> None:
    with tracking.remote.start_run(
        f"mlcycle-art-{uuid.uuid4().hex[:8]}", capture_environment=False
    ) as run:
        run.log_text("from mlcycle", "report/summary.txt")
    got = mlflow.artifacts.download_artifacts(
        artifact_uri=f"runs:/{run.id}/report", dst_path=str(tmp_path)
    )
    assert (Path(got) / "summary.txt").read_text() == "from mlcycle"
