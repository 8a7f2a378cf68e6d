"""Experiment tracking: the service over the store, runs, the metric writer, autologging."""
