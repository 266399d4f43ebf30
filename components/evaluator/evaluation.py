"""The Evaluator's gate: its TFMA configuration, built from `EvaluationSpec`, and the reading
of what TFMA wrote (metrics, validation failures, plots, and the bounds it gated with).

TFMA feeds raw eval examples to `serving_default`, and runs `transform_features` first to read
the transformed label and the example weight (0 for rows without a usable label).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tensorflow_model_analysis as tfma
from google.protobuf.wrappers_pb2 import BoolValue

from components import features
from components.evaluator.gate import MetricBound, resolve_gates
from components.settings import EvaluationSpec


@dataclass(frozen=True)
class GatedMetric:
    role: str  # "loss" or "accuracy": the gate's name of it (components/evaluator/gate.py)
    tfma_class: str  # Keras metric class TFMA computes
    tfma_name: str  # the name TFMA reports it under
    higher_is_better: bool


def gated_metrics(task: str) -> list[GatedMetric]:
    """The loss and (for classification) the accuracy metric TFMA gates and plots, per task."""
    if task == "binary":
        return [
            GatedMetric("loss", "BinaryCrossentropy", "binary_crossentropy", False),
            GatedMetric("accuracy", "BinaryAccuracy", "binary_accuracy", True),
        ]
    if task == "multiclass":
        return [
            GatedMetric("loss", "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", False),
            GatedMetric("accuracy", "SparseCategoricalAccuracy", "sparse_categorical_accuracy", True),
        ]
    return [GatedMetric("loss", "MeanAbsoluteError", "mean_absolute_error", False)]


def eval_config(task: str, spec: EvaluationSpec) -> tfma.EvalConfig:
    """TFMA's config: the absolute bounds of loss and accuracy as its thresholds (no change
    thresholds: the no-regression test is the gate's paired one, components/evaluator/gate.py),
    and the metrics and plots the report shows, for the candidate and the model in production."""
    bounds = {bound.name: bound for bound in resolve_gates(task, spec)}
    metrics = [tfma.MetricConfig(class_name="ExampleCount")]
    metrics += [
        tfma.MetricConfig(class_name=metric.tfma_class, threshold=_threshold(metric, bounds[metric.role]))
        for metric in gated_metrics(task)
    ]
    # The run report's confusion matrix, precision/recall and (binary) PR curve come from these.
    if task == "binary":
        metrics += [tfma.MetricConfig(class_name=name) for name in ("AUC", "Precision", "Recall")]
        metrics.append(tfma.MetricConfig(class_name="ConfusionMatrixPlot", config='{"num_thresholds": 101}'))
    if task == "multiclass":
        metrics.append(tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"))
    if task == "regression":
        metrics.append(tfma.MetricConfig(class_name="MeanSquaredError"))
    model_spec = tfma.ModelSpec(
        signature_name=features.SERVING_EXAMPLES_SIGNATURE,
        preprocessing_function_names=[features.TRANSFORM_SIGNATURE],
        label_key=features.LABEL,
        example_weight_key=features.LABEL_WEIGHT,
        prediction_key=features.PREDICTIONS if task == "regression" else features.PROBABILITIES,
    )
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
        # Only the metrics above. TFMA's default adds the metrics the Keras model was compiled
        # with, computed by loading each model (candidate and baseline) a second time as Keras.
        options=tfma.Options(include_default_metrics=BoolValue(value=False)),
    )


def _threshold(metric: GatedMetric, bound: MetricBound) -> tfma.MetricThreshold | None:
    """The absolute bound, if one is set, as TFMA's value threshold."""
    side = bound.lower if metric.higher_is_better else bound.upper
    if side is None:
        return None
    value_threshold = (
        tfma.GenericValueThreshold(lower_bound={"value": side})
        if metric.higher_is_better
        else tfma.GenericValueThreshold(upper_bound={"value": side})
    )
    return tfma.MetricThreshold(value_threshold=value_threshold)


# --- What the Evaluator wrote: read back by the run summary and the report. ---------------------

EVAL_CONFIG_FILE = "eval_config.json"  # TFMA writes the config it evaluated with beside its results


def overall_metrics(evaluation_uri: str) -> dict[tuple[str, bool], float]:
    """Overall-slice metric values by (TFMA name, is the baseline's)."""
    values: dict[tuple[str, bool], float] = {}
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        if metrics_for_slice.slice_key.single_slice_keys:
            continue  # the overall slice only
        for key_and_value in metrics_for_slice.metric_keys_and_values:
            key = key_and_value.key
            if key.is_diff or key_and_value.value.WhichOneof("type") != "double_value":
                continue
            values[(key.name, key.model_name == "baseline")] = key_and_value.value.double_value.value
    return values


def candidate_plots(evaluation_uri: str, baseline: bool = False) -> list[Any]:
    """The candidate model's plot values on the overall slice (with `baseline`: the model in
    production's, which TFMA computes on the same eval split when there is one)."""
    found = []
    for plots in tfma.load_plots(evaluation_uri):
        if plots.slice_key.single_slice_keys:
            continue
        found += [
            entry.value for entry in plots.plot_keys_and_values if (entry.key.model_name == "baseline") == baseline
        ]
    return found


def failed_metric_names(evaluation_uri: str) -> set[str]:
    result = tfma.load_validation_result(evaluation_uri)
    return {
        failure.metric_key.name for per_slice in result.metric_validations_per_slice for failure in per_slice.failures
    }
