"""Adapters for metadata: the SQL store (SQLite and PostgreSQL)."""
