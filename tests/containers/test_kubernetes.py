"""Kubernetes and KServe manifests: validated against the published schemas, probes on
the health endpoints, and the canary of a deployment with two arms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from mlcycle.containers import build_context, build_deployment_contexts, single_manifests
from mlcycle.containers.kubernetes import ArmImage, manifests
from tests.containers._schemas import validate_inference_service, validate_kubernetes
from tests.containers.conftest import Registered, log_churn_on_data


def _load(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        p.name: [d for d in yaml.safe_load_all(p.read_text()) if d]
        for p in sorted(folder.glob("*.yaml"))
    }


def _validate(files: dict[str, list[dict[str, Any]]]) -> None:
    for documents in files.values():
        for document in documents:
            if document["kind"] == "InferenceService":
                validate_inference_service(document)
            else:
                validate_kubernetes(document)


def test_one_version_gives_valid_kserve_and_deployment_manifests(
    registered: Registered, tmp_path: Path
) -> None:
    built = build_context(
        registered.churn.uri, tmp_path / "ctx", client=registered.client, hashes=False
    )
    written = single_manifests(
        built, image="registry.example.com/churn:1", namespace="models"
    ).write(tmp_path / "k8s")
    assert sorted(p.name for p in written) == [
        "deployment.yaml",
        "kserve-inferenceservice.yaml",
        "service.yaml",
    ]
    files = _load(tmp_path / "k8s")
    _validate(files)
    isvc = files["kserve-inferenceservice.yaml"][0]
    container = isvc["spec"]["predictor"]["containers"][0]
    assert container["image"] == "registry.example.com/churn:1"
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": 8080}
    pod = files["deployment.yaml"][0]["spec"]["template"]["spec"]
    assert pod["containers"][0]["securityContext"]["runAsUser"] == 10001
    assert pod["containers"][0]["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
    service = files["service.yaml"][0]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "churn"}
    assert service["metadata"]["namespace"] == "models"


def test_the_schemas_catch_a_broken_manifest() -> None:
    made = manifests("churn", [ArmImage(arm="default", image="churn:1")])
    deployment = made.files["deployment.yaml"][0]
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_kubernetes(deployment)
    isvc = made.files["kserve-inferenceservice.yaml"][0]
    isvc["spec"]["predictor"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(jsonschema.ValidationError):
        validate_inference_service(isvc)


def test_a_canary_deployment_gives_an_image_per_version_and_kserve_canary_fields(
    registered: Registered, tmp_path: Path
) -> None:
    client = registered.client
    stable = registered.churn
    candidate = log_churn_on_data(client, seed=5)
    client.deployments.create("churn-live", stable.uri)
    client.deployments.canary("churn-live", candidate.uri, steps=(10, 50, 100))
    built = build_deployment_contexts(
        "churn-live",
        tmp_path / "ctx",
        client=client,
        registry="registry.example.com/ml",
        hashes=False,
    )
    versions = {arm: c.spec.version for arm, c in built.contexts.items()}
    assert sorted(v or 0 for v in versions.values()) == [stable.version, candidate.version]
    assert {c.spec.name for c in built.contexts.values()} == {"churn-live"}
    built.manifests.write(tmp_path / "k8s")
    files = _load(tmp_path / "k8s")
    _validate(files)
    first = files["kserve-inferenceservice.yaml"][0]["spec"]["predictor"]
    canary = files["kserve-canary.yaml"][0]["spec"]["predictor"]
    assert first["containers"][0]["image"] == f"registry.example.com/ml/churn:{stable.version}"
    assert "canaryTrafficPercent" not in first
    assert canary["containers"][0]["image"] == f"registry.example.com/ml/churn:{candidate.version}"
    assert canary["canaryTrafficPercent"] == 10
    deployments = files["deployment.yaml"]
    assert len(deployments) == 2
    replicas = {
        d["metadata"]["labels"]["mlcycle.io/model-version"]: d["spec"]["replicas"]
        for d in deployments
    }
    assert replicas[str(stable.version)] > replicas[str(candidate.version)] >= 1
    client.deployments.delete("churn-live")


def test_a_shadow_arm_never_answers_the_shared_service() -> None:
    made = manifests(
        "churn",
        [
            ArmImage(arm="a", image="churn:1", weight=100),
            ArmImage(arm="shadow", image="churn:2", weight=20, shadow=True),
        ],
    )
    _validate(made.files)
    shared = made.files["service.yaml"][0]
    assert shared["spec"]["selector"]["mlcycle.io/role"] == "serving"
    roles = [
        d["spec"]["template"]["metadata"]["labels"]["mlcycle.io/role"]
        for d in made.files["deployment.yaml"]
    ]
    assert roles == ["serving", "shadow"]
    assert "kserve-canary.yaml" not in made.files
    assert any("mirror" in note for note in made.notes)
