"""``mlcycle demo``: a guided tour that tracks real scikit-learn training.

The demo is a sequence of :class:`Stage` objects run in order over one shared
:class:`DemoState`: each stage reads what earlier stages left there and adds its own
results. The stages follow the lifecycle: the problem, versioned and validated data,
tracked training, evaluation, the model registry, then commands to explore. Later parts
(serving, monitoring) are added as new stages in :func:`stages`.

scikit-learn is imported inside the functions that train, so ``mlcycle --help`` and the
other commands stay fast.
"""

from __future__ import annotations

import functools
import shlex
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

import mlcycle
import mlcycle.datasets as mds
import mlcycle.models
import mlcycle.registry
from mlcycle.cli import output
from mlcycle.cli.context import client, state

EXPERIMENT = "demo-breast-cancer"
TARGET = "malignant"
PRIMARY_METRIC = "roc_auc"
THRESHOLD = 0.9
SEED = 42
SESSION_TAG = "demo.session"
DATASET = "demo-breast-cancer"  # the registered dataset; its splits are DATASET-train etc.
MODEL = "demo-breast-cancer"  # the registered model
ALIAS = "champion"
SLICE_COLUMN = "mean radius"
FINAL_METRICS = ("roc_auc", "accuracy", "f1", "log_loss")


# -- state and stages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The demo data: the registered version, its split versions and their frames."""

    version: mds.DatasetVersion
    parts: dict[str, mds.DatasetVersion]  # train, validation, test
    test: Any  # pandas DataFrame: the test split with the TARGET column
    features: list[str]
    x_train: Any
    x_val: Any
    x_test: Any
    y_train: Any
    y_val: Any
    y_test: Any


@dataclass
class DemoState:
    """What the stages share. Each stage fills in its part."""

    client: mlcycle.Client
    console: Console
    fast: bool
    global_args: list[str]
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    data: Dataset | None = None
    experiment: mlcycle.Experiment | None = None
    run_ids: list[str] = field(default_factory=list)
    ranked: list[mlcycle.Run] = field(default_factory=list)
    evaluations: dict[str, Any] = field(default_factory=dict)  # run ID -> EvaluationResult
    versions: dict[str, int] = field(default_factory=dict)  # run ID -> registered version

    def need_data(self) -> Dataset:
        if self.data is None:
            raise RuntimeError("the data stage must run before this stage")
        return self.data

    def need_experiment(self) -> mlcycle.Experiment:
        if self.experiment is None:
            raise RuntimeError("the experiment stage must run before this stage")
        return self.experiment

    def command(self, *args: str) -> str:
        """A ready-to-paste mlcycle command line, with the global options given to us."""
        return shlex.join(["mlcycle", *self.global_args, *args])


@dataclass(frozen=True)
class Stage:
    title: str
    run: Callable[[DemoState], None]


def stages() -> list[Stage]:
    """The demo's stages, in order."""
    return [
        Stage("Problem", ensure_experiment),
        Stage("Data", load_data),
        Stage("Training", train_models),
        Stage("Evaluation", show_results),
        Stage("Registry", promote_best),
        Stage("Next steps", next_steps),
    ]


# -- the command --------------------------------------------------------------------------


def demo(
    ctx: typer.Context,
    fast: Annotated[
        bool, typer.Option("--fast", help="Train fewer and smaller models (a few seconds).")
    ] = False,
) -> None:
    """Track a small training end to end: a tour of mlcycle in under a minute.

    Creates (or reuses) the experiment demo-breast-cancer; registers scikit-learn's breast
    cancer data as the dataset demo-breast-cancer, validates it and splits it; trains
    logistic regression, random forest, gradient boosting and k-nearest-neighbours
    models, each in its own run with its data inputs, params, learning curves and the
    model (registered as demo-breast-cancer); evaluates them on the test split, ranks
    them by roc_auc and promotes the best through the gates to @champion. Run it as
    often as you like: the data stays one version, each run adds runs and model versions.

    Examples:

        mlcycle demo

        mlcycle --tracking-uri /tmp/demo.db --artifact-uri /tmp/demo-artifacts demo --fast
    """
    cli = client(ctx)
    demo_state = DemoState(
        client=cli, console=output.console(), fast=fast, global_args=state(ctx).global_args()
    )
    run_stages(demo_state, stages())


