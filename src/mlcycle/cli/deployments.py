"""``mlcycle deployments``: create, list, status, history, delete, split, canary, shadow,
rollback and serve deployments."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from mlcycle import deployments
from mlcycle.cli import output
from mlcycle.cli.context import client, state
from mlcycle.cli.output import JsonOption
from mlcycle.cli.serve import GracefulOption, MaxBodyOption
from mlcycle.durations import parse_duration_ms
from mlcycle.entities.deployment_json import deployment_to_dict, event_to_dict
from mlcycle.errors import InvalidInputError

app = typer.Typer(
    name="deployments",
    help="Deployments: create, list, status, history, split, canary, shadow, rollback, serve.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The deployment's name.")]
Reason = Annotated[
    str | None, typer.Option("--reason", help="Why, recorded in the history.", show_default=False)
]


def _arms_text(arms: tuple[deployments.Arm, ...]) -> str:
    return ", ".join(
        f"{a.name}={a.model_uri} {output.fmt_number(a.weight)}%"
        + (" (shadow)" if a.role is deployments.ArmRole.SHADOW else "")
        for a in arms
    )


def _done(d: deployments.Deployment, as_json: bool, message: str) -> None:
    if as_json:
        output.print_json(deployment_to_dict(d))
        return
    out = output.console()
    out.print(Text(f"{message} (revision {d.revision})"))
    out.print(Text(f"  {d.strategy.value}: {_arms_text(d.arms)}"))


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    model: Annotated[
        str,
        typer.Option(
            "--model", metavar="URI", help="models:/NAME@ALIAS, models:/NAME/VERSION or runs:/..."
        ),
    ],
    max_batch_size: Annotated[
        int | None,
        typer.Option(help="Most requests' rows merged into one predict call.", show_default=False),
    ] = None,
    max_latency_ms: Annotated[
        float | None,
        typer.Option(help="Longest wait (ms) to fill a batch.", show_default=False),
    ] = None,
    log_sample_rate: Annotated[
        float | None,
        typer.Option(help="Share of requests logged (0-1).", show_default=False),
    ] = None,
    routing_key: Annotated[
        str | None,
        typer.Option(
            metavar="FIELD",
            help="Input field that routes a request (sticky A/B).",
            show_default=False,
        ),
    ] = None,
    trust: Annotated[
        list[str] | None,
        typer.Option(metavar="TYPE", help="A type the model may hold beyond skops' trusted set."),
    ] = None,
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a deployment serving a model.

    Example:

        mlcycle deployments create churn --model models:/churn@champion --max-batch-size 32
    """
    d = deployments.create(
        name,
        model,
        max_batch_size=max_batch_size,
        max_latency_ms=max_latency_ms,
        log_sample_rate=log_sample_rate,
        routing_key=routing_key,
        trusted=tuple(trust or ()),
        description=description,
        client=client(ctx),
    )
    _done(d, as_json, f"Created deployment {d.name}")


