"""The gate's statistics (components/evaluator/gate.py): each metric against scikit-learn's, the
paired bootstrap's coverage and verdicts, and the config rules of which bound applies where."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from components.evaluator import gate
from components.settings import ConfigError, EvaluationSpec, MetricGate

RNG = np.random.default_rng(7)


def binary_scored(n: int = 300, skill: float = 0.4, seed: int = 0) -> gate.Scored:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = np.clip(labels * skill + rng.random(n) * (1 - skill), 0, 1).round(2)  # ties on purpose
    weights = np.where(rng.random(n) < 0.1, 0.0, 1.0)  # rows without a usable label weigh 0
    return gate.Scored(labels, weights, scores)


def test_binary_metrics_equal_scikit_learns_with_example_weights():
    s = binary_scored()
    w, y, p = s.weights, s.labels, s.scores
    expected = {
        "loss": sk.log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), sample_weight=w),
        "accuracy": sk.accuracy_score(y, p > 0.5, sample_weight=w),
        "auc": sk.roc_auc_score(y, p, sample_weight=w),
        "pr_auc": sk.average_precision_score(y, p, sample_weight=w),
        "precision": sk.precision_score(y, p > 0.5, sample_weight=w),
        "recall": sk.recall_score(y, p > 0.5, sample_weight=w),
        "f1": sk.f1_score(y, p > 0.5, sample_weight=w),
    }
    for name, value in expected.items():
        assert gate.value("binary", name, s) == pytest.approx(value, abs=2e-6), name


def test_multiclass_and_regression_metrics_equal_scikit_learns():
    labels = RNG.integers(0, 3, 200)
    logits = RNG.normal(size=(200, 3)) + 2 * np.eye(3)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    s = gate.Scored(labels, np.ones(200), probabilities)
    assert gate.value("multiclass", "loss", s) == pytest.approx(sk.log_loss(labels, probabilities), abs=1e-9)
    assert gate.value("multiclass", "accuracy", s) == sk.accuracy_score(labels, probabilities.argmax(1))
    assert gate.value("multiclass", "macro_f1", s) == pytest.approx(
        sk.f1_score(labels, probabilities.argmax(1), average="macro")
    )
    y = RNG.normal(10, 3, 150)
    predicted = y + RNG.normal(0, 1, 150)
    r = gate.Scored(y, np.ones(150), predicted)
    assert gate.value("regression", "mae", r) == pytest.approx(sk.mean_absolute_error(y, predicted))
    assert gate.value("regression", "rmse", r) == pytest.approx(sk.mean_squared_error(y, predicted) ** 0.5)
    assert gate.value("regression", "r2", r) == pytest.approx(sk.r2_score(y, predicted))
    assert gate.value("regression", "loss", r) == gate.value("regression", "mae", r)


def test_the_same_model_twice_differs_by_exactly_nothing_and_passes():
    s = binary_scored()
    differences = gate.paired_differences("binary", gate.metric_names("binary"), s, s, 300, 0.95)
    for name, difference in differences.items():
        assert (difference.difference, difference.low, difference.high) == (0.0, 0.0, 0.0), name
        assert not gate.worse_beyond_chance(gate.metric("binary", name).higher_is_better, difference, 0.0)


def test_a_clearly_worse_model_is_refused_and_a_better_one_is_not():
    good, bad = binary_scored(skill=0.6), binary_scored(skill=0.05)
    gates = gate.resolve_gates("binary", EvaluationSpec(metrics={"auc": MetricGate(no_regression=True)}))
    refused = gate.judge("binary", gates, bad, good, 0.0, 1000, 0.95)
    assert not refused["passed"]
    assert {name for name, m in refused["metrics"].items() if not m["passed"]} == {"loss", "accuracy", "auc"}
    assert any(line.startswith("against production: auc -0.") for line in refused["refused_by"])
    assert gate.judge("binary", gates, good, bad, 0.0, 1000, 0.95)["passed"]


def test_a_tolerance_lets_a_slightly_worse_model_through():
    good, worse = binary_scored(skill=0.6), binary_scored(skill=0.3)
    gates = [gate.MetricBound("accuracy", no_regression=True)]
    strict = gate.judge("binary", gates, worse, good, 0.0, 1000, 0.95)["metrics"]["accuracy"]
    assert strict["comparison"]["worse"]
    high = strict["comparison"]["interval"][1]
    lenient = gate.judge("binary", gates, worse, good, -high + 0.01, 1000, 0.95)["metrics"]["accuracy"]
    assert lenient["passed"]


def test_the_paired_interval_covers_the_true_difference_about_as_often_as_it_says():
    """Two fixed classifiers on a population of 20,000 rows; 200 eval splits of 150 rows drawn from
    it. The 95% interval of the accuracy difference must cover the population's difference in
    about 95% of the splits (measured with seed 11: 0.94, 188 of 200)."""
    rng = np.random.default_rng(11)
    population = 20_000
    correct_a = rng.random(population) < 0.85
    correct_b = np.where(rng.random(population) < 0.8, correct_a, rng.random(population) < 0.8)
    truth = correct_b.mean() - correct_a.mean()
    covered = 0
    for split in range(200):
        rows = rng.choice(population, 150, replace=False)
        labels = np.ones(150, dtype=int)
        a = gate.Scored(labels, np.ones(150), np.where(correct_a[rows], 0.9, 0.1))
        b = gate.Scored(labels, np.ones(150), np.where(correct_b[rows], 0.9, 0.1))
        difference = gate.paired_differences("binary", ["accuracy"], b, a, 1000, 0.95, seed=split)["accuracy"]
        covered += difference.low <= truth <= difference.high
    assert 0.90 <= covered / 200 <= 0.99


def test_resampling_in_blocks_gives_the_same_interval(monkeypatch):
    good, bad = binary_scored(skill=0.6), binary_scored(skill=0.4)
    whole = gate.paired_differences("binary", ["auc", "loss"], bad, good, 400, 0.9)
    monkeypatch.setattr(gate, "BLOCK_CELLS", 300 * 7)  # 7 resamples per block
    blocks = gate.paired_differences("binary", ["auc", "loss"], bad, good, 400, 0.9)
    for name in whole:
        assert (blocks[name].low, blocks[name].high) == pytest.approx((whole[name].low, whole[name].high), abs=1e-12)


def test_default_bounds_and_no_regression_per_task():
    gates = {g.name: g for g in gate.resolve_gates("multiclass", EvaluationSpec(max_loss=0.3, min_accuracy=0.9))}
    assert list(gates) == ["loss", "accuracy", "macro_f1"]
    assert (gates["loss"].upper, gates["loss"].lower, gates["loss"].no_regression) == (0.3, None, True)
    assert (gates["accuracy"].lower, gates["accuracy"].no_regression) == (0.9, True)
    assert not gates["macro_f1"].no_regression
    spec = EvaluationSpec(metrics={"auc": MetricGate(min=0.8), "loss": MetricGate(no_regression=False)})
    binary = {g.name: g for g in gate.resolve_gates("binary", spec)}
    assert (binary["auc"].lower, binary["auc"].no_regression) == (0.8, False)
    assert not binary["loss"].no_regression


@pytest.mark.parametrize(
    ("task", "spec", "message"),
    [
        ("regression", EvaluationSpec(min_accuracy=0.9), "evaluation.min_accuracy: applies to classification"),
        ("multiclass", EvaluationSpec(metrics={"auc": MetricGate(min=0.8)}), "evaluation.metrics.auc: no such metric"),
        (
            "binary",
            EvaluationSpec(max_loss=0.3, metrics={"loss": MetricGate(max=0.2)}),
            "evaluation.metrics.loss.max: evaluation.max_loss sets it already",
        ),
        ("regression", EvaluationSpec(metrics={"r2": MetricGate(min=0.9, max=0.5)}), "min 0.9 is above max 0.5"),
    ],
)
def test_bounds_that_do_not_fit_the_task_are_refused_naming_the_key(task, spec, message):
    with pytest.raises(ConfigError, match=message):
        gate.resolve_gates(task, spec)


def test_a_small_eval_split_is_said_to_be_too_small():
    assert gate.too_small_warning(gate.MIN_EVAL_ROWS) is None
    assert "holds 12 rows: too few" in gate.too_small_warning(12)
    labels = np.array([0, 1] * 6)
    record = gate.judge(
        "binary", [gate.MetricBound("accuracy")], gate.Scored(labels, np.ones(12), labels * 0.8), None, 0, 100, 0.95
    )
    assert record["too_small"] and record["rows"] == 12
