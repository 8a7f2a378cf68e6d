"""``mlcycle models build-context|build-docker`` and ``mlcycle deployments build-context``
through the console script."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli
from tests.containers.conftest import Registered, log_churn_on_data


def _cli(registered: Registered, tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.tracking_uri = registered.home.tracking_uri
    cli.artifact_uri = registered.home.artifact_uri
    return cli


def test_build_context_writes_the_context_and_the_manifests(
    registered: Registered, tmp_path: Path
) -> None:
    cli = _cli(registered, tmp_path)
    uri = registered.churn.uri
    out = tmp_path / "ctx"
    done = cli.ok(
        "models", "build-context", uri, "--output", str(out), "--no-hashes",
        "--kubernetes", str(tmp_path / "k8s"), "--image", "registry.example.com/churn:1", "--json",
    )  # fmt: skip
    found = done.json()
    assert found["tag"] == f"churn:{registered.churn.version}"
    assert found["hashed"] is False
    assert sorted(Path(p).name for p in found["manifests"]) == [
        "deployment.yaml",
        "kserve-inferenceservice.yaml",
        "service.yaml",
    ]
    assert "registry.example.com/churn:1" in (tmp_path / "k8s" / "deployment.yaml").read_text()
    again = cli.ok("models", "build-context", uri, "-o", str(out), "--no-hashes", "--overwrite")
    assert again.stdout == f"docker build -t churn:{registered.churn.version} {out}\n"
    assert "no hashes" in again.stderr


def test_build_context_refuses_a_retired_version(registered: Registered, tmp_path: Path) -> None:
    cli = _cli(registered, tmp_path)
    old = log_churn_on_data(registered.client, seed=7)
    registered.client.governance.retire("churn", old.version, reason="old")
    line = cli("models", "build-context", old.uri, "-o", str(tmp_path / "x")).error_line()
    assert f"churn/{old.version} is retired" in line


def test_build_docker_without_a_daemon_says_how_to_build_elsewhere(
    registered: Registered, tmp_path: Path
) -> None:
    cli = _cli(registered, tmp_path)
    uri = registered.churn.uri
    line = cli(
        "models", "build-docker", uri, "--tag", "churn:1", env={"PATH": str(tmp_path)}
    ).error_line()
    assert "no 'docker' command on PATH" in line
    assert f"mlcycle models build-context {uri} --output ctx" in line
    assert "docker build -t churn:1 ctx" in line


def test_deployments_build_context_gives_a_context_per_arm(
    registered: Registered, tmp_path: Path
) -> None:
    cli = _cli(registered, tmp_path)
    client = registered.client
    other = log_churn_on_data(client, seed=11)
    client.deployments.create("churn-ab", registered.churn.uri)
    client.deployments.split("churn-ab", [(registered.churn.uri, 70), (other.uri, 30)])
    found = cli.ok(
        "deployments", "build-context", "churn-ab", "-o", str(tmp_path / "ctx"),
        "--kubernetes", str(tmp_path / "k8s"), "--no-hashes", "--json",
    ).json()  # fmt: skip
    assert sorted(found["arms"]) == ["a", "b"]
    assert found["arms"]["b"]["model_uri"] == other.uri
    assert (tmp_path / "k8s" / "kserve-canary.yaml").exists()
    client.deployments.delete("churn-ab")
