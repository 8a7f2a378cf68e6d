"""Backends: one object per place the platform lives, holding one API per capability.

A :class:`Backend` is what :class:`mlcycle.Client` is a facade over: the tracking API, and
the datasets, registry, deployments, monitoring and governance APIs of
:mod:`mlcycle.ports.api`, plus the artifact store where there is one. Each capability is
either offered or not; asking for one that is not raises
:class:`~mlcycle.errors.CapabilityUnavailableError` here, in one place, and
:meth:`Backend.supports` asks without raising.

    >>> from mlcycle.backends import Capability, open_backend
    >>> backend = open_backend(Settings.from_env())  # doctest: +SKIP
    >>> backend.supports(Capability.REGISTRY)  # doctest: +SKIP
    True
    >>> backend.registry.list_models()  # doctest: +SKIP

:func:`open_backend` picks the backend for the settings' tracking URI: a store URI
(``sqlite:///``, ``postgresql://``, a path) opens :class:`~mlcycle.backends.local.LocalBackend`,
the one composition root, which builds every service over that store and artifact store;
an ``http(s)://`` URI opens :func:`~mlcycle.backends.remote.remote_backend` over the
server's REST API.
"""

from __future__ import annotations

from mlcycle.backends.base import Backend, Capability, Provider
from mlcycle.backends.local import Hooks, LocalBackend, open_local
from mlcycle.backends.remote import remote_backend
from mlcycle.settings import Settings


def open_backend(settings: Settings, *, hooks: Hooks | None = None) -> Backend:
    """The backend for ``settings.tracking_uri``: a server's REST API for an http(s) URI,
    else the local composition root over the store and ``settings.artifact_uri``.

    ``hooks`` carry what the services borrow from the client layer (loading a model,
    scoring a version); see :class:`~mlcycle.backends.local.Hooks`. No I/O happens here
    for a server; a store is opened (and a new one migrated).
    """
    if settings.is_remote:
        return remote_backend(settings)
    return open_local(settings, hooks=hooks)


__all__ = [
    "Backend",
    "Capability",
    "Hooks",
    "LocalBackend",
    "Provider",
    "open_backend",
    "open_local",
    "remote_backend",
]
