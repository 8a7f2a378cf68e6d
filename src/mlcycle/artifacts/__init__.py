"""Adapters for artifact bytes: the local file system (and later object stores)."""
