"""Read a generated Dockerfile's instructions, to run its steps outside Docker."""

from __future__ import annotations

import json
import shlex


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        found.append((keyword.upper(), rest.strip()))
    return found


def pip_steps(text: str) -> list[list[str]]:
    """The ``RUN python -m pip install ...`` commands, as argument lists."""
    return [
        shlex.split(args)
        for keyword, args in instructions(text)
        if keyword == "RUN" and "pip install" in args
    ]


def exec_form(text: str, keyword: str) -> list[str]:
    """The JSON (exec) form of the last ENTRYPOINT, CMD or HEALTHCHECK CMD."""
    values = [args for k, args in instructions(text) if k == keyword]
    if keyword == "HEALTHCHECK":
        values = [v[v.index("CMD ") + 4 :] for v in values]
    loaded: list[str] = json.loads(values[-1])
    return loaded
