"""Stage 6, deployment: a deployment following @champion, served by a real process on
127.0.0.1, with simulated clients sending the test split."""

from __future__ import annotations

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

import mlcycle
import mlcycle.deployments
from mlcycle.cli import output
from mlcycle.cli.demo import traffic
from mlcycle.cli.demo.processes import ServingProcess
from mlcycle.cli.demo.shared import ALIAS, DEPLOYMENT, MODEL, DemoState
from mlcycle.entities.deployments import Strategy

CLIENTS = 8


def ensure_deployment(s: DemoState) -> mlcycle.deployments.Deployment:
    """The demo's deployment, following ``models:/MODEL@champion``; a deployment left
    mid-rollout by an interrupted demo is rolled back first."""
    uri = f"models:/{MODEL}@{ALIAS}"
    try:
        found = mlcycle.deployments.get(DEPLOYMENT, client=s.client)
    except mlcycle.NotFoundError:
        created = mlcycle.deployments.create(
            DEPLOYMENT,
            uri,
            trusted=s.trusted,
            description="The demo's churn model, following its champion",
            client=s.client,
        )
        s.console.print(f"Created deployment [bold]{DEPLOYMENT}[/] following {uri}.")
        return created
    if found.strategy is not Strategy.SINGLE and found.strategy is not Strategy.SPLIT:
        found = mlcycle.deployments.rollback(
            DEPLOYMENT, reason="the demo starts from a stable deployment", client=s.client
        )
    if found.model_uri != uri:
        raise mlcycle.InvalidInputError(
            f"deployment {DEPLOYMENT!r} serves {found.model_uri}, not {uri}; delete it with "
            f"`{s.command('deployments', 'delete', DEPLOYMENT)}` and run the demo again",
            field="deployment",
        )
    s.console.print(f"Reusing deployment [bold]{DEPLOYMENT}[/] (following {uri}).")
    return found


def start_serving(s: DemoState) -> ServingProcess:
    """``mlcycle deployments serve`` in a child process, stopped when the demo ends."""
    process = ServingProcess(
        [*s.global_args, "deployments", "serve", DEPLOYMENT], s.workdir / "serving.log"
    )
    s.cleanup.append(process.stop)
    with s.console.status("Starting the serving process (loading and warming the model)..."):
        process.start()
    s.server_url = process.url
    s.notes["serving"] = process
    return process


def send_traffic(s: DemoState, frame: object, label: str) -> traffic.TrafficReport:
    """Send every row of ``frame`` from CLIENTS threads, one row per request."""
    if s.server_url is None:
        raise RuntimeError("the deployment stage must start the server first")
    rows = len(frame)  # type: ignore[arg-type]
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=s.console, transient=True) as progress:
        task = progress.add_task(label, total=rows)
        report = traffic.send(
            s.server_url,
            frame,
            clients=CLIENTS,
            on_progress=lambda n: progress.advance(task, n),
        )
    return report


def show_traffic(s: DemoState, report: traffic.TrafficReport, title: str) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in ("requests", "failed", "requests/s", "p50 ms", "p99 ms", "answered by"):
        table.add_column(column, justify="right")
    versions = ", ".join(f"v{v}: {n}" for v, n in sorted(report.versions.items()))
    table.add_row(
        str(report.requests),
        str(report.failures),
        f"{report.throughput:,.0f}",
        output.fmt_number(report.percentile(50)),
        output.fmt_number(report.percentile(99)),
        versions or "-",
    )
    s.console.print(table)


def deploy(s: DemoState) -> None:
    """Create the deployment, serve it, and send it the test split from simulated clients."""
    deployment = ensure_deployment(s)
    process = start_serving(s)
    s.console.print(
        f"Serving [bold]{escape(deployment.name)}[/] at {process.url} "
        "(Open Inference Protocol v2 under /v2, MLflow's /invocations, /metrics)."
    )
    data = s.need_data()
    report = send_traffic(s, data.x_test, "Clients scoring the test split")
    show_traffic(
        s, report, f"{CLIENTS} simulated clients, one customer per request (the test split)"
    )
    s.notes["baseline_traffic"] = report
