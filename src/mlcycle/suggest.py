""" "Did you mean ...?" for names a user mistyped (experiments, deployments, metric keys...).

>>> did_you_mean("demo", ["demo-churn", "iris"])
" (did you mean 'demo-churn'?)"
>>> did_you_mean("zzz", ["demo-churn"])
''
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(name: str, candidates: Iterable[str], *, n: int = 3) -> list[str]:
    """The candidates closest to ``name``: difflib's matches, then those containing it."""
    pool = sorted(set(candidates))
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    lowered = name.lower()
    for candidate in pool:
        if len(found) >= n:
            break
        if candidate not in found and lowered and lowered in candidate.lower():
            found.append(candidate)
    return found


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A suffix for an error message naming the closest candidates, or ``""``."""
    found = close_matches(name, candidates)
    if not found:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in found) + "?)"
