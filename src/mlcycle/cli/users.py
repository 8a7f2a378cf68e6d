"""``mlcycle users``: create, list, disable and enable users, set roles and grants.

On the server machine these work on the store directly (the first admin is made this
way); against a server (``--tracking-uri http://...``) they need an admin's token.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption

app = typer.Typer(
    name="users", help="Users, roles and grants (for a server with --auth).", no_args_is_help=True
)

UserName = Annotated[str, typer.Argument(metavar="NAME", help="The user's name.")]
ROLES = "viewer, editor, approver or admin"


def _print_user(user: Any, as_json: bool, verb: str) -> None:
    if as_json:
        output.print_json(user.to_dict())
    else:
        output.console().print(
            f"{verb} user {user.name} (role {user.role.value}"
            f"{', disabled' if user.disabled else ''})",
            markup=False,
        )


@app.command("create")
def create(
    ctx: typer.Context,
    name: UserName,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    role: Annotated[str, typer.Option(help=f"The global role: {ROLES}.")] = "viewer",
    password: Annotated[
        bool,
        typer.Option(
            "--password", help="Also set a password (asked for; stored as an argon2 hash)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a user. Then give them a token with `mlcycle tokens create --user NAME`.

    Example (the first admin, on the server machine):

        mlcycle users create alice --admin
    """
    secret = None
    if password:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = client(ctx).governance.create_user(name, role=role, admin=admin, password=secret)
    _print_user(user, as_json, "Created")


@app.command("list")
def list_(
    ctx: typer.Context,
    wide: output.WideOption = False,
    columns: output.ColumnsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the users with their roles."""
    users = client(ctx).governance.list_users()
    if as_json:
        output.print_json([u.to_dict() for u in users])
        return
    output.print_listing(
        [
            output.Column("Name", [u.name for u in users], priority=0, max_width=32),
            output.Column("Role", [u.role.value for u in users], priority=0),
            output.Column("Disabled", ["yes" if u.disabled else "" for u in users], priority=1),
            output.Column("Password", ["yes" if u.has_password else "" for u in users], priority=3),
            output.Column("Created", [output.fmt_time(u.created_at) for u in users], priority=2),
        ],
        wide=wide,
        only=columns,
        empty="No users.",
    )


@app.command("disable")
def disable(ctx: typer.Context, name: UserName, as_json: JsonOption = False) -> None:
    """Disable a user: their tokens stop working at once (the record stays)."""
    _print_user(client(ctx).governance.set_disabled(name, True), as_json, "Disabled")


@app.command("enable")
def enable(ctx: typer.Context, name: UserName, as_json: JsonOption = False) -> None:
    """Enable a disabled user again."""
    _print_user(client(ctx).governance.set_disabled(name, False), as_json, "Enabled")


@app.command("role")
def role(
    ctx: typer.Context,
    name: UserName,
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=ROLES)],
    as_json: JsonOption = False,
) -> None:
    """Change a user's global role."""
    _print_user(client(ctx).governance.set_role(name, new_role), as_json, "Updated")


def _resource(experiment: str | None, model: str | None) -> tuple[str, str]:
    if (experiment is None) == (model is None):
        raise typer.BadParameter("give one of --experiment ID or --model NAME")
    return ("experiment", experiment) if experiment is not None else ("model", str(model))


ExperimentOption = Annotated[
    str | None, typer.Option("--experiment", metavar="ID", help="An experiment's ID.")
]
ModelOption = Annotated[
    str | None, typer.Option("--model", metavar="NAME", help="A registered model's name.")
]


@app.command("grant")
def grant(
    ctx: typer.Context,
    name: UserName,
    experiment: ExperimentOption = None,
    model: ModelOption = None,
    permission: Annotated[
        str, typer.Option(help="read, write or manage (each includes the ones before).")
    ] = "read",
    as_json: JsonOption = False,
) -> None:
    """Let a user read, write or manage one experiment or registered model, beyond
    their role.

    Example:

        mlcycle users grant bob --experiment 0190a1... --permission write
    """
    kind, resource = _resource(experiment, model)
    made = client(ctx).governance.grant(name, kind, resource, permission)
    if as_json:
        output.print_json(made.to_dict())
        return
    output.console().print(f"{name} may now {made.level.value} {kind} {resource}", markup=False)


@app.command("ungrant")
def ungrant(
    ctx: typer.Context,
    name: UserName,
    experiment: ExperimentOption = None,
    model: ModelOption = None,
) -> None:
    """Remove a user's grant on one experiment or registered model."""
    kind, resource = _resource(experiment, model)
    client(ctx).governance.revoke_grant(name, kind, resource)
    output.console().print(f"Removed {name}'s grant on {kind} {resource}", markup=False)


@app.command("grants")
def grants(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(metavar="[NAME]")] = None,
    as_json: JsonOption = False,
) -> None:
    """List grants (of one user, or everyone's)."""
    found = client(ctx).governance.list_grants(name)
    if as_json:
        output.print_json([g.to_dict() for g in found])
        return
    table = Table("User", "Kind", "Resource", "Permission", "Since")
    for g in found:
        table.add_row(
            g.user, g.kind.value, g.resource, g.level.value, output.fmt_time(g.created_at)
        )
    output.console().print(table)
