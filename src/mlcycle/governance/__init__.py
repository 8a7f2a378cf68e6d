"""Governance: users, tokens, roles and grants, four-eyes approvals, the audit trail,
model cards, compliance bundles, retirement and retention.

The services live in this package's modules (``users``, ``access``, ``approvals``,
``audit``, ``retirement``, ``cards``, ``bundle``); :class:`mlcycle.Client` exposes them as
``client.governance``.
"""
