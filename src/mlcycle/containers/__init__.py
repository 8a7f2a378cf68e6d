"""Model images: a registered version becomes a Docker build context (and an image, and
Kubernetes manifests) that serves it anywhere, with no store.

>>> import mlcycle.containers
>>> ctx = mlcycle.containers.build_context("models:/churn/3", "build/churn-3")  # doctest: +SKIP
>>> ctx.tag  # 'churn:3'  # doctest: +SKIP

The pieces:

* :mod:`mlcycle.containers.builder` - ``build_context``: model files, lock, wheel, Dockerfile
* :mod:`mlcycle.containers.requirements` / :mod:`.hashes` - the lock file and its hashes
* :mod:`mlcycle.containers.wheel` - mlcycle itself as a reproducible wheel
* :mod:`mlcycle.containers.code` - a Python model's own modules
* :mod:`mlcycle.containers.dockerfile` - the Dockerfile and the image's labels
* :mod:`mlcycle.containers.docker` - ``docker_build`` with the local daemon
* :mod:`mlcycle.containers.kubernetes` / :mod:`.deployment` - KServe and Deployment manifests
* :mod:`mlcycle.containers.server` - ``serve_context``: what the image's entry point runs
* :mod:`mlcycle.containers.source` - the store-free route source the image serves from
"""

from mlcycle.containers.builder import BuildContext, build_context
from mlcycle.containers.deployment import (
    DeploymentContexts,
    build_deployment_contexts,
    image_of,
    single_manifests,
)
from mlcycle.containers.docker import (
    DockerBuildError,
    DockerUnavailableError,
    ImageBuild,
    build_docker,
    docker_build,
    docker_unavailable,
)
from mlcycle.containers.kubernetes import ArmImage, Manifests
from mlcycle.containers.requirements import Lock, Pin
from mlcycle.containers.server import serve_context
from mlcycle.containers.spec import ContextSpec, DatasetRef

__all__ = [
    "ArmImage",
    "BuildContext",
    "ContextSpec",
    "DatasetRef",
    "DeploymentContexts",
    "DockerBuildError",
    "DockerUnavailableError",
    "ImageBuild",
    "Lock",
    "Manifests",
    "Pin",
    "build_context",
    "build_deployment_contexts",
    "build_docker",
    "docker_build",
    "docker_unavailable",
    "image_of",
    "serve_context",
    "single_manifests",
]
