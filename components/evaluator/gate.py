"""The gate's statistics: the metrics people use per task, and the paired test that tells a
candidate worse than the model in production from chance.

NumPy only, no TensorFlow: config loading checks metric names here, and every number is a pure
function of per-example scores that a test can give directly.

Why not TFMA's own confidence intervals: TFMA's validator thresholds the point estimate even
when intervals are computed (`_check_threshold` in tensorflow_model_analysis/evaluators/
metrics_validator.py calls `float(metric)`, and `ValueWithTDistribution.__float__` in
api/types.py returns `unsampled_value`), and its intervals take a fixed 20 jackknife buckets or
20 Poisson bootstrap samples (`_DEFAULT_NUM_JACKKNIFE_BUCKETS`, `_DEFAULT_NUM_BOOTSTRAP_SAMPLES`
in evaluators/metrics_plots_and_validations_evaluator.py): too few for the tail of a 95%
interval, and nothing a gate could act on. So the Evaluator scores both models on the same eval
examples and this module bootstraps the difference over examples, paired: each resample draws the
same examples for both models, so what the two share (the hard examples) cancels and only their
disagreement is noise.

Resampling is the Poisson bootstrap (each example counted Poisson(1) times), which lets every
metric, AUC included, be computed for a whole block of resamples with matrix operations on
scores sorted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from components.settings import ConfigError, EvaluationSpec, MetricGate

EPSILON = 1e-7  # Keras' clip of probabilities in its cross-entropies, which TFMA computes with
THRESHOLD = 0.5  # binary decisions: Keras' BinaryAccuracy, TFMA's Precision/Recall defaults
# Resamples x examples held at once: bounds the memory of the bootstrap (about 160 MB of float64).
BLOCK_CELLS = 20_000_000
# The smallest eval split the no-regression test can tell anything apart on. A candidate that is
# wrong on k more eval rows than production and right on none more is refused at 95% once
# sqrt(k) > 1.96, so from k = 4 rows; under 40 rows those 4 are more than 10 points of accuracy.
MIN_EVAL_ROWS = 40


@dataclass(frozen=True)
class Scored:
    """One model's view of the eval split: labels (class ids or values), example weights (0 for
    rows without a usable label), and scores: [n, classes] probabilities (multiclass), [n]
    probabilities of the positive class (binary), or [n] predictions (regression)."""

    labels: np.ndarray
    weights: np.ndarray
    scores: np.ndarray

    @property
    def rows(self) -> int:
        return int(np.count_nonzero(self.weights))


# A metric over a block of resamples: counts [b, n] (each row one resample's weight per example,
# example weights included) -> values [b].
Compute = Callable[[Scored, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Metric:
    name: str  # as the config, summary.json and `runs` name it
    title: str  # as printed
    higher_is_better: bool
    compute: Compute


def _mean(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, counts @ values / np.where(total > 0, total, 1), np.nan)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0.0)


def _binary_loss(s: Scored, counts: np.ndarray) -> np.ndarray:
    p = np.clip(s.scores, EPSILON, 1 - EPSILON)
    y = s.labels.astype(float)
    return _mean(-(y * np.log(p + EPSILON) + (1 - y) * np.log(1 - p + EPSILON)), counts)


def _binary_decisions(s: Scored) -> tuple[np.ndarray, np.ndarray]:
    return s.scores > THRESHOLD, s.labels.astype(int) == 1


def _binary_accuracy(s: Scored, counts: np.ndarray) -> np.ndarray:
    predicted, positive = _binary_decisions(s)
    return _mean((predicted == positive).astype(float), counts)


def _confusion(s: Scored, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    predicted, positive = _binary_decisions(s)
    true_positive = counts @ (predicted & positive).astype(float)
    false_positive = counts @ (predicted & ~positive).astype(float)
    false_negative = counts @ (~predicted & positive).astype(float)
    return true_positive, false_positive, false_negative


def _precision(s: Scored, counts: np.ndarray) -> np.ndarray:
    tp, fp, _ = _confusion(s, counts)
    return _ratio(tp, tp + fp)


def _recall(s: Scored, counts: np.ndarray) -> np.ndarray:
    tp, _, fn = _confusion(s, counts)
    return _ratio(tp, tp + fn)


def _f1(s: Scored, counts: np.ndarray) -> np.ndarray:
    tp, fp, fn = _confusion(s, counts)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _grouped_by_score(s: Scored, counts: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative weight per distinct score, in score order: [b, groups] each."""
    order = np.argsort(-s.scores if descending else s.scores, kind="stable")
    scores = s.scores[order]
    starts = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
    positive = s.labels[order].astype(int) == 1
    ordered = counts[:, order]
    return (
        np.add.reduceat(ordered * positive, starts, axis=1),
        np.add.reduceat(ordered * ~positive, starts, axis=1),
    )


