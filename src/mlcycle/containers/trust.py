"""The types a model needs trusted, checked while its context is built: an image that
would refuse to load its model is refused here, with the names to pass."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlcycle.errors import UntrustedTypesError
from mlcycle.models.manifest import Flavor, ModelManifest

_SKOPS_FLAVORS = (Flavor.SKLEARN, Flavor.PYTHON)


def untrusted_types(directory: Path, manifest: ModelManifest) -> list[str]:
    """The types in a skops model file outside skops' trusted set (none for the other
    flavors, whose files hold no code)."""
    if manifest.flavor not in _SKOPS_FLAVORS:
        return []
    import skops.io as sio  # imports scikit-learn: only for the flavors that need it

    return sorted(sio.get_untrusted_types(file=directory / manifest.model_file))


def check_trusted(directory: Path, manifest: ModelManifest, trusted: Sequence[str]) -> None:
    """Raise UntrustedTypesError listing the types the model needs that are not in
    ``trusted``."""
    missing = sorted(set(untrusted_types(directory, manifest)) - set(trusted))
    if missing:
        raise UntrustedTypesError(
            f"the model holds types outside skops' trusted set: {', '.join(missing)}. The "
            f"image would refuse to load it; if you trust them, pass trusted={missing!r} "
            f"(--trust {' --trust '.join(missing)})",
            types=missing,
        )
