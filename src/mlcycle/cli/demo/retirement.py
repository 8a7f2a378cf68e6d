"""Stage 9, retirement: the replaced version is retired and refuses to serve; the audit
trail lists every step of the demo and its hash chain verifies."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from rich.markup import escape
from rich.table import Table

import mlcycle
import mlcycle.registry
from mlcycle.cli.demo.processes import free_port
from mlcycle.cli.demo.shared import ALIAS, MODEL, DemoState
from mlcycle.entities.governance import AuditQuery

SERVE_CHECK_TIMEOUT_S = 60.0


def model_card(s: DemoState, version: int, label: str) -> None:
    """Write the model card of ``version`` (HTML) next to the demo's other files."""
    card = s.client.governance.card(MODEL, version)
    path = s.workdir / f"model-card-v{version}.html"
    path.write_text(card.to_html(), encoding="utf-8")
    s.files[label] = path
    s.console.print(f"Model card of version {version}: {path}", markup=False, highlight=False)


def refused_to_serve(s: DemoState, version: int) -> str:
    """Try ``mlcycle serve models:/MODEL/VERSION``: a retired version refuses to start."""
    command = [
        sys.executable,
        "-c",
        "from mlcycle.cli.app import main; main()",
        *s.global_args,
        "serve",
        f"models:/{MODEL}/{version}",
        "--port",
        str(free_port()),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=SERVE_CHECK_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return "it started serving (it should not have)"
    if done.returncode == 0:
        return "it started serving (it should not have)"
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {done.returncode}"


def retire(s: DemoState) -> None:
    """Retire the version the new champion replaced; show the audit trail and verify it."""
    old = s.champion
    champion = mlcycle.registry.get_version(MODEL, alias=ALIAS, client=s.client)
    if old is not None and old != champion.version:
        retired = s.client.governance.retire(
            MODEL, old, reason=f"replaced by version {champion.version} after the data drifted"
        )
        s.console.print(
            f"Retired version {retired.version} of {MODEL} ({retired.status.value}); its "
            "runs, metrics, lineage and audit events stay."
        )
        message = refused_to_serve(s, old)
        s.console.print(f"`mlcycle serve models:/{MODEL}/{old}` refuses: {escape(message)}")
        s.notes["retired"] = old
        s.notes["serve_refusal"] = message
    else:
        s.console.print("[yellow]No version was replaced in this demo; nothing to retire.[/]")
    model_card(s, champion.version, "Model card of the champion")

    since = int(s.notes.get("started_ms", 0))
    events = s.client.governance.audit_events(AuditQuery(since=since, limit=10_000))
    by_action = Counter(e.action for e in events)
    table = Table(title=f"Audit trail of this demo: {len(events)} events", title_justify="left")
    table.add_column("action")
    table.add_column("events", justify="right")
    for action, count in sorted(by_action.items()):
        table.add_row(escape(action), str(count))
    s.console.print(table)
    verification = s.client.governance.verify_audit()
    if verification.ok:
        s.console.print(
            f"[green]✓[/] audit verify: {verification.events} events, hash chain intact "
            f"(head {str(verification.head)[:16]}...)."
        )
    else:
        s.console.print(
            f"[red]✗[/] audit verify: event {verification.first_bad}: "
            f"{escape(verification.problem or '')}"
        )
    s.notes["audit_ok"] = verification.ok
    s.notes["audit_actions"] = by_action