def _auc(s: Scored, counts: np.ndarray) -> np.ndarray:
    """ROC AUC: the chance that a positive scores above a negative (ties count half)."""
    positive, negative = _grouped_by_score(s, counts, descending=False)
    below = np.cumsum(negative, axis=1) - negative
    pairs = positive.sum(axis=1) * negative.sum(axis=1)
    value = _ratio((positive * (below + 0.5 * negative)).sum(axis=1), pairs)
    return np.where(pairs > 0, value, np.nan)


def _pr_auc(s: Scored, counts: np.ndarray) -> np.ndarray:
    """Area under the precision-recall curve as average precision: the precision at each score,
    weighted by the share of positives found there."""
    positive, negative = _grouped_by_score(s, counts, descending=True)
    found = np.cumsum(positive, axis=1)
    precision = _ratio(found, found + np.cumsum(negative, axis=1))
    total = positive.sum(axis=1)
    return np.where(total > 0, _ratio((positive * precision).sum(axis=1), total), np.nan)


def _multiclass_loss(s: Scored, counts: np.ndarray) -> np.ndarray:
    picked = s.scores[np.arange(len(s.labels)), s.labels.astype(int)]
    return _mean(-np.log(np.clip(picked, EPSILON, 1 - EPSILON)), counts)


def _multiclass_accuracy(s: Scored, counts: np.ndarray) -> np.ndarray:
    return _mean((np.argmax(s.scores, axis=1) == s.labels.astype(int)).astype(float), counts)


def _macro_f1(s: Scored, counts: np.ndarray) -> np.ndarray:
    """The mean over the classes the eval labels hold of each class's F1 (0 where it has none)."""
    labels = s.labels.astype(int)
    predicted = np.argmax(s.scores, axis=1)
    classes = np.unique(labels[s.weights > 0])
    scores = []
    for c in classes:
        tp = counts @ ((predicted == c) & (labels == c)).astype(float)
        fp = counts @ ((predicted == c) & (labels != c)).astype(float)
        fn = counts @ ((predicted != c) & (labels == c)).astype(float)
        scores.append(_ratio(2 * tp, 2 * tp + fp + fn))
    return np.mean(scores, axis=0) if scores else np.full(len(counts), np.nan)


def _errors(s: Scored) -> np.ndarray:
    return s.scores.astype(float) - s.labels.astype(float)


def _mae(s: Scored, counts: np.ndarray) -> np.ndarray:
    return _mean(np.abs(_errors(s)), counts)


def _rmse(s: Scored, counts: np.ndarray) -> np.ndarray:
    return np.sqrt(_mean(_errors(s) ** 2, counts))


def _r2(s: Scored, counts: np.ndarray) -> np.ndarray:
    """1 - squared error over the label's variance, both weighted as the resample weighs rows."""
    y = s.labels.astype(float)
    squared_error = _mean(_errors(s) ** 2, counts)
    variance = _mean(y**2, counts) - _mean(y, counts) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(variance > 0, 1 - squared_error / np.where(variance > 0, variance, 1), np.nan)


