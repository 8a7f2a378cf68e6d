"""``mlcycle demo``: a guided tour that tracks real scikit-learn training.

The demo is a sequence of :class:`Stage` objects run in order over one shared
:class:`DemoState`: each stage reads what earlier stages left there and adds its own
results. Later parts of the lifecycle (dataset profiles, model registry, serving,
monitoring) are added as new stages in :func:`stages`.

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
from mlcycle.cli import output
from mlcycle.cli.context import client, state

EXPERIMENT = "demo-breast-cancer"
TARGET = "malignant"
PRIMARY_METRIC = "roc_auc"
THRESHOLD = 0.9
SEED = 42
SESSION_TAG = "demo.session"
DATASET = "sklearn.datasets.load_breast_cancer"
FINAL_METRICS = ("roc_auc", "accuracy", "f1", "log_loss")


# -- state and stages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The demo data: the whole frame and a stratified train / validation / test split."""

    frame: Any  # pandas DataFrame: 30 features and the TARGET column
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
        Stage("Data", load_data),
        Stage("Experiment", ensure_experiment),
        Stage("Training", train_models),
        Stage("Results", show_results),
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

    Loads scikit-learn's breast cancer data, creates (or reuses) the experiment
    demo-breast-cancer, and trains logistic regression, random forest, gradient
    boosting and k-nearest-neighbours models, each in its own run with params,
    learning curves, held-out metrics and a report artifact. Then it ranks the runs by
    roc_auc. Run it as often as you like: each time adds new runs.

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
        "Trains a few scikit-learn models to detect malignant tumours and tracks every "
        "run: params, learning curves, held-out metrics and artifacts."
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
    """Load the breast cancer data and split it 60/20/20, stratified."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns={"target": TARGET})
    frame[TARGET] = 1 - frame[TARGET]  # scikit-learn codes benign as 1; we predict malignant
    features = [c for c in frame.columns if c != TARGET]
    x, y = frame[features], frame[TARGET]
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=SEED
    )
    s.data = Dataset(frame, features, x_train, x_val, x_test, y_train, y_val, y_test)
    malignant = int(y.sum())
    s.console.print(
        f"Breast cancer (Wisconsin): {len(frame)} tumours, {len(features)} features, "
        f"{malignant} malignant ({malignant / len(frame):.0%})."
    )
    s.console.print(
        f"Split: {len(x_train)} train / {len(x_val)} validation / {len(x_test)} test "
        "(the test set only scores the final models)."
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


def evaluate(model: Any, data: Dataset) -> tuple[dict[str, float], dict[str, Any], str]:
    """Held-out test metrics, the confusion matrix and report, and the report as text."""
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    proba = _probas(model, data.x_test)
    pred = model.predict(data.x_test)
    y = data.y_test
    metrics = {
        "roc_auc": float(roc_auc_score(y, proba)),
        "accuracy": float(accuracy_score(y, pred)),
        "f1": float(f1_score(y, pred)),
        "precision": float(precision_score(y, pred)),
        "recall": float(recall_score(y, pred)),
        "log_loss": float(log_loss(y, proba, labels=[0, 1])),
    }
    names = ["benign", "malignant"]
    details = {
        "confusion_matrix": confusion_matrix(y, pred).tolist(),
        "classification_report": classification_report(
            y, pred, target_names=names, output_dict=True
        ),
    }
    text = str(classification_report(y, pred, target_names=names, digits=4))
    return metrics, details, text


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
    """Train and evaluate one candidate inside ``mlcycle.start_run``; returns the run."""
    tags = {SESSION_TAG: s.session, "demo.family": candidate.family}
    with mlcycle.start_run(exp, name=candidate.name, tags=tags, client=s.client) as run:
        run.log_params(candidate.params)
        run.log_params(
            {
                "dataset": DATASET,
                "n_train": len(data.x_train),
                "n_val": len(data.x_val),
                "n_test": len(data.x_test),
                "n_features": len(data.features),
            }
        )
        model = candidate.fit(data, run, advance)
        metrics, details, report = evaluate(model, data)
        run.log_metrics(metrics)
        run.log_dict(
            {"model": candidate.name, "params": candidate.params, "test_metrics": metrics}
            | details,
            "evaluation.json",
        )
        run.log_text(report, "classification_report.txt")
    s.run_ids.append(run.id)
    return s.client.get_run(run.id)


# -- stage: results -----------------------------------------------------------------------


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
    ]
    for label, command in commands:
        s.console.print(f"  [dim]{escape(label)}:[/]")
        s.console.print(f"    {command}", markup=False, highlight=False, soft_wrap=True)
