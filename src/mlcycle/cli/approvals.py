"""``mlcycle approvals``: request, approve, reject and list approvals (four eyes).

Moving a protected alias (``champion`` by default) or starting or completing a rollout to a
protected deployment needs a second person's approval. Approvals work against a server
with ``--auth`` (who is who comes from the tokens); without auth they are off.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption
from mlcycle.cli.refs import resolve_prefix, short_ids

app = typer.Typer(
    name="approvals",
    help="Four eyes: request, approve, reject and list approvals of protected changes.",
    no_args_is_help=True,
)

IdArg = Annotated[
    str, typer.Argument(metavar="ID", help="The approval request's ID or a unique prefix of it.")
]
CommentOption = Annotated[str | None, typer.Option(help="Why; kept in the record.")]


def _resolve(ctx: typer.Context, ref: str) -> str:
    every = client(ctx).governance.list_approvals()
    return resolve_prefix(ref, [a.id for a in every], kind="approval")


def _show(approval: Any, as_json: bool) -> None:
    if as_json:
        output.print_json(approval.to_dict())
        return
    out = output.console()
    rows: list[tuple[str, str | None]] = [
        ("ID", approval.id),
        ("Change", approval.describe()),
        ("Status", approval.status.value),
        ("Requested by", f"{approval.requester} at {output.fmt_time(approval.created_at)}"),
        ("Comment", approval.comment),
    ]
    if approval.decided_by:
        rows.append(
            ("Decided by", f"{approval.decided_by} at {output.fmt_time(approval.decided_at)}")
        )
        rows.append(("Decision comment", approval.decision_comment))
    if approval.applied_at:
        rows.append(("Applied", output.fmt_time(approval.applied_at)))
    out.print(output.details_table(rows))
    if approval.gates:
        table = Table("Gate", "Result", "Value", "Threshold", "Detail", title="Gate results")
        for g in approval.gates:
            table.add_row(
                str(g.get("gate")),
                "pass" if g.get("passed") else "FAIL",
                output.fmt_number(g.get("value")),
                output.fmt_number(g.get("threshold")),
                str(g.get("detail", "")),
            )
        out.print(table)
    elif approval.kind.value == "alias":
        out.print("No gate results recorded for this version (run `mlcycle models promote`).")


@app.command("request")
def request(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="KIND", help="alias or deployment.")],
    target: Annotated[str, typer.Argument(metavar="TARGET", help="Model or deployment name.")],
    version: Annotated[
        int | None, typer.Argument(metavar="[VERSION]", min=1, help="For an alias: the version.")
    ] = None,
    alias: Annotated[str, typer.Option(help="For an alias: which one.")] = "champion",
    action: Annotated[
        str | None,
        typer.Option(
            help="For a deployment: start or complete (a rollout); for an alias: set_alias "
            "(the default) or delete_alias.",
        ),
    ] = None,
    comment: CommentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask for approval of a protected change; the request shows the gate results.

    Examples:

        mlcycle approvals request alias churn 4 --comment "beats v3 on every slice"
        mlcycle approvals request deployment churn-prod --action start --comment "canary"
    """
    made = client(ctx).governance.request_approval(
        kind,
        target,
        version=version,
        alias=alias if kind == "alias" else None,
        action=action,
        comment=comment,
    )
    _show(made, as_json)
    if not as_json:
        output.hint(output.console(), f"An approver runs: mlcycle approvals approve {made.id}")


@app.command("approve")
def approve(
    ctx: typer.Context,
    approval_id: IdArg,
    comment: CommentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a request (an approver other than the requester). An alias moves at once."""
    _show(client(ctx).governance.approve(_resolve(ctx, approval_id), comment=comment), as_json)


@app.command("reject")
def reject(
    ctx: typer.Context,
    approval_id: IdArg,
    comment: CommentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a request (an approver), or withdraw your own."""
    _show(client(ctx).governance.reject(_resolve(ctx, approval_id), comment=comment), as_json)


@app.command("show")
def show(ctx: typer.Context, approval_id: IdArg, as_json: JsonOption = False) -> None:
    """Show one request with its gate results and decision."""
    _show(client(ctx).governance.get_approval(_resolve(ctx, approval_id)), as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="pending, approved, rejected or applied.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Only this model or deployment.")] = None,
    wide: output.WideOption = False,
    columns: output.ColumnsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List approval requests, oldest first."""
    found = client(ctx).governance.list_approvals(status=status, target=target)
    if as_json:
        output.print_json([a.to_dict() for a in found])
        return
    output.print_listing(
        [
            output.Column(
                "ID", short_ids([a.id for a in found]), priority=0, style="cyan", max_width=32
            ),
            output.Column("Change", [a.describe() for a in found], priority=0, flex=True),
            output.Column("Status", [a.status.value for a in found], priority=0),
            output.Column("Requested by", [a.requester for a in found], priority=1, max_width=24),
            output.Column("Decided by", [a.decided_by or "" for a in found], priority=3),
            output.Column("When", [output.fmt_time(a.created_at) for a in found], priority=2),
        ],
        wide=wide,
        only=columns,
        empty="No approval requests.",
    )
