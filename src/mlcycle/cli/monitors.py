"""``mlcycle monitors``: monitors on deployments, their runs, results, reports, alert
rules and retraining."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

import mlcycle.monitoring as monitoring
from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption
from mlcycle.monitoring import AlertRule, Monitor, MonitorResult, ResultStatus

app = typer.Typer(
    name="monitors",
    help="Monitor deployments: drift, data quality, performance, alerts, retraining.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The monitor's name.")]


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _steps(value: str) -> list[int]:
    try:
        return [int(v) for v in _list(value)]
    except ValueError:
        raise typer.BadParameter(
            "canary steps are percentages separated by commas, e.g. 10,50,100",
            param_hint="--canary-steps",
        ) from None


def _schedule(monitor: Monitor) -> str:
    if monitor.schedule_ms is None:
        return "-"
    return output.fmt_duration(monitor.schedule_ms)


def _result_row(r: MonitorResult) -> list[str]:
    perf = r.section("performance")
    metric = perf.get("primary_metric")
    value = perf.get("metrics", {}).get(metric) if metric else None
    return [
        output.fmt_time(r.created_at),
        r.status.value,
        str(r.rows),
        str(r.labelled_rows),
        output.fmt_number(r.drift_share),
        "-" if r.dataset_drift is None else ("yes" if r.dataset_drift else "no"),
        str(r.quality_issues),
        "-" if value is None else f"{metric}={output.fmt_number(value)}",
        r.reason or "",
    ]


def _results_table(results: list[MonitorResult], *, monitor: bool = False) -> Table:
    """The results, with the columns that fit the terminal (the reason always does)."""
    headers = [
        ("Time", 0),
        ("Status", 0),
        ("Rows", 3),
        ("Labelled", 6),
        ("Drift share", 4),
        ("Drift", 5),
        ("Quality", 5),
        ("Performance", 6),
    ]
    rows = [_result_row(r) for r in results]
    columns = (
        [output.Column("Monitor", [r.monitor for r in results], max_width=24)] if monitor else []
    )
    columns += [
        output.Column(h, [row[i] for row in rows], priority=p) for i, (h, p) in enumerate(headers)
    ]
    columns.append(
        output.Column("Reason", [row[-1] for row in rows], priority=1, flex=True, min_width=24)
    )
    table, _ = output.fit_columns(columns, width=output.console().width)
    return table


def _rules_table(rules: list[AlertRule]) -> Table:
    table = Table(
        "Rule", "On", "Severity", "Cooldown", "Webhook", "Signed", "Active since", "Last fired"
    )
    for r in rules:
        table.add_row(
            r.name,
            r.label
            if r.condition.value != "performance"
            else f"performance ({r.metric or 'primary metric'}, tolerance {r.tolerance:g})",
            r.severity.value,
            output.fmt_duration(r.cooldown_ms),
            r.webhook_url or "",
            "yes" if r.secret else "no",
            output.fmt_time(r.active_since),
            output.fmt_time(r.last_fired_at),
        )
    return table


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    deployment: Annotated[str, typer.Option("--deployment", "-d", help="The deployment to watch.")],
    window: Annotated[
        str,
        typer.Option(help="A time span up to each run (1h, 30m, 7d) or a row count (10000rows)."),
    ] = "1h",
    reference: Annotated[
        str | None,
        typer.Option(
            metavar="NAME@VERSION",
            help="Reference dataset version [default: the "
            "training data of the deployed version's lineage].",
        ),
    ] = None,
    schedule: Annotated[
        str | None, typer.Option(help="How often `mlcycle server --scheduler` runs it (15m).")
    ] = None,
    min_rows: Annotated[
        int, typer.Option(min=1, help="Fewer rows (or labels) than this: insufficient_data.")
    ] = 30,
    retrain: Annotated[
        str | None,
        typer.Option(
            metavar="MODULE:FUNCTION",
            help="Python retraining job, called with a "
            "context (deployment, model version, data window, client).",
        ),
    ] = None,
    retrain_command: Annotated[
        str | None,
        typer.Option(help="Shell retraining job; the context is in MLCYCLE_* variables."),
    ] = None,
    on_alerts: Annotated[
        str | None,
        typer.Option(
            metavar="RULE,...", help="Alert rules that start the retraining [default: any]."
        ),
    ] = None,
    auto_canary: Annotated[
        bool,
        typer.Option(
            "--auto-canary",
            help="Start a canary for a retrained version that passes its promotion gates.",
        ),
    ] = False,
    canary_steps: Annotated[str, typer.Option(help="Canary traffic steps in %.")] = "10,50,100",
    canary_interval: Annotated[str, typer.Option(help="Time between canary steps.")] = "10m",
    description: Annotated[str | None, typer.Option(help="What the monitor is for.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a monitor on a deployment.

    Examples:

        mlcycle monitors create churn-drift --deployment churn --window 1h --schedule 15m

        mlcycle monitors create churn-rows -d churn --window 10000rows --reference churn@3 \\
            --retrain jobs.churn:retrain --on-alerts drift --auto-canary
    """
    created = monitoring.create(
        name,
        deployment,
        window=window,
        reference=reference,
        schedule=schedule,
        min_rows=min_rows,
        retrain=retrain,
        retrain_command=retrain_command,
        on_alerts=_list(on_alerts),
        auto_canary=auto_canary,
        canary_steps=_steps(canary_steps),
        canary_interval=canary_interval,
        description=description,
        client=client(ctx),
    )
    if as_json:
        output.print_json(created.to_dict())
        return
    output.console().print(
        f"Created monitor {created.name} on deployment {created.deployment} "
        f"(window {created.window}, reference "
        f"{created.reference_ref or 'from the model lineage'})"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    deployment: Annotated[
        str | None, typer.Option("--deployment", "-d", help="Only this deployment's.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the monitors."""
    found = monitoring.list_monitors(deployment, client=client(ctx))
    if as_json:
        output.print_json([m.to_dict() for m in found])
        return
    table = Table("Name", "Deployment", "Window", "Reference", "Schedule", "Retrain", "Last run")
    for m in found:
        table.add_row(
            m.name,
            m.deployment,
            str(m.window),
            m.reference_ref or "lineage",
            _schedule(m),
            "" if m.retrain is None else m.retrain.target,
            output.fmt_time(m.last_run_at),
        )
    output.console().print(table)


@app.command("show")
def show(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """Show a monitor, its alert rules and its latest result."""
    cli = client(ctx)
    found = monitoring.get(name, client=cli)
    rules = monitoring.alert_rules(name, client=cli)
    latest = monitoring.results(name, limit=1, client=cli)
    if as_json:
        output.print_json(
            {
                **found.to_dict(),
                "rules": [r.to_dict() for r in rules],
                "latest": latest[0].to_dict(details=False) if latest else None,
            }
        )
        return
    out = output.console()
    out.print(
        output.details_table(
            [
                ("Monitor", found.name),
                ("Deployment", found.deployment),
                ("Window", str(found.window)),
                ("Reference", found.reference_ref or "training data of the deployed version"),
                ("Schedule", _schedule(found)),
                ("Min rows", str(found.min_rows)),
                (
                    "Retrain",
                    None
                    if found.retrain is None
                    else f"{found.retrain.kind.value} {found.retrain.target}"
                    + (" (auto canary)" if found.retrain.auto_canary else ""),
                ),
                ("Last run", output.fmt_time(found.last_run_at)),
            ]
        )
    )
    if rules:
        out.print(_rules_table(rules))
    if latest:
        out.print(_results_table(latest))


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(metavar="[NAME]")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every monitor, due or not.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run monitor NAME once now, or every due monitor (for cron).

    Without NAME: the scheduled monitors whose time came and the unscheduled ones; with
    --all, every monitor. Exits 1 when a run failed.

    Example (crontab): */15 * * * * mlcycle monitors run
    """
    cli = client(ctx)
    if name is not None:
        done = [monitoring.run(name, client=cli)]
    elif all_:
        done = [monitoring.run(m.name, client=cli) for m in monitoring.list_monitors(client=cli)]
    else:
        done = monitoring.run_due(every=True, client=cli)
    if as_json:
        output.print_json([r.to_dict(details=False) for r in done])
    elif done:
        output.console().print(_results_table(done, monitor=True))
    else:
        output.console().print("No monitor is due.")
    failed = [r for r in done if r.status is ResultStatus.FAILED]
    if failed:
        raise typer.Exit(1)


@app.command("results")
def results(
    ctx: typer.Context,
    name: Name,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N.")] = None,
    details: Annotated[
        bool, typer.Option("--details", help="With --json: every section of each result.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The monitor's results over time, oldest first."""
    found = monitoring.results(name, limit=limit, client=client(ctx))
    if as_json:
        output.print_json([r.to_dict(details=details) for r in found])
        return
    output.console().print(_results_table(found))


@app.command("report")
def report(
    ctx: typer.Context,
    name: Name,
    html: Annotated[
        Path | None, typer.Option("--html", metavar="PATH", help="Write the HTML page here.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N results.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a monitor's report as a self-contained HTML page.

    Drift table and distributions per feature, data quality, performance, and drift over
    time across results (binned summaries only, never rows).

    Example:

        mlcycle monitors report churn-drift --html churn.html
    """
    if html is None and not as_json:
        raise typer.BadParameter("give --html PATH or --json", param_hint="--html")
    cli = client(ctx)
    if html is not None:
        page = monitoring.monitor_report(name, html, limit=limit, client=cli)
        if not as_json:
            output.console().print(f"Wrote {html} ({output.fmt_size(len(page.encode()))})")
    if as_json:
        output.print_json(monitoring.monitor_report_dict(name, limit=limit, client=cli))


@app.command("alert")
def alert(
    ctx: typer.Context,
    name: Name,
    on: Annotated[
        str | None,
        typer.Option(
            metavar="CONDITION",
            help="dataset_drift, column_drift:COLUMN, "
            "prediction_drift, target_drift, quality[:COLUMN] or performance.",
        ),
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--name", help="The rule's name [default: the condition].")
    ] = None,
    severity: Annotated[str, typer.Option(help="info, warning or critical.")] = "warning",
    cooldown: Annotated[
        str, typer.Option(help="A persisting condition alerts again only after this.")
    ] = "1h",
    webhook: Annotated[str | None, typer.Option(metavar="URL", help="POST alerts here.")] = None,
    secret: Annotated[
        str | None, typer.Option(help="Sign webhooks: X-Mlcycle-Signature: sha256=<HMAC>.")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="performance: the metric [default: primary metric].")
    ] = None,
    tolerance: Annotated[
        float | None, typer.Option(help="performance: allowed drop [default 0.05].")
    ] = None,
    delete: Annotated[
        str | None, typer.Option("--delete", metavar="RULE", help="Remove the rule RULE.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an alert rule to monitor NAME (or remove one with --delete).

    Examples:

        mlcycle monitors alert churn-drift --on dataset_drift --severity critical \\
            --webhook https://hooks.example.com/ml --secret s3cret

        mlcycle monitors alert churn-drift --on performance --metric roc_auc --tolerance 0.03
    """
    cli = client(ctx)
    if delete is not None:
        monitoring.delete_alert_rule(name, delete, client=cli)
        if as_json:
            output.print_json({"monitor": name, "rule": delete, "deleted": True})
        else:
            output.console().print(f"Removed alert rule {delete} of monitor {name}")
        return
    if on is None:
        raise typer.BadParameter("give --on CONDITION (or --delete RULE)", param_hint="--on")
    added = monitoring.add_alert_rule(
        name,
        on,
        name=rule,
        severity=severity,
        cooldown=cooldown,
        webhook=webhook,
        secret=secret,
        metric=metric,
        tolerance=tolerance,
        client=cli,
    )
    if as_json:
        output.print_json(added.to_dict())
        return
    output.console().print(
        f"Alert rule {added.name} on monitor {name}: {added.label} ({added.severity.value})"
    )


@app.command("rules")
def rules(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """The alert rules of monitor NAME."""
    found = monitoring.alert_rules(name, client=client(ctx))
    if as_json:
        output.print_json([r.to_dict() for r in found])
        return
    output.console().print(_rules_table(found))


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    name: Name,
    every: Annotated[str, typer.Argument(metavar="EVERY", help="A duration (15m), or off.")],
) -> None:
    """Change how often the scheduler runs monitor NAME."""
    changed = monitoring.set_schedule(name, None if every == "off" else every, client=client(ctx))
    output.console().print(f"Monitor {name}: schedule {_schedule(changed)}")


@app.command("retrain")
def retrain(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """Run monitor NAME's retraining job now, on its current window."""
    done = monitoring.retrain(name, client=client(ctx))
    if as_json:
        output.print_json(done.to_dict())
        return
    output.console().print(f"Retraining {done.id}: {done.status.value} - {done.message or ''}")


@app.command("retrains")
def retrains(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """Every retraining trigger of monitor NAME and its outcome."""
    found = monitoring.retrains(name, client=client(ctx))
    if as_json:
        output.print_json([r.to_dict() for r in found])
        return
    table = Table("Started", "Status", "Job", "Alert", "New version", "Gates", "Message")
    for r in found:
        gates = ", ".join(f"{g['gate']}={'pass' if g['passed'] else 'FAIL'}" for g in r.gates)
        table.add_row(
            output.fmt_time(r.started_at),
            r.status.value,
            r.target,
            r.alert_id or "",
            "" if r.new_version is None else f"{r.model_name} v{r.new_version}",
            gates,
            r.message or "",
        )
    output.console().print(table)


@app.command("delete")
def delete_(ctx: typer.Context, name: Name, as_json: JsonOption = False) -> None:
    """Delete monitor NAME with its results, rules, alerts and retraining records."""
    monitoring.delete(name, client=client(ctx))
    data: dict[str, Any] = {"monitor": name, "deleted": True}
    if as_json:
        output.print_json(data)
    else:
        output.console().print(f"Deleted monitor {name}")
