"""The REST API v1, one module per group of routes."""
