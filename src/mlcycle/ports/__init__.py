"""Ports: the small protocols services depend on, implemented by the adapters."""
