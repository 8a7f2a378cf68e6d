"""IDs on the command line, as git takes commits: a unique prefix is enough, an ambiguous
one is an error listing the candidates, and tables show the short IDs that work.

>>> short_ids(["01a24e48584170009863", "01a24e48584170009999", "01a24e49000070001111"])
['01a24e4858417000986', '01a24e4858417000999', '01a24e490000']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import mlcycle
from mlcycle.suggest import did_you_mean

#: The fewest characters of an ID a table shows.
SHORT = 12
#: The fewest characters of a prefix the command line takes.
MIN_PREFIX = 4
_HEX = re.compile(r"^[0-9a-f]+$")


def short_ids(ids: Sequence[str], *, length: int = SHORT) -> list[str]:
    """Each ID cut to the shortest prefix (at least ``length``) unique among ``ids``."""
    out: list[str] = []
    for current in ids:
        size = min(length, len(current))
        while size < len(current) and any(
            other != current and other.startswith(current[:size]) for other in ids
        ):
            size += 1
        out.append(current[:size])
    return out


def resolve_prefix(ref: str, ids: Iterable[str], *, kind: str) -> str:
    """The one ID in ``ids`` equal to ``ref`` or starting with it.

    Raises NotFoundError when none does, InvalidInputError (listing the candidates) when
    several do or the prefix is shorter than :data:`MIN_PREFIX`.
    """
    pool = list(ids)
    if ref in pool:
        return ref
    matches = [i for i in pool if i.startswith(ref.lower())]
    if len(matches) == 1 and len(ref) >= MIN_PREFIX:
        return matches[0]
    if len(matches) > 1:
        return _ambiguous(ref, matches, kind)
    if matches:
        raise mlcycle.InvalidInputError(
            f"{kind} ID prefix {ref!r} is too short: give at least {MIN_PREFIX} characters",
            field=kind,
        )
    raise mlcycle.NotFoundError(f"no {kind} with ID {ref!r}", field=kind)


def _ambiguous(ref: str, matches: Sequence[str], kind: str, what: str = "ID prefix") -> str:
    shown = ", ".join(sorted(matches)[:10]) + (" ..." if len(matches) > 10 else "")
    raise mlcycle.InvalidInputError(
        f"{kind} {what} {ref!r} is ambiguous: {len(matches)} match ({shown}); give more characters",
        field=kind,
    )


def resolve_run(client: mlcycle.Client, ref: str, *, include_deleted: bool = False) -> str:
    """A run's full ID from its ID, a unique ID prefix, or a unique run name (among deleted
    runs too with ``include_deleted``, as ``runs restore`` needs)."""
    try:
        return client.get_run(ref).id
    except mlcycle.NotFoundError:
        pass
    experiments = [e.id for e in client.list_experiments()]
    if not experiments:
        raise mlcycle.NotFoundError(f"no run with ID, ID prefix or name {ref!r}", field="run")
    matches: list[mlcycle.Run] = []
    if _HEX.match(ref.lower()) and len(ref) >= MIN_PREFIX:
        matches = list(
            client.search_runs(
                experiments, f"run_id LIKE '{ref.lower()}%'", include_deleted=include_deleted
            )
        )
    if not matches:
        quoted = ref.replace("\\", "\\\\").replace("'", "\\'")
        matches = list(
            client.search_runs(experiments, f"name = '{quoted}'", include_deleted=include_deleted)
        )
    if len(matches) == 1:
        return matches[0].id
    if len(matches) > 1:
        return _ambiguous(ref, [f"{r.id} ({r.name})" for r in matches], "run", "reference")
    names = {
        r.name
        for r in client.search_runs(
            experiments, None, max_results=500, include_deleted=include_deleted
        )
    }
    raise mlcycle.NotFoundError(
        f"no run with ID, ID prefix or name {ref!r}" + did_you_mean(ref, names), field="run"
    )
