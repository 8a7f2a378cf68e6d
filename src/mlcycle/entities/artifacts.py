"""Artifacts: files a run stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ArtifactInfo:
    """One file (or, when ``is_dir``, a folder) under a run's artifact root."""

    path: str
    is_dir: bool
    size: int | None = None
    sha256: str | None = None
