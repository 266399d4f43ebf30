"""TFMA configuration of the Evaluator's gate, built from `EvaluationSpec`.

TFMA feeds raw eval examples to `serving_default`, and runs `transform_features` first to read
the transformed label and the example weight (0 for rows without a usable label).
"""

from __future__ import annotations

from dataclasses import dataclass

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
