"""Evaluation: metrics per task, slices, fairness, confidence intervals, cross-validation,
calibration and plots, computed with scikit-learn's metric functions.

The public entry point is :func:`mlcycle.evaluate` (in :mod:`mlcycle.client.evaluation`),
which also logs to the active run. The services, which load pandas and scikit-learn on
first use:

* :mod:`mlcycle.evaluation.evaluator` - :func:`evaluate_model`, the whole computation
* :mod:`mlcycle.evaluation.inputs` - truth and predictions, checked
* :mod:`mlcycle.evaluation.metrics` - classification and regression metrics
* :mod:`mlcycle.evaluation.groups` - slices by value or numeric bins
* :mod:`mlcycle.evaluation.fairness` - demographic parity and equalized odds
* :mod:`mlcycle.evaluation.resampling` - bootstrap intervals and k-fold cross-validation
* :mod:`mlcycle.evaluation.plots` - ROC, PR, confusion matrix, calibration, residuals
* :mod:`mlcycle.evaluation.result` - :class:`EvaluationResult`
"""

from mlcycle.evaluation.fairness import FairnessReport
from mlcycle.evaluation.resampling import CrossValidation
from mlcycle.evaluation.result import Calibration, EvaluationResult

__all__ = ["Calibration", "CrossValidation", "EvaluationResult", "FairnessReport"]
