"""Who is acting: the actor that audit events and approvals are recorded under.

The server's auth sets it for the duration of a request (:func:`acting_as`); in-process
use falls back to ``local:<OS user>``. A context variable carries it, so it follows the
request into worker threads (Starlette copies the context into its thread pool).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_actor: ContextVar[str | None] = ContextVar("mlcycle_actor", default=None)


def default_actor() -> str:
    """``local:<OS user>`` (``local`` when the OS user cannot be told)."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, no USER variable (containers)
        return "local"


def current_actor() -> str:
    """The actor of the current request, or :func:`default_actor` outside one.

    >>> with acting_as("ana"):
    ...     current_actor()
    'ana'
    """
    return _actor.get() or default_actor()


def authenticated_actor() -> str | None:
    """The actor set by :func:`acting_as` (an authenticated user), or None."""
    return _actor.get()


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Record everything done inside the block as done by ``name``."""
    token = _actor.set(name)
    try:
        yield
    finally:
        _actor.reset(token)
