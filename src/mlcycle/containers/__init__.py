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
* :mod:`mlcycle.containers.server` - ``serve_context``: what the image's entry point runs
* :mod:`mlcycle.containers.source` - the store-free route source the image serves from
"""

from mlcycle.containers.builder import BuildContext, build_context
from mlcycle.containers.requirements import Lock, Pin
from mlcycle.containers.server import serve_context
from mlcycle.containers.spec import ContextSpec, DatasetRef

__all__ = [
    "BuildContext",
    "ContextSpec",
    "DatasetRef",
    "Lock",
    "Pin",
    "build_context",
    "serve_context",
]
