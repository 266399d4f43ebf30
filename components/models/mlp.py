"""Multi-layer perceptrons: Dense/ReLU stacks with an optional Dropout after each layer."""

from __future__ import annotations

import tensorflow as tf

from components.models.inputs import InputSpec, TaskSpec, compile_for, feature_inputs, output_head
from components.settings import ModelSpec

keras = tf.keras


def _dense_stack(x: tf.Tensor, spec: ModelSpec) -> tf.Tensor:
    for i, units in enumerate(spec.hidden_units):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        if spec.dropout:
            x = keras.layers.Dropout(spec.dropout, name=f"dropout_{i}")(x)
    return x


def mlp_classifier(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Sigmoid (binary) or softmax (multiclass) head with cross-entropy loss."""
    if task.task == "regression":
        raise ValueError("model mlp_classifier needs task binary or multiclass; use mlp_regressor")
    feature_tensors, x = feature_inputs(inputs)
    model = keras.Model(feature_tensors, output_head(_dense_stack(x, spec), task), name="mlp_classifier")
    return compile_for(model, task, spec)


def mlp_regressor(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """One linear output unit trained on mean absolute error."""
    if task.task != "regression":
        raise ValueError(f"model mlp_regressor needs task regression, not {task.task}")
    feature_tensors, x = feature_inputs(inputs)
    model = keras.Model(feature_tensors, output_head(_dense_stack(x, spec), task), name="mlp_regressor")
    return compile_for(model, task, spec)
