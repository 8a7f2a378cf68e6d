"""Connecting to Ray, an optional extra (``pip install "mlcycle[ray]"``).

The cluster is the one ``RAY_ADDRESS`` names (or the ``address`` given); with neither, Ray
starts a local cluster on this machine (15-20 s) that lives as long as this process. Ray is
imported here, on first use, and nowhere else in mlcycle: ``import mlcycle`` never pays its
second of import time, and mlcycle works without it.
"""

from __future__ import annotations

import threading
from types import ModuleType

from mlcycle.errors import InvalidInputError

INSTALL_HINT = 'Ray is not installed; pip install "mlcycle[ray]"'
_lock = threading.Lock()


def ray_module() -> ModuleType:
    """The ``ray`` module, or InvalidInputError saying how to install it."""
    try:
        import ray  # an optional extra: imported only when asked for
    except ImportError as exc:
        raise InvalidInputError(INSTALL_HINT, field="backend") from exc
    return ray


def connect(address: str | None = None) -> ModuleType:
    """Connect this process to a Ray cluster once and return the ``ray`` module.

    ``address``: ``"auto"``, ``"ray://host:10001"`` or ``"host:port"``; None uses
    ``RAY_ADDRESS`` (read by Ray itself) or starts a local cluster.

    >>> ray = connect()  # doctest: +SKIP
    >>> ray.get(ray.remote(lambda: 1).remote())  # doctest: +SKIP
    1
    """
    ray = ray_module()
    with _lock:
        if not ray.is_initialized():
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
    return ray


def cluster_cpus(ray: ModuleType) -> int:
    """How many CPUs the connected cluster has (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
