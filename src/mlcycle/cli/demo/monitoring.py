"""Stage 7, monitoring: first the mix of customers moves (covariate shift: each churns as
before), and the label-free estimate shows the performance drop before the labels arrive,
then the realised drop beside it once they do; then the world shifts; the monitor sees
drift and, from the feedback labels, a performance drop its estimate could not see; alerts
fire to a local webhook receiver, and the retraining job they trigger registers a new
version that starts a canary.

The monitor compares each window of the prediction log with the champion's training data
(found through lineage); its retraining job is :func:`mlcycle.cli.demo.retraining.retrain`.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from typing import Any

import httpx
from rich.markup import escape
from rich.table import Table

import mlcycle
import mlcycle.deployments
import mlcycle.monitoring
from mlcycle.cli import output
from mlcycle.cli.demo import churn
from mlcycle.cli.demo.deployment import send_traffic, show_traffic
from mlcycle.cli.demo.processes import WebhookReceiver
from mlcycle.cli.demo.shared import (
    DEPLOYMENT,
    ESTIMATE_MONITOR,
    MONITOR,
    SEED,
    TARGET,
    DemoState,
)
from mlcycle.cli.demo.traffic import TrafficReport

SHIFTED_ROWS = 3_000
FAST_SHIFTED_ROWS = 1_200
MIX_ROWS = 1_500
FAST_MIX_ROWS = 600
LOG_WAIT_S = 30.0
CANARY_STEPS = (50, 100)
CANARY_INTERVAL = "3s"
RETRAIN_JOB = "mlcycle.cli.demo.retraining:retrain"
RULES = (
    ("drift", "dataset_drift", "warning"),
    ("accuracy", "performance", "critical"),
    ("estimated", "estimated_performance", "warning"),
)


def ensure_monitor(s: DemoState, rows: int, receiver: WebhookReceiver) -> None:
    """The demo's monitor over the last ``rows`` predictions, with its alert rules sent to
    ``receiver``; a monitor left by an earlier demo is replaced (its results go with it)."""
    with contextlib.suppress(mlcycle.NotFoundError):
        mlcycle.monitoring.delete(MONITOR, client=s.client)
    mlcycle.monitoring.create(
        MONITOR,
        DEPLOYMENT,
        window=f"{rows}rows",
        min_rows=min(200, rows),
        retrain=RETRAIN_JOB,
        on_alerts=["accuracy"],
        auto_canary=True,
        canary_steps=CANARY_STEPS,
        canary_interval=CANARY_INTERVAL,
        description="The demo's churn deployment against its training data",
        client=s.client,
    )
    for name, on, severity in RULES:
        mlcycle.monitoring.add_alert_rule(
            MONITOR,
            on,
            name=name,
            severity=severity,
            cooldown="1h",
            webhook=receiver.url,
            secret=receiver.secret,
            tolerance=0.05 if on in ("performance", "estimated_performance") else None,
            metric="accuracy" if on in ("performance", "estimated_performance") else None,
            client=s.client,
        )
    s.console.print(
        f"Monitor [bold]{MONITOR}[/] watches the last {rows} predictions of {DEPLOYMENT} "
        "against the champion's training data; alerts go to a local webhook "
        f"({receiver.url}), signed with HMAC-SHA256."
    )


def ensure_estimate_monitor(s: DemoState, rows: int) -> None:
    """A second monitor over the last ``rows`` predictions that alerts on the label-free
    estimate alone (no webhook, no retraining: a new mix of customers is no reason to
    retrain a model that still scores each customer right)."""
    with contextlib.suppress(mlcycle.NotFoundError):
        mlcycle.monitoring.delete(ESTIMATE_MONITOR, client=s.client)
    mlcycle.monitoring.create(
        ESTIMATE_MONITOR,
        DEPLOYMENT,
        window=f"{rows}rows",
        min_rows=min(200, rows),
        description="The demo's churn deployment: performance estimated before the labels",
        client=s.client,
    )
    mlcycle.monitoring.add_alert_rule(
        ESTIMATE_MONITOR,
        "estimated_performance",
        name="estimated-accuracy",
        severity="warning",
        metric="accuracy",
        tolerance=0.05,
        client=s.client,
    )


def new_mix(s: DemoState) -> None:
    """Customers whose churn is harder to call, each churning as before: the estimate
    drops before their labels arrive, and the labels confirm it."""
    rows = FAST_MIX_ROWS if s.fast else MIX_ROWS
    ensure_estimate_monitor(s, rows)
    mix = churn.hard_to_call(rows, seed=SEED + 3)
    s.console.print(
        "A promotion brings in customers on month-to-month contracts with shorter tenure: "
        "the ones whose churn is hardest to call. Each behaves as such customers always "
        f"did, so the model's probabilities still hold; monitor [bold]{ESTIMATE_MONITOR}[/] "
        "estimates its performance from them (CBPE, calibrated on the labelled month)."
    )
    since = int(time.time() * 1000) - 1
    report = send_traffic(s, mix.drop(columns=[TARGET]), "New customers, harder to call")
    wait_for_log(s, since, len(report.answers))
    before = mlcycle.monitoring.run(ESTIMATE_MONITOR, client=s.client)
    drift = before.section("feature_drift")
    columns = drift.get("columns", {}) if isinstance(drift, dict) else {}
    moved = sorted(name for name, column in columns.items() if column.get("drifted"))
    s.console.print(
        f"{before.rows} predictions, no labels yet; the inputs drifted in "
        f"{', '.join(moved) or 'no feature'}."
    )
    show_estimate(s, before, "Before the labels arrive")
    for alert in mlcycle.monitoring.list_alerts(monitor=ESTIMATE_MONITOR, client=s.client):
        s.console.print(
            f"  [bold]Alert[/] {escape(alert.rule)} ({alert.severity}): {escape(alert.message)}"
        )
    send_feedback(s, report, mix[TARGET])
    after = mlcycle.monitoring.run(ESTIMATE_MONITOR, client=s.client)
    show_estimate(s, after, "Once the labels arrived")
    s.notes["estimate_results"] = (before, after)


def send_feedback(s: DemoState, report: TrafficReport, labels: Any) -> int:
    """The true labels of the answered rows, sent to the serving process's /feedback."""
    items = [
        {"request_id": a.request_id, "label": int(labels.iloc[a.rows[0]])}
        for a in report.answers
        if a.request_id
    ]
    with httpx.Client(base_url=s.server_url or "", timeout=30.0) as http:
        response = http.post("/feedback", json=items)
        response.raise_for_status()
        stored: int = response.json()["stored"]
    return stored


