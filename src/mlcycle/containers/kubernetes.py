"""Kubernetes manifests for model images: a KServe ``InferenceService`` and a plain
``Deployment`` + ``Service``, with the probes on the serving app's health endpoints.

One image (a model version) gives::

    kserve-inferenceservice.yaml   serving.kserve.io/v1beta1 InferenceService
    deployment.yaml                apps/v1 Deployment
    service.yaml                   v1 Service

A deployment with several arms gives a Deployment per arm behind one Service, and, when
its traffic is one serving arm plus one candidate, the KServe canary: apply
``kserve-inferenceservice.yaml`` (the stable version), then ``kserve-canary.yaml`` (the
candidate's image with ``canaryTrafficPercent``); KServe keeps the previous revision for
the rest of the traffic. Shadow arms and splits over more than two versions have no KServe
field: the notes say so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlcycle.containers.dockerfile import DATA_DIR, USER_ID
from mlcycle.containers.healthcheck import READY_PATH
from mlcycle.errors import InvalidInputError

LIVE_PATH = "/v2/health/live"
KSERVE_API = "serving.kserve.io/v1beta1"
KSERVE_FILE = "kserve-inferenceservice.yaml"
KSERVE_CANARY_FILE = "kserve-canary.yaml"
DEPLOYMENT_FILE = "deployment.yaml"
SERVICE_FILE = "service.yaml"
_DNS = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True, kw_only=True)
class ArmImage:
    """One image behind a Kubernetes service: the arm's name, the image reference, the
    port it serves on, its share of the traffic (percent) and whether it is a shadow."""

    arm: str
    image: str
    port: int = 8080
    weight: float = 100.0
    shadow: bool = False
    model: str = ""
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class Manifests:
    """The documents of each file, and what could not be expressed."""

    files: dict[str, list[dict[str, Any]]]
    notes: tuple[str, ...] = ()

    def write(self, directory: str | Path) -> list[Path]:
        """Write each file (YAML, documents separated by ``---``) into ``directory``."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, documents in sorted(self.files.items()):
            path = folder / name
            path.write_text(
                "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in documents),
                encoding="utf-8",
            )
            written.append(path)
        return written


def dns_name(name: str) -> str:
    """A DNS-1123 label from ``name`` (lowercase letters, digits and ``-``, at most 63)."""
    cleaned = _DNS.sub("-", name.lower()).strip("-")[:63].strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = ("m-" + cleaned)[:63].strip("-")
    return cleaned


def _labels(name: str, arm: ArmImage | None) -> dict[str, str]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "mlcycle"}
    if arm is not None:
        labels["mlcycle.io/arm"] = dns_name(arm.arm)
        if arm.version is not None:
            labels["mlcycle.io/model-version"] = str(arm.version)
    return labels


def _probe(path: str, port: int, *, period: int, delay: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }


def container(arm: ArmImage, *, name: str, startup: bool) -> dict[str, Any]:
    """The serving container: image, port, probes, a non-root read-only root file system
    with writable emptyDir volumes for the prediction log and /tmp."""
    spec: dict[str, Any] = {
        "name": name,
        "image": arm.image,
        "ports": [{"name": "http1", "containerPort": arm.port, "protocol": "TCP"}],
        "env": [{"name": "MLCYCLE_ARTIFACT_URI", "value": f"{DATA_DIR}/artifacts"}],
        "readinessProbe": _probe(READY_PATH, arm.port, period=10, delay=5),
        "livenessProbe": _probe(LIVE_PATH, arm.port, period=20, delay=10),
        "resources": {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"memory": "2Gi"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "runAsGroup": USER_ID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "artifacts", "mountPath": f"{DATA_DIR}/artifacts"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if startup:  # loading and warming a model can take longer than the liveness budget
        spec["startupProbe"] = {
            "httpGet": {"path": READY_PATH, "port": arm.port},
            "periodSeconds": 5,
            "failureThreshold": 60,
        }
    return spec


_VOLUMES = [{"name": "artifacts", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]


def inference_service(
    name: str, arm: ArmImage, *, namespace: str | None, canary_percent: int | None = None
) -> dict[str, Any]:
    """A KServe InferenceService whose predictor is the image (a custom container)."""
    predictor: dict[str, Any] = {"minReplicas": 1}
    if canary_percent is not None:
        predictor["canaryTrafficPercent"] = canary_percent
    predictor["containers"] = [container(arm, name="kserve-container", startup=False)]
    predictor["volumes"] = _VOLUMES
    return {
        "apiVersion": KSERVE_API,
        "kind": "InferenceService",
        "metadata": _metadata(name, namespace, _labels(name, arm)),
        "spec": {"predictor": predictor},
    }


def _metadata(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = labels
    return meta


def deployment(
    name: str, arm: ArmImage, *, app: str, namespace: str | None, replicas: int
) -> dict[str, Any]:
    """An apps/v1 Deployment of the image."""
    selector = _labels(app, arm)
    selector.pop("app.kubernetes.io/managed-by")
    selector.pop("mlcycle.io/model-version", None)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(name, namespace, _labels(app, arm)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": _labels(app, arm)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "fsGroup": USER_ID},
                    "containers": [container(arm, name="model", startup=True)],
                    "volumes": _VOLUMES,
                },
            },
        },
    }


def service(
    name: str, *, app: str, port: int, namespace: str | None, arm: ArmImage | None = None
) -> dict[str, Any]:
    """A v1 Service on port 80 in front of the pods of ``app`` (of one arm if given)."""
    selector = {"app.kubernetes.io/name": app}
    if arm is not None:
        selector["mlcycle.io/arm"] = dns_name(arm.arm)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(name, namespace, _labels(app, None)),
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": port, "protocol": "TCP"}],
        },
    }


