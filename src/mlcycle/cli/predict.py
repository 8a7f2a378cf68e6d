"""``mlcycle predict MODEL_URI --input PATH_OR_DATASET --output preds.parquet``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

import mlcycle.batch
from mlcycle.cli import output
from mlcycle.cli.context import client

INTERRUPTED_EXIT = 130


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- rows/s" if speed is None else f"{speed:,.0f} rows/s")


class _Rows(ProgressColumn):
    def render(self, task: Task) -> Text:
        total = "?" if task.total is None else f"{int(task.total):,}"
        return Text(f"{int(task.completed):,}/{total} rows")


class _Bar:
    """A Rich progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, quiet: bool) -> None:
        console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("predicting"),
            BarColumn(bar_width=20),
            _Rows(),
            _RowsPerSecond(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=quiet or not console.is_terminal,
        )
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.task is None:
            self.task = self.progress.add_task("predict", total=total, completed=done)
            return
        self.progress.update(self.task, completed=done, total=total)


def predict(
    ctx: typer.Context,
    model_uri: Annotated[
        str,
        typer.Argument(
            metavar="MODEL_URI",
            help="models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID/PATH or a model folder.",
        ),
    ],
    input: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            metavar="PATH_OR_DATASET",
            help="A Parquet file or folder, a CSV file, or a dataset NAME or NAME@VERSION.",
        ),
    ],
    output_path: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="The Parquet file to write, or s3://BUCKET/PREFIX for partitioned Parquet.",
        ),
    ],
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Chunks predicted at the same time.")
    ] = 1,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            metavar="thread|process|ray",
            help="Where chunks run: threads of this process, processes of this machine, or "
            "Ray tasks (RAY_ADDRESS, else a local cluster; needs mlcycle[ray]).",
        ),
    ] = "thread",
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows per chunk (memory holds a few).")
    ] = mlcycle.batch.DEFAULT_CHUNK_ROWS,
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep", metavar="COL,...", help="Input columns to copy into the output (IDs)."
        ),
    ] = None,
    proba: Annotated[
        bool | None,
        typer.Option(
            "--proba/--no-proba",
            help="Write class probabilities (default: when the model has predict_proba).",
            show_default=False,
        ),
    ] = None,
    model_columns: Annotated[
        bool,
        typer.Option(
            "--model-columns", help="Add model_name, model_version and model_uri columns."
        ),
    ] = False,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart", help="Discard finished chunks of an earlier run with other arguments."
        ),
    ] = False,
    trust: Annotated[
        list[str] | None,
        typer.Option(
            "--trust",
            metavar="TYPE",
            help="A type the model holds that you trust to load (repeatable; the error "
            "lists them).",
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Add each row's SHAP values as shap_<feature> columns (needs shap: "
            "pip install 'mlcycle[explain]').",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Predict every row of a file or dataset with a model, into a Parquet file.

    Rows are read and predicted in chunks (bounded memory), in parallel with --workers.
    Finished chunks are kept in OUTPUT.parts/ until the end: after an interruption
    (Ctrl-C, a crash), the same command resumes where it stopped.

    Examples:

        mlcycle predict models:/churn@champion -i customers.parquet -o scores.parquet
        mlcycle predict models:/churn/3 -i churn-test@2 -o preds.parquet --keep id --workers 2
        mlcycle predict models:/churn/3 -i churn-test@2 -o explained.parquet --explain
        mlcycle predict models:/churn/3 -i big.parquet -o preds.parquet --executor ray
        mlcycle predict models:/churn/3 -i s3://data/big/ -o s3://data/scores/ --executor process
    """
    columns = [c.strip() for c in keep.split(",") if c.strip()] if keep else []
    bar = _Bar(quiet or as_json)
    try:
        with bar.progress:
            result = mlcycle.batch.predict(
                model_uri,
                input,
                output_path,
                workers=workers,
                executor=executor,
                chunk_rows=chunk_rows,
                keep=columns,
                probabilities=proba,
                model_columns=model_columns,
                restart=restart,
                explain=explain,
                progress=bar,
                trusted=trust,
                client=client(ctx),
            )
    except KeyboardInterrupt:
        kept = output_path if output_path.startswith("s3://") else f"{output_path}.parts"
        typer.echo(
            f"interrupted: finished chunks are kept in {kept}; run the same "
            "command again to resume",
            err=True,
        )
        raise typer.Exit(INTERRUPTED_EXIT) from None
    if as_json:
        output.print_json(result.to_dict())
        return
    resumed = f", {result.resumed_chunks} resumed" if result.resumed_chunks else ""
    output.console().print(
        Text(
            f"Wrote {result.rows:,} rows to {result.output} with {result.model.uri} "
            f"({result.chunks} chunk{'s' if result.chunks != 1 else ''}{resumed}) "
            f"in {result.seconds:.1f} s"
        )
    )