def wait_for_log(s: DemoState, since_ms: int, rows: int) -> None:
    """Wait until the prediction log holds ``rows`` rows since ``since_ms`` (its writer
    flushes in the background, off the request path)."""
    deadline = time.monotonic() + LOG_WAIT_S
    while time.monotonic() < deadline:
        logged = mlcycle.deployments.prediction_log(DEPLOYMENT, since=since_ms, client=s.client)
        if len(logged) >= rows:
            return
        time.sleep(0.25)
    s.console.print("[yellow]The prediction log is behind; the monitor sees what is there.[/]")


def labelled_traffic(s: DemoState, frame: Any, label: str) -> TrafficReport:
    """Send ``frame``'s features, then their labels as feedback; wait for the log."""
    since = int(time.time() * 1000) - 1
    report = send_traffic(s, frame.drop(columns=[TARGET]), label)
    send_feedback(s, report, frame[TARGET])
    wait_for_log(s, since, len(report.answers))
    return report


def show_result(s: DemoState, result: mlcycle.monitoring.MonitorResult, title: str) -> None:
    drift = result.section("feature_drift")
    columns = drift.get("columns", {}) if isinstance(drift, dict) else {}
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in ("feature", "method", "score", "threshold", "drifted"):
        table.add_column(column, justify="left" if column in ("feature", "method") else "right")
    for name, column in sorted(columns.items()):
        drifted = column.get("drifted")
        mark = "[red]yes[/]" if drifted else ("[green]no[/]" if drifted is False else "-")
        table.add_row(
            escape(name),
            str(column.get("method", "-")),
            output.fmt_number(column.get("score")),
            output.fmt_number(column.get("threshold")),
            mark,
        )
    s.console.print(table)
    performance = result.section("performance")
    current = performance.get("metrics", {}) if isinstance(performance, dict) else {}
    baseline = performance.get("baseline", {}) if isinstance(performance, dict) else {}
    accuracy = current.get("accuracy") if isinstance(current, dict) else None
    base = baseline.get("accuracy") if isinstance(baseline, dict) else None
    share = result.drift_share
    s.console.print(
        f"{result.rows} predictions, {result.labelled_rows} labelled: "
        f"dataset drift {'[red]yes[/]' if result.dataset_drift else '[green]no[/]'} "
        f"({output.fmt_number(share)} of the features drifted); accuracy "
        f"{output.fmt_number(accuracy)} against {output.fmt_number(base)} at training; "
        f"{result.quality_issues} data-quality issues."
    )