LOSS, ACCURACY = "loss", "accuracy"
METRICS: dict[str, tuple[Metric, ...]] = {
    "binary": (
        Metric(LOSS, "binary_crossentropy", False, _binary_loss),
        Metric(ACCURACY, "binary_accuracy", True, _binary_accuracy),
        Metric("auc", "AUC", True, _auc),
        Metric("pr_auc", "PR-AUC", True, _pr_auc),
        Metric("precision", "precision at 0.5", True, _precision),
        Metric("recall", "recall at 0.5", True, _recall),
        Metric("f1", "F1 at 0.5", True, _f1),
    ),
    "multiclass": (
        Metric(LOSS, "sparse_categorical_crossentropy", False, _multiclass_loss),
        Metric(ACCURACY, "sparse_categorical_accuracy", True, _multiclass_accuracy),
        Metric("macro_f1", "macro-F1", True, _macro_f1),
    ),
    "regression": (
        Metric(LOSS, "mean_absolute_error", False, _mae),
        Metric("mae", "MAE", False, _mae),
        Metric("rmse", "RMSE", False, _rmse),
        Metric("r2", "R²", True, _r2),
    ),
}
# Gated against the model in production unless the config says otherwise.
NO_REGRESSION_BY_DEFAULT = (LOSS, ACCURACY)


def metric_names(task: str) -> list[str]:
    return [metric.name for metric in METRICS[task]]


def metric(task: str, name: str) -> Metric:
    return {m.name: m for m in METRICS[task]}[name]


def value(task: str, name: str, scored: Scored) -> float:
    """The metric on the whole split, each row counted by its example weight."""
    return float(metric(task, name).compute(scored, scored.weights[np.newaxis, :].astype(float))[0])


@dataclass(frozen=True)
class Difference:
    """Candidate minus production on the same examples, with its paired bootstrap interval."""

    difference: float
    low: float
    high: float
    confidence: float


def paired_differences(
    task: str,
    names: list[str],
    candidate: Scored,
    production: Scored,
    resamples: int,
    confidence: float,
    seed: int = 0,
) -> dict[str, Difference]:
    """Per metric, candidate minus production and the percentile interval of that difference over
    `resamples` Poisson resamples of the eval examples, the same resample for both models."""
    rows = len(candidate.weights)
    if len(production.weights) != rows:
        raise ValueError(f"the two models were scored on {rows} and {len(production.weights)} examples")
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, BLOCK_CELLS // max(rows, 1)))
    found: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, resamples, block):
        draws = rng.poisson(1.0, size=(min(block, resamples - start), rows)).astype(float)
        for name in names:
            compute = metric(task, name).compute
            found[name].append(
                compute(candidate, draws * candidate.weights) - compute(production, draws * production.weights)
            )
    tail = (1 - confidence) / 2 * 100
    result = {}
    for name in names:
        differences = np.concatenate(found[name])
        differences = differences[np.isfinite(differences)]
        low, high = np.percentile(differences, [tail, 100 - tail]) if len(differences) else (np.nan, np.nan)
        point = value(task, name, candidate) - value(task, name, production)
        result[name] = Difference(point, float(low), float(high), confidence)
    return result


def worse_beyond_chance(higher_is_better: bool, difference: Difference, tolerance: float) -> bool:
    """The whole interval lies on the worse side of production by more than `tolerance`."""
    if higher_is_better:
        return difference.high < -tolerance
    return difference.low > tolerance


# --- The gate as configured, and its verdict. ----------------------------------------------------


@dataclass(frozen=True)
class MetricBound:
    """One metric's gate, resolved from `EvaluationSpec`."""

    name: str
    lower: float | None = None
    upper: float | None = None
    no_regression: bool = False


