"""Dense networks: the linear unit, MLPs for regression and classification, the red-wine
dropout/batch-norm network and the MNIST MLP."""

from __future__ import annotations

import tensorflow as tf

from components.settings import ModelSpec
from components.trainer.models.inputs import InputSpec, TaskSpec, dense_regularizer, feature_inputs, finish

keras = tf.keras

# The red-wine example: three Dense(1024) layers, each followed by Dropout(0.3) and BatchNorm.
WINE_WIDTHS, WINE_DROPOUT = (1024, 1024, 1024), 0.3
# The MNIST MLP: 784 -> 256 -> 256 -> 10 with Dropout(0.45); 269,322 parameters.
MNIST_WIDTHS, MNIST_DROPOUT = (256, 256), 0.45
INPUT_BN_MOMENTUM = 0.9


def dense_stack(
    x: tf.Tensor, widths: tuple[int, ...] | list[int], dropout: float, batch_norm: bool, spec: ModelSpec
) -> tf.Tensor:
    """Dense/ReLU layers, each optionally followed by Dropout and BatchNormalization."""
    for i, units in enumerate(widths):
        x = keras.layers.Dense(units, activation="relu", kernel_regularizer=dense_regularizer(spec), name=f"dense_{i}")(
            x
        )
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
    return x


def _configured_mlp(inputs: InputSpec, task: TaskSpec, spec: ModelSpec, name: str) -> keras.Model:
    """Dense stack from `hidden_units`, `dropout`, `batch_norm` and `l2`, then the task's head
    (the registry says which tasks each named MLP accepts)."""
    feature_tensors, x = feature_inputs(inputs)
    x = dense_stack(x, spec.hidden_units, spec.dropout, spec.batch_norm, spec)
    return finish(feature_tensors, x, task, spec, name)


def linear(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """y = w·x + b: one unit on all features (or one feature, with `data.features`). For
    classification the same unit goes through a sigmoid/softmax (logistic regression)."""
    feature_tensors, x = feature_inputs(inputs)
    return finish(feature_tensors, x, task, spec, "linear")


def mlp_regressor(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Dense/ReLU stack with one linear output unit, trained on mean absolute error."""
    return _configured_mlp(inputs, task, spec, "mlp_regressor")


def mlp_classifier(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Sigmoid (binary) or softmax (multiclass) head with cross-entropy loss."""
    return _configured_mlp(inputs, task, spec, "mlp_classifier")


def binary_classifier(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """The binary classifier: one sigmoid unit, binary cross-entropy, binary accuracy."""
    return _configured_mlp(inputs, task, spec, "binary_classifier")


def mlp_dropout_batchnorm(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Dense 1024 x3, each followed by Dropout(0.3) and BatchNormalization (the red-wine network)."""
    feature_tensors, x = feature_inputs(inputs)
    x = dense_stack(x, WINE_WIDTHS, WINE_DROPOUT, True, spec)
    return finish(feature_tensors, x, task, spec, "mlp_dropout_batchnorm")


def mlp_batchnorm_input(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """The same network with BatchNormalization as its first layer: it standardizes the inputs
    itself, to compare with Transform's z-score (run it with `data.standardize: false`)."""
    feature_tensors, x = feature_inputs(inputs)
    # Unlike the hidden layers' BatchNorm (momentum 0.99), this one sees raw inputs (wine's
    # proline is ~750): its moving mean and variance, used at validation and serving, must
    # converge within the few hundred steps a small data set gets. Momentum 0.9 does.
    x = keras.layers.BatchNormalization(momentum=INPUT_BN_MOMENTUM, name="input_batch_norm")(x)
    x = dense_stack(x, WINE_WIDTHS, WINE_DROPOUT, True, spec)
    return finish(feature_tensors, x, task, spec, "mlp_batchnorm_input")


def mnist_mlp(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> keras.Model:
    """Dense 256-256 with ReLU and Dropout(0.45), softmax over the classes (the MNIST MLP)."""
    feature_tensors, x = feature_inputs(inputs)
    x = dense_stack(x, MNIST_WIDTHS, MNIST_DROPOUT, False, spec)
    return finish(feature_tensors, x, task, spec, "mnist_mlp")
