"""The public Python API: ``Client`` and the module-level run functions."""