def show_estimate(s: DemoState, result: mlcycle.monitoring.MonitorResult, when: str) -> None:
    """The label-free estimate of the window's performance (CBPE), beside the realised
    metrics once the labels are in."""
    section = result.section("estimated_performance")
    estimates = section.get("metrics") or {}
    if not estimates:
        s.console.print(f"{when}: no estimate ({section.get('status', 'not computed')}).")
        return
    realised = section.get("realised") or {}
    within = section.get("within") or {}
    baseline = section.get("baseline") or {}
    confidence = float(section.get("confidence") or 0.95)
    parts = []
    for metric in ("accuracy", "roc_auc"):
        found = estimates.get(metric)
        if not found:
            continue
        text = (
            f"{metric} ~{output.fmt_number(found['value'])}, {confidence:.0%} interval "
            f"[{output.fmt_number(found['low'])}, {output.fmt_number(found['high'])}] "
            f"(baseline {output.fmt_number(baseline.get(metric))})"
        )
        if realised.get(metric) is not None:
            inside = "inside" if within.get(metric) else "[yellow]outside[/]"
            text += f"; realised {output.fmt_number(realised[metric])}, {inside} the interval"
        parts.append(text)
    verdict = "[red]an estimated drop[/]" if section.get("drop") else "no estimated drop"
    s.console.print(f"{when} (CBPE, from the model's own probabilities): {verdict}.")
    for part in parts:
        s.console.print(f"  {part}")


def monitor(s: DemoState) -> None:
    """A calm window first, then a shifted one: drift, a performance drop, alerts."""
    rows = FAST_SHIFTED_ROWS if s.fast else SHIFTED_ROWS
    receiver = WebhookReceiver(secret=secrets.token_hex(16))
    receiver.start()
    s.cleanup.append(receiver.stop)
    ensure_monitor(s, rows, receiver)

    calm = churn.generate(rows, seed=SEED + 1)
    labelled_traffic(s, calm, "Customers like the training data")
    first = mlcycle.monitoring.run(MONITOR, client=s.client)
    show_result(s, first, "This month: like the training data")

    new_mix(s)

    s.console.print(
        "Then the world moves: a competitor's offer changes who leaves, and why. The "
        "estimate cannot see that (it assumes each customer churns as before); the labels can."
    )
    shifted = churn.generate(rows, seed=SEED + 2, shift=1.0)
    since = int(time.time() * 1000) - 1
    report = send_traffic(s, shifted.drop(columns=[TARGET]), "Customers a few months later")
    wait_for_log(s, since, len(report.answers))
    show_traffic(s, report, "Traffic after the shift")
    before_labels = mlcycle.monitoring.run(MONITOR, client=s.client)
    show_estimate(s, before_labels, "Before the labels arrive")
    send_feedback(s, report, shifted[TARGET])
    started = time.monotonic()
    second = mlcycle.monitoring.run(MONITOR, client=s.client)
    show_result(s, second, "A few months later: the world moved")
    show_estimate(s, second, "Once the labels arrived")
    s.notes["drift_result"] = second

    alerts = mlcycle.monitoring.list_alerts(monitor=MONITOR, client=s.client)
    for alert in alerts:
        s.console.print(
            f"  [bold]Alert[/] {escape(alert.rule)} ({alert.severity}): {escape(alert.message)}"
        )
    deadline = time.monotonic() + 10
    while len(receiver.deliveries) < len(alerts) and time.monotonic() < deadline:
        time.sleep(0.1)
    verified = sum(d.signature_ok for d in receiver.deliveries)
    s.console.print(
        f"The webhook receiver got {len(receiver.deliveries)} alert(s), {verified} with a "
        f"valid signature ({time.monotonic() - started:.1f} s after the window closed)."
    )
    s.notes["webhook_deliveries"] = list(receiver.deliveries)
    report_path = s.workdir / "drift-report.html"
    mlcycle.monitoring.monitor_report(MONITOR, report_path, client=s.client)
    s.files["Monitoring report (drift, quality, performance)"] = report_path
    s.console.print(f"Report: {report_path}", markup=False, highlight=False)
