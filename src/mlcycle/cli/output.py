"""Shared rendering: Rich tables for people, JSON for scripts.

Every ``--json`` output goes through :func:`print_json` (valid JSON on stdout, NaN and
infinities as null). User data is wrapped in :class:`rich.text.Text` before it reaches a
table, so names like ``[bold]`` are shown as written, not read as markup.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

import mlcycle
from mlcycle.cli.refs import short_ids

BEST = "★"

#: The options every listing shares.
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WideOption = Annotated[
    bool, typer.Option("--wide", help="Show every column, whatever the terminal's width.")
]
ColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--columns", metavar="A,B,...", help="Only these columns (headers, case-insensitive)."
    ),
]


# -- consoles and JSON -------------------------------------------------------------------


def console() -> Console:
    """A console on stdout (made per call so tests' redirected streams and COLUMNS apply)."""
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(data: object) -> None:
    """Write ``data`` as indented JSON on stdout; NaN and +/-inf become null."""
    text = orjson.dumps(
        data,
        default=str,
        option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
    )
    typer.echo(text.decode())


# -- formatting ---------------------------------------------------------------------------


def fmt_time(ms: int | None, *, seconds: bool = True) -> str:
    """Local date and time of a timestamp in milliseconds since the epoch."""
    if ms is None:
        return "-"
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime(pattern)


def fmt_duration(ms: int | None) -> str:
    """``850ms``, ``12.3s``, ``4m 05s``, ``2h 03m``; ``-`` while a run is not over."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_number(value: float | None) -> str:
    """A metric value, short: ``0.9944``, ``100``, ``1.235e+06``, ``NaN``."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def fmt_size(size: int | None) -> str:
    if size is None:
        return "-"
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def mask_uri(uri: str) -> str:
    """The URI with any password replaced by ``***`` (safe to print)."""
    return re.sub(r"(://[^:/@]+):[^@/]+@", r"\1:***@", uri)


def metric_field(key: str) -> str:
    """``metrics.<key>`` as the filter language wants it (quoted when it has spaces)."""
    return f"metrics.`{key}`" if " " in key else f"metrics.{key}"


def problem_summary(problem: mlcycle.Problem, *, short: bool = False) -> str:
    """``roc_auc (maximize, success at >= 0.9)``, or short ``roc_auc ↑ ≥ 0.9``; ``-`` when
    no primary metric is set."""
    if problem.primary_metric is None:
        return "-"
    maximize = problem.direction is mlcycle.Direction.MAXIMIZE
    if short:
        goal = ""
        if problem.threshold is not None:
            goal = f" {'≥' if maximize else '≤'} {fmt_number(problem.threshold)}"
        return f"{problem.primary_metric} {'↑' if maximize else '↓'}{goal}"
    detail = problem.direction.value
    if problem.threshold is not None:
        detail += f", success at {'>=' if maximize else '<='} {fmt_number(problem.threshold)}"
    return f"{problem.primary_metric} ({detail})"


# -- JSON shapes --------------------------------------------------------------------------


def experiment_dict(exp: mlcycle.Experiment) -> dict[str, Any]:
    """An experiment for ``--json``; times are milliseconds since the epoch."""
    return {
        "experiment_id": exp.id,
        "name": exp.name,
        "lifecycle_stage": exp.lifecycle_stage.value,
        "description": exp.description,
        "problem": {
            "task": exp.problem.task.value,
            "target": exp.problem.target,
            "primary_metric": exp.problem.primary_metric,
            "direction": exp.problem.direction.value,
            "threshold": exp.problem.threshold,
        },
        "tags": dict(exp.tags),
        "created_at": exp.created_at,
        "updated_at": exp.updated_at,
        "deleted_at": exp.deleted_at,
    }


def run_dict(run: mlcycle.Run) -> dict[str, Any]:
    """A run for ``--json``; times and duration are in milliseconds."""
    return {
        "run_id": run.id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "duration": run.duration,
        "parent_id": run.parent_id,
        "description": run.description,
        "error": run.error,
        "lifecycle_stage": run.lifecycle_stage.value,
        "deleted_at": run.deleted_at,
        "params": dict(run.params),
        "metrics": dict(run.metrics),
        "tags": dict(run.tags),
    }


def artifact_dict(info: mlcycle.ArtifactInfo) -> dict[str, Any]:
    return {"path": info.path, "is_dir": info.is_dir, "size": info.size, "sha256": info.sha256}


# -- tables -------------------------------------------------------------------------------


def metric_columns(runs: Sequence[mlcycle.Run], preferred: Iterable[str] = ()) -> list[str]:
    """Metric keys of ``runs`` in the order to show them: ``preferred`` first, then by name."""
    present = {k for r in runs for k in r.metrics}
    keys = list(dict.fromkeys(k for k in preferred if k in present))
    return keys + sorted(present - set(keys))


_ID_WIDTH = 32
_MAX_NAME_WIDTH = 24
_CELL = 3  # padding on both sides and the border of one column
_METRIC_WIDTH = (7, 12)  # a metric column's width: enough for "0.9944", header folded at 12


def fitting(width: int, fixed: Iterable[int], optional: Mapping[str, int]) -> set[str]:
    """Which ``optional`` columns fit in ``width`` next to the ``fixed`` ones.

    Widths are content widths (each column also takes padding and a border); optional
    columns are taken in priority order (the mapping's order), skipping those too wide.
    """
    room = width - 1 - sum(w + _CELL for w in fixed)
    shown: set[str] = set()
    for name, needed in optional.items():
        if needed + _CELL <= room:
            shown.add(name)
            room -= needed + _CELL
    return shown


def name_column_width(names: Iterable[str]) -> int:
    """Room for the longest name (at most 24 characters; longer ones fold)."""
    return min(max((len(n) for n in names), default=4), _MAX_NAME_WIDTH)


def runs_table(
    runs: Sequence[mlcycle.Run],
    *,
    metric_keys: Sequence[str],
    width: int,
    title: str | None = None,
    best_id: str | None = None,
) -> tuple[Table, int]:
    """One row per run: ID, name, status, then metrics, duration and start as ``width`` allows.

    Run IDs are shown as their shortest unique prefix (at least 12 characters), which
    every command taking a run accepts; metric columns are added in the order given
    while they fit, then duration and start time. Returns the table and how many metric
    columns were left out.
    """
    ids = short_ids([r.id for r in runs])
    id_width = max((len(i) for i in ids), default=_ID_WIDTH)
    name_width = name_column_width(r.name for r in runs)
    budget = width - 1 - (id_width + _CELL) - (name_width + _CELL) - (8 + _CELL)
    if best_id is not None:
        budget -= 1 + _CELL
    shown: list[str] = []
    for key in metric_keys:
        cost = min(max(len(key), _METRIC_WIDTH[0]), _METRIC_WIDTH[1]) + _CELL
        if cost > budget and shown:
            break
        shown.append(key)
        budget -= cost
    with_duration = budget >= 8 + _CELL
    budget -= (8 + _CELL) if with_duration else 0
    with_start = budget >= 16 + _CELL

    table = Table(title=title, title_justify="left", header_style="bold")
    if best_id is not None:
        table.add_column("", no_wrap=True, min_width=1)
    table.add_column("Run ID", no_wrap=True, min_width=id_width, style="cyan")
    table.add_column("Name", overflow="fold", min_width=name_width)
    table.add_column("Status", no_wrap=True, min_width=8)
    for key in shown:
        table.add_column(
            Text(abbreviate(key, _METRIC_WIDTH[1] * 2), overflow="fold"),
            justify="right",
            no_wrap=True,
            min_width=_METRIC_WIDTH[0],
        )
    if with_duration:
        table.add_column("Duration", justify="right", no_wrap=True)
    if with_start:
        table.add_column("Started", no_wrap=True)
    for run, short in zip(runs, ids, strict=True):
        cells: list[RenderableType] = []
        if best_id is not None:
            cells.append(Text(BEST, style="bold yellow") if run.id == best_id else "")
        cells += [Text(short), Text(run.name), status_text(run.status)]
        cells += [fmt_number(run.metrics.get(k)) for k in shown]
        if with_duration:
            cells.append(fmt_duration(run.duration))
        if with_start:
            cells.append(fmt_time(run.start_time, seconds=False))
        table.add_row(*cells, style="bold" if run.id == best_id else None)
    return table, len(metric_keys) - len(shown)


def hint(out: Console, text: str) -> None:
    """A dim line of advice, usually a command: printed as is and never broken mid-command."""
    out.print(text, markup=False, highlight=False, style="dim", soft_wrap=True)


def status_text(status: mlcycle.RunStatus) -> Text:
    style = {
        mlcycle.RunStatus.FINISHED: "green",
        mlcycle.RunStatus.FAILED: "red",
        mlcycle.RunStatus.KILLED: "yellow",
    }.get(status, "blue")
    return Text(status.value, style=style)


def details_table(rows: Iterable[tuple[str, RenderableType | str | None]]) -> Table:
    """Label/value pairs, one per line (values that are None are left out)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        if value is None:
            continue
        table.add_row(label, Text(value) if isinstance(value, str) else value)
    return table


def mapping_table(title: str, data: Mapping[str, object], value_header: str = "Value") -> Table:
    """A two-column table of ``data`` sorted by key; floats are shown short."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("Key", overflow="fold")
    table.add_column(value_header, overflow="fold")
    for key in sorted(data):
        value = data[key]
        shown = fmt_number(value) if isinstance(value, float) else str(value)
        table.add_row(Text(key), Text(shown))
    return table


# -- tables that fit the terminal ---------------------------------------------------------


def abbreviate(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters, keeping both ends (where long
    metric names differ): ``slice/contract=month-to-month/roc_auc`` -> ``slice/con…/roc_auc``.

    >>> abbreviate("slice/contract=month-to-month/roc_auc", 20)
    'slice/cont…h/roc_auc'
    """
    if len(text) <= width or width < 5:
        return text
    tail = (width - 1) // 2
    head = width - 1 - tail
    return f"{text[:head]}…{text[-tail:]}"


#: Where a metric key's group ends: ``slice/<column>/...``, ``fairness/<column>/...``,
#: ``cv/...``, ``ci/...`` keys are shown under a heading of their first parts.
_GROUP_PARTS = {"slice": 2, "fairness": 2, "cv": 1, "ci": 1}
KEY_WIDTH = 40


def grouped_keys(keys: Iterable[str]) -> list[tuple[str | None, str, str]]:
    """``(group, label, key)`` for each key, plain keys first then one group at a time:
    ``slice/contract/monthly/roc_auc`` is ``("slice/contract", "monthly/roc_auc", key)``.
    Labels are abbreviated in the middle to :data:`KEY_WIDTH`, so rows stay distinct."""
    out: list[tuple[str | None, str, str]] = []
    for key in keys:
        parts = key.split("/")
        size = _GROUP_PARTS.get(parts[0], 0)
        if size and len(parts) > size:
            group, label = "/".join(parts[:size]), "/".join(parts[size:])
            out.append((group, abbreviate(label, KEY_WIDTH), key))
        else:
            out.append((None, abbreviate(key, KEY_WIDTH), key))
    return sorted(out, key=lambda item: (item[0] is not None, item[0] or "", item[2]))


def add_metric_rows(
    table: Table, metrics: Mapping[str, Sequence[float | None]], *, prefix: str = "metrics."
) -> None:
    """Rows of ``key: values`` grouped (slices under one heading per column), each label
    abbreviated in the middle; a section line between groups."""
    current: str | None = None
    for group, label, key in grouped_keys(metrics):
        if group != current:
            if table.row_count:
                table.add_section()
            if group is not None:
                table.add_row(Text(f"{prefix}{group}/", style="bold"))
            current = group
        shown = f"  {label}" if group is not None else f"{prefix}{label}"
        table.add_row(Text(shown), *(fmt_number(v) for v in metrics[key]))


@dataclass
class Column:
    """A column of a listing: header, cells, and how it may shrink.

    ``priority``: lower is shown first when the width runs out; ``flex`` columns (free
    text) take the room left, folding, and keep at least ``min_width``.
    """

    header: str
    cells: list[str] = field(default_factory=list)
    priority: int = 0
    flex: bool = False
    min_width: int = 8
    max_width: int = 40
    justify: Literal["left", "right"] = "left"
    style: str | None = None

    def natural(self) -> int:
        longest = max((len(c) for c in self.cells), default=0)
        return min(max(len(self.header), longest), self.max_width)


def fit_columns(
    columns: Sequence[Column], *, width: int, wide: bool = False, only: str | None = None
) -> tuple[Table, list[str]]:
    """A table of the columns that fit ``width`` (by priority), in their given order, and
    the headers left out. ``wide`` keeps every column; ``only`` ("A,B") picks columns by
    header. Fixed columns never cut their cells (IDs must stay copyable); ``flex`` ones
    fold, and long cells of fixed columns are abbreviated in the middle."""
    chosen = list(columns)
    if only:
        wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
        known = {c.header.lower(): c for c in columns}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise typer.BadParameter(
                f"no column {unknown[0]!r}; the columns are: "
                + ", ".join(c.header for c in columns),
                param_hint="--columns",
            )
        chosen = [known[w] for w in wanted]
    elif not wide:
        room = width - 1
        keep: set[int] = set()
        for index in sorted(range(len(chosen)), key=lambda i: chosen[i].priority):
            column = chosen[index]
            need = min(column.min_width, column.natural()) if column.flex else column.natural()
            if need + _CELL <= room:
                keep.add(index)
                room -= need + _CELL
        chosen = [c for i, c in enumerate(chosen) if i in keep]
    hidden = [c.header for c in columns if c not in chosen]
    table = Table(header_style="bold")
    for column in chosen:
        table.add_column(
            column.header,
            justify=column.justify,
            no_wrap=not column.flex,
            overflow="fold" if column.flex or wide else "ellipsis",
            min_width=min(column.min_width, column.natural()) if column.flex else None,
            style=column.style,
        )
    rows = max((len(c.cells) for c in chosen), default=0)
    for row in range(rows):
        cells = []
        for column in chosen:
            cell = column.cells[row] if row < len(column.cells) else ""
            if not column.flex and not wide and not only:
                cell = abbreviate(cell, column.max_width)
            cells.append(Text(cell))
        table.add_row(*cells)
    return table, hidden


def print_listing(
    columns: Sequence[Column],
    *,
    wide: bool = False,
    only: str | None = None,
    empty: str = "Nothing found.",
) -> None:
    """Print a listing that fits the terminal, with a hint naming the columns left out."""
    out = console()
    if not columns or not columns[0].cells:
        out.print(empty, markup=False)
        return
    table, hidden = fit_columns(columns, width=out.width, wide=wide, only=only)
    out.print(table)
    if hidden:
        hint(out, f"Not shown: {', '.join(hidden)} (--wide, --columns or --json show them).")
