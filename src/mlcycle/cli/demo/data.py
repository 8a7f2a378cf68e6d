"""Stage 2, data: generate the churn table, register, profile, validate and split it."""

from __future__ import annotations

from rich.markup import escape

import mlcycle
import mlcycle.datasets as mds
from mlcycle.cli import output
from mlcycle.cli.demo import churn
from mlcycle.cli.demo.shared import DATASET, SEED, TARGET, Dataset, DemoState

ROWS = 20_000
FAST_ROWS = 4_000


def load_data(s: DemoState) -> None:
    """Register the data, show its profile, validate it and split it 60/20/20, stratified."""
    rows = FAST_ROWS if s.fast else ROWS
    frame = churn.generate(rows, seed=SEED)
    version = mds.register(
        DATASET,
        frame,
        description=f"Synthetic telecom customers ({rows} rows, seed {SEED}); target {TARGET}",
        client=s.client,
    )
    profile = version.profile
    churned = int(frame[TARGET].sum())
    s.console.print(
        f"Registered dataset [bold]{escape(version.name)}[/] version {version.version} "
        f"(digest {version.digest[:12]}; the same content is always the same version)."
    )
    s.console.print(
        f"Profile: {profile.num_rows} rows, {profile.num_columns} columns, "
        f"{churned} churned ({churned / profile.num_rows:.0%})."
    )
    for name in ("tenure_months", "monthly_charges"):
        column = profile.column(name)
        low, high = (
            float(v) if isinstance(v, int | float) else None for v in (column.min, column.max)
        )
        mean = column.numeric.mean if column.numeric is not None else None
        s.console.print(
            f"  {name}: min {output.fmt_number(low)}, mean {output.fmt_number(mean)}, "
            f"max {output.fmt_number(high)}, {column.missing_count} missing",
            markup=False,
            highlight=False,
        )
    rules: list[mds.Rule] = [
        mds.NotNull("tenure_months"),
        mds.InRange("monthly_charges", min=0),
        mds.AllowedValues("contract", values=list(churn.CONTRACTS)),
        mds.AllowedValues(TARGET, values=[0, 1]),
    ]
    report = mds.validate(version, rules, client=s.client)
    for result in report.results:
        mark = "[green]✓[/]" if result.passed else "[red]✗[/]"
        s.console.print(f"  {mark} {escape(result.rule)}: {escape(result.message)}")
    if not report.passed:
        raise mlcycle.ValidationFailedError(
            f"dataset {DATASET!r} version {version.version} failed validation",
            report=report,
        )
    s.console.print("Validation passed.")
    parts = mds.split(version, test=0.2, validation=0.2, stratify=TARGET, seed=0, client=s.client)
    train, val, test = (parts[k].load() for k in ("train", "validation", "test"))
    features = [c for c in frame.columns if c != TARGET]
    s.data = Dataset(
        version,
        parts,
        test,
        features,
        train[features],
        val[features],
        test[features],
        train[TARGET],
        val[TARGET],
        test[TARGET],
    )
    s.console.print(
        "Split (stratified, seed 0): "
        + ", ".join(f"{p.name} v{p.version} ({p.num_rows} rows)" for p in parts.values())
        + ". The test split only scores the final models."
    )