def resolve_gates(task: str, spec: EvaluationSpec) -> list[MetricBound]:
    """Every metric of the task with its bounds: `max_loss` and `min_accuracy` for those two, and
    `metrics.<name>` for any. The one place that says which bound applies to which task."""
    names = metric_names(task)
    unknown = sorted(set(spec.metrics) - set(names))
    if unknown:
        raise ConfigError(f"evaluation.metrics.{unknown[0]}: no such metric for task {task}; one of {', '.join(names)}")
    if spec.min_accuracy is not None and ACCURACY not in names:
        raise ConfigError(f"evaluation.min_accuracy: applies to classification, but data.task is {task}")
    gates = []
    for name in names:
        configured = spec.metrics.get(name) or MetricGate()
        lower, upper = configured.min, configured.max
        if name == LOSS and spec.max_loss is not None:
            if upper is not None:
                raise ConfigError("evaluation.metrics.loss.max: evaluation.max_loss sets it already; set one")
            upper = spec.max_loss
        if name == ACCURACY and spec.min_accuracy is not None:
            if lower is not None:
                raise ConfigError("evaluation.metrics.accuracy.min: evaluation.min_accuracy sets it already; set one")
            lower = spec.min_accuracy
        if lower is not None and upper is not None and lower > upper:
            raise ConfigError(f"evaluation.metrics.{name}: min {lower} is above max {upper}")
        compared = name in NO_REGRESSION_BY_DEFAULT if configured.no_regression is None else configured.no_regression
        gates.append(MetricBound(name, lower, upper, compared))
    return gates


def judge(
    task: str,
    gates: list[MetricBound],
    candidate: Scored,
    production: Scored | None,
    tolerance: float,
    resamples: int,
    confidence: float,
) -> dict:
    """The gate's record: each metric's value, bounds, difference from production with its
    interval, and whether it passed; `passed` for all of them; `refused_by` the lines that say why."""
    compared = [g.name for g in gates if g.no_regression]
    differences = (
        paired_differences(task, compared, candidate, production, resamples, confidence)
        if production is not None and compared
        else {}
    )
    metrics, refused_by = {}, []
    for gate in gates:
        definition = metric(task, gate.name)
        found = value(task, gate.name, candidate)
        entry = {
            "metric": definition.title,
            "value": found,
            "baseline": value(task, gate.name, production) if production is not None else None,
            "lower_bound": gate.lower,
            "upper_bound": gate.upper,
            "no_regression": gate.no_regression,
            "baseline_tolerance": tolerance if gate.no_regression else None,
        }
        reasons = []
        if gate.lower is not None and not found >= gate.lower:
            reasons.append(f"{gate.name} {found:.4f} is below its bound {gate.lower:g} by {gate.lower - found:.4f}")
        if gate.upper is not None and not found <= gate.upper:
            reasons.append(f"{gate.name} {found:.4f} is above its bound {gate.upper:g} by {found - gate.upper:.4f}")
        difference = differences.get(gate.name)
        if difference is not None:
            worse = worse_beyond_chance(definition.higher_is_better, difference, tolerance)
            entry["comparison"] = {
                "difference": difference.difference,
                "interval": [difference.low, difference.high],
                "confidence": confidence,
                "worse": worse,
            }
            if worse:
                reasons.append(f"against production: {describe_difference(gate.name, entry['comparison'])}")
        entry["passed"] = not reasons
        entry["refused_by"] = reasons
        refused_by += reasons
        metrics[gate.name] = entry
    return {
        "rows": candidate.rows,
        "too_small": candidate.rows < MIN_EVAL_ROWS,
        "resamples": resamples,
        "confidence": confidence,
        "metrics": metrics,
        "passed": not refused_by,
        "refused_by": refused_by,
    }


def describe_difference(name: str, comparison: dict) -> str:
    """ "loss -0.0040, 95% interval [-0.0110, +0.0030]: not worse"."""
    low, high = comparison["interval"]
    verdict = "worse beyond chance" if comparison["worse"] else "not worse"
    return (
        f"{name} {comparison['difference']:+.4f}, {comparison['confidence']:.0%} interval "
        f"[{low:+.4f}, {high:+.4f}]: {verdict}"
    )


def too_small_warning(rows: int) -> str | None:
    if rows >= MIN_EVAL_ROWS:
        return None
    return (
        f"the eval split holds {rows} rows: too few for the no-regression test to tell two models apart "
        f"(it needs {MIN_EVAL_ROWS}); add data or give split.eval more buckets"
    )
