"""A synthetic customer-churn table, generated locally from a seed (nothing is downloaded).

Customers of a telecom operator: numeric columns (tenure, charges, support calls, age),
categorical ones (contract, internet service, payment method, region) and a sensitive
attribute (``senior``) for the fairness check. Whether a customer churned follows a
logistic model of those columns, with noise, so models reach a realistic ROC-AUC of
about 0.8.

``shift`` moves the world on (0 = the training period, 1 = a few months later): newer
customers on month-to-month contracts, higher charges, more support calls, and a changed
relationship (support calls matter more, fibre customers leave more), so a deployed model
both sees drifted inputs and loses accuracy (its probabilities no longer say how often it
is right, so only the labels show the loss).

:func:`hard_to_call` changes the mix of customers and nothing else: the training period's
customers, kept with a probability that depends on their columns only (most often those
whose odds of churning are near even), so each churns as before (a covariate shift). A
model is right less often on them, and its own probabilities say so: the performance drop
can be estimated before the labels arrive.

>>> frame = generate(1_000, seed=0)
>>> sorted(frame.columns)[:3]
['age', 'churned', 'contract']
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONTRACTS = ("month-to-month", "one-year", "two-year")
INTERNET = ("dsl", "fiber", "none")
PAYMENTS = ("card", "bank-transfer", "electronic-check", "mailed-check")
REGIONS = ("north", "south", "east", "west")
CATEGORICAL = ("contract", "internet_service", "payment_method", "region")
NUMERIC = ("tenure_months", "monthly_charges", "total_charges", "support_calls", "age")


#: How close to even a customer's log-odds must be for :func:`hard_to_call` to keep them
#: (kept with probability exp(-(log-odds / HARD_WIDTH)^2)).
HARD_WIDTH = 1.0


def generate(rows: int, *, seed: int, shift: float = 0.0) -> Any:
    """``rows`` customers as a pandas DataFrame with the target column ``churned`` (0/1)."""
    rng = np.random.default_rng(seed)
    frame, logit = _customers(rows, rng, shift)
    frame["churned"] = _churned(rng, logit)
    return frame


def hard_to_call(rows: int, *, seed: int) -> Any:
    """``rows`` customers like the training period's, the mix moved toward those whose
    churn is hardest to call; each churns as before (only the inputs' distribution moves).

    >>> frame = hard_to_call(500, seed=1)
    >>> len(frame), bool(frame["contract"].eq("month-to-month").mean() > 0.6)
    (500, True)
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    parts: list[Any] = []
    kept = 0
    while kept < rows:
        frame, logit = _customers(4 * rows, rng, 0.0)
        keep = rng.random(len(logit)) < np.exp(-((logit / HARD_WIDTH) ** 2))
        frame = frame[keep].reset_index(drop=True)
        frame["churned"] = _churned(rng, logit[keep])
        parts.append(frame)
        kept += len(frame)
    return pd.concat(parts, ignore_index=True).head(rows)


def _churned(rng: np.random.Generator, logit: np.ndarray) -> np.ndarray:
    churned: np.ndarray = (rng.random(len(logit)) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return churned


def _customers(rows: int, rng: np.random.Generator, shift: float) -> tuple[Any, np.ndarray]:
    """The customers' columns and their log-odds of churning."""
    import pandas as pd

    monthly = 0.55 + 0.25 * shift  # the share of month-to-month contracts
    contract = rng.choice(CONTRACTS, rows, p=[monthly, (1 - monthly) * 0.55, (1 - monthly) * 0.45])
    internet = rng.choice(INTERNET, rows, p=[0.35, 0.45, 0.20])
    payment = rng.choice(PAYMENTS, rows, p=[0.3, 0.25, 0.3, 0.15])
    region = rng.choice(REGIONS, rows, p=[0.3, 0.25, 0.25, 0.2])
    senior = rng.random(rows) < 0.16
    age = np.where(senior, rng.integers(65, 90, rows), rng.integers(18, 65, rows))
    tenure = np.minimum(rng.exponential(28 * (1 - 0.5 * shift), rows).astype(np.int64), 72)
    base = np.select([internet == "dsl", internet == "fiber"], [50.0, 80.0], 25.0)
    charges = np.round(base + rng.normal(0, 8, rows) + 15 * shift, 2).clip(15, None)
    total = np.round(charges * tenure + rng.normal(0, 20, rows), 2).clip(0, None)
    calls = rng.poisson(1.2 + 1.3 * shift, rows)
    # After the shift a competitor's offer targets long-standing customers: the effects of
    # contract and tenure turn around, and support calls matter more.
    logit = (
        -1.2
        - 0.6 * shift
        + (1.4 - 2.4 * shift) * (contract == "month-to-month")
        + (-0.9 + 2.2 * shift) * (contract == "two-year")
        + (-0.04 + 0.07 * shift) * tenure
        + 0.015 * (charges - 60 - 15 * shift)
        + 0.35 * calls
        + 0.45 * (payment == "electronic-check")
        + 0.3 * senior
    )
    frame = pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": charges,
            "total_charges": total,
            "support_calls": calls,
            "age": age,
            "contract": contract,
            "internet_service": internet,
            "payment_method": payment,
            "region": region,
            "senior": np.where(senior, "yes", "no"),
        }
    )
    return frame, np.asarray(logit, dtype=float)
