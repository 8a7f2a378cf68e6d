"""Backends: what implements each capability, locally over a store or remotely over HTTP."""
