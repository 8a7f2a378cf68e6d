"""Performance without labels: an estimate of a window's metrics from the model's own
outputs, for the weeks before the ground truth comes back.

* Classifiers: **confidence-based performance estimation** (CBPE, as NannyML does it).
  The positive-class probabilities are calibrated on reference rows that have labels
  (isotonic regression), so that a calibrated probability ``p`` means "the label is
  positive with probability ``p``". The expected confusion matrix of a window is then
  ``TP = sum(p | predicted positive)``, ``FP = sum(1 - p | predicted positive)``, and so
  on; accuracy, precision, recall and F1 follow, and ROC AUC is the area under the
  expected ROC curve (each row counts ``p`` of a positive and ``1 - p`` of a negative).
* Regressors: **direct loss estimation** (DLE): a gradient-boosted model learns each
  reference row's absolute and squared error from its features and prediction; a window's
  estimated MAE and RMSE are the means of what it predicts.

The interval is the spread of the realised metric if the labels were drawn as the
calibrated probabilities say (classifiers; simulated on up to 20,000 rows and scaled to
the window) or from the loss model's residuals on the reference (regressors), plus the
calibration's own uncertainty. Both methods assume the relation between inputs and label
is unchanged (covariate shift only); under concept drift the estimate is wrong and only
the realised metric, once labels arrive, tells.

>>> cbpe = CBPE().fit(reference_proba, reference_labels)  # doctest: +SKIP
>>> cbpe.estimate(window_proba)["roc_auc"]  # doctest: +SKIP
Estimate(value=0.83, low=0.81, high=0.85)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse")
#: Rows the label simulation of the interval draws from (a seeded sample of the window).
SIMULATION_ROWS = 20_000
SIMULATIONS = 200
#: Bins of the score: the calibration is a table over them and ROC AUC counts pairs by
#: bin (the error this allows is far below the interval's width).
SCORE_BINS = 1 << 14
#: Folds of the reference for the loss models' own uncertainty (a jackknife).
LOSS_FOLDS = 5
#: Calibrators fitted on bootstrap resamples of the reference, for the interval.
CALIBRATION_BOOTSTRAP = 20


@dataclass(frozen=True)
class Estimate:
    """An estimated metric with its interval."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _z(confidence: float) -> float:
    from scipy.stats import norm

    if not 0.0 < confidence < 1.0:
        raise InvalidInputError(
            f"confidence must be between 0 and 1, got {confidence!r}", field="confidence"
        )
    return float(norm.ppf(0.5 + confidence / 2.0))


def _expected_metrics(
    p: np.ndarray, predicted: np.ndarray, bins: np.ndarray | None = None
) -> dict[str, float]:
    """The metrics of the expected confusion matrix, and the expected ROC AUC (of the
    rows' score bins when ``bins`` is given, else of ``p``)."""
    tp = float(p[predicted].sum())
    fp = float(predicted.sum()) - tp
    fn = float(p[~predicted].sum())
    tn = float((~predicted).sum()) - fn
    n = len(p)
    out = {
        "accuracy": (tp + tn) / n if n else math.nan,
        "precision": tp / (tp + fp) if tp + fp > 0 else math.nan,
        "recall": tp / (tp + fn) if tp + fn > 0 else math.nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else math.nan,
    }
    out["roc_auc"] = _expected_auc(p, p) if bins is None else _binned_auc(bins, p)
    return out


def _binned_auc(bins: np.ndarray, p: np.ndarray) -> float:
    """The expected ROC AUC with the score cut into :data:`SCORE_BINS` bins: one pass of
    ``bincount`` instead of a sort (rows of one bin count as ties)."""
    positives = np.bincount(bins, weights=p, minlength=SCORE_BINS)[::-1]
    negatives = np.bincount(bins, weights=1.0 - p, minlength=SCORE_BINS)[::-1]
    total_pos, total_neg = float(positives.sum()), float(negatives.sum())
    if total_pos <= 0 or total_neg <= 0:
        return math.nan
    above = np.cumsum(positives) - positives  # positives in higher bins
    # elementwise sums rather than np.dot: BLAS threads cost more than they save here
    pairs = float((negatives * (above + 0.5 * positives)).sum())
    return pairs / (total_pos * total_neg)


