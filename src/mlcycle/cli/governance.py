"""``mlcycle governance``: compliance bundles, protection of aliases and deployments,
legal holds, and the state of auth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption

app = typer.Typer(
    name="governance",
    help="Compliance bundles, protected aliases and deployments, legal holds.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The registered model's name.")]
VersionArg = Annotated[int, typer.Argument(metavar="VERSION", help="A version number.", min=1)]


@app.command("export")
def export(
    ctx: typer.Context,
    name: Name,
    version: VersionArg,
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE.zip", help="Where to write.")],
    as_json: JsonOption = False,
) -> None:
    """Write a version's compliance bundle: model card, audit events, evaluation
    reports, data profiles and validation reports, lineage, and a manifest with
    checksums.

    Example:

        mlcycle governance export churn 4 churn-v4-bundle.zip
    """
    manifest = client(ctx).governance.export_bundle(name, version, bundle)
    if as_json:
        output.print_json(manifest)
        return
    table = Table("File", "Size", "SHA-256", title=str(bundle))
    for f in manifest["files"]:
        table.add_row(f["path"], output.fmt_size(f["size"]), f["sha256"][:16])
    output.console().print(table)


@app.command("protect")
def protect(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", help="A model's name, or * for every model.")
    ] = None,
    alias: Annotated[str, typer.Option(help="With --model: the alias.")] = "champion",
    deployment: Annotated[str | None, typer.Option("--deployment", help="A deployment.")] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop requiring approval.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Require approval (four eyes) to move an alias of a model, or for rollouts to a
    deployment; --off lifts it. `champion` of every model is protected by default.

    Examples:

        mlcycle governance protect --model churn --alias production
        mlcycle governance protect --deployment churn-prod
        mlcycle governance protect --model churn --alias champion --off
    """
    if (model is None) == (deployment is None):
        raise typer.BadParameter("give one of --model NAME or --deployment NAME")
    gov = client(ctx).governance
    if model is not None:
        rule = gov.protect("alias", model, alias, protected=not off)
    else:
        rule = gov.protect("deployment", str(deployment), protected=not off)
    if as_json:
        output.print_json(rule.to_dict())
        return
    state = "needs approval" if rule.protected else "no longer needs approval"
    if rule.kind.value == "alias":
        model = "every model" if rule.target == "*" else rule.target
        said = f"Moving the alias {rule.name} of {model} {state}"
    else:
        said = f"A rollout on deployment {rule.target} {state}"
    output.console().print(said, markup=False)


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Who you act as, whether auth (and so four eyes) is on, and the protection rules."""
    gov = client(ctx).governance
    me = gov.whoami()
    rules, enabled = gov.protections()
    if as_json:
        output.print_json({**me, "protections": [r.to_dict() for r in rules], "enforced": enabled})
        return
    out = output.console()
    role = f" (role {me['role']})" if me.get("role") else ""
    out.print(f"Acting as: {me['name']}{role}", markup=False)
    if enabled:
        out.print("Auth: on; protected changes need an approval.", markup=False)
    else:
        out.print(
            "Auth: off here, so approvals are off: protected aliases and deployments change "
            "without approval. Run the server with `mlcycle server --auth`.",
            markup=False,
        )
    table = Table("Kind", "Target", "Name", "Protected", title="Protection rules")
    table.add_row("alias", "*", "champion", "yes (default)")
    for r in rules:
        table.add_row(r.kind.value, r.target, r.name, "yes" if r.protected else "no")
    out.print(table)


@app.command("hold")
def hold(
    ctx: typer.Context,
    name: Name,
    version: VersionArg,
    release: Annotated[bool, typer.Option("--release", help="Lift the hold.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (e.g. a case number).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Put a version under legal hold: retention never deletes its artifacts."""
    v = client(ctx).governance.set_legal_hold(name, version, hold=not release, reason=reason)
    if as_json:
        output.print_json(v.to_dict())
        return
    state = "released from legal hold" if release else "under legal hold"
    output.console().print(f"{name} version {version} is {state}", markup=False)
