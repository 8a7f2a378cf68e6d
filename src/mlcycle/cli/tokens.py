"""``mlcycle tokens``: create, list and revoke API tokens.

A token is shown once, when it is created; the store keeps only its SHA-256. Clients
send it as ``Authorization: Bearer <token>`` (``MLCYCLE_TOKEN`` for mlcycle's client,
``MLFLOW_TRACKING_TOKEN`` for MLflow's), or as the password of HTTP basic auth.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption
from mlcycle.cli.refs import resolve_prefix

app = typer.Typer(name="tokens", help="API tokens: create, list, revoke.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Whose token it is.")],
    expires: Annotated[
        str | None,
        typer.Option(metavar="DURATION", help="Expire after this long: 90d, 12h, 2w."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="A label, e.g. where it is used.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token for a user and print it (this is the only time it is shown).

    With --json: {"token": ..., "id": ..., "user": ..., "expires_at": ...}.

    Example:

        mlcycle tokens create --user alice --expires 90d --json | jq -r .token
    """
    made = client(ctx).governance.create_token(user, expires=expires, name=name)
    if as_json:
        output.print_json({"token": made.secret, **made.token.to_dict()})
        return
    out = output.console()
    out.print(made.secret, markup=False, soft_wrap=True)
    until = output.fmt_time(made.token.expires_at) if made.token.expires_at else "never"
    output.err_console().print(
        f"Token {made.token.id} for {user} (expires: {until}). Copy it now: it is not shown again.",
        markup=False,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
    wide: output.WideOption = False,
    columns: output.ColumnsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List tokens (IDs and dates; never the tokens themselves). `tokens revoke` takes the
    ID or a unique prefix of it."""
    tokens = client(ctx).governance.list_tokens(user)
    if as_json:
        output.print_json([t.to_dict() for t in tokens])
        return
    output.print_listing(
        [
            output.Column("ID", [t.id for t in tokens], priority=0, style="cyan", max_width=32),
            output.Column("User", [t.user for t in tokens], priority=0, max_width=24),
            output.Column("Name", [t.name or "" for t in tokens], priority=4, max_width=24),
            output.Column("Created", [output.fmt_time(t.created_at) for t in tokens], priority=3),
            output.Column(
                "Expires",
                [output.fmt_time(t.expires_at) if t.expires_at else "never" for t in tokens],
                priority=1,
            ),
            output.Column(
                "Revoked",
                [output.fmt_time(t.revoked_at) if t.revoked_at else "" for t in tokens],
                priority=1,
            ),
        ],
        wide=wide,
        only=columns,
        empty="No tokens.",
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[
        str,
        typer.Argument(metavar="TOKEN_ID", help="From `tokens list`; a unique prefix is enough."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: it stops working at once.

    Example:

        mlcycle tokens revoke f467
    """
    governance = client(ctx).governance
    every = [t.id for t in governance.list_tokens()]
    revoked = governance.revoke_token(resolve_prefix(token_id, every, kind="token"))
    if as_json:
        output.print_json(revoked.to_dict())
        return
    output.console().print(f"Revoked token {revoked.id} of {revoked.user}", markup=False)
