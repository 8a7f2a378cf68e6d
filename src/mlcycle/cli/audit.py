"""``mlcycle audit``: list, verify and export the audit trail (a hash chain)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption
from mlcycle.clock import system_clock
from mlcycle.durations import parse_duration_ms
from mlcycle.entities.governance import AuditQuery
from mlcycle.errors import InvalidInputError

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
    as_json: JsonOption = False,
) -> None:
    """List audit events, oldest first.

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
    table = Table("#", "When", "Actor", "Action", "Target", "Change")
    for e in events:
        change = ""
        if e.before or e.after:
            change = f"{_short(e.before)} -> {_short(e.after)}"
        table.add_row(str(e.seq), output.fmt_time(e.at), e.actor, e.action, e.target, change)
    output.console().print(table)


def _short(value: object) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@app.command("verify")
def verify(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Recompute the hash chain. Exits 1 naming the first event that was edited,
    removed or reordered; prints the head hash (keep it elsewhere to detect later
    removal of the newest events)."""
    result = client(ctx).governance.verify_audit()
    if as_json:
        output.print_json(result.to_dict())
    elif result.ok:
        output.console().print(
            f"OK: {result.events} events, chain intact. Head: {result.head or '-'}", markup=False
        )
    else:
        output.err_console().print(
            f"FAILED at event {result.first_bad}: {result.problem}", markup=False
        )
    if not result.ok:
        raise typer.Exit(1)


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
