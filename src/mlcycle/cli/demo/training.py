"""Stage 3, training: a small sweep over three model families, each trial a tracked run.

Every model is a scikit-learn pipeline: one-hot encoding of the categorical columns and
scaling of the numeric ones, then the estimator. scikit-learn is imported inside the
functions that train, so ``mlcycle --help`` stays fast.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

import mlcycle
from mlcycle.cli import output
from mlcycle.cli.demo import churn
from mlcycle.cli.demo.shared import (
    DATASET,
    EXPERIMENT,
    MODEL,
    PRIMARY_METRIC,
    SEED,
    SENSITIVE_COLUMN,
    SESSION_TAG,
    SLICE_COLUMN,
    TARGET,
    Dataset,
    DemoState,
)

#: Types outside skops' trusted set that our tree models hold; we made them, we trust them.
TRUSTED = [
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]

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
    """The sweep: two settings of each family (one when ``fast``)."""
    if fast:
        return [_logistic_regression(1.0, 5), _random_forest(6, 3, 10), _boosting(0.1, 3, 10)]
    return [
        _logistic_regression(1.0, 20),
        _logistic_regression(0.05, 20),
        _random_forest(6, 5, 20),
        _random_forest(12, 5, 20),
        _boosting(0.1, 5, 20),
        _boosting(0.3, 5, 20),
    ]


def preprocessing() -> Any:
    """One-hot categorical columns, scaled numeric ones."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [*churn.CATEGORICAL, SENSITIVE_COLUMN]
    return ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), list(churn.NUMERIC)),
        ]
    )


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


def _logistic_regression(c: float, iterations: int) -> Candidate:
    def fit(data: Dataset, run: mlcycle.ActiveRun, advance: Callable[[], None]) -> Any:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        # A few solver iterations per fit, continuing where the last stopped: a learning curve.
        model = make_pipeline(preprocessing(), LogisticRegression(C=c, max_iter=3, warm_start=True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for step in range(1, iterations + 1):
                model.fit(data.x_train, data.y_train)
                train, val = _probas(model, data.x_train), _probas(model, data.x_val)
                _log_curve(run, step, data, train, val)
                advance()
        return model

    params: dict[str, object] = {"model": "LogisticRegression", "C": c, "iterations": iterations}
    return Candidate(f"logistic-regression-c{c:g}", "linear", params, iterations, fit)


def _random_forest(depth: int, rounds: int, trees_per_round: int) -> Candidate:
    def fit(data: Dataset, run: mlcycle.ActiveRun, advance: Callable[[], None]) -> Any:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.pipeline import make_pipeline

        prep = preprocessing().fit(data.x_train)
        x_train, x_val = prep.transform(data.x_train), prep.transform(data.x_val)
        forest = RandomForestClassifier(
            max_depth=depth, warm_start=True, random_state=SEED, n_jobs=1
        )
        for round_ in range(1, rounds + 1):
            trees = round_ * trees_per_round
            forest.set_params(n_estimators=trees)
            forest.fit(x_train, data.y_train)  # adds trees to the forest
            _log_curve(run, trees, data, _probas(forest, x_train), _probas(forest, x_val))
            advance()
        return make_pipeline(prep, forest)

    params: dict[str, object] = {
        "model": "RandomForestClassifier",
        "n_estimators": rounds * trees_per_round,
        "max_depth": depth,
    }
    return Candidate(f"random-forest-d{depth}", "trees", params, rounds, fit)


def _boosting(rate: float, rounds: int, iterations_per_round: int) -> Candidate:
    def fit(data: Dataset, run: mlcycle.ActiveRun, advance: Callable[[], None]) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.pipeline import make_pipeline

        prep = preprocessing().fit(data.x_train)
        x_train, x_val = prep.transform(data.x_train), prep.transform(data.x_val)
        booster = HistGradientBoostingClassifier(
            learning_rate=rate, warm_start=True, early_stopping=False, random_state=SEED
        )
        for round_ in range(1, rounds + 1):
            iterations = round_ * iterations_per_round
            booster.set_params(max_iter=iterations)
            booster.fit(x_train, data.y_train)  # adds boosting iterations
            _log_curve(run, iterations, data, _probas(booster, x_train), _probas(booster, x_val))
            advance()
        return make_pipeline(prep, booster)

    params: dict[str, object] = {
        "model": "HistGradientBoostingClassifier",
        "max_iter": rounds * iterations_per_round,
        "learning_rate": rate,
    }
    return Candidate(f"boosting-lr{rate:g}", "boosting", params, rounds, fit)


def train_models(s: DemoState) -> None:
    """Train each candidate in its own tracked run, with a progress bar."""
    data, exp = s.need_data(), s.need_experiment()
    models = candidates(s.fast)
    s.trusted = list(TRUSTED)
    columns = (
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=s.console) as progress:
        for candidate in models:
            task = progress.add_task(candidate.name, total=candidate.steps)
            run = train_one(s, exp, data, candidate, functools.partial(progress.advance, task))
            progress.console.print(
                f"  {escape(candidate.name):<26} {PRIMARY_METRIC} "
                f"{output.fmt_number(run.metrics.get(PRIMARY_METRIC))}   run {run.id}"
            )
    families = len({c.family for c in models})
    s.console.print(
        f"Trained {len(models)} models of {families} families; each is a run in {EXPERIMENT}."
    )


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
                "n_features": len(data.features),
            }
        )
        model = candidate.fit(data, run, advance)
        info = run.log_model(model, "model", input_example=data.x_train.head(5), register=MODEL)
        # Validation metrics, slices, fairness, plots and the report, logged to this run:
        # what the runs are ranked on. The test split scores only the chosen model, once.
        result = mlcycle.evaluate(
            model,
            data.x_val.assign(**{TARGET: data.y_val}),
            target=TARGET,
            slices=[SLICE_COLUMN],
            sensitive=SENSITIVE_COLUMN,
            run=run,
            client=s.client,
            explain=True,  # importance and SHAP: the model card shows them
            importance_repeats=2 if s.fast else 3,
            explain_budget_s=1 if s.fast else 5,
        )
    s.run_ids.append(run.id)
    s.evaluations[run.id] = result
    registered = getattr(info.registered_version, "version", None)
    if isinstance(registered, int):
        s.versions[run.id] = registered
    return s.client.get_run(run.id)
