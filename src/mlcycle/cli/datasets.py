"""``mlcycle datasets``: register, list, show, profile, validate, diff and split datasets."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

import mlcycle
import mlcycle.datasets as mds
from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption

app = typer.Typer(
    name="datasets",
    help="Register, list, show, profile, validate, diff and split datasets.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The dataset's name.")]
Version = Annotated[
    int | None,
    typer.Argument(metavar="[VERSION]", help="A version number (default: the latest).", min=1),
]
RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", metavar="FILE", help="Validation rules (YAML), see docs/datasets.md."),
]


def _parse_tags(items: list[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--tag'")
        tags[key.strip()] = value
    return tags


# -- JSON shapes ---------------------------------------------------------------------------


def version_dict(v: mlcycle.DatasetVersion) -> dict[str, Any]:
    """A dataset version for ``--json`` (without its profile); times in ms since the epoch."""
    return {
        "version_id": v.id,
        "name": v.name,
        "version": v.version,
        "digest": v.digest,
        "num_rows": v.num_rows,
        "num_columns": v.num_columns,
        "size_bytes": v.size_bytes,
        "storage_uri": v.storage_uri,
        "schema": [
            {"name": c.name, "type": c.type, "logical_type": c.logical_type} for c in v.schema
        ],
        "description": v.description,
        "tags": dict(v.tags),
        "created_at": v.created_at,
        "lifecycle_stage": v.lifecycle_stage.value,
        "deleted_at": v.deleted_at,
        "parents": [_lineage_dict(p, parent=True) for p in v.parents],
        "validation": None if v.validation is None else v.validation.to_dict(),
    }


def _lineage_dict(edge: mds.Lineage, *, parent: bool) -> dict[str, Any]:
    name, number = (
        (edge.parent_name, edge.parent_version) if parent else (edge.child_name, edge.child_version)
    )
    return {
        "name": name,
        "version": number,
        "version_id": edge.parent_id if parent else edge.version_id,
        "transform": edge.transform.name,
        "params": dict(edge.transform.params),
        "code_ref": edge.transform.code_ref,
    }


def _input_dict(item: mds.RunInput) -> dict[str, Any]:
    return {
        "run_id": item.run_id,
        "name": item.name,
        "version": item.version,
        "context": item.context,
        "created_at": item.created_at,
    }


# -- tables --------------------------------------------------------------------------------


def _profile_table(profile: mds.DatasetProfile, title: str, width: int) -> tuple[Table, int]:
    """One row per column; the statistics columns are added in order while they fit."""
    cells: dict[str, list[str]] = {
        "Column": [c.name for c in profile.columns],
        "Type": [c.logical_type for c in profile.columns],
        "Missing": [f"{c.missing_share:.1%}" for c in profile.columns],
        "Distinct": [
            ("-" if c.distinct_count is None else f"{c.distinct_count:,}")
            if c.distinct_exact
            else f"~{c.distinct_count:,}"
            for c in profile.columns
        ],
        "Min": [_short(c.min) for c in profile.columns],
        "Max": [_short(c.max) for c in profile.columns],
        "Mean": [_short(c.numeric.mean if c.numeric else None) for c in profile.columns],
        "Std": [_short(c.numeric.std if c.numeric else None) for c in profile.columns],
        "Median": [_short(c.numeric.quantile(0.5) if c.numeric else None) for c in profile.columns],
        "Top values": [
            ", ".join(f"{t.value} ({t.count:,})" for t in c.top_values[:3]) or "-"
            for c in profile.columns
        ],
    }
    widths = {k: max(len(k), *(len(v) for v in values)) for k, values in cells.items()}
    fixed = ("Column", "Type", "Missing", "Distinct")
    optional = {k: min(w, 40) for k, w in widths.items() if k not in fixed}
    shown = output.fitting(
        width, [min(widths["Column"], 24), *(widths[k] for k in fixed[1:])], optional
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    keys = [k for k in cells if k in fixed or k in shown]
    for key in keys:
        folds = key in ("Column", "Top values")
        table.add_column(
            key,
            justify="left" if folds or key == "Type" else "right",
            no_wrap=not folds,
            overflow="fold",
        )
    for i in range(len(profile.columns)):
        table.add_row(*(Text(cells[k][i]) for k in keys))
    return table, len(optional) - len(shown)


def _short(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return output.fmt_number(value)
    text = str(value)
    return text if len(text) <= 26 else text[:25] + "…"


def _report_table(report: mds.ValidationReport, title: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("Rule", overflow="fold")
    table.add_column("Failing rows", justify="right", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    for r in report.results:
        mark = Text("ok", style="green") if r.passed else Text("FAIL", style="bold red")
        failing = "-" if r.failing_rows is None else f"{r.failing_rows:,}"
        table.add_row(mark, Text(r.rule), failing, Text(r.message))
    return table


def _details(v: mlcycle.DatasetVersion) -> Table:
    made = ", ".join(f"{p.parent_name}@{p.parent_version}" for p in v.parents)
    if made:
        made += f" by {v.parents[0].transform.name}"
    verdict = None
    if v.validation is not None:
        verdict = (
            "passed" if v.validation.passed else f"{len(v.validation.failures)} rule(s) failed"
        )
    return output.details_table(
        [
            ("Dataset", v.ref),
            ("ID", v.id),
            ("Digest", v.digest),
            ("Rows", f"{v.num_rows:,}"),
            ("Columns", str(v.num_columns)),
            ("Size", output.fmt_size(v.size_bytes)),
            ("Stored at", v.storage_uri),
            ("Description", v.description),
            ("Created", output.fmt_time(v.created_at)),
            ("Stage", v.lifecycle_stage.value),
            ("Tags", ", ".join(f"{k}={t}" for k, t in sorted(v.tags.items())) or None),
            ("Made from", made or None),
            ("Validation", verdict),
        ]
    )


# -- commands ------------------------------------------------------------------------------


@app.command("register")
def register(
    ctx: typer.Context,
    name: Name,
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A Parquet (.parquet, .pq) or CSV file.")
    ],
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="A tag; repeat for several."),
    ] = None,
    rules: RulesOption = None,
    refuse_on_failure: Annotated[
        bool,
        typer.Option("--refuse-on-failure", help="With --rules: register nothing if a rule fails."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Register a file as a new version of dataset NAME (the same content twice is the same
    version, stored once). The profile is computed while the file is stored.

    Example:

        mlcycle datasets register churn data/churn.parquet --tag source=crm --rules rules.yaml
    """
    version = mds.register(
        name,
        path,
        description,
        _parse_tags(tag),
        rules=rules,
        refuse_on_failure=refuse_on_failure,
        client=client(ctx),
    )
    if as_json:
        output.print_json(version_dict(version))
        return
    out = output.console()
    out.print(
        f"Registered [bold]{escape(version.name)}[/] version {version.version}: "
        f"{version.num_rows:,} rows × {version.num_columns} columns "
        f"(digest {version.digest[:12]})."
    )
    if version.validation is not None and not version.validation.passed:
        failed = len(version.validation.failures)
        out.print(f"[red]Validation: {failed} rule(s) failed[/] (see `datasets show`).")
    output.hint(out, f"See it with: mlcycle datasets show {shlex.quote(version.name)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(metavar="[NAME]", help="List this dataset's versions instead."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include deleted ones.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List the datasets, or the versions of dataset NAME.

    Example:

        mlcycle datasets list
        mlcycle datasets list churn --json
    """
    cli = client(ctx)
    out = output.console()
    if name is not None:
        versions = mds.list_versions(name, include_deleted=all_, client=cli)
        if as_json:
            output.print_json([version_dict(v) for v in versions])
            return
        table = Table(title=f"Versions of {name}", title_justify="left", header_style="bold")
        for header in ("Version", "Rows", "Columns", "Digest", "Made from", "Created"):
            table.add_column(header, no_wrap=header != "Made from", overflow="fold")
        for v in versions:
            made = ", ".join(f"{p.parent_name}@{p.parent_version}" for p in v.parents)
            deleted = " (deleted)" if v.lifecycle_stage is mlcycle.LifecycleStage.DELETED else ""
            table.add_row(
                f"{v.version}{deleted}",
                f"{v.num_rows:,}",
                str(v.num_columns),
                v.digest[:12],
                Text(made or "-"),
                output.fmt_time(v.created_at, seconds=False),
            )
        out.print(table)
        return
    datasets = mds.list_datasets(include_deleted=all_, client=cli)
    if as_json:
        output.print_json(
            [
                {
                    "dataset_id": d.id,
                    "name": d.name,
                    "latest_version": d.latest_version,
                    "version_count": d.version_count,
                    "lifecycle_stage": d.lifecycle_stage.value,
                    "created_at": d.created_at,
                    "updated_at": d.updated_at,
                    "deleted_at": d.deleted_at,
                }
                for d in datasets
            ]
        )
        return
    if not datasets:
        output.hint(
            out, "No datasets yet. Register one with `mlcycle datasets register NAME PATH`."
        )
        return
    table = Table(header_style="bold")
    table.add_column("Name", overflow="fold")
    table.add_column("Latest", justify="right", no_wrap=True)
    table.add_column("Versions", justify="right", no_wrap=True)
    table.add_column("Updated", no_wrap=True)
    for d in datasets:
        gone = d.lifecycle_stage is mlcycle.LifecycleStage.DELETED
        table.add_row(
            Text(d.name + (" (deleted)" if gone else "")),
            "-" if d.latest_version is None else str(d.latest_version),
            str(d.version_count),
            output.fmt_time(d.updated_at, seconds=False),
        )
    out.print(table)


@app.command("show")
def show(
    ctx: typer.Context, name: Name, version: Version = None, as_json: JsonOption = False
) -> None:
    """Show a version: digest, size, schema, lineage (parents and children), the runs that
    used it and its latest validation.

    Example:

        mlcycle datasets show churn 2
    """
    cli = client(ctx)
    v = mds.get(name, version, client=cli)
    kids = mds.children(v, client=cli)
    runs = mds.runs_of(v, client=cli)
    if as_json:
        output.print_json(
            {
                **version_dict(v),
                "children": [_lineage_dict(c, parent=False) for c in kids],
                "runs": [_input_dict(r) for r in runs],
            }
        )
        return
    out = output.console()
    out.print(_details(v))
    schema = Table(title="Schema", title_justify="left", header_style="bold")
    schema.add_column("Column", overflow="fold")
    schema.add_column("Type", overflow="fold")
    schema.add_column("Logical type", no_wrap=True)
    for c in v.schema:
        schema.add_row(Text(c.name), Text(c.type), c.logical_type)
    out.print(schema)
    if kids:
        out.print(
            "Used to make: "
            + ", ".join(f"{c.child_name}@{c.child_version} ({c.transform.name})" for c in kids),
            markup=False,
        )
    if runs:
        out.print(
            "Used by runs: " + ", ".join(f"{r.run_id} ({r.context})" for r in runs), markup=False
        )
    output.hint(out, f"Profile: mlcycle datasets profile {shlex.quote(v.ref)}")


@app.command("profile")
def profile(
    ctx: typer.Context, name: Name, version: Version = None, as_json: JsonOption = False
) -> None:
    """Show the profile computed at registration: per column, missing share, distinct
    count, range, mean, std, median and top values.

    Example:

        mlcycle datasets profile churn --json
    """
    v = mds.get(name, version, client=client(ctx))
    if as_json:
        output.print_json({"name": v.name, "version": v.version, **v.profile.to_dict()})
        return
    title = f"Profile of {v.name}@{v.version} ({v.num_rows:,} rows × {v.num_columns} columns)"
    out = output.console()
    table, hidden = _profile_table(v.profile, title, out.width)
    out.print(table)
    if hidden:
        output.hint(out, f"{hidden} more statistics in a wider terminal or with --json.")


@app.command("validate")
def validate(
    ctx: typer.Context,
    name: Name,
    version: Version = None,
    rules: RulesOption = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Keep the report with the version.")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Check validation rules (a YAML file) on a version; the report is kept with it.
    Exits with code 1 when a rule fails.

    Example:

        mlcycle datasets validate churn --rules rules.yaml
    """
    if rules is None:
        raise typer.BadParameter("give the rules file", param_hint="'--rules'")
    v = mds.get(name, version, client=client(ctx))
    report = mds.validate(v, rules, record=record, client=client(ctx))
    if as_json:
        output.print_json({"name": v.name, "version": v.version, **report.to_dict()})
    else:
        verdict = "passed" if report.passed else f"{len(report.failures)} rule(s) failed"
        title = f"Validation of {v.name}@{v.version} ({report.num_rows:,} rows): {verdict}"
        output.console().print(_report_table(report, title))
    if not report.passed:
        raise mlcycle.ValidationFailedError(
            f"{len(report.failures)} of {len(report.results)} rule(s) failed on "
            f"{v.name}@{v.version}",
            report=report,
        )


def _diff_refs(args: list[str]) -> tuple[str, str]:
    if len(args) == 3 and args[1].isdigit() and args[2].isdigit():
        return f"{args[0]}@{args[1]}", f"{args[0]}@{args[2]}"
    if len(args) == 2 and all("@" in a or ":" in a for a in args):
        return args[0], args[1]
    raise typer.BadParameter(
        "give two versions as NAME@VERSION (churn@1 churn@2), or NAME V1 V2",
        param_hint="VERSIONS",
    )


@app.command("diff")
def diff(
    ctx: typer.Context,
    versions: Annotated[
        list[str],
        typer.Argument(
            metavar="NAME@V1 NAME@V2 | NAME V1 V2",
            help="Two versions (NAME@VERSION each), or a name and two version numbers.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Compare two versions: row counts, columns added, removed or retyped, and per-column
    profile changes.

    Examples:

        mlcycle datasets diff churn@1 churn@2
        mlcycle datasets diff churn 1 2
    """
    cli = client(ctx)
    first, second = _diff_refs(versions)
    a = mds.get(first, client=cli)
    b = mds.get(second, client=cli)
    name, old, new = a.name, a.version, b.version
    changes = mds.diff_versions(a, b, client=cli)
    if as_json:
        output.print_json({"name": name, "old": old, "new": new, **changes.to_dict()})
        return
    out = output.console()
    out.print(
        f"{name}: version {old} → {new}: {changes.old_rows:,} → {changes.new_rows:,} rows",
        markup=False,
    )
    s = changes.schema
    for label, names in (
        ("Added columns", s.added_columns),
        ("Removed columns", s.removed_columns),
    ):
        if names:
            out.print(f"{label}: {', '.join(names)}", markup=False)
    for t in s.type_changes:
        out.print(f"Type of {t.column}: {t.old_type} → {t.new_type}", markup=False)
    if not changes.columns:
        if not changes.has_changes:
            out.print("No changes.")
        return
    table = Table(title="Column changes", title_justify="left", header_style="bold")
    for header in ("Column", "Metric", "Old", "New", "Change"):
        table.add_column(header, overflow="fold")
    for col in changes.columns:
        for m in col.changes:
            rel = "" if m.relative is None else f"{m.relative:+.1%}"
            table.add_row(Text(col.column), m.metric, _short(m.old), _short(m.new), rel)
    out.print(table)


@app.command("split")
def split(
    ctx: typer.Context,
    name: Name,
    version: Version = None,
    test: Annotated[float, typer.Option(help="Share of rows for the test split.")] = 0.2,
    validation: Annotated[float, typer.Option(help="Share for a validation split.")] = 0.0,
    stratify: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Keep this label's class shares.")
    ] = None,
    group: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Keep each group in one split.")
    ] = None,
    time: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Latest rows (by this column) are test.")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    prefix: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help="Name prefix of the splits (default NAME)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Split a version into NAME-train and NAME-test (and NAME-validation) versions with
    lineage to it; the same command gives the same versions.

    Example:

        mlcycle datasets split churn --test 0.2 --validation 0.1 --stratify churned
    """
    cli = client(ctx)
    v = mds.get(name, version, client=cli)
    parts = mds.split(
        v,
        test=test,
        validation=validation,
        stratify=stratify,
        group=group,
        time=time,
        seed=seed,
        name=prefix,
        client=cli,
    )
    if as_json:
        output.print_json({part: version_dict(p) for part, p in parts.items()})
        return
    table = Table(
        title=f"Splits of {v.name}@{v.version}", title_justify="left", header_style="bold"
    )
    for header in ("Split", "Dataset", "Version", "Rows"):
        table.add_column(header, no_wrap=True)
    for part, p in parts.items():
        table.add_row(part, Text(p.name), str(p.version), f"{p.num_rows:,}")
    output.console().print(table)


@app.command("delete")
def delete(ctx: typer.Context, name: Name, version: Version = None) -> None:
    """Delete a version, or the whole dataset (soft: `datasets restore` brings it back).

    Example:

        mlcycle datasets delete churn 3
    """
    mds.delete(name, version, client=client(ctx))
    what = f"version {version} of dataset {name!r}" if version else f"dataset {name!r}"
    out = output.console()
    out.print(f"Deleted {what}.", markup=False)
    again = f" {version}" if version else ""
    output.hint(out, f"Undo with: mlcycle datasets restore {shlex.quote(name)}{again}")


@app.command("restore")
def restore(ctx: typer.Context, name: Name, version: Version = None) -> None:
    """Restore a deleted version or dataset.

    Example:

        mlcycle datasets restore churn 3
    """
    mds.restore(name, version, client=client(ctx))
    what = f"version {version} of dataset {name!r}" if version else f"dataset {name!r}"
    output.console().print(f"Restored {what}.", markup=False)
