"""``mlcycle models``: list, show, versions, compare, alias, promote and lineage of
registered models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

import mlcycle
from mlcycle import registry
from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption

app = typer.Typer(
    name="models",
    help="The model registry: list, show, versions, compare, alias, promote, lineage.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The registered model's name.")]
VersionArg = Annotated[int, typer.Argument(metavar="VERSION", help="A version number.", min=1)]


def model_dict(m: registry.RegisteredModel) -> dict[str, Any]:
    return {
        "name": m.name,
        "description": m.description,
        "owner": m.owner,
        "tags": dict(m.tags),
        "latest_version": m.latest_version,
        "aliases": dict(m.aliases),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    }


def _versions_table(versions: list[registry.ModelVersion]) -> Table:
    table = Table("Version", "Status", "Aliases", "Flavor", "Run", "Created")
    for v in versions:
        table.add_row(
            str(v.version),
            v.status.value,
            ", ".join(v.aliases),
            v.flavor or "",
            v.run_id,
            output.fmt_time(v.created_at),
        )
    return table


@app.command("list")
def list_(
    ctx: typer.Context,
    filter: Annotated[
        str | None, typer.Option("--filter", help="Only names containing this text.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the registered models.

    Example:

        mlcycle models list --json
    """
    models = registry.list_models(filter, client=client(ctx))
    if as_json:
        output.print_json([model_dict(m) for m in models])
        return
    table = Table("Name", "Latest", "Aliases", "Updated")
    for m in models:
        aliases = ", ".join(f"{a}={v}" for a, v in sorted(m.aliases.items()))
        table.add_row(m.name, str(m.latest_version or ""), aliases, output.fmt_time(m.updated_at))
    output.console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int | None, typer.Argument(metavar="[VERSION]", min=1)] = None,
    alias: Annotated[
        str | None, typer.Option("--alias", help="The version an alias names.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a registered model, or one of its versions (by number or --alias) with its
    gate results."""
    cli = client(ctx)
    if version is None and alias is None:
        m = registry.get_model(name, client=cli)
        if as_json:
            output.print_json(model_dict(m))
            return
        output.console().print(
            output.details_table(
                [
                    ("Name", m.name),
                    ("Description", m.description),
                    ("Owner", m.owner),
                    ("Latest version", str(m.latest_version or "")),
                    ("Aliases", ", ".join(f"{a}={v}" for a, v in sorted(m.aliases.items()))),
                    ("Updated", output.fmt_time(m.updated_at)),
                ]
            )
        )
        return
    v = registry.get_version(name, version, alias=alias, client=cli)
    gates = registry.gate_results(name, v.version, client=cli)
    if as_json:
        output.print_json({**v.to_dict(), "gates": [g.to_dict() for g in gates]})
        return
    out = output.console()
    out.print(
        output.details_table(
            [
                ("Model", f"{v.name} version {v.version}"),
                ("Status", v.status.value),
                ("Aliases", ", ".join(v.aliases)),
                ("Source", v.model_uri),
                ("Flavor", v.flavor),
                ("Description", v.description),
                ("Created", output.fmt_time(v.created_at)),
            ]
        )
    )
    if gates:
        table = Table("Gate", "Passed", "Value", "Threshold", "Detail", title="Gate results")
        for g in gates:
            table.add_row(
                g.gate,
                "yes" if g.passed else "no",
                output.fmt_number(g.value),
                output.fmt_number(g.threshold),
                g.detail + (f" (forced: {g.reason})" if g.forced else ""),
            )
        out.print(table)


@app.command("versions")
def versions(
    ctx: typer.Context,
    name: Name,
    all_: Annotated[bool, typer.Option("--all", help="Include retired versions.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List the versions of model NAME, oldest first (retired ones with --all)."""
    found = registry.list_versions(name, include_retired=all_, client=client(ctx))
    if as_json:
        output.print_json([v.to_dict() for v in found])
        return
    output.console().print(_versions_table(found))


@app.command("compare")
def compare(
    ctx: typer.Context, name: Name, v1: VersionArg, v2: VersionArg, as_json: JsonOption = False
) -> None:
    """Params, metrics and input datasets of two versions side by side."""
    diff = registry.compare(name, v1, v2, client=client(ctx))
    if as_json:
        output.print_json(diff.to_dict())
        return
    table = Table("", f"v{v1}", f"v{v2}")
    for key, (a, b) in diff.params.items():
        table.add_row(output.abbreviate(f"params.{key}", output.KEY_WIDTH), a or "", b or "")
    output.add_metric_rows(table, {key: list(pair) for key, pair in diff.metrics.items()})
    table.add_section()
    for label, items in (("inputs", diff.inputs),):
        table.add_row(
            label,
            ", ".join(f"{i.name}@{i.version} ({i.context})" for i in items[0]),
            ", ".join(f"{i.name}@{i.version} ({i.context})" for i in items[1]),
        )
    output.console().print(table)


@app.command("alias")
def alias(
    ctx: typer.Context,
    name: Name,
    alias: Annotated[str, typer.Argument(metavar="ALIAS")],
    version: Annotated[int | None, typer.Argument(metavar="[VERSION]", min=1)] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Point ALIAS at VERSION (no gates; see `promote`), or remove it with --delete."""
    cli = client(ctx)
    if delete:
        registry.delete_alias(name, alias, client=cli)
        if as_json:
            output.print_json({"name": name, "alias": alias, "deleted": True})
        else:
            output.console().print(f"Removed alias {alias!r} of {name}")
        return
    if version is None:
        raise typer.BadParameter("give a VERSION, or --delete", param_hint="VERSION")
    v = registry.set_alias(name, alias, version, client=cli)
    if as_json:
        output.print_json(v.to_dict())
        return
    output.console().print(f"{name}@{alias} -> version {v.version}")


@app.command("promote")
def promote(
    ctx: typer.Context,
    name: Name,
    version: VersionArg,
    alias: Annotated[str, typer.Option("--alias", help="The alias to move.")] = "champion",
    tolerance: Annotated[
        float, typer.Option(help="Allowed regression against the current alias.")
    ] = 0.0,
    max_fairness_gap: Annotated[
        float | None, typer.Option(help="Add a fairness gate: largest gap allowed.")
    ] = None,
    max_latency_ms: Annotated[
        float | None, typer.Option(help="Add a latency gate: p99 on the input example.")
    ] = None,
    require_card: Annotated[
        bool,
        typer.Option(
            "--require-card",
            help="Add a gate: refuse while the card's intended use, limitations or ethical "
            "considerations are empty.",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Promote past failed gates.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --force).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Move an alias (default: champion) to VERSION if it passes its gates; every gate's
    result is stored with the version.

    Example:

        mlcycle models promote churn 4 --max-fairness-gap 0.1
    """
    gates: list[registry.Gate] = []
    if max_fairness_gap is not None:
        gates.append(registry.FairnessGate(max_fairness_gap))
    if max_latency_ms is not None:
        gates.append(registry.LatencyGate(max_latency_ms))
    if require_card:
        gates.append(registry.CardGate())
    done = registry.promote(
        name,
        version,
        alias,
        gates,
        tolerance=tolerance,
        force=force,
        reason=reason,
        client=client(ctx),
    )
    if as_json:
        output.print_json(done.to_dict())
        return
    out = output.console()
    for g in done.results:
        out.print(f"{'PASS' if g.passed else 'FAIL'}  {g.gate}: {g.detail}")
    suffix = f" (forced: {done.reason})" if done.forced else ""
    out.print(f"{name}@{alias} -> version {done.version}{suffix}")


@app.command("lineage")
def lineage(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int | None, typer.Argument(metavar="[VERSION]", min=1)] = None,
    alias: Annotated[str | None, typer.Option("--alias")] = None,
    as_json: JsonOption = False,
) -> None:
    """Where a version comes from and where it went: its run, experiment, the dataset
    versions the run used (and what they were made from), the retraining that produced
    it (monitor, trigger, alert), and the deployments serving it now.

    With --json: the lineage record plus "parents", "retraining" and "deployments".
    """
    cli = client(ctx)
    found = registry.lineage(name, version, alias=alias, client=cli)
    mv = found.version
    parents = {
        f"{i.name}@{i.version}": [
            f"{p.parent_name}@{p.parent_version} ({p.transform.name})"
            for p in mlcycle.datasets.get(i.name, i.version, client=cli).parents
        ]
        for i in found.inputs
    }
    retrains = [
        r
        for m in mlcycle.monitoring.list_monitors(client=cli)
        for r in mlcycle.monitoring.retrains(m.name, client=cli)
        if r.model_name == mv.name and r.new_version == mv.version
    ]
    serving = [
        f"{state.deployment.name} (arm {arm.arm.name}, {arm.arm.weight:g}%)"
        for d in mlcycle.deployments.list(client=cli)
        for state in [mlcycle.deployments.status(d.name, client=cli)]
        for arm in state.arms
        if arm.model is not None and arm.model.name == mv.name and arm.version == mv.version
    ]
    if as_json:
        output.print_json(
            {
                **found.to_dict(),
                "parents": parents,
                "retraining": [r.to_dict() for r in retrains],
                "deployments": serving,
            }
        )
        return
    rows: list[tuple[str, str | None]] = [
        ("Model", f"{mv.name} version {mv.version}"),
        ("Run", f"{found.run.id} ({found.run.name}, {found.run.status.value})"),
        ("Experiment", found.experiment.name if found.experiment else None),
    ]
    for i in found.inputs:
        ref = f"{i.name}@{i.version}"
        made = f", made from {', '.join(parents[ref])}" if parents.get(ref) else ""
        rows.append((f"Input ({i.context})", ref + made))
    for r in retrains:
        trigger = f"monitor {r.monitor} ({r.kind.value}), from version {r.base_version}"
        if r.alert_id:
            trigger += f", alert {r.alert_id[:12]}"
        rows.append(("Retrained by", trigger))
    rows.append(("Serving", ", ".join(serving) or "no deployment"))
    output.console().print(output.details_table(rows))


@app.command("card")
def card(
    ctx: typer.Context,
    name: Name,
    version: VersionArg,
    html: Annotated[bool, typer.Option("--html", help="Render HTML.")] = False,
    md: Annotated[bool, typer.Option("--md", help="Render Markdown (the default).")] = False,
    as_json: JsonOption = False,
    output_path: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    intended_use: Annotated[
        str | None, typer.Option(help="Set the card's intended use first (the owner's words).")
    ] = None,
    limitations: Annotated[
        str | None, typer.Option(help="Set the card's limitations first.")
    ] = None,
    ethical_considerations: Annotated[
        str | None, typer.Option(help="Set the card's ethical considerations first.")
    ] = None,
) -> None:
    """The model card of a version: details, intended use and limitations, training data,
    evaluation (overall, per slice, fairness), gates, approvals, deployments, monitoring.

    Examples:

        mlcycle models card churn 4 --intended-use "monthly churn scores for retention"
        mlcycle models card churn 4 --html -o churn-v4.html
    """
    if html and md:
        raise typer.BadParameter("choose one of --html and --md")
    gov = client(ctx).governance
    fields = {
        "intended_use": intended_use,
        "limitations": limitations,
        "ethical_considerations": ethical_considerations,
    }
    if any(v is not None for v in fields.values()):
        gov.set_card_fields(name, version, **{k: v for k, v in fields.items() if v is not None})
    found = gov.card(name, version)
    if as_json:
        text = json.dumps(found.to_dict(), indent=2, default=str) + "\n"
    else:
        text = found.to_html() if html else found.to_markdown()
    if output_path is None:
        typer.echo(text)
        return
    output_path.write_text(text, encoding="utf-8")
    if not html and not as_json:  # the Markdown links its charts: write them beside it
        for item in found.evidence:
            if item.asset is not None and item.png is not None:
                asset = output_path.parent / item.asset
                asset.parent.mkdir(parents=True, exist_ok=True)
                asset.write_bytes(item.png)
    output.err_console().print(f"Wrote the model card to {output_path}", markup=False)


@app.command("retire")
def retire(
    ctx: typer.Context,
    name: Name,
    version: VersionArg,
    reason: Annotated[str, typer.Option(help="Why it is retired (kept in the record).")],
    as_json: JsonOption = False,
) -> None:
    """Retire a version: it never serves again and leaves default listings, but keeps its
    record, metrics, lineage and audit events. Refused while an alias or an active
    deployment points at it.

    Example:

        mlcycle models retire churn 2 --reason "superseded by v4; drifted on region=EU"
    """
    v = client(ctx).governance.retire(name, version, reason=reason)
    if as_json:
        output.print_json(v.to_dict())
        return
    output.console().print(f"Retired {name} version {v.version}: {reason}", markup=False)
