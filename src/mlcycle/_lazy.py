"""Lazy public namespaces (PEP 562), as SciPy's and scikit-image's packages do.

A namespace package (``mlcycle``, ``mlcycle.datasets``, ...) declares its public names in
a table, name -> ``"module"`` (the module itself) or ``"module:attribute"``, and imports
nothing at import time; the first access to a name imports its module and caches the
value in the namespace. So ``import mlcycle.errors`` does not load the client, and a
service importing a sibling through its package never loops back into the client layer.

    >>> __getattr__, __dir__, __all__ = attach(__name__, {"Client": "mlcycle.client.client:Client"})

Each namespace repeats its imports under ``if TYPE_CHECKING:`` for mypy;
``tests/test_architecture.py`` checks that the table and those imports name the same
objects.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def attach(
    package: str, table: Mapping[str, str], *, eager: tuple[str, ...] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` of the namespace ``package``.

    ``table`` maps each public name to ``"module"`` or ``"module:attribute"``; ``eager``
    lists the public names the namespace defines itself (``__version__``).
    """
    names = sorted({*table, *eager})

    def __getattr__(name: str) -> object:
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name)
        value = getattr(module, attribute) if attribute else module
        setattr(sys.modules[package], name, value)  # the next access skips this hook
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__, names
