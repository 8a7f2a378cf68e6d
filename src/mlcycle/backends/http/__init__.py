"""The HTTP backends: each capability's API over a tracking server's native routes.

One class per capability (:class:`HttpDatasets`, :class:`HttpRegistry`,
:class:`HttpDeployments` with :class:`HttpPredictionLogs`, :class:`HttpMonitoring`,
:class:`HttpGovernance`), each built
from one :class:`~mlcycle.remote.http.HttpSession`, with the public methods of the local
service of that capability: same names, signatures and return types, and the same
exception class and message for what the server refuses.

    >>> from mlcycle.remote.http import HttpSession
    >>> registry = HttpRegistry(HttpSession("http://127.0.0.1:5000"))
    >>> registry.list_models()  # doctest: +SKIP
"""

from mlcycle.backends.http.datasets import HttpDatasets
from mlcycle.backends.http.deployments import HttpDeployments
from mlcycle.backends.http.governance import HttpGovernance
from mlcycle.backends.http.monitoring import HttpMonitoring
from mlcycle.backends.http.prediction_logs import HttpPredictionLogs
from mlcycle.backends.http.registry import HttpRegistry

__all__ = [
    "HttpDatasets",
    "HttpDeployments",
    "HttpGovernance",
    "HttpMonitoring",
    "HttpPredictionLogs",
    "HttpRegistry",
]