@app.command("list")
def list_(
    ctx: typer.Context,
    include_deleted: Annotated[
        bool, typer.Option("--all", help="Include deleted deployments.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List the deployments.

    Example:

        mlcycle deployments list --json
    """
    found = deployments.list(include_deleted=include_deleted, client=client(ctx))
    if as_json:
        output.print_json([deployment_to_dict(d) for d in found])
        return
    table = Table("Name", "Strategy", "Arms", "Revision", "Updated", header_style="bold")
    for d in found:
        table.add_row(
            Text(d.name + (" (deleted)" if d.status.value == "deleted" else "")),
            d.strategy.value,
            Text(_arms_text(d.arms)),
            str(d.revision),
            output.fmt_time(d.updated_at),
        )
    output.console().print(table)


@app.command("status")
def status(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """Show a deployment: its arms, the versions they serve now, the canary's progress.

    Example:

        mlcycle deployments status churn --json
    """
    st = deployments.status(name, client=client(ctx))
    if as_json:
        output.print_json(st.to_dict())
        return
    d = st.deployment
    out = output.console()
    rows: list[tuple[str, Any]] = [
        ("Deployment", d.name),
        ("Model", d.model_uri),
        ("Strategy", d.strategy.value),
        ("Revision", str(d.revision)),
        ("Updated", output.fmt_time(d.updated_at)),
        ("Description", d.description),
    ]
    if st.canary is not None:
        c = st.canary
        steps = " -> ".join(f"[{s}%]" if i == c.step else f"{s}%" for i, s in enumerate(c.steps))
        rows.append(("Canary", f"{c.candidate}: {steps}"))
        rows.append(("Next step", f"not before {output.fmt_time(c.next_step_at)}"))
    out.print(output.details_table(rows))
    table = Table("Arm", "Model URI", "Version", "Weight", "Role", header_style="bold")
    for a in st.arms:
        version = Text(str(a.version) if a.version is not None else "-")
        if a.error:
            version = Text(a.error, style="red")
        table.add_row(
            Text(a.arm.name),
            Text(a.arm.model_uri),
            version,
            f"{output.fmt_number(a.arm.weight)}%",
            a.arm.role.value,
        )
    out.print(table)


@app.command("history")
def history(
    ctx: typer.Context,
    name: Name,
    wide: output.WideOption = False,
    columns: output.ColumnsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show every change of a deployment: when, who, what and why (the traffic before
    each change is in --json).

    Example:

        mlcycle deployments history churn --columns rev,action,reason
    """
    events = deployments.history(name, client=client(ctx))
    if as_json:
        output.print_json([event_to_dict(e) for e in events])
        return

    def arms(e: deployments.DeploymentEvent) -> str:
        after = e.after or {}
        return ", ".join(
            f"{a['name']} {output.fmt_number(float(a['weight']))}%" for a in after.get("arms", [])
        )

    output.print_listing(
        [
            output.Column("Rev", [str(e.revision) for e in events], priority=0, justify="right"),
            output.Column("When", [output.fmt_time(e.at) for e in events], priority=2),
            output.Column("Action", [e.action for e in events], priority=0, max_width=16),
            output.Column("By", [e.actor or "-" for e in events], priority=3, max_width=20),
            output.Column("Arms after", [arms(e) for e in events], priority=1, max_width=36),
            output.Column(
                "Reason", [e.reason or "" for e in events], priority=4, flex=True, min_width=16
            ),
        ],
        wide=wide,
        only=columns,
        empty=f"No changes recorded for {name}.",
    )


@app.command("delete")
def delete(ctx: typer.Context, name: Name, reason: Reason = None) -> None:
    """Delete a deployment (its history is kept; the name can be used again).

    Example:

        mlcycle deployments delete churn
    """
    d = deployments.delete(name, reason=reason, client=client(ctx))
    output.console().print(Text(f"Deleted deployment {d.name} (revision {d.revision})"))


def _target(text: str) -> tuple[str, float]:
    uri, sep, weight = text.rpartition("=")
    try:
        if not sep or not uri:
            raise ValueError
        return uri.strip(), float(weight)
    except ValueError:
        raise InvalidInputError(
            f"--to {text!r} must look like MODEL_URI=WEIGHT, e.g. models:/churn/3=50",
            field="to",
        ) from None


@app.command("split")
def split(
    ctx: typer.Context,
    name: Name,
    to: Annotated[
        list[str],
        typer.Option(
            "--to", metavar="URI=WEIGHT", help="A model and its share in percent (repeat)."
        ),
    ],
    reason: Reason = None,
    as_json: JsonOption = False,
) -> None:
    """Split traffic between models by weight (an A/B test).

    Example:

        mlcycle deployments split churn --to models:/churn/3=50 --to models:/churn/4=50
    """
    d = deployments.split(name, [_target(t) for t in to], reason=reason, client=client(ctx))
    _done(d, as_json, f"Split deployment {d.name}")


def _steps(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise InvalidInputError(
            f"--steps {text!r} must be whole percentages separated by commas, e.g. 5,25,50,100",
            field="steps",
        ) from None


@app.command("canary")
def canary(
    ctx: typer.Context,
    name: Name,
    candidate: Annotated[str, typer.Option("--candidate", metavar="URI", help="The new model.")],
    steps: Annotated[
        str, typer.Option(metavar="P1,P2,...", help="Traffic percentages, ending at 100.")
    ] = "5,25,50,100",
    interval: Annotated[
        str, typer.Option(metavar="DURATION", help="How long each step holds (10m, 30s...).")
    ] = "10m",
    max_error_rate: Annotated[
        float | None, typer.Option(help="Roll back above this error rate.", show_default=False)
    ] = None,
    max_p99_ms: Annotated[
        float | None, typer.Option(help="Roll back above this p99 latency.", show_default=False)
    ] = None,
    min_accuracy: Annotated[
        float | None,
        typer.Option(help="Roll back below this accuracy (needs feedback).", show_default=False),
    ] = None,
    reason: Reason = None,
    as_json: JsonOption = False,
) -> None:
    """Roll a candidate out step by step; a breached guard rolls back automatically.

    Traffic to the candidate rises through --steps every --interval while its guards hold;
    the serving process drives the steps.

    Example:

        mlcycle deployments canary churn --candidate models:/churn/4 --max-p99-ms 50
    """
    d = deployments.canary(
        name,
        candidate,
        steps=_steps(steps),
        interval=parse_duration_ms(interval, field="interval") / 1000,
        max_error_rate=max_error_rate,
        max_p99_ms=max_p99_ms,
        min_accuracy=min_accuracy,
        reason=reason,
        client=client(ctx),
    )
    _done(d, as_json, f"Started a canary of {candidate} on {d.name}")


@app.command("shadow")
def shadow(
    ctx: typer.Context,
    name: Name,
    candidate: Annotated[str, typer.Option("--candidate", metavar="URI", help="The new model.")],
    percent: Annotated[float, typer.Option(help="Share of traffic copied to it.")] = 100.0,
    reason: Reason = None,
    as_json: JsonOption = False,
) -> None:
    """Copy traffic to a candidate whose answers are logged, never returned.

    Example:

        mlcycle deployments shadow churn --candidate models:/churn/4 --percent 100
    """
    d = deployments.shadow(name, candidate, percent=percent, reason=reason, client=client(ctx))
    _done(d, as_json, f"Shadowing {candidate} on {d.name}")


@app.command("rollback")
def rollback(
    ctx: typer.Context, name: Name, reason: Reason = None, as_json: JsonOption = False
) -> None:
    """Return to the last stable configuration at once.

    Example:

        mlcycle deployments rollback churn --reason "error spike"
    """
    d = deployments.rollback(name, reason=reason, client=client(ctx))
    _done(d, as_json, f"Rolled back deployment {d.name}")


@app.command("serve")
def serve(
    ctx: typer.Context,
    name: Name,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8080,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    max_body_mib: MaxBodyOption = 64.0,
    graceful_timeout: GracefulOption = 10.0,
) -> None:
    """Serve a deployment over HTTP, following its changes while it runs, until stopped
    with Ctrl-C or SIGTERM (in-flight requests finish and the prediction log is written
    first, for up to --graceful-timeout seconds).

    Open Inference Protocol v2 and MLflow's /invocations; rollouts and alias moves are
    picked up without a restart.

    Example:

        mlcycle deployments serve churn --port 8080
    """
    # Deferred: the serving stack (FastAPI, uvicorn, the model) loads only for this command.
    from mlcycle.serving import ServingConfig, serve_deployment

    config = ServingConfig(
        max_body_bytes=max(1, int(max_body_mib * 2**20)), graceful_shutdown_s=graceful_timeout
    )
    serve_deployment(
        name,
        host=host,
        port=port,
        workers=workers,
        settings=state(ctx).settings(),
        config=config,
    )
