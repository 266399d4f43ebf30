"""The learned line of the `linear` model, in standardized and in raw (CSV) units.

The unit sees standardized inputs z = (x - m) / s and, for regression, rescales its output by
the label's std and mean. Probing the Transform graph with x = 0 and x = 1 for each feature
gives z(0) = -m/s and z(1) - z(0) = 1/s exactly, so the raw-unit line is
y = sum_i (w_i / s_i) x_i + (b - sum_i w_i m_i / s_i), as a user would fit it on the CSV.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from components import features
from components.trainer.models.inputs import TaskSpec

LINEAR_FILE = "linear.json"


def linear_weights(
    model: tf.keras.Model, transform_output: tft.TFTransformOutput, task: TaskSpec, label_column: str
) -> dict[str, Any] | None:
    """{"standardized": {...}, "raw": {...}} for a single-unit model on numeric features, else None.

    For regression the line gives the prediction in the label's units; for a binary classifier
    it gives the logit (log-odds of the positive class)."""
    dense = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dense)]
    numeric = [
        tensor.name
        for tensor in model.inputs
        if tensor.dtype == tf.float32
        and tensor.name.endswith(features.TRANSFORMED_SUFFIX)
        and tensor.shape.rank == 2
        and tensor.shape[-1] == 1  # a column, not an image
    ]
    if len(dense) != 1 or dense[0].units != 1 or len(numeric) != len(model.inputs):
        return None
    kernel, bias = (w.numpy().reshape(-1) for w in dense[0].weights)
    scale, offset = (task.label_std, task.label_mean) if task.task == "regression" else (1.0, 0.0)
    weights = {name: float(w) * scale for name, w in zip(model.input_names, kernel)}
    intercept = float(bias[0]) * scale + offset
    columns = [name[: -len(features.TRANSFORMED_SUFFIX)] for name in weights]
    at_zero, per_unit = _probe_standardization(transform_output, columns, label_column)
    raw_weights = {column: weights[name] * per_unit[column] for column, name in zip(columns, weights)}
    raw_intercept = intercept + sum(weights[name] * at_zero[column] for column, name in zip(columns, weights))
    return {
        "output": "prediction" if task.task == "regression" else "logit",
        "standardized": {"weights": dict(zip(columns, weights.values())), "bias": intercept},
        "raw": {"weights": raw_weights, "bias": raw_intercept},
    }


def _probe_standardization(
    transform_output: tft.TFTransformOutput, columns: list[str], label_column: str
) -> tuple[dict[str, float], dict[str, float]]:
    """z(0) and z(1) - z(0) of each numeric column, read from the Transform graph itself."""
    raw_spec = {k: v for k, v in transform_output.raw_feature_spec().items() if k != label_column}
    examples = []
    for column in columns:
        for value in (0, 1):
            example = tf.train.Example()
            if raw_spec[column].dtype == tf.int64:
                example.features.feature[column].int64_list.value.append(value)
            else:
                example.features.feature[column].float_list.value.append(float(value))
            examples.append(example.SerializeToString())
    parsed = tf.io.parse_example(tf.constant(examples), raw_spec)
    transformed = transform_output.transform_features_layer()(parsed)
    at_zero, per_unit = {}, {}
    for i, column in enumerate(columns):
        z = transformed[features.transformed_name(column)].numpy().reshape(-1)
        at_zero[column], per_unit[column] = float(z[2 * i]), float(z[2 * i + 1] - z[2 * i])
    return at_zero, per_unit
