"""Governance: users, tokens, roles and grants, four-eyes approvals, the audit trail,
model cards, compliance bundles, retirement and retention.

The services live in this package's modules (``users``, ``access``, ``approvals``,
``audit``, ``retirement``, ``bundle``; the model card is :mod:`mlcycle.entities.cards`);
:class:`mlcycle.Client` exposes them (:mod:`mlcycle.backends.local_governance`) as
``client.governance``.
"""
