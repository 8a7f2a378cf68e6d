"""Model serving: a model or a stored deployment behind the Open Inference Protocol v2 and
MLflow's scoring protocol, with micro-batching, A/B, canary and shadow routing, hot
reload, Prometheus metrics, a Parquet prediction log and feedback.

>>> from mlcycle.serving import serve_model, serve_deployment
>>> serve_model("models:/churn@champion", port=8080)  # doctest: +SKIP
>>> serve_deployment("churn", port=8080, workers=2)  # doctest: +SKIP

The pieces:

* :mod:`mlcycle.serving.app` - the ASGI app and its endpoints
* :mod:`mlcycle.serving.runtime` - routing table, hot reload, canary ticks, feedback
* :mod:`mlcycle.serving.batching` - adaptive micro-batching off the event loop
* :mod:`mlcycle.serving.model` - request checks against the signature, batch prediction
* :mod:`mlcycle.serving.decode` - request bodies (MLflow formats, CSV, OIP tensors)
* :mod:`mlcycle.serving.sources` / :mod:`.store_source` - what to serve (RouteSource)
* :mod:`mlcycle.serving.serve` - uvicorn, one or several worker processes
"""

from mlcycle.serving.app import ServingApp
from mlcycle.serving.config import ServingConfig
from mlcycle.serving.runtime import Runtime
from mlcycle.serving.serve import serve_deployment, serve_model
from mlcycle.serving.sources import ArmTarget, FeedbackOutcome, RouteSource, StaticRouteSource
from mlcycle.serving.store_source import StoreRouteSource

__all__ = [
    "ArmTarget",
    "FeedbackOutcome",
    "RouteSource",
    "Runtime",
    "ServingApp",
    "ServingConfig",
    "StaticRouteSource",
    "StoreRouteSource",
    "serve_deployment",
    "serve_model",
]
