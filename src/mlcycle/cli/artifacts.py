"""``mlcycle artifacts``: list a run's files and download them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.refs import resolve_run

app = typer.Typer(
    name="artifacts",
    help="List and download the files runs stored.",
    no_args_is_help=True,
)

RunId = Annotated[
    str, typer.Argument(metavar="RUN", help="The run's ID, a unique ID prefix or its name.")
]


@app.command("list")
def list_(
    ctx: typer.Context,
    run_id: RunId,
    path: Annotated[
        str | None, typer.Option(metavar="FOLDER", help="Only files under this folder.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List a run's artifacts with their size and SHA-256.

    Example:

        mlcycle artifacts list 0191e7a2c4d07c3a8f2e5b6d9a1c3e4f --path environment
    """
    cli = client(ctx)
    run_id = resolve_run(cli, run_id)
    files = cli.list_artifacts(run_id, path)
    if as_json:
        output.print_json([output.artifact_dict(f) for f in files])
        return
    out = output.console()
    if not files:
        where = f" under {path!r}" if path else ""
        out.print(f"Run {run_id} has no artifacts{where}.", markup=False)
        return
    table = Table(header_style="bold")
    table.add_column("Path", overflow="fold")
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("SHA-256", no_wrap=True, style="dim")
    for f in files:
        table.add_row(Text(f.path), output.fmt_size(f.size), (f.sha256 or "-")[:16])
    out.print(table)
    total = sum(f.size or 0 for f in files)
    output.hint(
        out,
        f"{len(files)} file{'s' if len(files) != 1 else ''}, {output.fmt_size(total)}. "
        f"Download with: mlcycle artifacts get {run_id} [PATH] --dest DIR",
    )


@app.command("get")
def get(
    ctx: typer.Context,
    run_id: RunId,
    path: Annotated[
        str,
        typer.Argument(help="A file or folder of the run; all its artifacts when left out."),
    ] = "",
    dest: Annotated[
        Path, typer.Option(metavar="DIR", help="Where to put the files (created when missing).")
    ] = Path("."),
) -> None:
    """Download one artifact, a folder of them, or all of a run's artifacts.

    Examples:

        mlcycle artifacts get 0191e7a2c4d07c3a8f2e5b6d9a1c3e4f metrics.json

        mlcycle artifacts get 0191e7a2c4d07c3a8f2e5b6d9a1c3e4f --dest ./downloaded
    """
    cli = client(ctx)
    local = cli.download_artifacts(resolve_run(cli, run_id), path, dest)
    count = sum(1 for p in local.rglob("*") if p.is_file()) if local.is_dir() else 1
    output.console().print(
        f"Downloaded {count} file{'s' if count != 1 else ''} to {local}", markup=False
    )
