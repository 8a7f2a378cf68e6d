"""Manifest validation against published schemas.

Kubernetes objects are validated by ``kubernetes-validate`` (the Kubernetes OpenAPI as
JSON schemas, shipped in the package). No installable package ships KServe's CRD schema
beside mlcycle's dependencies (the ``kserve`` SDK pins pandas < 3), so the
InferenceService is checked by a schema of its v1beta1 fields used here (from KServe's API
reference) whose pod parts (ObjectMeta, Container, Volume) are the published Kubernetes
definitions, strict (no unknown fields).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

K8S_VERSION = "1.30.0"
_DEFS = "https://kubernetes.io/api/_definitions.json#/$defs/"


def validate_kubernetes(document: dict[str, Any]) -> None:
    """Raise kubernetes_validate.ValidationError unless ``document`` is valid (strict)."""
    kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def _definitions() -> Resource[Any]:
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    text = (folder / "v1.30.0-local-strict" / "_definitions.json").read_text()
    return Resource.from_contents(json.loads(text))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _DEFS + name}


INFERENCE_SERVICE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "serving.kserve.io/v1beta1"},
        "kind": {"const": "InferenceService"},
        "metadata": _ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        "spec": {
            "type": "object",
            "required": ["predictor"],
            "additionalProperties": False,
            "properties": {
                "predictor": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "minReplicas": {"type": "integer", "minimum": 0},
                        "maxReplicas": {"type": "integer", "minimum": 0},
                        "canaryTrafficPercent": {"type": "integer", "minimum": 0, "maximum": 100},
                        "serviceAccountName": {"type": "string"},
                        "containers": {
                            "type": "array",
                            "minItems": 1,
                            "items": _ref("io.k8s.api.core.v1.Container"),
                        },
                        "volumes": {"type": "array", "items": _ref("io.k8s.api.core.v1.Volume")},
                    },
                }
            },
        },
    },
}


def validate_inference_service(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless ``document`` is a valid InferenceService."""
    registry: Registry[Any] = _definitions() @ Registry()
    jsonschema.Draft202012Validator(INFERENCE_SERVICE, registry=registry).validate(document)
