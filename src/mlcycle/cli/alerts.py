"""``mlcycle alerts``: the alerts monitors raised, their deliveries, and acknowledging them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

import mlcycle.monitoring as monitoring
from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption
from mlcycle.cli.refs import resolve_prefix, short_ids

app = typer.Typer(
    name="alerts",
    help="Alerts raised by monitors: list, show, acknowledge.",
    no_args_is_help=True,
)

AlertId = Annotated[
    str, typer.Argument(metavar="ID", help="The alert's ID or a unique prefix of it.")
]


def _delivered(alert: monitoring.Alert) -> str:
    return ", ".join(
        f"{d.channel}:{d.status.value}" + (f" ({d.attempts}x)" if d.attempts > 1 else "")
        for d in alert.deliveries
    )


def _resolve(ctx: typer.Context, ref: str) -> str:
    every = monitoring.list_alerts(limit=None, client=client(ctx))
    return resolve_prefix(ref, [a.id for a in every], kind="alert")


@app.command("list")
def list_(
    ctx: typer.Context,
    monitor: Annotated[str | None, typer.Option(help="Only this monitor's alerts.")] = None,
    status: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N.")] = 100,
    wide: output.WideOption = False,
    columns: output.ColumnsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List alerts, newest first. IDs are shown as short unique prefixes, which `alerts
    show` and `alerts ack` take.

    Example:

        mlcycle alerts list --status open --monitor churn-drift
    """
    found = monitoring.list_alerts(monitor=monitor, status=status, limit=limit, client=client(ctx))
    if as_json:
        output.print_json([a.to_dict() for a in found])
        return
    ids = short_ids([a.id for a in found])
    output.print_listing(
        [
            output.Column("ID", ids, priority=0, style="cyan", max_width=32),
            output.Column("Time", [output.fmt_time(a.created_at) for a in found], priority=2),
            output.Column("Monitor", [a.monitor for a in found], priority=1, max_width=24),
            output.Column("Rule", [a.rule for a in found], priority=5, max_width=20),
            output.Column("Severity", [a.severity.value for a in found], priority=3),
            output.Column("Status", [a.status.value for a in found], priority=1),
            output.Column("Delivered", [_delivered(a) for a in found], priority=6),
            output.Column(
                "Message", [a.message for a in found], priority=4, flex=True, min_width=20
            ),
        ],
        wide=wide,
        only=columns,
        empty="No alerts.",
    )


@app.command("show")
def show(ctx: typer.Context, alert_id: AlertId, as_json: JsonOption = False) -> None:
    """Show an alert with each delivery attempt's outcome."""
    found = monitoring.get_alert(_resolve(ctx, alert_id), client=client(ctx))
    if as_json:
        output.print_json(found.to_dict())
        return
    out = output.console()
    out.print(
        output.details_table(
            [
                ("Alert", found.id),
                ("Monitor", f"{found.monitor} (deployment {found.deployment})"),
                ("Rule", f"{found.rule}: {found.condition}"),
                ("Severity", found.severity.value),
                ("Status", found.status.value),
                ("Message", found.message),
                ("Raised", output.fmt_time(found.created_at)),
                (
                    "Acknowledged",
                    None
                    if found.acked_at is None
                    else f"{output.fmt_time(found.acked_at)} by {found.acked_by or '-'}",
                ),
                (
                    "Resolved",
                    None if found.resolved_at is None else output.fmt_time(found.resolved_at),
                ),
            ]
        )
    )
    table = Table("Channel", "Target", "Status", "Attempts", "HTTP", "Error")
    for d in found.deliveries:
        table.add_row(
            d.channel,
            d.target,
            d.status.value,
            str(d.attempts),
            "" if d.status_code is None else str(d.status_code),
            d.error or "",
        )
    out.print(table)


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: AlertId,
    by: Annotated[str | None, typer.Option(help="Who acknowledges it.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Acknowledge an open alert."""
    done = monitoring.ack(_resolve(ctx, alert_id), by=by, client=client(ctx))
    if as_json:
        output.print_json(done.to_dict())
        return
    output.console().print(f"Alert {done.id}: {done.status.value}")