def _expected_auc(score: np.ndarray, p: np.ndarray) -> float:
    """Area under the expected ROC curve of ``score`` when row ``i`` is positive with
    probability ``p[i]`` (ties in the score form one step)."""
    order = np.argsort(-score, kind="stable")
    s, w = score[order], p[order]
    positives = float(w.sum())
    negatives = float(len(w) - positives)
    if positives <= 0 or negatives <= 0:
        return math.nan
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the end of each run of ties
    tpr = np.r_[0.0, np.cumsum(w)[last] / positives]
    fpr = np.r_[0.0, np.cumsum(1.0 - w)[last] / negatives]
    return float(np.trapezoid(tpr, fpr))


class CBPE:
    """Confidence-based performance estimation of a binary classifier.

    ``fit`` takes reference positive-class probabilities, labels (true for positive) and
    optionally the model's predicted labels (default: probability >= ``threshold``);
    ``estimate`` takes a window's probabilities (and predictions) and returns
    ``{metric: Estimate}`` for accuracy, precision, recall, F1 and ROC AUC.
    """

    def __init__(self, *, threshold: float = 0.5, confidence: float = 0.95, seed: int = 0) -> None:
        self.threshold = threshold
        self.confidence = confidence
        self.seed = seed

    def fit(self, proba: Any, labels: Any, predicted: Any | None = None) -> CBPE:
        from sklearn.isotonic import IsotonicRegression

        p = _probabilities(proba, "reference probabilities")
        y = np.asarray(labels, dtype=bool)
        if len(y) != len(p):
            raise InvalidInputError(
                f"{len(p)} reference probabilities but {len(y)} labels", field="labels"
            )
        if len(p) < 2 or y.all() or not y.any():
            raise InvalidInputError(
                "calibration needs labelled reference rows of both classes", field="labels"
            )

        def isotonic(index: np.ndarray | slice) -> Any:
            model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            return model.fit(p[index], y[index])

        self.calibrator_ = isotonic(slice(None))
        self.table_ = self._table(self.calibrator_)
        # the calibration's own uncertainty: calibrators fitted on bootstrap resamples of
        # the reference, whose estimates of a window spread as the reference allows
        rng = np.random.default_rng(self.seed)
        self.bootstrap_ = [
            self._table(isotonic(rng.integers(0, len(p), len(p))))
            for _ in range(CALIBRATION_BOOTSTRAP)
        ]
        guess = p >= self.threshold if predicted is None else np.asarray(predicted, dtype=bool)
        calibrated = self.calibrate(p)
        self.reference_rows_ = len(p)
        self.reference_realised_ = _realised(y, guess, p)
        self.reference_estimated_ = _expected_metrics(calibrated, guess)
        return self

    @staticmethod
    def _table(calibrator: Any) -> np.ndarray:
        centres = (np.arange(SCORE_BINS) + 0.5) / SCORE_BINS
        return np.asarray(calibrator.predict(centres), dtype=float)

    def calibrate(self, proba: Any) -> np.ndarray:
        """Calibrated probabilities (of the positive class) for raw ones."""
        p = _probabilities(proba, "probabilities")
        return np.asarray(self.table_[_bins(p)])

    def estimate(self, proba: Any, predicted: Any | None = None) -> dict[str, Estimate]:
        if not hasattr(self, "calibrator_"):
            raise InvalidInputError("fit the estimator on reference rows first", field="reference")
        raw = _probabilities(proba, "probabilities")
        if not len(raw):
            raise InvalidInputError("the window has no rows to estimate", field="window")
        guess = raw >= self.threshold if predicted is None else np.asarray(predicted, dtype=bool)
        bins = _bins(raw)
        p = self.table_[bins]
        values = _expected_metrics(p, guess, bins)
        spread = self._spread(bins, p, guess)
        z = _z(self.confidence)
        found = {}
        for name in CLASSIFICATION_METRICS:
            value = values[name]
            half = z * spread[name]
            found[name] = Estimate(value, max(value - half, 0.0), min(value + half, 1.0))
        return found

    def _spread(self, bins: np.ndarray, p: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
        """Standard deviation of each realised metric when labels are drawn from the
        calibrated ``p`` (simulated on a sample, scaled to the window), and of the
        estimate under the bootstrap calibrators, added in quadrature."""
        rng = np.random.default_rng(self.seed)
        n = len(p)
        m = min(n, SIMULATION_ROWS)
        index = rng.integers(0, n, m) if m < n else np.arange(n)
        ps, guess, sampled = p[index], predicted[index], bins[index]
        labels = rng.random((SIMULATIONS, m)) < ps  # simulated truths
        tp = (labels & guess).sum(axis=1).astype(float)
        fp = guess.sum() - tp
        fn = (labels & ~guess).sum(axis=1).astype(float)
        tn = m - tp - fp - fn
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = {
                "accuracy": (tp + tn) / m,
                "precision": tp / (tp + fp),
                "recall": tp / (tp + fn),
                "f1": 2 * tp / (2 * tp + fp + fn),
            }
            from scipy.stats import rankdata

            ranks = rankdata(sampled)
            positives = labels.sum(axis=1).astype(float)
            negatives = m - positives
            rank_sums = np.where(labels, ranks, 0.0).sum(axis=1)
            draws["roc_auc"] = (rank_sums - positives * (positives + 1) / 2) / (
                positives * negatives
            )
        scale = math.sqrt(m / n)
        recalibrated = [
            _expected_metrics(table[sampled], guess, sampled) for table in self.bootstrap_
        ]
        spread = {}
        for name, values in draws.items():
            finite = values[np.isfinite(values)]
            sd = float(finite.std(ddof=1)) * scale if len(finite) > 1 else 0.0
            others = np.array([r[name] for r in recalibrated])
            others = others[np.isfinite(others)]
            cal = float(others.std(ddof=1)) if len(others) > 1 else 0.0
            spread[name] = math.sqrt(sd * sd + cal * cal)
        return spread


class DLE:
    """Direct loss estimation of a regressor: gradient-boosted models of the absolute and
    squared error learn from reference rows (features and prediction) with labels.

    A row's expected absolute error ``a`` and squared error ``s`` give its variances
    (``Var|e| = s - a^2``; ``Var e^2 = (k - 1) s^2`` with ``k`` the reference's kurtosis
    of the error), from which the interval of the window's mean follows."""

    def __init__(self, *, confidence: float = 0.95, seed: int = 0) -> None:
        self.confidence = confidence
        self.seed = seed

    def fit(self, features: pd.DataFrame, predicted: Any, labels: Any) -> DLE:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        X = _loss_inputs(features, predicted)
        y = np.asarray(labels, dtype=float)
        error = y - np.asarray(predicted, dtype=float)
        keep = np.isfinite(error)
        X, error = X[keep], error[keep]
        if len(X) < 20:
            raise InvalidInputError(
                "direct loss estimation needs at least 20 labelled reference rows",
                field="labels",
            )
        squared = error * error

        def model(rows: np.ndarray | slice, target: np.ndarray) -> Any:
            learner = HistGradientBoostingRegressor(max_iter=100, random_state=self.seed)
            return learner.fit(X[rows], target[rows])

        folds = np.random.default_rng(self.seed).integers(0, LOSS_FOLDS, len(X))
        with threadpool_limits(1):  # small models: OpenMP threads cost more than they give
            self.absolute_ = model(slice(None), np.abs(error))
            self.squared_ = model(slice(None), squared)
            # models that each missed one fold: how much the estimate depends on the
            # reference sample the loss models learnt from (a jackknife)
            self.folds_ = [
                (model(folds != k, np.abs(error)), model(folds != k, squared))
                for k in range(LOSS_FOLDS)
            ]
        mean_squared = float(squared.mean())
        self.kurtosis_ = (
            float((squared * squared).mean() / mean_squared**2) if mean_squared else 3.0
        )
        self.reference_rows_ = len(X)
        return self

    def estimate(self, features: pd.DataFrame, predicted: Any) -> dict[str, Estimate]:
        from threadpoolctl import threadpool_limits

        if not hasattr(self, "absolute_"):
            raise InvalidInputError("fit the estimator on reference rows first", field="reference")
        X = _loss_inputs(features, predicted)
        n = len(X)
        if not n:
            raise InvalidInputError("the window has no rows to estimate", field="window")
        z = _z(self.confidence)
        with threadpool_limits(1):
            absolute = np.clip(self.absolute_.predict(X), 0.0, None)
            squared = np.clip(self.squared_.predict(X), 0.0, None)
        mae, mse = float(absolute.mean()), float(squared.mean())
        # the window's labels vary around the expected losses; the loss models learnt
        # from a reference of its own size, whose error adds in quadrature
        var_abs = float(np.clip(squared - absolute * absolute, 0.0, None).mean())
        var_sq = float(((self.kurtosis_ - 1.0) * squared * squared).mean())
        with threadpool_limits(1):
            fold_abs = [float(np.clip(a.predict(X), 0.0, None).mean()) for a, _ in self.folds_]
            fold_sq = [float(np.clip(q.predict(X), 0.0, None).mean()) for _, q in self.folds_]
        model_abs = float(np.var(fold_abs, ddof=1)) * (LOSS_FOLDS - 1)  # jackknife
        model_sq = float(np.var(fold_sq, ddof=1)) * (LOSS_FOLDS - 1)
        mae_half = z * math.sqrt(var_abs / n + model_abs)
        mse_half = z * math.sqrt(var_sq / n + model_sq)
        rmse = math.sqrt(mse)
        return {
            "mae": Estimate(mae, max(mae - mae_half, 0.0), mae + mae_half),
            "rmse": Estimate(rmse, math.sqrt(max(mse - mse_half, 0.0)), math.sqrt(mse + mse_half)),
        }


def _loss_inputs(features: pd.DataFrame, predicted: Any) -> np.ndarray:
    import pandas as pd

    numeric = features.apply(pd.to_numeric, errors="coerce")
    return np.column_stack([numeric.to_numpy(dtype=float), np.asarray(predicted, dtype=float)])


def _bins(p: np.ndarray) -> np.ndarray:
    return np.minimum((p * SCORE_BINS).astype(np.int64), SCORE_BINS - 1)


def _probabilities(proba: Any, what: str) -> np.ndarray:
    p = np.asarray(proba, dtype=float).ravel()
    if not np.all(np.isfinite(p)) or (len(p) and (p.min() < 0 or p.max() > 1)):
        raise InvalidInputError(f"{what} must be numbers between 0 and 1", field="proba")
    return p


def _realised(y: np.ndarray, predicted: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """The metrics the labels give (ROC AUC of ``score``)."""
    tp = float((y & predicted).sum())
    fp = float((~y & predicted).sum())
    fn = float((y & ~predicted).sum())
    tn = float((~y & ~predicted).sum())
    n = len(y)
    return {
        "accuracy": (tp + tn) / n if n else math.nan,
        "precision": tp / (tp + fp) if tp + fp else math.nan,
        "recall": tp / (tp + fn) if tp + fn else math.nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan,
        "roc_auc": _expected_auc(score, y.astype(float)),
    }


def realised_classification(
    labels: Any, proba: Any, predicted: Any | None = None, *, threshold: float = 0.5
) -> dict[str, float]:
    """The realised metrics of a labelled window, computed the way the estimate is."""
    p = _probabilities(proba, "probabilities")
    guess = p >= threshold if predicted is None else np.asarray(predicted, dtype=bool)
    return _realised(np.asarray(labels, dtype=bool), guess, p)
