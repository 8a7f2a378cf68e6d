"""Benchmarks: mlcycle against MLflow, measured in the same process on the same machine.

Run every suite with ``make bench`` (``python -m benchmarks``), or name suites:
``python -m benchmarks tracking``; ``--quick`` uses smaller sizes. Each benchmark prints
one line (what, the mlcycle figure, the goal, MLflow's figure and the ratio) and each suite
writes a JSON summary to ``bench-out/<suite>.json``. Benchmarks report; they never fail
on a missed goal.
"""
