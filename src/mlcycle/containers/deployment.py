"""A stored deployment with several arms becomes one build context per arm (each pins its
version) and the Kubernetes manifests that split traffic between their images."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlcycle
from mlcycle.containers.builder import BuildContext, build_context
from mlcycle.containers.hashes import DEFAULT_INDEX
from mlcycle.containers.kubernetes import ArmImage, Manifests, dns_name, manifests
from mlcycle.entities.deployments import ArmRole
from mlcycle.errors import InvalidInputError


@dataclass(frozen=True, kw_only=True)
class DeploymentContexts:
    """The contexts of a deployment's arms (by arm name) and their manifests."""

    deployment: str
    contexts: dict[str, BuildContext]
    manifests: Manifests


def image_of(context: BuildContext, registry: str | None) -> str:
    """The image reference of a context: its tag, under ``registry`` when given."""
    return f"{registry.rstrip('/')}/{context.tag}" if registry else context.tag


def single_manifests(
    context: BuildContext,
    *,
    image: str | None = None,
    namespace: str | None = None,
    replicas: int = 1,
) -> Manifests:
    """The KServe and Deployment + Service manifests of one context's image."""
    arm = ArmImage(
        arm="default",
        image=image or context.tag,
        port=context.spec.port,
        model=context.spec.model_name or context.spec.name,
        version=context.spec.version,
    )
    return manifests(context.spec.name, [arm], namespace=namespace, replicas=replicas)


def build_deployment_contexts(
    deployment: str,
    output: str | os.PathLike[str],
    *,
    client: mlcycle.Client | None = None,
    registry: str | None = None,
    namespace: str | None = None,
    replicas: int = 1,
    trusted: Sequence[str] = (),
    hashes: bool = True,
    index_url: str = DEFAULT_INDEX,
    overwrite: bool = False,
) -> DeploymentContexts:
    """Write a build context per arm of the stored ``deployment`` under ``output/<arm>``
    and return them with the manifests (not written: see ``Manifests.write``).

    Every context serves under the deployment's name, so clients see one OIP model
    whichever arm answers; ``x-model-version`` tells the versions apart.

    >>> built = build_deployment_contexts("churn", "build/churn")  # doctest: +SKIP
    >>> built.manifests.write("k8s/churn")  # doctest: +SKIP
    """
    client = client or mlcycle.get_client()
    found = client.deployments.get(deployment)
    root = Path(output)
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise InvalidInputError(
            f"{str(root)!r} is not empty; choose an empty folder or pass overwrite (--overwrite)",
            field="output",
        )
    contexts: dict[str, BuildContext] = {}
    images: list[ArmImage] = []
    for arm in found.arms:
        context = build_context(
            arm.model_uri,
            root / dns_name(arm.name),
            client=client,
            name=found.name,
            options=found.options,
            trusted=tuple(sorted({*trusted, *found.options.trusted})),
            hashes=hashes,
            index_url=index_url,
            overwrite=overwrite,
        )
        contexts[arm.name] = context
        images.append(
            ArmImage(
                arm=arm.name,
                image=image_of(context, registry),
                port=context.spec.port,
                weight=arm.weight,
                shadow=arm.role is ArmRole.SHADOW,
                model=context.spec.model_name or context.spec.name,
                version=context.spec.version,
            )
        )
    made = manifests(found.name, images, namespace=namespace, replicas=replicas)
    return DeploymentContexts(deployment=found.name, contexts=contexts, manifests=made)
