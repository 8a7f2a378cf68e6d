"""The client side of the tracking server: ``RemoteBackend`` speaks its REST API.

``mlcycle.Client`` builds one when ``MLCYCLE_TRACKING_URI`` is an ``http(s)://`` URI.
"""

from mlcycle.remote.backend import RemoteBackend
from mlcycle.remote.http import RetryPolicy

__all__ = ["RemoteBackend", "RetryPolicy"]
