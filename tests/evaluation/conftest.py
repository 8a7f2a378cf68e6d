"""Evaluations of models by URI against a tracking server fill the client's model cache."""

from tests.models.conftest import _clean_model_cache

__all__ = ["_clean_model_cache"]