def run_stages(demo_state: DemoState, steps: Sequence[Stage]) -> None:
    out = demo_state.console
    settings = demo_state.client.settings
    out.rule("[bold magenta]mlcycle demo[/]")
    out.print(
        "Trains a few scikit-learn models to detect malignant tumours: versioned data, "
        "tracked runs, evaluation, and a model registry with promotion gates."
    )
    out.print(
        f"[dim]Store: {escape(output.mask_uri(settings.tracking_uri))}\n"
        f"Artifacts: {escape(settings.artifact_uri)}[/]"
    )
    for number, stage in enumerate(steps, 1):
        out.print()
        out.rule(f"[bold]{number}/{len(steps)}  {escape(stage.title)}[/]", align="left")
        stage.run(demo_state)


# -- stage: data --------------------------------------------------------------------------


def load_data(s: DemoState) -> None:
    """Register the data, show its profile, validate it and split it 60/20/20, stratified."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": TARGET})
    frame[TARGET] = 1 - frame[TARGET]  # scikit-learn codes benign as 1; we predict malignant
    version = mds.register(
        DATASET, frame, description="scikit-learn's breast cancer (Wisconsin)", client=s.client
    )
    profile = version.profile
    malignant = int(frame[TARGET].sum())
    s.console.print(
        f"Registered dataset [bold]{escape(version.name)}[/] version {version.version} "
        f"(digest {version.digest[:12]}; the same content is always the same version)."
    )
    s.console.print(
        f"Profile: {profile.num_rows} rows, {profile.num_columns} columns, "
        f"{malignant} malignant ({malignant / profile.num_rows:.0%})."
    )
    for name in (SLICE_COLUMN, "worst area"):
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
        mds.NotNull(SLICE_COLUMN),
        mds.InRange(SLICE_COLUMN, min=0),
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


# -- stage: experiment --------------------------------------------------------------------


def ensure_experiment(s: DemoState) -> None:
    """Reuse the demo experiment, or create it with its problem definition."""
    try:
        exp = s.client.get_experiment(EXPERIMENT)
        created = False
    except mlcycle.NotFoundError:
        try:
            exp = s.client.create_experiment(
                EXPERIMENT,
                task=mlcycle.Task.CLASSIFICATION,
                target=TARGET,
                primary_metric=PRIMARY_METRIC,
                direction=mlcycle.Direction.MAXIMIZE,
                threshold=THRESHOLD,
                description="mlcycle demo: detect malignant tumours (scikit-learn data).",
                tags={"demo": "true"},
            )
            created = True
        except mlcycle.AlreadyExistsError:  # another demo created it just now
            exp = s.client.get_experiment(EXPERIMENT)
            created = False
    if exp.lifecycle_stage is mlcycle.LifecycleStage.DELETED:
        raise mlcycle.InvalidInputError(
            f"experiment {EXPERIMENT!r} is deleted; bring it back with "
            f"`{s.command('experiments', 'restore', EXPERIMENT)}`",
            field="experiment",
        )
    s.experiment = exp
    verb = "Created" if created else "Reusing"
    s.console.print(f"{verb} experiment [bold]{escape(exp.name)}[/] ({exp.id}).")
    s.console.print(
        f"Problem: {exp.problem.task.value}, target {exp.problem.target or '-'}, "
        f"primary metric {output.problem_summary(exp.problem)}.",
        markup=False,
    )


# -- stage: training ----------------------------------------------------------------------

Fit = Callable[[Dataset, mlcycle.ActiveRun, Callable[[], None]], Any]


@dataclass(frozen=True)
class Candidate:
    """A model to train: its run name, params to log, progress steps and training code.

    ``fit(data, run, advance)`` trains, logs per-step metrics to ``run``, calls
    ``advance()`` once per step and returns the fitted model.
    """

    name: str
    family: str
    params: dict[str, object]
    steps: int
    fit: Fit


def candidates(fast: bool) -> list[Candidate]:
    """The models to train; ``fast`` trains fewer and smaller ones."""
    if fast:
        return [_logistic_regression(5), _random_forest(3, 5), _knn(15)]
    return [_logistic_regression(25), _random_forest(10, 15), _gradient_boosting(10, 10), _knn(15)]


def _probas(model: Any, x: Any) -> Any:
    return model.predict_proba(x)[:, 1]


def _log_curve(run: mlcycle.ActiveRun, step: int, data: Dataset, train: Any, val: Any) -> None:
    """Train/validation loss and validation roc_auc at ``step``, from positive-class probas."""
    from sklearn.metrics import log_loss, roc_auc_score

    run.log_metrics(
        {
            "train_loss": float(log_loss(data.y_train, train, labels=[0, 1])),
            "val_loss": float(log_loss(data.y_val, val, labels=[0, 1])),
            "val_roc_auc": float(roc_auc_score(data.y_val, val)),
        },
        step=step,
    )


def _logistic_regression(iterations: int) -> Candidate:
    c = 1.0

    def fit(data: Dataset, run: mlcycle.ActiveRun, advance: Callable[[], None]) -> Any:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        # One solver iteration per fit, continuing where the last stopped: a learning curve.
        model = make_pipeline(
            StandardScaler(), LogisticRegression(C=c, max_iter=1, warm_start=True)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for step in range(1, iterations + 1):
                model.fit(data.x_train, data.y_train)
                train, val = _probas(model, data.x_train), _probas(model, data.x_val)
                _log_curve(run, step, data, train, val)
                advance()
        return model

    params: dict[str, object] = {
        "model": "LogisticRegression",
        "scaler": "StandardScaler",
        "C": c,
        "solver": "lbfgs",
        "iterations": iterations,
    }
    return Candidate("logistic-regression", "linear", params, iterations, fit)


def _random_forest(rounds: int, trees_per_round: int) -> Candidate:
    def fit(data: Dataset, run: mlcycle.ActiveRun, advance: Callable[[], None]) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(warm_start=True, random_state=SEED, n_jobs=1)
        for round_ in range(1, rounds + 1):
            trees = round_ * trees_per_round
            model.set_params(n_estimators=trees)
            model.fit(data.x_train, data.y_train)  # adds trees to the forest
            train, val = _probas(model, data.x_train), _probas(model, data.x_val)
            _log_curve(run, trees, data, train, val)
            advance()
        return model

    params: dict[str, object] = {
        "model": "RandomForestClassifier",
        "n_estimators": rounds * trees_per_round,
        "max_depth": "None",
        "random_state": SEED,
    }
    return Candidate("random-forest", "trees", params, rounds, fit)


def _gradient_boosting(rounds: int, stages_per_round: int) -> Candidate:
    learning_rate, depth = 0.1, 3

    def fit(data: Dataset, run: mlcycle.ActiveRun, advance: Callable[[], None]) -> Any:
        from sklearn.ensemble import GradientBoostingClassifier

        model = GradientBoostingClassifier(
            learning_rate=learning_rate, max_depth=depth, warm_start=True, random_state=SEED
        )
        done = 0
        for round_ in range(1, rounds + 1):
            model.set_params(n_estimators=round_ * stages_per_round)
            model.fit(data.x_train, data.y_train)  # adds boosting stages
            staged = zip(
                model.staged_predict_proba(data.x_train),
                model.staged_predict_proba(data.x_val),
                strict=True,
            )
            for stage, (train, val) in enumerate(staged, 1):
                if stage > done:  # one point per boosting stage
                    _log_curve(run, stage, data, train[:, 1], val[:, 1])
            done = round_ * stages_per_round
            advance()
        return model

    params: dict[str, object] = {
        "model": "GradientBoostingClassifier",
        "n_estimators": rounds * stages_per_round,
        "learning_rate": learning_rate,
        "max_depth": depth,
        "random_state": SEED,
    }
    return Candidate("gradient-boosting", "trees", params, rounds, fit)


def _knn(neighbours: int) -> Candidate:
    def fit(data: Dataset, run: mlcycle.ActiveRun, advance: Callable[[], None]) -> Any:
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        # No iterations to follow: one fit, and the validation score as a single point.
        model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=neighbours))
        model.fit(data.x_train, data.y_train)
        train, val = _probas(model, data.x_train), _probas(model, data.x_val)
        _log_curve(run, 0, data, train, val)
        advance()
        return model

    params: dict[str, object] = {
        "model": "KNeighborsClassifier",
        "scaler": "StandardScaler",
        "n_neighbors": neighbours,
        "weights": "uniform",
    }
    return Candidate("knn", "neighbours", params, 1, fit)


def train_models(s: DemoState) -> None:
    """Train each candidate in its own tracked run, with a progress bar."""
    data, exp = s.need_data(), s.need_experiment()
    models = candidates(s.fast)
    columns = (
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=s.console) as progress:
        for candidate in models:
            task = progress.add_task(candidate.name, total=candidate.steps)
            run = train_one(s, exp, data, candidate, functools.partial(progress.advance, task))
            progress.console.print(
                f"  {escape(candidate.name):<20} {PRIMARY_METRIC} "
                f"{output.fmt_number(run.metrics.get(PRIMARY_METRIC))}   run {run.id}"
            )
    s.console.print(f"Trained {len(models)} models; each is a run in {EXPERIMENT}.")


def train_one(
    s: DemoState,
    exp: mlcycle.Experiment,
    data: Dataset,
    candidate: Candidate,
    advance: Callable[[], None],
) -> mlcycle.Run:
    """Train, log, register and evaluate one candidate inside ``mlcycle.start_run``."""
    tags = {SESSION_TAG: s.session, "demo.family": candidate.family}
    with mlcycle.start_run(exp, name=candidate.name, tags=tags, client=s.client) as run:
        for context in ("train", "validation", "test"):
            run.log_input(data.parts[context], context=context)
        run.log_params(candidate.params)
        run.log_params(
            {
                "dataset": DATASET,
                "dataset_version": data.version.version,
                "n_train": len(data.x_train),
                "n_val": len(data.x_val),
                "n_test": len(data.x_test),
                "n_features": len(data.features),
            }
        )
        model = candidate.fit(data, run, advance)
        info = run.log_model(model, "model", input_example=data.x_train.head(5), register=MODEL)
        # Held-out metrics, plots and the evaluation report, logged to this run.
        result = mlcycle.evaluate(
            model,
            data.test,
            target=TARGET,
            slices={SLICE_COLUMN: 3},
            run=run,
            client=s.client,
        )
    s.run_ids.append(run.id)
    s.evaluations[run.id] = result
    registered = getattr(info.registered_version, "version", None)
    if isinstance(registered, int):
        s.versions[run.id] = registered
    return s.client.get_run(run.id)


# -- stage: evaluation -----------------------------------------------------------------------


def show_results(s: DemoState) -> None:
    """Rank this demo's runs by the primary metric with ``Client.search_runs``."""
    exp = s.need_experiment()
    s.ranked = list(
        s.client.search_runs(
            exp.id,
            filter=f"tags.`{SESSION_TAG}` = '{s.session}'",
            order_by=[f"metrics.{PRIMARY_METRIC} DESC"],
        )
    )
    best = s.ranked[0] if s.ranked else None
    goal = f"≥ {THRESHOLD}"
    name_width = output.name_column_width(r.name for r in s.ranked)
    # Always the mark, ID, model and primary metric; the rest as the terminal allows.
    optional = {"accuracy": 8, "f1": 6, goal: len(goal), "log_loss": 8, "Time": 6}
    shown = output.fitting(s.console.width, (1, 32, name_width, len(PRIMARY_METRIC)), optional)
    metrics = [PRIMARY_METRIC, *(k for k in FINAL_METRICS[1:] if k in shown)]
    table = Table(
        title=f"Runs of this demo, best {PRIMARY_METRIC} first (held-out test set)",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("", no_wrap=True, min_width=1)
    table.add_column("Run ID", no_wrap=True, min_width=32, style="cyan")
    table.add_column("Model", overflow="fold", min_width=name_width)
    for key in metrics:
        table.add_column(key, justify="right", no_wrap=True)
    if "Time" in shown:
        table.add_column("Time", justify="right", no_wrap=True)
    if goal in shown:
        table.add_column(goal, justify="center", no_wrap=True)
    for run in s.ranked:
        value = run.metrics.get(PRIMARY_METRIC)
        meets = value is not None and exp.problem.meets(value)
        is_best = best is not None and run.id == best.id
        cells: list[str | Text] = [
            Text(output.BEST, style="bold yellow") if is_best else "",
            run.id,
            Text(run.name),
            *(output.fmt_number(run.metrics.get(k)) for k in metrics),
        ]
        if "Time" in shown:
            cells.append(output.fmt_duration(run.duration))
        if goal in shown:
            cells.append(Text("yes", style="green") if meets else Text("no", style="red"))
        table.add_row(*cells, style="bold" if is_best else None)
    s.console.print(table)
    if best is not None:
        value = best.metrics.get(PRIMARY_METRIC, float("nan"))
        verdict = "meets" if exp.problem.meets(value) else "does not meet"
        s.console.print(
            f"{output.BEST} Best: [bold]{escape(best.name)}[/] with {PRIMARY_METRIC} "
            f"{output.fmt_number(value)}, which {verdict} the success threshold {THRESHOLD}."
        )
        show_evaluation(s, best)


def show_evaluation(s: DemoState, best: mlcycle.Run) -> None:
    """The best run's ``mlcycle.evaluate`` result: its metrics and one slice."""
    result = s.evaluations.get(best.id)
    if result is None:
        return
    metrics = ", ".join(
        f"{k} {output.fmt_number(result.metrics.get(k))}"
        for k in ("accuracy", "precision", "recall", "pr_auc")
    )
    s.console.print(f"  Test split ({result.n_rows} rows): {metrics}", markup=False)
    bins = result.slices.get(SLICE_COLUMN, {})
    cells = [
        f"{label} n={int(m.get('n') or 0)} acc {output.fmt_number(m.get('accuracy'))}"
        for label, m in bins.items()
    ]
    if cells:
        s.console.print(f"  By {SLICE_COLUMN}: " + "; ".join(cells), markup=False)


# -- stage: registry ----------------------------------------------------------------------


def promote_best(s: DemoState) -> None:
    """Promote the best run's model version to the champion alias, then load and predict."""
    data = s.need_data()
    best = s.ranked[0] if s.ranked else None
    version = s.versions.get(best.id) if best is not None else None
    count = len(mlcycle.registry.list_versions(MODEL, client=s.client))
    s.console.print(
        f"Registered model [bold]{escape(MODEL)}[/]: {count} versions, "
        f"this demo added {len(s.versions)}."
    )
    if best is not None and version is not None:
        try:
            promotion = mlcycle.registry.promote(MODEL, version, alias=ALIAS, client=s.client)
            results: Sequence[mlcycle.registry.GateResult] = promotion.results
            was = f" (was version {promotion.previous})" if promotion.previous else ""
            outcome = f"Promoted version {version} ({escape(best.name)}) to @{ALIAS}{was}."
        except mlcycle.registry.PromotionRefusedError as exc:
            results = exc.results
            outcome = f"[yellow]Version {version} was not promoted[/]: the current @{ALIAS} stays."
        for result in results:
            mark = "[green]✓[/]" if result.passed else "[red]✗[/]"
            s.console.print(f"  {mark} gate {escape(result.gate)}: {escape(result.detail)}")
        s.console.print(outcome)
    try:
        champion = mlcycle.registry.get_version(MODEL, alias=ALIAS, client=s.client)
    except mlcycle.NotFoundError:
        s.console.print(f"No @{ALIAS} yet: no version passed the gates.")
        return
    uri = f"models:/{MODEL}@{ALIAS}"
    try:
        model = mlcycle.models.load(uri, client=s.client)
    except mlcycle.models.UntrustedTypesError as exc:
        # Our own models: trust the types skops does not know (e.g. a forest's trees).
        s.console.print(f"Trusting {', '.join(exc.types)} to load our own model.", markup=False)
        model = mlcycle.models.load(uri, trusted=exc.types, client=s.client)
    rows = data.x_test.head(5)
    predicted = [int(v) for v in model.predict(rows)]
    actual = [int(v) for v in data.y_test.head(5)]
    s.console.print(
        f"Loaded {uri} (version {champion.version}); predictions for 5 test rows: "
        f"{predicted} (actual {actual}).",
        markup=False,
    )


# -- stage: next steps --------------------------------------------------------------------


def next_steps(s: DemoState) -> None:
    """Commands to explore what the demo recorded."""
    best = s.ranked[0].id if s.ranked else "RUN_ID"
    others = [r.id for r in s.ranked[:3]] or ["RUN_ID", "RUN_ID"]
    search = (
        "runs",
        "search",
        EXPERIMENT,
        "--filter",
        f"metrics.{PRIMARY_METRIC} >= {THRESHOLD}",
        "--order-by",
        f"metrics.{PRIMARY_METRIC} DESC",
    )
    commands = [
        ("All runs of the experiment", s.command("runs", "list", EXPERIMENT)),
        ("The best run in detail", s.command("runs", "show", best)),
        ("Compare the top runs", s.command("runs", "compare", *others)),
        ("Search with a filter", s.command(*search)),
        ("The best run's files", s.command("artifacts", "list", best)),
        ("The experiment and its problem", s.command("experiments", "show", EXPERIMENT)),
        ("The dataset, its profile and splits", s.command("datasets", "show", DATASET)),
        ("The registered model's versions", s.command("models", "versions", MODEL)),
        (
            "Where the champion came from",
            s.command("models", "lineage", MODEL, "--alias", ALIAS),
        ),
    ]
    for label, command in commands:
        s.console.print(f"  [dim]{escape(label)}:[/]")
        s.console.print(f"    {command}", markup=False, highlight=False, soft_wrap=True)