def manifests(
    name: str,
    arms: Sequence[ArmImage],
    *,
    namespace: str | None = None,
    replicas: int = 1,
) -> Manifests:
    """The manifests of the service ``name`` over ``arms`` (one arm: one image)."""
    if not arms:
        raise InvalidInputError("at least one image is needed", field="arms")
    if replicas < 1:
        raise InvalidInputError("replicas must be at least 1", field="replicas")
    app = dns_name(name)
    serving = [a for a in arms if not a.shadow]
    if not serving:
        raise InvalidInputError(
            "a service needs at least one arm that is not a shadow", field="arms"
        )
    notes: list[str] = []
    if len(arms) == 1:
        arm = arms[0]
        return Manifests(
            files={
                KSERVE_FILE: [inference_service(app, arm, namespace=namespace)],
                DEPLOYMENT_FILE: [
                    deployment(app, arm, app=app, namespace=namespace, replicas=replicas)
                ],
                SERVICE_FILE: [service(app, app=app, port=arm.port, namespace=namespace)],
            }
        )
    ordered = sorted(serving, key=lambda a: -a.weight)
    stable = ordered[0]
    files: dict[str, list[dict[str, Any]]] = {
        KSERVE_FILE: [inference_service(app, stable, namespace=namespace)]
    }
    if len(serving) == 2:
        candidate = ordered[1]
        files[KSERVE_CANARY_FILE] = [
            inference_service(
                app, candidate, namespace=namespace, canary_percent=round(candidate.weight)
            )
        ]
    else:
        notes.append(
            f"KServe's canary splits traffic between two revisions; this deployment serves "
            f"{len(serving)} arms, so {KSERVE_FILE} serves the heaviest arm "
            f"({stable.arm}) only: use the Deployments"
        )
    total = sum(a.weight for a in serving) or 1.0
    documents: list[dict[str, Any]] = []
    for arm in arms:
        share = 1 if arm.shadow else max(1, round(replicas * len(serving) * arm.weight / total))
        documents.append(
            deployment(
                f"{app}-{dns_name(arm.arm)}"[:63].strip("-"),
                arm,
                app=app,
                namespace=namespace,
                replicas=share,
            )
        )
    services = [service(app, app=app, port=stable.port, namespace=namespace)]
    for arm in arms:
        services.append(
            service(
                f"{app}-{dns_name(arm.arm)}"[:63].strip("-"),
                app=app,
                port=arm.port,
                namespace=namespace,
                arm=arm,
            )
        )
    shadows = [a.arm for a in arms if a.shadow]
    if shadows:
        notes.append(
            f"shadow arms ({', '.join(shadows)}) get their own Deployment and Service, but "
            "neither KServe nor a Service mirrors traffic: mirror it with your mesh (e.g. "
            "an Istio VirtualService 'mirror')"
        )
        # a shadow must not answer requests of the shared Service
        for document in services[:1]:
            document["spec"]["selector"]["mlcycle.io/role"] = "serving"
        for document, arm in zip(documents, arms, strict=True):
            role = "shadow" if arm.shadow else "serving"
            for labels in (
                document["spec"]["selector"]["matchLabels"],
                document["spec"]["template"]["metadata"]["labels"],
            ):
                labels["mlcycle.io/role"] = role
    notes.append(
        "the Service splits traffic between the arms' pods by their replica counts "
        "(in proportion to the weights), not by exact percentages"
    )
    files[DEPLOYMENT_FILE] = documents
    files[SERVICE_FILE] = services
    return Manifests(files=files, notes=tuple(notes))
