"""``mlcycle audit``: list, verify and export the audit trail (a hash chain)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption
from mlcycle.clock import system_clock
from mlcycle.durations import parse_duration_ms
from mlcycle.entities.governance import AuditEvent, AuditQuery
from mlcycle.errors import InvalidInputError
from mlcycle.governance.anchors import (
    append_checkpoint,
    make_checkpoint,
    read_checkpoints,
    verify_anchored,
)
from mlcycle.settings import Settings

app = typer.Typer(name="audit", help="The audit trail: list, verify, export.", no_args_is_help=True)

TargetOption = Annotated[
    str | None,
    typer.Option(help="Only this target, e.g. model:churn/4 (a trailing * matches a prefix)."),
]
ActorOption = Annotated[str | None, typer.Option(help="Only what this user did.")]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only events since a date (2025-01-31) or for a duration back (7d)."),
]


def parse_since(text: str | None) -> int | None:
    """Milliseconds since the epoch for ``7d`` (that long ago) or an ISO date/time."""
    if text is None:
        return None
    try:
        return system_clock() - parse_duration_ms(text, field="since")
    except InvalidInputError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"since {text!r} is neither a duration (7d) nor a date (2025-01-31)", field="since"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@app.command("list")
def list_(
    ctx: typer.Context,
    target: TargetOption = None,
    actor: ActorOption = None,
    action: Annotated[str | None, typer.Option(help="Only actions starting with this.")] = None,
    since: SinceOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 1000,
    wide: output.WideOption = False,
    columns: output.ColumnsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List audit events, oldest first: one line each, with what changed (--json has the
    full before and after records).

    Example:

        mlcycle audit list --target 'model:churn*' --since 30d
    """
    query = AuditQuery(
        target=target, actor=actor, action=action, since=parse_since(since), limit=limit
    )
    events = client(ctx).governance.audit_events(query)
    if as_json:
        output.print_json([e.to_dict() for e in events])
        return
    output.print_listing(
        [
            output.Column("#", [str(e.seq) for e in events], priority=0, justify="right"),
            output.Column(
                "When", [output.fmt_time(e.at, seconds=False) for e in events], priority=3
            ),
            output.Column("Actor", [e.actor for e in events], priority=4, max_width=16),
            output.Column("Action", [e.action for e in events], priority=0, max_width=24),
            output.Column("Target", [e.target for e in events], priority=1, max_width=26),
            output.Column(
                "Change",
                [_change(e.before, e.after) for e in events],
                priority=2,
                flex=True,
                min_width=20,
            ),
        ],
        wide=wide,
        only=columns,
        empty="No audit events.",
    )


def _change(before: object, after: object) -> str:
    """What changed, short: ``status: ready → retired``; the keys of a created or deleted
    record; never a whole dict repr (``--json`` has the full record)."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        nested = (dict, list, tuple)
        simple = [k for k in keys if not isinstance(before.get(k), nested)]
        simple = [k for k in simple if not isinstance(after.get(k), nested)]
        shown = [f"{k}: {_value(before.get(k))} → {_value(after.get(k))}" for k in simple[:3]]
        others = [k for k in keys if k not in simple[:3]]
        if others:
            shown.append(f"{', '.join(others)} changed")
        return "; ".join(shown) if shown else "no change"
    if before is None and after is None:
        return ""
    if before is None:
        return "created" + (f" ({_keys(after)})" if isinstance(after, dict) else "")
    if after is None:
        return "deleted"
    return f"{_value(before)} → {_value(after)}"


def _keys(record: dict[str, object]) -> str:
    return _value(", ".join(f"{k}={_value(v, 20)}" for k, v in list(record.items())[:3]), 60)


def _value(value: object, width: int = 30) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _chain(ctx: typer.Context) -> Iterator[AuditEvent]:
    for line in client(ctx).governance.export_audit(AuditQuery()):
        yield AuditEvent(**json.loads(line))


@app.command("verify")
def verify(
    ctx: typer.Context,
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            help="A head hash printed earlier: the chain must still hold that event.",
        ),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(help="A file of signed checkpoints (see `audit checkpoint`) to check."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chain. Exits 1 naming the first event that was edited,
    removed or reordered; prints the head hash (keep it elsewhere to detect later
    removal of the newest events).

    With --expect-head or --checkpoints (signed with MLCYCLE_AUDIT_KEY), also checks that
    the chain still holds those events: a recomputed chain, cut-off events at the end, or
    a rewritten tail are then found. Example:

        mlcycle audit verify --expect-head 3f2a... --checkpoints /secure/audit.ckpt
    """
    points = []
    if checkpoints is not None:
        points = read_checkpoints(checkpoints, Settings.from_env().audit_key)
    if expect_head is None and checkpoints is None:
        result = client(ctx).governance.verify_audit()
    else:
        result = verify_anchored(_chain(ctx), expect_head=expect_head, checkpoints=points)
    if as_json:
        output.print_json(result.to_dict())
    elif result.ok:
        output.console().print(
            f"OK: {result.events} events, chain intact. Head: {result.head or '-'}", markup=False
        )
        last = max((p.seq for p in points), default=None)
        if last is not None and result.events > last:
            output.console().print(
                f"{result.events - last} events after the newest checkpoint (event {last}) "
                "are not anchored yet",
                markup=False,
            )
    else:
        output.err_console().print(
            f"FAILED at event {result.first_bad}: {result.problem}", markup=False
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    output_path: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The checkpoint file to append to (keep it off the store)."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Verify the chain, then append its head, signed with MLCYCLE_AUDIT_KEY, to a file
    of your choice (run it from cron; see docs/governance.md). Example:

        MLCYCLE_AUDIT_KEY=... mlcycle audit checkpoint -o /secure/audit.ckpt
    """
    key = Settings.from_env().audit_key
    result = client(ctx).governance.verify_audit()
    if not result.ok:
        output.err_console().print(
            f"FAILED at event {result.first_bad}: {result.problem}; no checkpoint written",
            markup=False,
        )
        raise typer.Exit(1)
    if result.head is None:
        raise InvalidInputError("the audit trail is empty: nothing to anchor", field="audit")
    point = make_checkpoint(result.events, result.head, system_clock(), key)
    append_checkpoint(output_path, point)
    if as_json:
        output.print_json(json.loads(point.to_json()))
    else:
        output.console().print(
            f"Checkpoint of event {point.seq} ({point.hash}) appended to {output_path}",
            markup=False,
        )


@app.command("export")
def export(
    ctx: typer.Context,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="JSON lines (the only format).")] = True,
    output_path: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    target: TargetOption = None,
    actor: ActorOption = None,
    since: SinceOption = None,
) -> None:
    """Export events as JSON lines, with their hashes (verifiable elsewhere).

    Example:

        mlcycle audit export --jsonl -o audit-2025.jsonl
    """
    query = AuditQuery(target=target, actor=actor, since=parse_since(since))
    lines = client(ctx).governance.export_audit(query)
    if output_path is None:
        for line in lines:
            sys.stdout.write(line)
        return
    count = 0
    with open(output_path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line)
            count += 1
    output.err_console().print(f"Wrote {count} events to {output_path}", markup=False)
