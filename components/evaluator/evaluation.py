"""The Evaluator's gate: its TFMA configuration, built from `EvaluationSpec`, and the reading
of what TFMA wrote (metrics, validation failures, plots, and the bounds it gated with).

TFMA feeds raw eval examples to `serving_default`, and runs `transform_features` first to read
the transformed label and the example weight (0 for rows without a usable label).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import tensorflow_model_analysis as tfma
from google.protobuf.wrappers_pb2 import BoolValue

from components import features
from components.settings import EvaluationSpec

# A change of exactly zero (the same model evaluated twice) must pass a "no worse" gate.
_EPSILON = 1e-10


@dataclass(frozen=True)
class GatedMetric:
    role: str  # "loss" or "accuracy": how the run summary names it
    tfma_class: str  # Keras metric class TFMA computes
    tfma_name: str  # the name TFMA reports it under
    higher_is_better: bool


def gated_metrics(task: str) -> list[GatedMetric]:
    """The loss and (for classification) the accuracy metric the gate reads, per task."""
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
    if task == "regression" and spec.min_accuracy is not None:
        raise ValueError("evaluation.min_accuracy: applies to classification only, the task is regression")
    metrics = [tfma.MetricConfig(class_name="ExampleCount")]
    metrics += [
        tfma.MetricConfig(class_name=metric.tfma_class, threshold=_threshold(metric, spec))
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


def _threshold(metric: GatedMetric, spec: EvaluationSpec) -> tfma.MetricThreshold:
    """Absolute bound from the spec (if set) plus the no-regression bound against the baseline."""
    bound = spec.min_accuracy if metric.role == "accuracy" else spec.max_loss
    value_threshold = None
    if bound is not None:
        value_threshold = (
            tfma.GenericValueThreshold(lower_bound={"value": bound})
            if metric.higher_is_better
            else tfma.GenericValueThreshold(upper_bound={"value": bound})
        )
    allowed = spec.baseline_tolerance + _EPSILON
    change_threshold = tfma.GenericChangeThreshold(
        direction=tfma.MetricDirection.HIGHER_IS_BETTER
        if metric.higher_is_better
        else tfma.MetricDirection.LOWER_IS_BETTER,
        absolute={"value": -allowed if metric.higher_is_better else allowed},
    )
    return tfma.MetricThreshold(value_threshold=value_threshold, change_threshold=change_threshold)


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


def gate_bounds(evaluation_uri: str, task: str) -> dict[str, dict[str, float | None]]:
    """Per gated role, the absolute bound and the baseline tolerance the run was gated with, as
    the Evaluator recorded them (a recipe read again later may say otherwise)."""
    from google.protobuf import json_format
    from tfx.dsl.io import fileio

    with fileio.open(os.path.join(evaluation_uri, EVAL_CONFIG_FILE), "r") as f:
        recorded = json.load(f)
    config = json_format.ParseDict(recorded.get("evalConfig", recorded), tfma.EvalConfig(), ignore_unknown_fields=True)
    thresholds = {metric.class_name: metric.threshold for spec in config.metrics_specs for metric in spec.metrics}
    bounds = {}
    for metric in gated_metrics(task):
        threshold = thresholds.get(metric.tfma_class)
        if threshold is None:
            continue
        value = threshold.value_threshold
        side = value.lower_bound if metric.higher_is_better else value.upper_bound
        has_bound = value.HasField("lower_bound" if metric.higher_is_better else "upper_bound")
        change = abs(threshold.change_threshold.absolute.value) if threshold.HasField("change_threshold") else None
        bounds[metric.role] = {
            "bound": side.value if has_bound else None,
            "tolerance": round(max(change - _EPSILON, 0.0), 12) if change is not None else None,
        }
    return bounds
