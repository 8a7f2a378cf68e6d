"""Library versions: recorded when a model is saved, compared when it is loaded."""

from __future__ import annotations

import functools
import platform
import warnings
from collections.abc import Mapping
from importlib import metadata

from packaging.version import InvalidVersion, Version

#: Distributions that provide a module under another name (the CPU-only XGBoost wheel).
_ALTERNATIVES = {"xgboost": ("xgboost", "xgboost-cpu")}


class LibraryVersionWarning(UserWarning):
    """A model was saved with a newer version of a library than the one installed."""


@functools.cache
def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution (None when it is not installed)."""
    for name in _ALTERNATIVES.get(distribution, (distribution,)):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def python_version() -> str:
    return platform.python_version()


def versions_of(*distributions: str) -> dict[str, str]:
    """``{distribution: version}`` of those installed."""
    found = {}
    for name in distributions:
        version = installed_version(name)
        if version is not None:
            found[name] = version
    return found


def warn_if_newer(libraries: Mapping[str, str], *, what: str) -> None:
    """Warn (LibraryVersionWarning) for each library ``what`` was saved with in a newer
    version than the one installed, naming both versions."""
    for name, saved in libraries.items():
        installed = installed_version(name)
        if installed is None:
            continue
        try:
            newer = Version(saved) > Version(installed)
        except InvalidVersion:
            continue
        if newer:
            warnings.warn(
                f"{what} was saved with {name} {saved}, but {name} {installed} is installed; "
                f"it may fail to load or predict differently: install {name}>={saved}",
                LibraryVersionWarning,
                stacklevel=4,
            )
